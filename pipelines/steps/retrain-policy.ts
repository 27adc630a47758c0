/**
 * The retraining policy applied to a drift report (the drift-retrain pipelines): triggers, a
 * cool-down between retrains and a maximum per period, decided at the window's end. The decision and
 * its numbers (rows, drift share, the decay metric now and at validation, how much worse) go on the
 * report and in the audit trail, once: a retried step finds its own decision. Not cached: it reads
 * the decisions taken since.
 */
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { appendAuditTx } from '../../src/audit/index.js';
import { decideRetrain, type RetrainPolicy } from '../../src/monitoring/policy.js';
import { getDriftReportRow, recordDriftDecision, retrainDecisionsSince } from '../../src/monitoring/report-store.js';
import { defineStep } from '../../src/pipeline/step.js';

const TRIGGERS = ['drift', 'prediction', 'decay'];

const decisionOutput = z.object({
  decision: z.enum(['retrain', 'hold']),
  /** Why, in words: each trigger that fired, or what held it back. */
  reasons: z.array(z.string()),
  triggers: z.array(z.string()),
  /** The window's end: the policy's "now". */
  at: z.string(),
  policy: z.object({
    onDatasetDrift: z.boolean(),
    onPredictionDrift: z.boolean(),
    onDecay: z.boolean(),
    coolDownHours: z.number(),
    maxRetrainsPerPeriod: z.number(),
    periodDays: z.number(),
  }),
  retrainsInPeriod: z.number().int(),
  lastRetrainAt: z.string().nullable(),
  /** What the verdicts rest on: rows, drift share, the decay metric now and at validation and how much worse (named rocAuc, validationRocAuc, rocAucDrop as well when it is ROC AUC). */
  numbers: z.record(z.string(), z.unknown()),
  reportId: z.string(),
  modelName: z.string(),
  version: z.number().int(),
});

/** The numbers a decision rests on; a report measured on ROC AUC (every report before tasks) keeps the names it always had. */
export function decisionNumbers(
  rows: number,
  report: { driftShare?: number | null; decay?: { metric?: string; current: number | null; reference: number; drop: number | null; relativeDrop?: number | null } },
): Record<string, unknown> {
  const decay = report.decay;
  const metric = decay?.metric ?? 'rocAuc';
  const numbers: Record<string, unknown> = {
    rows,
    driftShare: report.driftShare ?? null,
    metric,
    current: decay?.current ?? null,
    reference: decay?.reference ?? null,
    drop: decay?.drop ?? null,
    ...(decay?.relativeDrop !== undefined ? { relativeDrop: decay.relativeDrop } : {}),
  };
  if (metric === 'rocAuc') Object.assign(numbers, { rocAuc: decay?.current ?? null, validationRocAuc: decay?.reference ?? null, rocAucDrop: decay?.drop ?? null });
  return numbers;
}

export const retrainPolicy = defineStep({
  name: 'retrainPolicy',
  // v2: the decision's numbers name the decay metric (RMSE for a regressor), not only ROC AUC.
  version: '2',
  description: 'Decide by policy whether a drift report calls for retraining, and record the decision',
  input: z.object({
    modelName: z.string().min(1),
    reportId: z.string().min(1),
    /** Comma-separated: drift, prediction, decay. */
    triggers: z.string(),
    coolDownHours: z.number(),
    maxRetrainsPerPeriod: z.number(),
    periodDays: z.number(),
  }),
  output: decisionOutput,
  cache: false,
  async run(input, ctx) {
    const db = ctx.db;
    const row = await getDriftReportRow(db, input.reportId);
    const triggers = new Set(input.triggers.split(',').map((t) => t.trim()).filter(Boolean));
    for (const t of triggers) {
      if (!TRIGGERS.includes(t)) throw new ValidationError(`Unknown retrain trigger "${t}": use drift, prediction and/or decay, comma-separated.`);
    }
    const policy: RetrainPolicy = {
      onDatasetDrift: triggers.has('drift'),
      onPredictionDrift: triggers.has('prediction'),
      onDecay: triggers.has('decay'),
      coolDownHours: input.coolDownHours,
      maxRetrainsPerPeriod: input.maxRetrainsPerPeriod,
      periodDays: input.periodDays,
    };
    const report = row.report as { driftShare?: number | null; decay?: { metric?: string; current: number | null; reference: number; drop: number | null; relativeDrop?: number | null } };
    return db.transaction(async (tx) => {
      // A retried step finds its own decision: the first one stands.
      const again = await getDriftReportRow(tx, input.reportId);
      if (again.decision && again.decisionDetails) return again.decisionDetails as z.input<typeof decisionOutput>;
      const lookBack = new Date(row.windowTo.getTime() - Math.max(policy.periodDays * 24, policy.coolDownHours) * 3_600_000);
      const previous = (await retrainDecisionsSince(tx, row.modelName, lookBack)).filter((d) => d.id !== row.id).map((d) => d.windowTo);
      const decided = decideRetrain(
        {
          enough: row.enough,
          datasetDrift: row.datasetDrift,
          predictionDrift: row.predictionDrift,
          decayed: row.decayed,
          at: row.windowTo,
          numbers: decisionNumbers(row.rows, report),
        },
        previous,
        policy,
      );
      const details = { ...decided, reportId: row.id, modelName: row.modelName, version: row.version };
      await recordDriftDecision(tx, row.id, decided.decision, details);
      await appendAuditTx(tx, {
        actor: 'steward',
        action: `monitoring.${decided.decision}`,
        subject: `model:${row.modelName}@${row.version}`,
        details,
        idempotencyKey: `${ctx.idempotencyKey}:decision`,
      });
      return details;
    });
  },
});
