/**
 * Champion against challenger (the drift-retrain pipelines): both versions scored again by their
 * ONNX models on the same labelled rows neither trained on, the challenger's training set's rows
 * after the later of the two training windows (src/monitoring/challenge.ts), on the champion's
 * reference primary metric (ROC AUC for a classifier, RMSE for a regressor) unless given. The
 * decision is `promote` when the challenger is better by the margin; otherwise `keep-champion`, a
 * completed decision with its reason, not a failure: a retrain that reproduced the champion itself
 * (the same artifact, hence the same version), too few unseen rows to compare, or a challenger no
 * better. Every decision lands in the audit trail. Not cached: the champion moves.
 */
import { z } from 'zod';
import { appendAuditTx } from '../../src/audit/index.js';
import { artifactDataset, modelVersionDataset } from '../../src/lineage/datasets.js';
import { compareVersionsOnTrainingSet, comparisonMetric } from '../../src/monitoring/challenge.js';
import { metricLabel } from '../../src/ml/tabular/task.js';
import { defineStep } from '../../src/pipeline/step.js';
import { resolveVersion } from '../../src/registry/lookup.js';
import { trainingSetRefSchema } from './train-model.js';

/** A comparison's decision and its numbers. */
export const comparisonSchema = z.object({
  modelName: z.string(),
  decision: z.enum(['promote', 'keep-champion']),
  /** Why, in words. */
  reason: z.string(),
  /** The challenger's version (what the release steps take when the decision is promote). */
  version: z.number().int(),
  championVersion: z.number().int(),
  metric: z.string(),
  /** The compared rows: how many, and when (null when none were compared). */
  rows: z.number().int(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  champion: z.number().nullable(),
  challenger: z.number().nullable(),
  /** How much better the challenger is, in the metric's units; null when not compared. */
  improvement: z.number().nullable(),
  margin: z.number(),
});

export const compareModels = defineStep({
  name: 'compareModels',
  version: '1',
  description: 'Compare a challenger with the champion on labelled rows neither trained on; promote it only if it is better by the margin',
  input: z.object({
    modelName: z.string().min(1),
    /** The champion's version or alias. */
    champion: z.union([z.string().min(1), z.number().int().positive()]).default('champion'),
    /** The challenger's version (the retrain's registered version). */
    challenger: z.number().int().positive(),
    /** The challenger's training set: its rows after both training windows are compared on. */
    trainingSet: trainingSetRefSchema,
    /** A metric of the task (default: the champion's reference primary metric). */
    metric: z.string().min(1).optional(),
    /** How much better the challenger must be, in the metric's units (0: any improvement). */
    margin: z.number().min(0).default(0),
    /** Fewer unseen labelled rows than this and no comparison is made (the champion stays). */
    minRows: z.number().int().positive().default(100),
    /** The drift report whose decision started the retrain ('' when none did). */
    reportId: z.string().default(''),
  }),
  output: comparisonSchema,
  startToCloseTimeout: '30 minutes',
  cache: false,
  async run(input, ctx) {
    const champion = await resolveVersion(ctx.db, input.modelName, input.champion);
    const { metric } = comparisonMetric(champion, { task: input.trainingSet.task, ...(input.metric ? { metric: input.metric } : {}) });
    const base = { modelName: input.modelName, version: input.challenger, championVersion: champion.version, margin: input.margin, metric };
    let result: z.input<typeof comparisonSchema>;
    if (champion.version === input.challenger) {
      // The same training data trains the same artifact, which the registry answers with the version it already has.
      result = {
        ...base,
        decision: 'keep-champion',
        reason: `The retrain reproduced the champion v${champion.version} itself (the same model artifact): there was no new data to learn from. The champion stays.`,
        rows: 0,
        from: null,
        to: null,
        champion: null,
        challenger: null,
        improvement: null,
      };
    } else {
      const compared = await compareVersionsOnTrainingSet(
        ctx.db,
        ctx.artifacts,
        { model: input.modelName, champion: champion.version, challenger: input.challenger, trainingSet: input.trainingSet, metric },
        { minRows: input.minRows },
      );
      const c = compared.comparison;
      if (!c) {
        result = { ...base, decision: 'keep-champion', reason: `${compared.reason} The champion stays.`, rows: 0, from: compared.from, to: compared.to, champion: null, challenger: null, improvement: null };
      } else {
        const better = input.margin === 0 ? c.improvement > 0 : c.improvement >= input.margin;
        const label = metricLabel(c.metric);
        const figures = `${label} ${fmt(c.challenger.value)} for challenger v${c.challenger.version} vs ${fmt(c.champion.value)} for champion v${c.champion.version} on ${c.rows} labelled rows from ${compared.from} to ${compared.to}, which neither trained on`;
        result = {
          ...base,
          decision: better ? 'promote' : 'keep-champion',
          reason: better
            ? `The challenger is better: ${figures} (improvement ${fmt(c.improvement)}${input.margin ? ` >= margin ${input.margin}` : ''}).`
            : `The challenger is not better${input.margin ? ' by the margin' : ''}: ${figures} (improvement ${fmt(c.improvement)}${input.margin ? ` < margin ${input.margin}` : ''}). The champion stays.`,
          metric: c.metric,
          rows: c.rows,
          from: compared.from,
          to: compared.to,
          champion: c.champion.value,
          challenger: c.challenger.value,
          improvement: c.improvement,
        };
      }
    }
    await ctx.db.transaction((tx) =>
      appendAuditTx(tx, {
        actor: 'steward',
        action: result.decision === 'promote' ? 'monitoring.challenger_better' : 'monitoring.challenger_not_better',
        subject: `model:${input.modelName}@${input.challenger}`,
        details: { ...result, reportId: input.reportId },
        idempotencyKey: `${ctx.idempotencyKey}:compare`,
      }),
    );
    return result;
  },
  lineage: (input) => ({ inputs: [artifactDataset(input.trainingSet.uri), modelVersionDataset(input.modelName, input.challenger)] }),
});

function fmt(x: number): string {
  return Math.abs(x) >= 1_000 ? x.toFixed(1) : x.toFixed(4);
}
