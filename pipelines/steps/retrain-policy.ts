/**
 * The retraining policy applied to a drift report (pipelines/flight-delay/drift-retrain-flight-delay.ts):
 * triggers, a cool-down between retrains and a maximum per period, decided at the window's end. The
 * decision and its numbers go on the report and in the audit trail, once: a retried step finds its
 * own decision. Not cached: it reads the decisions taken since.
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
  /** What the verdicts rest on (rows, drift share, ROC AUC now and at validation, its drop). */
  numbers: z.record(z.string(), z.unknown()),
  reportId: z.string(),
  modelName: z.string(),
  version: z.number().int(),
});

export const retrainPolicy = defineStep({
  name: 'retrainPolicy',
  version: '1',
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
    const report = row.report as { driftShare?: number | null; decay?: { current: number | null; reference: number; drop: number | null } };
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
          numbers: { rows: row.rows, driftShare: report.driftShare ?? null, rocAuc: report.decay?.current ?? null, validationRocAuc: report.decay?.reference ?? null, rocAucDrop: report.decay?.drop ?? null },
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
