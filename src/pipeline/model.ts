/**
 * A model a project declares: what it predicts (task, label), from which features, how candidates
 * are trained and chosen, what the card says, how it is judged fair and well-behaved, and what a
 * release must meet. Steward's built-in pipelines (pipelines/models.ts) turn one declaration into
 * its train, release and drift-retrain pipelines: a project needs no code of its own beyond this.
 *
 * @example
 * defineModel({
 *   name: 'rain-tomorrow',
 *   task: 'binary-classification',
 *   features: rainForecast,
 *   label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } },
 *   candidates: [{ algorithm: 'linear' }, { algorithm: 'gradient-boosting', maxIter: 100 }],
 *   release: [{ metric: 'rocAuc', min: 0.65 }],
 *   card: { purpose: 'Tell whether it rains tomorrow', owner: 'weather-team' },
 * });
 */
import { ValidationError } from '../errors.js';
import { outputName, parseDuration, type FeatureService } from '../features/definitions.js';
import type { LabelDefinition } from '../features/training-set.js';
import { ALGORITHMS, PRIMARY_METRIC, TASK_METRICS, TASKS, type Algorithm, type AlgorithmParams, type BehaviourDeclaration, type FairnessDeclaration, type Task } from '../ml/tabular/task.js';

/** One candidate the train pipeline fits; the best on the selection metric goes on. */
export interface CandidateDeclaration extends AlgorithmParams {
  algorithm: Algorithm;
  /** Step name suffix (default: the algorithm's), e.g. trainLinear, trainGradientBoosting. */
  name?: string;
}

// What an evaluation checks is the trainer's vocabulary (src/ml/tabular/task.ts); a model declares it.
export type { BehaviourDeclaration, FairnessDeclaration } from '../ml/tabular/task.js';

/** One release criterion: a metric of the task, at least `min` or at most `max`. */
export interface ReleaseCriterion {
  metric: string;
  min?: number;
  max?: number;
}

export interface ModelCardDeclaration {
  purpose: string;
  owner: string;
  intendedUse?: string;
  limitations?: string;
}

/** Drift monitoring and the retrain policy of the model's drift-retrain pipeline. */
export interface MonitoringDeclaration {
  /** How long a monitored window is (default '7d'). */
  window?: string;
  /** Share of drifted features that calls for a retrain (default 0.5). */
  maxDriftedShare?: number;
  /**
   * How much worse the primary metric may get on a window's labelled rows than at validation before
   * a retrain, in the metric's own units: a drop of ROC AUC, a rise of RMSE. Default 0.05 for
   * classification; give this or `maxRelativeDecay`, not both.
   */
  maxDecay?: number;
  /** The same as a share of the validation value (0.1: RMSE 10% above it). Default 0.1 for regression. */
  maxRelativeDecay?: number;
  /** Features that follow the calendar: tested and reported, not counted toward dataset drift. */
  seasonalFeatures?: readonly string[];
}

export interface ModelDeclaration {
  /** The registry name: lowercase letters, digits and '-'. */
  name: string;
  task: Task;
  /** The features the model is trained on and served with. */
  features: FeatureService;
  label: LabelDefinition;
  /** Held-out share of the most recent rows (default 0.2). */
  testFraction?: number;
  /** Default: one linear model and one gradient-boosted model. */
  candidates?: readonly CandidateDeclaration[];
  /** The metric candidates are ranked by (default: the task's primary metric). */
  selectBy?: string;
  fairness?: readonly FairnessDeclaration[];
  behaviour?: readonly BehaviourDeclaration[];
  release?: readonly ReleaseCriterion[];
  card: ModelCardDeclaration;
  /** Reviewers' roles a release needs (default: one 'technical'). */
  approvals?: Readonly<Record<string, number>>;
  monitoring?: MonitoringDeclaration;
  /** Task queue of the CPU-heavy steps (train, evaluate), when not the project's. */
  trainTaskQueue?: string;
  /**
   * Feature views whose declared source file the train pipeline ingests (and checks against the
   * project's expectations for the view) before it builds the training set; default none, the
   * views being fed elsewhere.
   */
  ingest?: readonly string[];
}

// --- defineModel ---------------------------------------------------------------------------------

/** Registry names, short enough that `drift-retrain-<name>` stays within a pipeline name's 64 characters. */
const MODEL_NAME = /^[a-z][a-z0-9-]{0,49}$/;
const CANDIDATE_NAME = /^[A-Za-z][A-Za-z0-9]{0,39}$/;
const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const MODEL = Symbol.for('steward.model');

/** The candidates trained when a declaration names none: one linear model and one gradient-boosted model. */
export const DEFAULT_CANDIDATES: readonly CandidateDeclaration[] = Object.freeze([Object.freeze({ algorithm: 'linear' as const }), Object.freeze({ algorithm: 'gradient-boosting' as const })]);

/** The parameters each algorithm reads (seed: both). */
const ALGORITHM_PARAMS: Readonly<Record<Algorithm, readonly (keyof AlgorithmParams)[]>> = {
  linear: ['C', 'classWeight', 'seed'],
  'gradient-boosting': ['maxIter', 'learningRate', 'maxLeafNodes', 'seed'],
};

/** Where a metric's values lie, for checking release thresholds. */
const METRIC_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  rocAuc: [0, 1],
  prAuc: [0, 1],
  brier: [0, 1],
  accuracy: [0, 1],
  precision: [0, 1],
  recall: [0, 1],
  f1: [0, 1],
  logLoss: [0, Infinity],
  rmse: [0, Infinity],
  mae: [0, Infinity],
  r2: [-Infinity, 1],
};

const DIRECTIONS = ['increase', 'decrease', 'non-decreasing', 'non-increasing'] as const;

/** The names of the pipelines modelPipelines (pipelines/models.ts) makes of a model. */
export function modelPipelineNames(name: string): { train: string; release: string; driftRetrain: string } {
  return { train: `train-${name}`, release: `release-${name}`, driftRetrain: `drift-retrain-${name}` };
}

/** True for a declaration defineModel returned. */
export function isModelDeclaration(value: unknown): value is ModelDeclaration {
  return typeof value === 'object' && value !== null && (value as { [MODEL]?: boolean })[MODEL] === true;
}

/** A candidate with its step suffix resolved: `Linear`, `GradientBoosting`, or its declared name capitalized. */
export interface ResolvedCandidate extends CandidateDeclaration {
  name: string;
}

/** The model's candidates (declared, or DEFAULT_CANDIDATES), each with the suffix of its train and evaluate steps. */
export function modelCandidates(model: Pick<ModelDeclaration, 'candidates'>): ResolvedCandidate[] {
  return (model.candidates ?? DEFAULT_CANDIDATES).map((c) => ({ ...c, name: capitalize(c.name ?? pascal(c.algorithm)) }));
}

/** The metric candidates are ranked by: the declared one, or the task's primary metric. */
export function modelSelectBy(model: Pick<ModelDeclaration, 'task' | 'selectBy'>): string {
  return model.selectBy ?? PRIMARY_METRIC[model.task];
}

/** How decay is judged: an absolute threshold in the metric's units, or a share of the validation value. */
export function modelDecay(model: Pick<ModelDeclaration, 'task' | 'monitoring'>): { threshold: number; relative: boolean } {
  const m = model.monitoring ?? {};
  if (m.maxRelativeDecay !== undefined) return { threshold: m.maxRelativeDecay, relative: true };
  if (m.maxDecay !== undefined) return { threshold: m.maxDecay, relative: false };
  return model.task === 'regression' ? { threshold: 0.1, relative: true } : { threshold: 0.05, relative: false };
}

/**
 * The training-set column a declared name stands for: a feature's column (`view__feature`) when the
 * name is a feature's plain name or its column; otherwise the name as it is (an entity key).
 * defineModel has checked the name is one of these and not ambiguous.
 */
export function featureColumn(model: Pick<ModelDeclaration, 'features'>, name: string): string {
  const matches = serviceFeatures(model.features).filter((f) => f.column === name || f.feature === name);
  return matches.length === 1 ? matches[0]!.column : name;
}

/** Every training-set column a feature of the service becomes (`view__feature`), with its plain name. */
function serviceFeatures(service: FeatureService): Array<{ column: string; feature: string }> {
  return service.projections.flatMap((p) => p.features.map((f) => ({ column: outputName(p.view.name, f), feature: f })));
}

/**
 * Declares a model, checking everything that can be checked before a run: the name, the task, the
 * label, the candidates and their parameters, the selection metric and release criteria (metrics
 * of the task), fairness thresholds, behavioural checks on features of the service, the card, the
 * sign-off roles and the monitoring settings. Each refusal is a ValidationError naming the model and
 * the field and saying what to write. Returns the declaration, frozen.
 */
export function defineModel(declaration: ModelDeclaration): ModelDeclaration {
  if (typeof declaration !== 'object' || declaration === null || Array.isArray(declaration)) {
    throw new ValidationError('defineModel takes a declaration object: defineModel({ name, task, features, label, card: { purpose, owner } }).');
  }
  const d = declaration as ModelDeclaration & Record<string, unknown>;
  if (typeof d.name !== 'string' || !MODEL_NAME.test(d.name)) {
    throw new ValidationError(
      `Model name ${JSON.stringify(d.name)} is not allowed: use lowercase letters, digits and '-', starting with a letter, at most 50 characters (it names the model in the registry and its pipelines, e.g. 'rain-tomorrow').`,
      { model: d.name },
    );
  }
  const where = `Model "${d.name}"`;
  const fail: (field: string, message: string, details?: Record<string, unknown>) => never = (field, message, details = {}) => {
    throw new ValidationError(`${where}: ${message}`, { model: d.name, field, ...details });
  };
  const list = <T>(value: readonly T[] | undefined, field: string): readonly T[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) fail(field, `${field} must be a list.`);
    return value;
  };
  const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

  if (!TASKS.includes(d.task)) fail('task', `task ${JSON.stringify(d.task)} is not a task Steward trains; use one of ${TASKS.map((t) => `'${t}'`).join(', ')}.`);
  const task = d.task;
  const metrics = Object.keys(TASK_METRICS[task]);
  const metricOfTask = (metric: unknown, field: string): string => {
    if (typeof metric !== 'string' || !Object.hasOwn(TASK_METRICS[task], metric)) {
      fail(field, `${field} names metric ${JSON.stringify(metric)}, which ${task} does not report; its metrics are ${metrics.join(', ')}.`, { metric, metrics });
    }
    return metric as string;
  };

  // Features and label.
  const service = d.features;
  if (typeof service !== 'object' || service === null || service.kind !== 'featureService') {
    fail('features', 'features must be a feature service: features: featureService({ name, version, features: [...] }).');
  }
  const features = serviceFeatures(service);
  const featureNames = () => features.map((f) => f.column).join(', ');
  const findFeature = (name: string) => features.filter((f) => f.column === name || f.feature === name);
  checkLabel(d.label, fail);

  // Training.
  if (d.testFraction !== undefined && !(finite(d.testFraction) && d.testFraction > 0 && d.testFraction < 1)) {
    fail('testFraction', `testFraction is ${String(d.testFraction)}; it is the held-out share of the most recent rows, between 0 and 1 (exclusive), e.g. 0.2.`);
  }
  const candidates = list(d.candidates, 'candidates');
  if (d.candidates !== undefined && candidates.length === 0) fail('candidates', 'candidates is empty; declare at least one, e.g. candidates: [{ algorithm: \'linear\' }], or leave it out for the default two.');
  const suffixes = new Map<string, number>();
  candidates.forEach((c, i) => {
    const which = `candidate ${i + 1}`;
    if (typeof c !== 'object' || c === null) fail('candidates', `${which} is ${JSON.stringify(c)}; write { algorithm: 'linear' } or { algorithm: 'gradient-boosting', maxIter: 200 }.`);
    if (!ALGORITHMS.includes(c.algorithm)) fail('candidates', `${which} has algorithm ${JSON.stringify(c.algorithm)}; use one of ${ALGORITHMS.map((a) => `'${a}'`).join(', ')}.`, { algorithm: c.algorithm });
    if (c.name !== undefined && (typeof c.name !== 'string' || !CANDIDATE_NAME.test(c.name))) {
      fail('candidates', `${which} is named ${JSON.stringify(c.name)}; a candidate name is letters and digits, starting with a letter (at most 40), e.g. 'deepTrees'.`);
    }
    const params = c as unknown as AlgorithmParams & Record<string, unknown>;
    for (const key of Object.keys(params)) {
      if (key === 'algorithm' || key === 'name') continue;
      if (!(ALGORITHMS as readonly string[]).some((a) => ALGORITHM_PARAMS[a as Algorithm].includes(key as keyof AlgorithmParams))) {
        fail('candidates', `${which} has an unknown parameter "${key}"; the parameters are C and classWeight (linear), maxIter, learningRate, maxLeafNodes (gradient-boosting) and seed.`, { param: key });
      }
      if (!ALGORITHM_PARAMS[c.algorithm].includes(key as keyof AlgorithmParams)) {
        fail('candidates', `${which} (${c.algorithm}) sets ${key}, which only ${ALGORITHMS.filter((a) => a !== c.algorithm).join(', ')} reads; remove it or change the algorithm.`, { param: key });
      }
    }
    if (params.C !== undefined && !(finite(params.C) && params.C > 0)) fail('candidates', `${which} has C = ${String(params.C)}; the inverse regularization strength is a positive number (default 1).`);
    if (params.classWeight !== undefined && params.classWeight !== 'balanced') {
      fail('candidates', `${which} has classWeight ${JSON.stringify(params.classWeight)}; the only weighting is 'balanced' (leave it out for every row weighing 1).`);
    }
    if (params.classWeight !== undefined && task !== 'binary-classification') fail('candidates', `${which} sets classWeight, which weighs classes: only a classifier has them.`);
    if (params.maxIter !== undefined && !(Number.isInteger(params.maxIter) && params.maxIter >= 1 && params.maxIter <= 10_000)) {
      fail('candidates', `${which} has maxIter = ${String(params.maxIter)}; the number of trees is a whole number from 1 to 10,000 (default 100).`);
    }
    if (params.learningRate !== undefined && !(finite(params.learningRate) && params.learningRate > 0 && params.learningRate <= 1)) {
      fail('candidates', `${which} has learningRate = ${String(params.learningRate)}; it is above 0 and at most 1 (default 0.1).`);
    }
    if (params.maxLeafNodes !== undefined && !(Number.isInteger(params.maxLeafNodes) && params.maxLeafNodes >= 2 && params.maxLeafNodes <= 1_024)) {
      fail('candidates', `${which} has maxLeafNodes = ${String(params.maxLeafNodes)}; leaves per tree are a whole number from 2 to 1,024 (default 31).`);
    }
    if (params.seed !== undefined && !(Number.isInteger(params.seed) && params.seed >= 0)) fail('candidates', `${which} has seed = ${String(params.seed)}; a seed is a whole number of 0 or more.`);
  });
  modelCandidates({ candidates: d.candidates }).forEach((c, i) => {
    const first = suffixes.get(c.name);
    if (first !== undefined) {
      fail('candidates', `candidates ${first + 1} and ${i + 1} would both train as step "train${c.name}"; give each its own name, e.g. { algorithm: '${c.algorithm}', name: '${c.algorithm === 'linear' ? 'strongRidge' : 'deepTrees'}' }.`);
    }
    suffixes.set(c.name, i);
  });
  if (d.selectBy !== undefined) metricOfTask(d.selectBy, 'selectBy');

  // Fairness and behaviour.
  const keys = new Set(service.projections.flatMap((p) => (p.view.kind === 'featureView' ? p.view.joinKeys.map((k) => k.name) : [])));
  const fairnessColumns = new Set<string>();
  list(d.fairness, 'fairness').forEach((f, i) => {
    const which = `fairness ${i + 1}`;
    if (typeof f !== 'object' || f === null || typeof f.column !== 'string' || f.column.length === 0) fail('fairness', `${which} names no column; write e.g. { column: 'region', maxErrorRatio: 1.5 }.`);
    if (findFeature(f.column).length === 0 && !keys.has(f.column)) {
      fail('fairness', `${which} groups by "${f.column}", which is neither a feature of service ${service.name} nor an entity key; the features are ${featureNames()}${keys.size ? `, the keys ${[...keys].join(', ')}` : ''}.`, { column: f.column });
    }
    if (fairnessColumns.has(f.column)) fail('fairness', `fairness declares column "${f.column}" twice; declare each column once.`, { column: f.column });
    fairnessColumns.add(f.column);
    if (f.minDisparateImpactRatio !== undefined) {
      if (task !== 'binary-classification') fail('fairness', `${which} ("${f.column}") sets minDisparateImpactRatio, a classifier's measure; a regression model's is maxErrorRatio.`, { column: f.column });
      if (!(finite(f.minDisparateImpactRatio) && f.minDisparateImpactRatio > 0 && f.minDisparateImpactRatio <= 1)) {
        fail('fairness', `${which} ("${f.column}") has minDisparateImpactRatio ${String(f.minDisparateImpactRatio)}; it is above 0 and at most 1 (the four-fifths rule is 0.8).`, { column: f.column });
      }
    }
    if (f.maxErrorRatio !== undefined) {
      if (task !== 'regression') fail('fairness', `${which} ("${f.column}") sets maxErrorRatio, a regression model's measure; a classifier's is minDisparateImpactRatio.`, { column: f.column });
      if (!(finite(f.maxErrorRatio) && f.maxErrorRatio >= 1)) {
        fail('fairness', `${which} ("${f.column}") has maxErrorRatio ${String(f.maxErrorRatio)}; the worst group's RMSE over the overall RMSE is at least 1 (default 1.5).`, { column: f.column });
      }
    }
  });
  const checkNames = new Set<string>();
  list(d.behaviour, 'behaviour').forEach((b, i) => {
    const which = `behavioural check ${i + 1}`;
    if (typeof b !== 'object' || b === null || (b.kind !== 'invariance' && b.kind !== 'directional')) {
      fail('behaviour', `${which} has kind ${JSON.stringify((b as { kind?: unknown } | null)?.kind)}; use 'invariance' or 'directional'.`);
    }
    if (typeof b.name !== 'string' || b.name.trim().length === 0) fail('behaviour', `${which} has no name; name it as a reviewer reads it, e.g. 'a warmer day never raises the risk of rain'.`);
    if (checkNames.has(b.name)) fail('behaviour', `two behavioural checks are named "${b.name}"; name each once.`);
    checkNames.add(b.name);
    const matches = typeof b.feature === 'string' ? findFeature(b.feature) : [];
    if (matches.length === 0) fail('behaviour', `check "${b.name}" perturbs "${String(b.feature)}", which is not a feature of service ${service.name}; its features are ${featureNames()}.`, { feature: b.feature });
    if (matches.length > 1) fail('behaviour', `check "${b.name}" perturbs "${b.feature}", a feature of several views (${matches.map((m) => m.column).join(', ')}); name one of those columns.`, { feature: b.feature });
    if (b.tolerance !== undefined && !(finite(b.tolerance) && b.tolerance >= 0)) fail('behaviour', `check "${b.name}" has tolerance ${String(b.tolerance)}; it is 0 or more.`);
    if (b.kind === 'invariance') {
      if (!Array.isArray(b.values) || b.values.length === 0 || !b.values.every((v) => typeof v === 'string' || finite(v))) {
        fail('behaviour', `invariance check "${b.name}" needs values to swap in: a non-empty list of strings or numbers, e.g. values: ['north', 'south'].`);
      }
    } else {
      if (!(finite(b.delta) && b.delta !== 0)) fail('behaviour', `directional check "${b.name}" has delta ${String(b.delta)}; it is the non-zero amount added to "${b.feature}".`);
      if (!DIRECTIONS.includes(b.direction)) fail('behaviour', `directional check "${b.name}" has direction ${JSON.stringify(b.direction)}; use one of ${DIRECTIONS.map((x) => `'${x}'`).join(', ')}.`);
    }
  });

  // Release.
  const criteria = new Set<string>();
  list(d.release, 'release').forEach((c, i) => {
    if (typeof c !== 'object' || c === null) fail('release', `release criterion ${i + 1} is ${JSON.stringify(c)}; write e.g. { metric: '${PRIMARY_METRIC[task]}', ${task === 'regression' ? 'max: 4' : 'min: 0.7'} }.`);
    const metric = metricOfTask(c.metric, `release criterion ${i + 1}`);
    if (criteria.has(metric)) fail('release', `release names ${metric} twice; give one criterion with min and/or max.`, { metric });
    criteria.add(metric);
    if (c.min === undefined && c.max === undefined) fail('release', `release criterion on ${metric} has neither min nor max; give at least one.`, { metric });
    const [low, high] = METRIC_RANGE[metric] ?? [-Infinity, Infinity];
    for (const bound of ['min', 'max'] as const) {
      const value = c[bound];
      if (value === undefined) continue;
      if (!finite(value) || value < low || value > high) {
        fail('release', `release criterion on ${metric} has ${bound} ${String(value)}; ${metric} lies ${high === Infinity ? `at ${low} or above` : low === -Infinity ? `at ${high} or below` : `between ${low} and ${high}`}.`, { metric });
      }
    }
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) fail('release', `release criterion on ${metric} has min ${c.min} above max ${c.max}; no version could pass.`, { metric });
  });

  // Card, sign-off, monitoring.
  const card = d.card as Partial<ModelCardDeclaration> | undefined;
  if (typeof card !== 'object' || card === null) fail('card', "card is missing; write card: { purpose: 'what the model is for', owner: 'the team answerable for it' }.");
  for (const field of ['purpose', 'owner'] as const) {
    if (typeof card[field] !== 'string' || card[field].trim().length === 0) fail('card', `card.${field} is missing; the model card and the sign-off show it.`);
  }
  if (card.owner!.length > 200) fail('card', `card.owner is ${card.owner!.length} characters; at most 200.`);
  for (const field of ['purpose', 'intendedUse', 'limitations'] as const) {
    const value = card[field];
    if (value !== undefined && (typeof value !== 'string' || value.trim().length === 0 || value.length > 10_000)) fail('card', `card.${field} must be text of 1 to 10,000 characters.`);
  }
  if (d.approvals !== undefined) {
    const roles = typeof d.approvals === 'object' && d.approvals !== null ? Object.entries(d.approvals) : [];
    if (roles.length === 0) fail('approvals', "approvals names no role; write e.g. approvals: { technical: 1 }, or leave it out for one technical reviewer.");
    for (const [role, quorum] of roles) {
      if (!ROLE_NAME.test(role)) fail('approvals', `approval role "${role}" must be lowercase letters, digits, - or _ (at most 40).`);
      if (!Number.isInteger(quorum) || quorum < 1) fail('approvals', `approval role "${role}" needs a quorum of at least 1, got ${String(quorum)}.`);
    }
  }
  const monitoring = d.monitoring;
  if (monitoring !== undefined) {
    if (typeof monitoring !== 'object' || monitoring === null) fail('monitoring', 'monitoring must be an object, e.g. { window: \'7d\', maxDecay: 0.05 }.');
    if (monitoring.window !== undefined) {
      try {
        parseDuration(monitoring.window, `${where}: monitoring.window`);
      } catch (error) {
        fail('monitoring', (error as Error).message.replace(`${where}: `, ''));
      }
    }
    if (monitoring.maxDriftedShare !== undefined && !(finite(monitoring.maxDriftedShare) && monitoring.maxDriftedShare > 0 && monitoring.maxDriftedShare <= 1)) {
      fail('monitoring', `monitoring.maxDriftedShare is ${String(monitoring.maxDriftedShare)}; the share of drifted features that calls for a retrain is above 0 and at most 1.`);
    }
    if (monitoring.maxDecay !== undefined && monitoring.maxRelativeDecay !== undefined) fail('monitoring', 'monitoring sets both maxDecay and maxRelativeDecay; give one.');
    if (monitoring.maxDecay !== undefined && !(finite(monitoring.maxDecay) && monitoring.maxDecay > 0)) {
      fail('monitoring', `monitoring.maxDecay is ${String(monitoring.maxDecay)}; it is a positive amount of ${PRIMARY_METRIC[task]} (e.g. 0.05).`);
    }
    if (monitoring.maxRelativeDecay !== undefined && !(finite(monitoring.maxRelativeDecay) && monitoring.maxRelativeDecay > 0 && monitoring.maxRelativeDecay < 1)) {
      fail('monitoring', `monitoring.maxRelativeDecay is ${String(monitoring.maxRelativeDecay)}; it is a share of the validation value between 0 and 1 (e.g. 0.1).`);
    }
    for (const name of list(monitoring.seasonalFeatures, 'monitoring.seasonalFeatures')) {
      if (typeof name !== 'string' || findFeature(name).length === 0) {
        fail('monitoring', `monitoring.seasonalFeatures names "${String(name)}", which is not a feature of service ${service.name}; its features are ${featureNames()}.`);
      }
    }
  }
  if (d.trainTaskQueue !== undefined) {
    fail('trainTaskQueue', 'trainTaskQueue is not supported yet: every step runs on the project\'s task queue. Remove it, or run a dedicated worker for the whole project.');
  }
  const viewNames = new Set([...service.projections.map((p) => p.view.name), d.label.view]);
  for (const view of list(d.ingest, 'ingest')) {
    if (typeof view !== 'string' || !viewNames.has(view)) {
      fail('ingest', `ingest names view ${JSON.stringify(view)}, which the model neither reads features from nor takes its label from; name one of ${[...viewNames].join(', ')}.`, { view });
    }
  }

  const copy = {
    ...d,
    ...(d.candidates ? { candidates: Object.freeze(d.candidates.map((c) => Object.freeze({ ...c }))) } : {}),
    ...(d.fairness ? { fairness: Object.freeze(d.fairness.map((f) => Object.freeze({ ...f }))) } : {}),
    ...(d.behaviour ? { behaviour: Object.freeze(d.behaviour.map((b) => Object.freeze({ ...b }))) } : {}),
    ...(d.release ? { release: Object.freeze(d.release.map((r) => Object.freeze({ ...r }))) } : {}),
    ...(d.approvals ? { approvals: Object.freeze({ ...d.approvals }) } : {}),
    ...(d.monitoring ? { monitoring: Object.freeze({ ...d.monitoring }) } : {}),
    ...(d.ingest ? { ingest: Object.freeze([...d.ingest]) } : {}),
    label: Object.freeze({ ...d.label }),
    card: Object.freeze({ ...d.card }),
  };
  Object.defineProperty(copy, MODEL, { value: true, enumerable: false });
  return Object.freeze(copy) as ModelDeclaration;
}

function checkLabel(label: LabelDefinition | undefined, fail: (field: string, message: string, details?: Record<string, unknown>) => never): void {
  const example = "e.g. label: { kind: 'column', view: 'outcomes', column: 'delayed' }";
  if (typeof label !== 'object' || label === null) fail('label', `label is missing; ${example}.`);
  if (typeof label.view !== 'string' || label.view.length === 0) fail('label', `label names no view; ${example}.`);
  if (label.kind === 'column') {
    if (typeof label.column !== 'string' || label.column.length === 0) fail('label', `label names no column of view "${label.view}"; ${example}.`);
  } else if (label.kind === 'future') {
    if (typeof label.feature !== 'string' || label.feature.length === 0) fail('label', `label names no feature of view "${label.view}" to look ahead at; e.g. { kind: 'future', view: '${label.view}', feature: 'precipitation', horizon: '1d' }.`);
    try {
      parseDuration(label.horizon, 'label.horizon');
    } catch (error) {
      fail('label', (error as Error).message);
    }
  } else {
    fail('label', `label has kind ${JSON.stringify((label as { kind?: unknown }).kind)}; use 'column' (a column of a labels view) or 'future' (a later value of a feature).`);
  }
  const t = label.transform;
  if (t !== undefined) {
    if (typeof t !== 'object' || t === null) fail('label', 'label.transform must be an object, e.g. { gt: 0 }.');
    const set = Object.entries(t).filter(([, v]) => v !== undefined);
    const known = ['gt', 'gte', 'lt', 'lte', 'eq', 'oneOf'];
    for (const [k] of set) if (!known.includes(k)) fail('label', `label.transform has unknown rule "${k}"; use one of ${known.join(', ')}.`);
    if (set.length === 0) fail('label', `label.transform sets no rule; use one of ${known.join(', ')}, e.g. { gt: 0 }.`);
    for (const [rule, value] of set) {
      if (['gt', 'gte', 'lt', 'lte'].includes(rule) && !(typeof value === 'number' && Number.isFinite(value))) fail('label', `label.transform.${rule} must be a number, got ${JSON.stringify(value)}.`);
      if (rule === 'eq' && !['string', 'number', 'boolean'].includes(typeof value)) fail('label', `label.transform.eq must be a string, number or boolean, got ${JSON.stringify(value)}.`);
      if (rule === 'oneOf' && !(Array.isArray(value) && value.length > 0)) fail('label', 'label.transform.oneOf must be a non-empty list of values.');
    }
  }
}

function pascal(text: string): string {
  return text.split('-').map(capitalize).join('');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
