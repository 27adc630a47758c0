/**
 * Drift reports in the database (`drift_reports`), one per monitoring run, keyed by the run's
 * idempotency key so that a retried step writes once; and the retraining policy's decisions on them.
 */
import { and, desc, eq, gte } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { driftReports, type DriftReportRow } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { DriftReport } from './report.js';

/** Stores a report; storing one with the same id again returns the stored row unchanged. */
export async function saveDriftReport(db: Database, report: DriftReport, options: { runId?: string } = {}): Promise<DriftReportRow> {
  await db
    .insert(driftReports)
    .values({
      id: report.id,
      modelName: report.model,
      version: report.version,
      windowFrom: new Date(report.window.from),
      windowTo: new Date(report.window.to),
      rows: report.rows,
      enough: report.enough,
      datasetDrift: report.datasetDrift,
      predictionDrift: report.prediction?.verdict === 'drift' ? true : report.prediction?.verdict === 'no drift' ? false : null,
      decayed: report.decay.decayed,
      report: report as unknown as Record<string, unknown>,
      runId: options.runId ?? null,
    })
    .onConflictDoNothing({ target: driftReports.id });
  return getDriftReportRow(db, report.id);
}

export async function getDriftReportRow(db: Database | Transaction, id: string): Promise<DriftReportRow> {
  const [row] = await db.select().from(driftReports).where(eq(driftReports.id, id));
  if (!row) throw new NotFoundError(`No drift report "${id}". \`steward drift list <model>\` shows the recent ones.`, { id });
  return row;
}

export async function getDriftReport(db: Database, id: string): Promise<DriftReport> {
  return (await getDriftReportRow(db, id)).report as unknown as DriftReport;
}

/** The most recent reports of a model, newest first. */
export async function listDriftReports(db: Database, model: string, limit = 20): Promise<DriftReportRow[]> {
  return db.select().from(driftReports).where(eq(driftReports.modelName, model)).orderBy(desc(driftReports.createdAt)).limit(limit);
}

/** Records the policy's decision on a report (inside the caller's transaction, with its audit entry). */
export async function recordDriftDecision(tx: Transaction, id: string, decision: 'retrain' | 'hold', details: Record<string, unknown>): Promise<void> {
  await tx.update(driftReports).set({ decision, decisionDetails: details }).where(eq(driftReports.id, id));
}

/**
 * The window ends of a model's retrain decisions since an instant, newest first: what the cool-down
 * and the budget count. Window time, not wall-clock time, so replays of past weeks count correctly.
 */
export async function retrainDecisionsSince(db: Database | Transaction, model: string, since: Date): Promise<Array<{ id: string; windowTo: Date }>> {
  return db
    .select({ id: driftReports.id, windowTo: driftReports.windowTo })
    .from(driftReports)
    .where(and(eq(driftReports.modelName, model), eq(driftReports.decision, 'retrain'), gte(driftReports.windowTo, since)))
    .orderBy(desc(driftReports.windowTo));
}
