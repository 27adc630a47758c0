/**
 * The offline store: one typed table per feature view in the `features` schema, created by `apply`
 * (join keys, event and created times, one column per feature, plus `_row` (insertion order) and
 * `_ingestion` (which load wrote the row)). Rows of an ingestion that has not completed are never
 * read: reads leave out every ingestion of the view whose status is not `complete`.
 *
 * Reads go through binary COPY into Arrow columns (bulk.ts), asking only for the keys and the time
 * range a question needs.
 */
import { and, eq, ne } from 'drizzle-orm';
import { Table, makeVector, type Vector } from 'apache-arrow';
import type { Database, Transaction } from '../db/client.js';
import { featureIngestions } from '../db/schema.js';
import { copyColumnsOut, ident, literal, timestampLiteral } from './bulk.js';
import type { CopyKind } from './copy-binary.js';
import type { FeatureField, FeatureView, JoinKey, ValueType } from './definitions.js';
import { gatherColumn } from './gather.js';

export const FEATURE_SCHEMA = 'features';

/** What the store needs of a view: the code definition and the registered spec both provide it. */
export type ViewLayout = Pick<FeatureView, 'name' | 'joinKeys' | 'features' | 'eventTimestamp' | 'createdTimestamp' | 'ttlMs' | 'online'>;

export function layoutFromSpec(spec: Record<string, unknown>): ViewLayout {
  return {
    name: spec.name as string,
    joinKeys: spec.joinKeys as JoinKey[],
    features: spec.features as FeatureField[],
    eventTimestamp: spec.eventTimestamp as string,
    createdTimestamp: (spec.createdTimestamp as string | null) ?? undefined,
    ttlMs: (spec.ttlMs as number | null) ?? undefined,
    online: spec.online as boolean,
  };
}

export function tableOf(view: string): string {
  return `${FEATURE_SCHEMA}.${ident(view)}`;
}

export function pgType(type: ValueType): string {
  return { string: 'text', int32: 'integer', int64: 'bigint', float64: 'double precision', bool: 'boolean', timestamp: 'timestamptz' }[type];
}

export function copyKind(type: ValueType): CopyKind {
  return ({ string: 'text', int32: 'int4', int64: 'int8', float64: 'float8', bool: 'bool', timestamp: 'timestamptz' } as const)[type];
}

export function createTableStatements(view: ViewLayout): string[] {
  const table = tableOf(view.name);
  const columns = [
    // Insertion order: ties between identical event and created times go to the later row, offline and online.
    '_row bigint generated always as identity',
    '_ingestion integer not null',
    ...view.joinKeys.map((k) => `${ident(k.name)} ${pgType(k.type)} not null`),
    `${ident(view.eventTimestamp)} timestamptz not null`,
    ...(view.createdTimestamp ? [`${ident(view.createdTimestamp)} timestamptz`] : []),
    ...view.features.map((f) => `${ident(f.name)} ${pgType(f.type)}`),
  ];
  const keyColumns = [...view.joinKeys.map((k) => ident(k.name)), ident(view.eventTimestamp)].join(', ');
  return [
    `create schema if not exists ${FEATURE_SCHEMA}`,
    `create table ${table} (${columns.join(', ')})`,
    `create index ${ident(`${view.name}_key_time_idx`)} on ${table} (${keyColumns})`,
    `create index ${ident(`${view.name}_ingestion_idx`)} on ${table} (_ingestion, _row)`,
  ];
}

export function addColumnStatement(view: string, field: FeatureField): string {
  return `alter table ${tableOf(view)} add column ${ident(field.name)} ${pgType(field.type)}`;
}

/** Ingestions of the view that reads must not see (running or failed), if any. */
export async function hiddenIngestions(db: Database | Transaction, view: string): Promise<number[]> {
  const rows = await db
    .select({ id: featureIngestions.id })
    .from(featureIngestions)
    .where(and(eq(featureIngestions.view, view), ne(featureIngestions.status, 'complete')));
  return rows.map((r) => r.id);
}

export function hiddenFilter(hidden: readonly number[]): string {
  return hidden.length === 0 ? '' : ` and _ingestion not in (${hidden.map((id) => String(Math.trunc(id))).join(', ')})`;
}

export interface LoadOptions {
  features: readonly string[];
  /** Only rows with an event strictly after this time (ms), when set. */
  eventAfter?: number;
  /** Only rows with event and created times at or before this time (ms). */
  visibleBy?: number;
  /** Only rows of these entities (join key values in key order), when set. */
  keys?: ReadonlyArray<ReadonlyArray<string | number | bigint>>;
}

/**
 * The rows of a view that a point-in-time question can use, as an Arrow table with the join keys,
 * the event time (and created time), the features, in insertion order so that ties go to the later
 * row as they do online.
 */
export async function loadViewTable(db: Database, view: ViewLayout, options: LoadOptions): Promise<Table> {
  const fields = options.features.map((name) => view.features.find((f) => f.name === name)!);
  const selected = [
    ...view.joinKeys.map((k) => ({ name: k.name, kind: copyKind(k.type) })),
    { name: view.eventTimestamp, kind: 'timestamptz' as const },
    ...(view.createdTimestamp ? [{ name: view.createdTimestamp, kind: 'timestamptz' as const }] : []),
    ...fields.map((f) => ({ name: f.name, kind: copyKind(f.type) })),
    { name: '_row', kind: 'int8' as const },
  ];
  const where = ['true'];
  const event = ident(view.eventTimestamp);
  if (options.eventAfter !== undefined && Number.isFinite(options.eventAfter)) where.push(`${event} > ${timestampLiteral(options.eventAfter)}`);
  if (options.visibleBy !== undefined) {
    const by = timestampLiteral(options.visibleBy);
    where.push(`${event} <= ${by}`);
    if (view.createdTimestamp) where.push(`coalesce(${ident(view.createdTimestamp)}, ${event}) <= ${by}`);
  }
  if (options.keys) where.push(keyFilter(view.joinKeys, options.keys));
  const select =
    `select ${selected.map((c) => ident(c.name)).join(', ')} from ${tableOf(view.name)} where ${where.join(' and ')}` +
    hiddenFilter(await hiddenIngestions(db, view.name));
  const columns = await copyColumnsOut(
    db,
    select,
    selected.map((c) => c.kind),
  );
  const rowIds = columns.pop()!;
  const vectors: Record<string, Vector> = {};
  selected.slice(0, -1).forEach((c, i) => (vectors[c.name] = columns[i]!.toVector()));
  const order = insertionOrder(rowIds.values as Int32Array, rowIds.length);
  if (order) for (const name of Object.keys(vectors)) vectors[name] = gatherVector(vectors[name]!, order);
  return new Table(vectors);
}

function keyFilter(joinKeys: readonly JoinKey[], keys: ReadonlyArray<ReadonlyArray<string | number | bigint>>): string {
  if (keys.length === 0) return 'false';
  const value = (v: string | number | bigint, key: JoinKey) => (key.type === 'string' ? literal(String(v)) : String(BigInt(v)));
  if (joinKeys.length === 1) {
    const key = joinKeys[0]!;
    return `${ident(key.name)} in (${keys.map((k) => value(k[0]!, key)).join(', ')})`;
  }
  const tuple = `(${joinKeys.map((k) => ident(k.name)).join(', ')})`;
  return `${tuple} in (${keys.map((k) => `(${joinKeys.map((jk, i) => value(k[i]!, jk)).join(', ')})`).join(', ')})`;
}

/** The permutation that puts rows in `_row` order, or null when they already are (the usual case). */
function insertionOrder(words: Int32Array, length: number): Int32Array | null {
  const ids = new Float64Array(length);
  let sorted = true;
  for (let i = 0; i < length; i++) {
    ids[i] = words[2 * i + 1]! * 4294967296 + (words[2 * i]! >>> 0);
    if (i > 0 && ids[i]! < ids[i - 1]!) sorted = false;
  }
  if (sorted) return null;
  const order = Int32Array.from({ length }, (_, i) => i);
  order.sort((a, b) => ids[a]! - ids[b]!);
  return order;
}

function gatherVector(vector: Vector, order: Int32Array): Vector {
  return makeVector(gatherColumn(vector, order));
}
