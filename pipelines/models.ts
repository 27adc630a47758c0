/**
 * Steward's generic pipelines for a declared model (src/pipeline/model.ts `defineModel`), built
 * from the built-in steps, so a project needs no code beyond its declarations:
 *
 *   train-<model>         [ingest<View> -> check<View>, per ingested view] -> trainingSet -> per
 *                         candidate train<Name> -> evaluate<Name> (in parallel) -> choose -> reference
 *                         -> register
 *   release-<model>       validate (the declared release criteria) -> signoff (the declared roles;
 *                         compliance when a pii feature is used, ethics above a 0.1 fairness gap) ->
 *                         promote (champion) -> deploy (a canary by default)
 *   drift-retrain-<model> monitor (drift, decay on the primary metric) -> policy -> train (a child
 *                         run of train-<model> on the examples up to the window's end, only when the
 *                         policy says retrain) -> compare (champion and challenger on rows neither
 *                         trained on) -> validate -> signoff -> promote -> deploy (only when the
 *                         challenger is better: a keep-champion decision completes the run, with the
 *                         release steps skipped and the decision as the reason)
 *
 * The views ingested before training are the declaration's `ingest` (or the options'), else every
 * view the model reads whose declared source is a file; each is checked against the project's
 * expectation suite for it when there is one.
 *
 * Steward's own platform (src/) never imports this module: the built-in project hands
 * `modelPipelines` to `combineProjects`, which makes a project's declared models' pipelines.
 */
import { z } from 'zod';
import { parseDuration, type Definition, type FeatureView } from '../src/features/definitions.js';
import type { ExpectationSuite } from '../src/governance/expectations.js';
import { approvalGate, childPipeline, definePipeline, deployModel, output, scheduledAt, type Pipeline } from '../src/pipeline/definition.js';
import { featureColumn, modelCandidates, modelDecay, modelPipelineNames, modelSelectBy, type ModelDeclaration } from '../src/pipeline/model.js';
import type { ApprovalPolicy, Ref, StepSpec, Template } from '../src/pipeline/spec.js';
import { eq } from '../src/pipeline/step.js';
import { applyFeatures } from './steps/apply-features.js';
import { buildTrainingSet } from './steps/build-training-set.js';
import { checkExpectations } from './steps/check-expectations.js';
import { chooseModel } from './steps/choose-model.js';
import { compareModels } from './steps/compare-models.js';
import { evaluateModel } from './steps/evaluate-model.js';
import { ingestFile } from './steps/ingest-file.js';
import { monitorDrift } from './steps/monitor-drift.js';
import { profileReference } from './steps/profile-reference.js';
import { promoteModel } from './steps/promote-model.js';
import { registerModel } from './steps/register-model.js';
import { retrainPolicy } from './steps/retrain-policy.js';
import { trainModel } from './steps/train-model.js';
import { validateModel } from './steps/validate-model.js';

export interface ModelPipelineOptions {
  /** The project's expectation suites: an ingested view with one is checked before training. */
  expectations?: readonly ExpectationSuite[];
  /** The project's feature definitions, to find the label's view when the service does not read it. */
  definitions?: readonly Definition[];
  /** Views to ingest before training (default: the declaration's `ingest`, else every view with a declared file). */
  ingest?: readonly string[];
}

const DEFAULT_APPROVALS: Readonly<Record<string, number>> = { technical: 1 };

/** The sign-off of a model's releases: its declared roles, with compliance for pii features and ethics above a 0.1 fairness gap. */
export function releasePolicyOf(model: ModelDeclaration): ApprovalPolicy {
  return {
    roles: { ...(model.approvals ?? DEFAULT_APPROVALS) },
    deadline: '3 days',
    remindBefore: ['1 day'],
    escalateTo: ['lead'],
    separationOfDuties: true,
    conditions: [
      { role: 'compliance', when: { piiFeatures: true } },
      { role: 'ethics', when: { fairnessGapAbove: 0.1 } },
    ],
  };
}

/** The views ingested before training: declared, or those the model reads (and its label's) whose source is a file. */
export function ingestedViews(model: ModelDeclaration, options: ModelPipelineOptions = {}): string[] {
  const listed = options.ingest ?? model.ingest;
  if (listed) return [...listed];
  const views = new Map<string, FeatureView>();
  for (const p of model.features.projections) {
    if (p.view.kind === 'featureView') views.set(p.view.name, p.view);
    else for (const ref of Object.values(p.view.inputs)) views.set(ref.view.name, ref.view);
  }
  const label = (options.definitions ?? []).find((d): d is FeatureView => d.kind === 'featureView' && d.name === model.label.view);
  if (label) views.set(label.name, label);
  return [...views.values()].filter((v) => ['file', 'parquet', 'arrow'].includes(v.source.kind)).map((v) => v.name);
}

/** `daily_weather` -> `DailyWeather`, for step names. */
const pascal = (name: string) => name.split(/[_-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

const deployParams = {
  /** How an approved version reaches the scorer. */
  deployStrategy: z.enum(['canary', 'blue-green', 'shadow', 'ab']).default('canary'),
  /** Requests each arm needs before the deployment's analysis decides. */
  deployMinRequests: z.coerce.number().int().positive().default(200),
  /** How long a deployment step waits for that traffic before rolling back. */
  deployMaxWaitSeconds: z.coerce.number().positive().default(900),
  /** The least time each deployment step runs before its verdict counts. */
  deployBakeSeconds: z.coerce.number().min(0).default(30),
};

/** The train, release and drift-retrain pipelines of a declared model. */
export function modelPipelines(model: ModelDeclaration, options: ModelPipelineOptions = {}): Pipeline[] {
  return [trainPipeline(model, options), releasePipeline(model), driftRetrainPipeline(model)];
}

export function trainPipeline(model: ModelDeclaration, options: ModelPipelineOptions = {}): Pipeline {
  const names = modelPipelineNames(model.name);
  const suites = options.expectations ?? [];
  const views = ingestedViews(model, options);
  const candidates = modelCandidates(model);
  return definePipeline({
    name: names.train,
    description: `Train ${model.name} (${model.task}) on feature service ${model.features.name}: ${views.length ? `ingest ${views.join(', ')}, ` : ''}build the training set, train ${candidates.map((c) => c.algorithm).join(' and ')}, evaluate, choose by ${modelSelectBy(model)}, profile the reference and register.`,
    params: z.object({
      /** Only examples at or after this time (ISO 8601); absent: from the first. */
      from: z.string().min(1).optional(),
      /** Only examples before this time (ISO 8601); absent: up to the last. */
      to: z.string().min(1).optional(),
      /** At most this many examples, the latest. */
      maxRows: z.coerce.number().int().positive().optional(),
      /** The held-out share of the most recent examples. */
      testFraction: z.coerce.number().gt(0).lt(1).default(model.testFraction ?? 0.2),
    }),
    steps: (p) => {
      // The project's definitions registered first (idempotent), so its views have their tables.
      const apply = applyFeatures.step('applyFeatures', {});
      const loading: StepSpec[] = [apply];
      const ingestions = [];
      for (const view of views) {
        const ingest = ingestFile.step(`ingest${pascal(view)}`, { view }, { after: [apply.name] });
        loading.push(ingest);
        ingestions.push(ingest.output.ingestionId);
        if (suites.some((s) => s.dataset === `feature_view:${view}` || s.dataset === view)) {
          loading.push(checkExpectations.step(`check${pascal(view)}`, { dataset: view, ingestionId: ingest.output.ingestionId }));
        }
      }
      const trainingSet = buildTrainingSet.step(
        'trainingSet',
        { service: model.features.name, label: labelInput(model), task: model.task, from: p.from, to: p.to, maxRows: p.maxRows, model: model.name },
        { after: loading.map((s) => s.name) },
      );
      const trained = candidates.map((c) => {
        const { algorithm, name, ...params } = c;
        const train = trainModel.step(`train${name}`, { trainingSet: trainingSet.result, algorithm, params, testFraction: p.testFraction });
        const evaluate = evaluateModel.step(`evaluate${name}`, {
          model: train.result,
          trainingSet: trainingSet.result,
          testFraction: p.testFraction,
          // Declared names (a feature's plain name) as the training set's columns (`view__feature`).
          fairness: (model.fairness ?? []).map((f) => ({ ...f, column: featureColumn(model, f.column) })),
          behaviour: (model.behaviour ?? []).map((b) => (b.kind === 'invariance' ? { ...b, feature: featureColumn(model, b.feature), values: [...b.values] } : { ...b, feature: featureColumn(model, b.feature) })),
        });
        return { train, evaluate };
      });
      const choose = chooseModel.step('choose', {
        task: model.task,
        selectBy: modelSelectBy(model),
        candidates: trained.map(({ train, evaluate }) => ({ model: train.result, evaluation: evaluate.result })),
      });
      const reference = profileReference.step('reference', { model: choose.output.model, trainingSet: trainingSet.result, testFraction: p.testFraction });
      const register = registerModel.step('register', {
        modelName: model.name,
        model: choose.output.model,
        trainingSet: trainingSet.result,
        evaluation: choose.output.evaluation,
        reference: reference.result,
        ranking: choose.output.ranking,
        params: { from: p.from, to: p.to, maxRows: p.maxRows, testFraction: p.testFraction, selectBy: modelSelectBy(model), candidates: candidates.map((c) => ({ ...c })) },
        card: { ...model.card },
        ingestionIds: ingestions,
      });
      return [...loading, trainingSet, ...trained.flatMap(({ train, evaluate }) => [train, evaluate]), choose, reference, register];
    },
  });
}

export function releasePipeline(model: ModelDeclaration): Pipeline {
  const names = modelPipelineNames(model.name);
  const criteria = (model.release ?? []).map((c) => ({ ...c }));
  return definePipeline({
    name: names.release,
    description: `Release a version of ${model.name}: validate it against ${criteria.length ? criteria.map(describeCriterion).join(', ') : 'its behavioural checks'}, wait for the sign-off, promote it to champion and deploy it to the scorer.`,
    params: z.object({
      /** The registered version to release (train-<model>'s register.version). */
      version: z.coerce.number().int().positive(),
      /** 'review': failed behavioural checks go to the reviewers; 'block': they reject the version. */
      behaviour: z.enum(['review', 'block']).default('review'),
      ...deployParams,
    }),
    steps: (p) => {
      const validate = validateModel.step('validate', {
        modelName: model.name,
        version: p.version,
        criteria,
        behaviour: p.behaviour,
        requireChecks: (model.behaviour ?? []).length > 0,
      });
      return [validate, ...signOffAndDeploy(model, validate, {}, p, `release of ${model.name}`)];
    },
  });
}

export function driftRetrainPipeline(model: ModelDeclaration): Pipeline {
  const names = modelPipelineNames(model.name);
  const decay = modelDecay(model);
  const monitoring = model.monitoring ?? {};
  const windowDays = monitoring.window ? parseDuration(monitoring.window, `Model "${model.name}": monitoring.window`) / 86_400_000 : 7;
  return definePipeline({
    name: names.driftRetrain,
    description: `Monitor the ${model.name} champion over a window (drift, decay), decide by policy whether to retrain, and if so train a challenger, compare it with the champion on rows neither trained on and release it through the sign-off when it is better.`,
    params: z.object({
      /** End of the window (ISO 8601); empty means the schedule tick's time, or when the step runs if no schedule started it. */
      windowEnd: z.string().default(''),
      windowDays: z.coerce.number().positive().max(366).default(windowDays),
      minRows: z.coerce.number().int().positive().default(100),
      minLabelledRows: z.coerce.number().int().positive().default(50),
      /** How much worse the primary metric may get before it counts as decay: in its units, or a share of the validation value (decayRelative). */
      decayThreshold: z.coerce.number().gt(0).default(decay.threshold),
      decayRelative: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(decay.relative),
      /** Share of the decided features that must drift for the dataset to drift. */
      driftShare: z.coerce.number().gt(0).max(1).default(monitoring.maxDriftedShare ?? 0.5),
      /** Comma-separated features that follow the calendar: reported, not counted toward dataset drift. */
      seasonalFeatures: z.string().default((monitoring.seasonalFeatures ?? []).map((f) => featureColumn(model, f)).join(',')),
      /** 'true': a Jensen-Shannon column drifts only above its noise floor. */
      aboveNoise: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
      /** Comma-separated: drift, prediction, decay. */
      triggers: z.string().default('drift,decay'),
      coolDownHours: z.coerce.number().min(0).default(144),
      maxRetrainsPerPeriod: z.coerce.number().int().min(0).default(2),
      periodDays: z.coerce.number().positive().default(30),
      /** The challenger's held-out share (train-<model>'s testFraction). */
      testFraction: z.coerce.number().gt(0).lt(1).default(model.testFraction ?? 0.2),
      /** How much better the challenger must be on the primary metric, in its units (0: any improvement). */
      margin: z.coerce.number().min(0).default(0),
      /** Fewer labelled rows that neither model trained on than this and the champion stays. */
      minCompareRows: z.coerce.number().int().positive().default(100),
      ...deployParams,
    }),
    steps: (p) => {
      const monitor = monitorDrift.step('monitor', {
        modelName: model.name,
        version: 'champion',
        windowEnd: p.windowEnd,
        scheduledAt,
        windowDays: p.windowDays,
        minRows: p.minRows,
        minLabelledRows: p.minLabelledRows,
        decayThreshold: p.decayThreshold,
        decayRelative: p.decayRelative,
        driftShare: p.driftShare,
        seasonalFeatures: p.seasonalFeatures,
        aboveNoise: p.aboveNoise,
      });
      const policy = retrainPolicy.step('policy', {
        modelName: model.name,
        reportId: monitor.output.reportId,
        triggers: p.triggers,
        coolDownHours: p.coolDownHours,
        maxRetrainsPerPeriod: p.maxRetrainsPerPeriod,
        periodDays: p.periodDays,
      });
      // The challenger learns from every example up to the window's end, its labelled part included.
      const train = childPipeline(
        'train',
        names.train,
        { to: monitor.output.windowTo, testFraction: p.testFraction },
        { outputs: ['trainingSet', 'register'], when: eq(policy.output.decision, 'retrain') },
      );
      const compare = compareModels.step('compare', {
        modelName: model.name,
        champion: 'champion',
        // A child pipeline's outputs are not typed: the references name the child's step and field.
        challenger: output('train', 'register', 'version'),
        trainingSet: output('train', 'trainingSet'),
        margin: p.margin,
        minRows: p.minCompareRows,
        reportId: monitor.output.reportId,
      });
      const validate = validateModel.step(
        'validate',
        {
          modelName: compare.output.modelName,
          version: compare.output.version,
          criteria: (model.release ?? []).map((c) => ({ ...c })),
          behaviour: 'review',
          requireChecks: (model.behaviour ?? []).length > 0,
        },
        { when: eq(compare.output.decision, 'promote') },
      );
      const release = signOffAndDeploy(
        model,
        validate,
        { metric: compare.output.metric, champion: compare.output.champion, challenger: compare.output.challenger, comparison: compare.output.reason },
        p,
        `challenger better than the champion on rows neither trained on`,
      );
      return [monitor, policy, train, compare, validate, ...release];
    },
  });
}

/** The release steps after validation: the governed sign-off, promotion to champion and deployment. */
function signOffAndDeploy(
  model: ModelDeclaration,
  validate: ReturnType<typeof validateModel.step>,
  subject: Record<string, Template>,
  p: Record<'deployStrategy' | 'deployMinRequests' | 'deployMaxWaitSeconds' | 'deployBakeSeconds', Ref>,
  reason: string,
): StepSpec[] {
  const signoff = approvalGate('signoff', {
    subject: {
      model: validate.output.modelName,
      version: validate.output.version,
      metrics: validate.output.metrics,
      criteria: validate.output.criteria,
      failedChecks: validate.output.failedChecks,
      ...subject,
    },
    policy: releasePolicyOf(model),
  });
  const promote = promoteModel.step('promote', {
    modelName: validate.output.modelName,
    version: validate.output.version,
    alias: 'champion',
    // An approval gate's outputs are not typed: the references name the fields.
    approvalId: output('signoff', 'approvalId'),
    reviewers: output('signoff', 'reviewer'),
  });
  const deploy = deployModel(
    'deploy',
    {
      model: validate.output.modelName,
      version: validate.output.version,
      strategy: p.deployStrategy,
      thresholds: { minRequests: p.deployMinRequests },
      analysis: { maxWaitSeconds: p.deployMaxWaitSeconds, minSeconds: p.deployBakeSeconds },
      reason,
    },
    { after: ['promote'] },
  );
  return [signoff, promote, deploy];
}

function describeCriterion(c: { metric: string; min?: number; max?: number }): string {
  return [c.min !== undefined ? `${c.metric} >= ${c.min}` : '', c.max !== undefined ? `${c.metric} <= ${c.max}` : ''].filter(Boolean).join(' and ');
}

/** The label definition as the training set step takes it (lists copied: the declaration's are frozen). */
function labelInput(model: ModelDeclaration) {
  const { transform, ...label } = model.label;
  if (!transform) return { ...label };
  const { oneOf, ...rules } = transform;
  return { ...label, transform: { ...rules, ...(oneOf ? { oneOf: [...oneOf] } : {}) } };
}
