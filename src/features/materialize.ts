/**
 * Materialization: the latest row of every entity of a feature view, from the offline store to the
 * online store, with the view's statistics computed on the way. Rows stream in bounded batches
 * (binary COPY of `batchRows` rows in insertion order), each batch's latest row per entity is
 * upserted with a guard that never replaces a newer row (by event time, then created time), so a
 * batch, a run, or a crashed run's retry can be applied in any order and twice without harm.
 *
 * Full runs read every completed ingestion; incremental runs read only those completed after the
 * last successful run's watermark (ingestions complete with a per-view sequence number under the
 * same lock that fixes a run's watermark, so none is skipped). Statistics of an incremental run are
 * the previous run's sketches merged with the new rows'.
 */
import { and, desc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { featureIngestions, featureMaterializations, featureStatistics, type FeatureMaterialization } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { copyColumnsOut, ident } from './bulk.js';
import type { CopyColumn } from './copy-binary.js';
import type { FeatureValue } from './definitions.js';
import { lockView } from './ingestion.js';
import { copyKind, layoutFromSpec, tableOf, type ViewLayout } from './offline-store.js';
import { registeredDefinitions } from './registry.js';
import { addValue, mergeSketches, newSketch, sketchFromJson, sketchToJson, summarize, type FeatureSketch } from './statistics.js';

export interface MaterializeProgress {
  view: string;
  rowsRead: number;
  rowsTotal: number;
  entitiesWritten: number;
}

export interface MaterializeOptions {
  /** Views to materialize (default: every registered view with `online: true`). */
  views?: readonly string[];
  incremental?: boolean;
  /** Offline rows read per batch (default 20,000): memory is bounded by this, not by the view's size. */
  batchRows?: number;
  onProgress?: (progress: MaterializeProgress) => void;
  /** Told which views changed, so an in-process read-through cache drops them at once. */
  onlineStore?: { invalidate(view: string): void };
}

export interface MaterializeResult {
  view: string;
  materializationId: number;
  mode: 'full' | 'incremental';
  /** Ingestions with fromSeq < sequence <= toSeq were read. */
  fromSeq: number;
  toSeq: number;
  rowsRead: number;
  entitiesWritten: number;
}

const DEFAULT_BATCH_ROWS = 20_000;

export async function materialize(db: Database, options: MaterializeOptions = {}): Promise<MaterializeResult[]> {
  const registered = (await registeredDefinitions(db)).filter((d) => d.kind === 'featureView').map((d) => layoutFromSpec(d.spec));
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows <= 0) throw new ValidationError(`batchRows must be a positive whole number, got ${batchRows}.`);
  let views: ViewLayout[];
  if (options.views) {
    views = options.views.map((name) => {
      const view = registered.find((v) => v.name === name);
      if (!view) {
        throw new NotFoundError(`Unknown feature view "${name}". Registered: ${registered.map((v) => v.name).join(', ') || 'none (run steward apply)'}.`, { view: name });
      }
      if (!view.online) throw new ValidationError(`Feature view "${name}" is offline only (online: false); it is not materialized.`, { view: name });
      return view;
    });
  } else views = registered.filter((v) => v.online);
  const results: MaterializeResult[] = [];
  for (const view of views) results.push(await materializeView(db, view, options, batchRows));
  return results;
}

async function materializeView(db: Database, view: ViewLayout, options: MaterializeOptions, batchRows: number): Promise<MaterializeResult> {
  const mode = options.incremental ? 'incremental' : 'full';
  const { run, previous } = await db.transaction(async (tx) => {
    await lockView(tx, view.name);
    const [{ toSeq }] = (await tx
      .select({ toSeq: sql<number>`coalesce(max(${featureIngestions.commitSeq}), 0)::int` })
      .from(featureIngestions)
      .where(and(eq(featureIngestions.view, view.name), eq(featureIngestions.status, 'complete')))) as [{ toSeq: number }];
    const [last] = await tx
      .select()
      .from(featureMaterializations)
      .where(and(eq(featureMaterializations.view, view.name), eq(featureMaterializations.status, 'complete')))
      .orderBy(desc(featureMaterializations.id))
      .limit(1);
    const fromSeq = mode === 'incremental' ? (last?.toSeq ?? 0) : 0;
    const [created] = await tx.insert(featureMaterializations).values({ view: view.name, mode, fromSeq, toSeq: Number(toSeq) }).returning();
    return { run: created!, previous: mode === 'incremental' ? last : undefined };
  });
  try {
    const ingestions = await db
      .select({ id: featureIngestions.id, rows: featureIngestions.rows })
      .from(featureIngestions)
      .where(
        and(
          eq(featureIngestions.view, view.name),
          eq(featureIngestions.status, 'complete'),
          gt(featureIngestions.commitSeq, run.fromSeq),
          lte(featureIngestions.commitSeq, run.toSeq),
        ),
      )
      .orderBy(featureIngestions.commitSeq);
    const progress: MaterializeProgress = { view: view.name, rowsRead: 0, rowsTotal: ingestions.reduce((n, i) => n + i.rows, 0), entitiesWritten: 0 };
    options.onProgress?.({ ...progress });
    const sketches = new Map<string, FeatureSketch>(view.features.map((f, i) => [f.name, newSketch(f.type, run.id * 31 + i + 1)]));
    const entities = new Set<string>();
    for (const ingestion of ingestions) {
      let after = 0;
      for (;;) {
        const columns = await readBatch(db, view, ingestion.id, after, batchRows);
        const rows = columns[0]!.length;
        if (rows === 0) break;
        const rowIds = columns[columns.length - 1]!;
        after = rowIds.value(rows - 1) as number;
        const written = await writeBatch(db, view, run.id, columns, sketches);
        written.forEach((k) => entities.add(k));
        progress.rowsRead += rows;
        progress.entitiesWritten = entities.size;
        options.onProgress?.({ ...progress });
        if (rows < batchRows) break;
      }
    }
    await finishRun(db, view, run, previous, sketches, progress);
    options.onlineStore?.invalidate(view.name);
    return { view: view.name, materializationId: run.id, mode, fromSeq: run.fromSeq, toSeq: run.toSeq, rowsRead: progress.rowsRead, entitiesWritten: entities.size };
  } catch (error) {
    await db
      .update(featureMaterializations)
      .set({ status: 'failed', error: (error as Error).message, finishedAt: new Date() })
      .where(eq(featureMaterializations.id, run.id));
    throw error;
  }
}

function readBatch(db: Database, view: ViewLayout, ingestion: number, after: number, limit: number): Promise<CopyColumn[]> {
  const columns = [
    ...view.joinKeys.map((k) => ({ name: k.name, kind: copyKind(k.type) })),
    { name: view.eventTimestamp, kind: 'timestamptz' as const },
    ...(view.createdTimestamp ? [{ name: view.createdTimestamp, kind: 'timestamptz' as const }] : []),
    ...view.features.map((f) => ({ name: f.name, kind: copyKind(f.type) })),
    { name: '_row', kind: 'int8' as const },
  ];
  const select =
    `select ${columns.map((c) => ident(c.name)).join(', ')} from ${tableOf(view.name)} ` +
    `where _ingestion = ${Math.trunc(ingestion)} and _row > ${Math.trunc(after)} order by _row limit ${Math.trunc(limit)}`;
  return copyColumnsOut(
    db,
    select,
    columns.map((c) => c.kind),
  );
}

/** Adds the batch to the statistics and upserts each entity's latest row; returns the entity keys written. */
async function writeBatch(db: Database, view: ViewLayout, runId: number, columns: CopyColumn[], sketches: Map<string, FeatureSketch>): Promise<string[]> {
  const keyCount = view.joinKeys.length;
  const event = columns[keyCount]!;
  const created = view.createdTimestamp ? columns[keyCount + 1]! : undefined;
  const firstFeature = keyCount + (created ? 2 : 1);
  const rows = event.length;
  view.features.forEach((f, j) => {
    const column = columns[firstFeature + j]!;
    const sketch = sketches.get(f.name)!;
    for (let i = 0; i < rows; i++) addValue(sketch, column.value(i) as FeatureValue);
  });
  // Within the batch, each entity's latest row (later rows win exact ties, as offline).
  const latest = new Map<string, number>();
  const visibleCreated = (i: number) => (created && created.isValid(i) ? created.values[i]! : event.values[i]!);
  for (let i = 0; i < rows; i++) {
    const key = JSON.stringify(Array.from({ length: keyCount }, (_, k) => columns[k]!.value(i)));
    const best = latest.get(key);
    if (best === undefined) latest.set(key, i);
    else {
      const [e, b] = [event.values[i]!, event.values[best]!];
      if (e > b || (e === b && visibleCreated(i) >= visibleCreated(best))) latest.set(key, i);
    }
  }
  const payload = [...latest].map(([key, i]) => ({
    k: key,
    e: new Date(event.values[i]!).toISOString(),
    c: created && created.isValid(i) ? new Date(created.values[i]!).toISOString() : null,
    v: Object.fromEntries(view.features.map((f, j) => [f.name, columns[firstFeature + j]!.value(i)])),
  }));
  await db.execute(sql`
    insert into feature_online (view, entity_key, event_at, created_at, values, materialization_id)
    select ${view.name}, r.k, r.e, r.c, r.v, ${runId}
    from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as r(k text, e timestamptz, c timestamptz, v jsonb)
    on conflict (view, entity_key) do update set
      event_at = excluded.event_at, created_at = excluded.created_at, values = excluded.values,
      materialization_id = excluded.materialization_id, updated_at = now()
    where (excluded.event_at, coalesce(excluded.created_at, excluded.event_at))
      >= (feature_online.event_at, coalesce(feature_online.created_at, feature_online.event_at))`);
  return [...latest.keys()];
}

async function finishRun(
  db: Database,
  view: ViewLayout,
  run: FeatureMaterialization,
  previous: FeatureMaterialization | undefined,
  sketches: Map<string, FeatureSketch>,
  progress: MaterializeProgress,
): Promise<void> {
  const before = previous ? await db.select().from(featureStatistics).where(eq(featureStatistics.materializationId, previous.id)) : [];
  const earlier = new Map(before.map((s) => [s.feature, sketchFromJson(s.sketch)]));
  await db.transaction(async (tx) => {
    const rows = view.features.map((f) => {
      const mine = sketches.get(f.name)!;
      const old = earlier.get(f.name);
      const sketch = old && old.kind === mine.kind ? mergeSketches(old, mine) : mine;
      return {
        materializationId: run.id,
        view: view.name,
        feature: f.name,
        summary: summarize(sketch) as unknown as Record<string, unknown>,
        sketch: sketchToJson(sketch),
      };
    });
    if (rows.length > 0) await tx.insert(featureStatistics).values(rows);
    await tx
      .update(featureMaterializations)
      .set({ status: 'complete', rowsRead: progress.rowsRead, entitiesWritten: progress.entitiesWritten, finishedAt: new Date() })
      .where(eq(featureMaterializations.id, run.id));
  });
}
