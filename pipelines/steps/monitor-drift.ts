/**
 * Monitors a window of a model's prediction log against the reference stored with the version (the
 * drift-retrain pipelines): input drift per feature, prediction drift and performance decay on the
 * labelled rows, on the reference's primary metric (ROC AUC for a classifier, RMSE for a regressor,
 * or what the model declared), stored as a drift report (its id is the run's). Not cached: the
 * prediction log and its ground truth change.
 */
import { z } from 'zod';
import type { DriftReportRow } from '../../src/db/schema.js';
import { ValidationError } from '../../src/errors.js';
import { buildDriftReport, type DriftReport } from '../../src/monitoring/report.js';
import { saveDriftReport } from '../../src/monitoring/report-store.js';
import { monitorWindow } from '../../src/monitoring/window.js';
import { defineStep } from '../../src/pipeline/step.js';

/** An ISO 8601 input as a date, or a ValidationError naming it. */
export function instant(value: string, name: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ValidationError(`${name} "${value}" is not an ISO 8601 date.`);
  return date;
}

/** The step's output for a stored drift report: what a run's `monitor` returns, and what `steward demo drift` reads back of a week. */
export function monitorFindings(row: DriftReportRow, report: DriftReport) {
  // Reports stored before tasks name no metric: they measured ROC AUC.
  const metric = report.decay.metric ?? 'rocAuc';
  const onRocAuc = metric === 'rocAuc';
  return {
    reportId: row.id,
    version: row.version,
    windowFrom: row.windowFrom.toISOString(),
    windowTo: row.windowTo.toISOString(),
    rows: row.rows,
    enough: row.enough,
    datasetDrift: row.datasetDrift,
    predictionDrift: row.predictionDrift,
    decayed: row.decayed,
    driftedColumns: report.columns.filter((c) => c.verdict === 'drift').map((c) => c.column),
    driftShare: report.driftShare,
    seasonalColumns: report.seasonalColumns ?? [],
    metric,
    current: report.decay.current,
    reference: report.decay.reference,
    drop: report.decay.drop,
    rocAuc: onRocAuc ? report.decay.current : null,
    // As in a reference profile, 0 for a model not judged on ROC AUC (a regressor).
    validationRocAuc: onRocAuc ? report.decay.reference : 0,
  };
}

export const monitorDrift = defineStep({
  name: 'monitorDrift',
  // v2: decay on the reference's primary metric (absolute or relative), the dataset drift share as an input.
  version: '2',
  description: "Monitor a window of a model's prediction log for drift and decay, and store a drift report",
  input: z.object({
    modelName: z.string().min(1),
    /** Version or alias monitored; `champion` by default. */
    version: z.union([z.string().min(1), z.number().int().positive()]).default('champion'),
    /** End of the window (ISO 8601); empty for the schedule tick's time, or "now" when no schedule started the run. */
    windowEnd: z.string(),
    /** The nominal time of the Schedule tick that started the run ('' when none did). */
    scheduledAt: z.string().optional(),
    windowDays: z.number(),
    minRows: z.number().int(),
    minLabelledRows: z.number().int(),
    /** How much worse the primary metric may be than at validation before it counts as decay, in its units (or a share: decayRelative). */
    decayThreshold: z.number(),
    /** decayThreshold is a share of the validation value (0.1: RMSE 10% above it); absent: an amount of the metric. */
    decayRelative: z.boolean().optional(),
    /** Share of the decided features that must drift for the dataset to drift (absent: Evidently's 0.5). */
    driftShare: z.number().gt(0).max(1).optional(),
    /** Comma-separated features that follow the calendar: reported, not counted toward dataset drift (absent in runs recorded before the option). */
    seasonalFeatures: z.string().optional(),
    /** Jensen-Shannon columns drift only above their noise floor (absent in older runs: Evidently's rule alone). */
    aboveNoise: z.boolean().optional(),
  }),
  output: z.object({
    /** The drift report's id (the run's id). */
    reportId: z.string(),
    version: z.number().int(),
    windowFrom: z.string(),
    windowTo: z.string(),
    rows: z.number().int(),
    /** False when the window had too few rows to decide anything. */
    enough: z.boolean(),
    datasetDrift: z.boolean().nullable(),
    predictionDrift: z.boolean().nullable(),
    decayed: z.boolean().nullable(),
    driftedColumns: z.array(z.string()),
    /** Drifted share of the counted (non-seasonal) decided features; null when none was decided. */
    driftShare: z.number().nullable(),
    seasonalColumns: z.array(z.string()),
    /** The metric decay is measured on (the reference's primary metric), on the window's labelled rows (null when not computed) and at validation. */
    metric: z.string(),
    current: z.number().nullable(),
    reference: z.number(),
    /** How much worse the window is than validation, in the metric's units; null when not computed. */
    drop: z.number().nullable(),
    /** ROC AUC on the window's labelled rows when that is the metric; null when not computed or not the metric. */
    rocAuc: z.number().nullable(),
    /** The version's validation ROC AUC when decay is measured on it; 0 otherwise, as in a regressor's reference profile. */
    validationRocAuc: z.number(),
  }),
  startToCloseTimeout: '30 minutes',
  cache: false,
  async run(input, ctx) {
    const to = input.windowEnd ? instant(input.windowEnd, 'windowEnd') : input.scheduledAt ? instant(input.scheduledAt, 'scheduledAt') : new Date();
    if (!(input.windowDays > 0)) throw new ValidationError(`windowDays must be positive, got ${input.windowDays}.`);
    const from = new Date(to.getTime() - input.windowDays * 86_400_000);
    const window = await monitorWindow(ctx.db, ctx.artifacts, {
      model: input.modelName,
      version: input.version,
      from,
      to,
      minRows: input.minRows,
      minLabelledRows: input.minLabelledRows,
      decayThreshold: input.decayThreshold,
      decayRelative: input.decayRelative ?? false,
      seasonalFeatures: (input.seasonalFeatures ?? '').split(',').map((f) => f.trim()).filter(Boolean),
      drift: { aboveNoise: input.aboveNoise ?? false, ...(input.driftShare !== undefined ? { driftShare: input.driftShare } : {}) },
    });
    const report = buildDriftReport({ id: ctx.runId, model: input.modelName, version: window.version, from, to }, window.assessment, window.data, window.reference);
    const row = await saveDriftReport(ctx.db, report, { runId: ctx.runId });
    return monitorFindings(row, report);
  },
});
