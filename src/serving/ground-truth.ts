/**
 * Ground truth arrives after the prediction (whether it rains tomorrow is known only tomorrow): it is attached by the
 * request id the scorer returned, one value per row of the request, and may arrive before the
 * prediction itself is flushed to the log. Attaching again replaces the value (a correction).
 */
import { and, asc, eq, gte, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { predictionGroundTruth, predictionLog, type PredictionLogRow } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { checkRequestId } from './request-id.js';

export interface GroundTruthValue {
  /** Row of the request (0 for a single-row request). */
  row: number;
  value: number;
}

/** Accepts a number (row 0), an array (one per row) or explicit `{ row, value }` pairs. */
export function parseGroundTruth(body: unknown): GroundTruthValue[] {
  const raw = (body as { value?: unknown; values?: unknown } | null | undefined) ?? {};
  const values: GroundTruthValue[] =
    typeof raw.value === 'number'
      ? [{ row: 0, value: raw.value }]
      : Array.isArray(raw.values)
        ? raw.values.map((v: unknown, i) => (typeof v === 'object' && v !== null ? { row: Number((v as { row?: unknown }).row), value: Number((v as { value?: unknown }).value) } : { row: i, value: v as number }))
        : [];
  if (values.length === 0) throw new ValidationError('Send the ground truth as { "value": 1 } or { "values": [1, 0, ...] } (one per row) or { "values": [{ "row": 3, "value": 1 }] }.');
  for (const v of values) {
    if (!Number.isInteger(v.row) || v.row < 0) throw new ValidationError(`Ground-truth row ${v.row} is not a row index (0, 1, ...).`);
    if (typeof v.value !== 'number' || !Number.isFinite(v.value)) throw new ValidationError(`Ground truth for row ${v.row} is ${String(v.value)}; it must be a finite number (a 0/1 label or the observed target).`);
  }
  if (new Set(values.map((v) => v.row)).size !== values.length) throw new ValidationError('Ground truth names a row twice.');
  return values;
}

export async function attachGroundTruth(db: Database, requestId: string, values: readonly GroundTruthValue[]): Promise<void> {
  checkRequestId(requestId, 'the ground truth');
  await db
    .insert(predictionGroundTruth)
    .values(values.map((v) => ({ requestId, rowIndex: v.row, value: v.value })))
    .onConflictDoUpdate({
      target: [predictionGroundTruth.requestId, predictionGroundTruth.rowIndex],
      set: { value: sql`excluded.value`, recordedAt: sql`now()` },
    });
}

export interface LoggedPrediction extends PredictionLogRow {
  /** Ground truth by row, null for rows that have none yet. */
  groundTruth: (number | null)[];
}

/** Logged predictions of a model (primary answers only unless `shadow`), oldest first, with any ground truth attached. */
export async function loggedPredictions(
  db: Database,
  options: { model: string; version?: number; since?: Date; shadow?: boolean; limit?: number },
): Promise<LoggedPrediction[]> {
  const filters = [eq(predictionLog.modelName, options.model), eq(predictionLog.shadow, options.shadow ?? false)];
  if (options.version !== undefined) filters.push(eq(predictionLog.version, options.version));
  if (options.since) filters.push(gte(predictionLog.at, options.since));
  const rows = await db
    .select()
    .from(predictionLog)
    .where(and(...filters))
    .orderBy(asc(predictionLog.at), asc(predictionLog.id))
    .limit(options.limit ?? 10_000);
  if (rows.length === 0) return [];
  const truths = await db
    .select()
    .from(predictionGroundTruth)
    .where(inArray(predictionGroundTruth.requestId, [...new Set(rows.map((r) => r.requestId))]));
  const byRequest = new Map<string, Map<number, number>>();
  for (const t of truths) (byRequest.get(t.requestId) ?? byRequest.set(t.requestId, new Map()).get(t.requestId)!).set(t.rowIndex, t.value);
  return rows.map((r) => ({ ...r, groundTruth: Array.from({ length: r.rows }, (_, i) => byRequest.get(r.requestId)?.get(i) ?? null) }));
}
