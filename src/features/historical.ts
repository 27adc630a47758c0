/**
 * Point-in-time-correct training sets from the offline store. Each entity row (keys and a time t)
 * gets, per feature view, the latest row of its entity whose event time is at or before t and within
 * the view's TTL, and among rows with that event time the latest one created at or before t, so a
 * late backfill never leaks into the past. Missing values are null. On-demand views are computed
 * from the joined values, row by row, with the same function the online store uses.
 *
 * Only what the question needs leaves the database: each view's rows with events in
 * (min t - TTL, max t] created by max t, and for small entity sets only their keys; they arrive as
 * Arrow columns through binary COPY and are joined by `pointInTimeJoin` in memory.
 */
import { DataType, Table, vectorFromArray, type Vector } from 'apache-arrow';
import type { Database } from '../db/client.js';
import { ValidationError } from '../errors.js';
import { requirePurpose } from '../governance/purposes.js';
import { isTimeType, readTimes } from './columns.js';
import {
  applyTransform,
  featureRepository,
  outputName,
  resolveService,
  viewsOfService,
  type Definition,
  type FeatureService,
  type FeatureValue,
  type FeatureView,
  type OnDemandFeatureView,
  type ValueType,
} from './definitions.js';
import { arrowType, valueReader } from './arrow-values.js';
import { loadViewTable } from './offline-store.js';
import { pointInTimeJoin, type FeatureView as JoinView } from './pit-join.js';
import { requireApplied } from './registry.js';

export interface HistoricalFeaturesRequest {
  /** One row per (entity, time) to get features for: the join keys of every view and the timestamp column. */
  entityRows: Table;
  entityTimestamp: string;
  featureService: FeatureService | string;
  /** Where a service named by a string is found (the same definitions `apply` registered). */
  definitions?: readonly Definition[];
  /** The model this training set is for: pii features need a purpose approved for it (src/governance/purposes.ts). */
  model?: string;
}

/** Entity sets up to this many rows get their keys pushed into the query; bigger ones read the time range. */
const KEY_FILTER_MAX_ROWS = 100_000;
const KEY_FILTER_MAX_KEYS = 1_000;

export async function getHistoricalFeatures(db: Database, request: HistoricalFeaturesRequest): Promise<Table> {
  const { entityRows, entityTimestamp } = request;
  const repo = featureRepository(request.definitions ?? (typeof request.featureService === 'string' ? [] : [request.featureService]));
  const service = resolveService(repo, request.featureService);
  const views = viewsOfService(service);
  const onDemand = service.projections.map((p) => p.view).filter((v): v is OnDemandFeatureView => v.kind === 'onDemandFeatureView');
  await requireApplied(db, [service, ...views, ...onDemand]);
  await requirePurpose(db, service, request.model);
  checkEntityRows(entityRows, entityTimestamp, views);

  const times = readTimes(entityRows.getChild(entityTimestamp)!);
  let [minTime, maxTime] = [Infinity, -Infinity];
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t !== t) {
      throw new ValidationError(`Entity row ${i} has no timestamp in "${entityTimestamp}"; every entity row needs the time to get features as of.`, {
        column: entityTimestamp,
        row: i,
      });
    }
    if (t < minTime) minTime = t;
    if (t > maxTime) maxTime = t;
  }

  const needed = neededFeatures(service, views);
  // Views load concurrently: on PostgreSQL the server scans one while this process decodes another.
  const joinViews: JoinView[] = await Promise.all(
    views.map(async (view) => {
      const features = [...needed.get(view.name)!];
      const table =
        entityRows.numRows === 0
          ? await loadViewTable(db, view, { features, keys: [] })
          : await loadViewTable(db, view, {
              features,
              eventAfter: view.ttlMs === undefined ? undefined : minTime - view.ttlMs,
              visibleBy: maxTime,
              keys: distinctKeys(entityRows, view),
            });
      return {
        name: view.name,
        table,
        joinKeys: view.joinKeys.map((k) => k.name),
        eventTimestamp: view.eventTimestamp,
        createdTimestamp: view.createdTimestamp,
        ttlMs: view.ttlMs,
        features,
      };
    }),
  );
  const joined = pointInTimeJoin(entityRows, joinViews, { entityTimestamp });

  const onDemandColumns: Record<string, Vector> = {};
  for (const view of onDemand) Object.assign(onDemandColumns, computeOnDemand(joined, view, service));
  const wanted = [
    ...entityRows.schema.fields.map((f) => f.name),
    ...service.projections.flatMap((p) => p.features.map((f) => outputName(p.view.name, f))),
  ];
  const base = joined.select(wanted.filter((name) => !(name in onDemandColumns)));
  const withOnDemand = Object.keys(onDemandColumns).length > 0 ? base.assign(new Table(onDemandColumns)) : base;
  return withOnDemand.select(wanted);
}

/** Per view, the features the service reads from it: its own selection and on-demand inputs. */
function neededFeatures(service: FeatureService, views: readonly FeatureView[]): Map<string, Set<string>> {
  const needed = new Map(views.map((v) => [v.name, new Set<string>()]));
  for (const p of service.projections) {
    if (p.view.kind === 'featureView') p.features.forEach((f) => needed.get(p.view.name)!.add(f));
    else for (const ref of Object.values(p.view.inputs)) needed.get(ref.view.name)!.add(ref.feature);
  }
  return needed;
}

function checkEntityRows(entityRows: Table, entityTimestamp: string, views: readonly FeatureView[]): void {
  const have = entityRows.schema.fields.map((f) => f.name).join(', ');
  const time = entityRows.getChild(entityTimestamp);
  if (!time) throw new ValidationError(`Entity rows have no column "${entityTimestamp}" (the entity timestamp); they have ${have}.`, { column: entityTimestamp });
  if (!isTimeType(time.type)) {
    throw new ValidationError(`Entity timestamp "${entityTimestamp}" has type ${String(time.type)}; expected a timestamp, a date or epoch milliseconds.`, {
      column: entityTimestamp,
    });
  }
  for (const view of views) {
    for (const key of view.joinKeys) {
      const column = entityRows.getChild(key.name);
      if (!column) {
        throw new ValidationError(`Entity rows have no column "${key.name}", a join key of feature view "${view.name}"; they have ${have}.`, {
          view: view.name,
          column: key.name,
        });
      }
      const type = DataType.isDictionary(column.type) ? column.type.dictionary : column.type;
      const ok = key.type === 'string' ? DataType.isUtf8(type) || DataType.isLargeUtf8(type) : DataType.isInt(type);
      if (!ok) {
        throw new ValidationError(
          `Entity key "${key.name}" has type ${String(column.type)} in the entity rows, but feature view "${view.name}" declares it ${key.type}.`,
          { view: view.name, column: key.name },
        );
      }
    }
  }
}

/** The entity rows' distinct keys for a view, when few enough to push into the query. */
function distinctKeys(entityRows: Table, view: FeatureView): Array<Array<string | number | bigint>> | undefined {
  if (entityRows.numRows > KEY_FILTER_MAX_ROWS) return undefined;
  const columns = view.joinKeys.map((k) => entityRows.getChild(k.name)!);
  const seen = new Map<string, Array<string | number | bigint>>();
  for (let i = 0; i < entityRows.numRows; i++) {
    const values = columns.map((c) => c.get(i) as string | number | bigint | null);
    if (values.some((v) => v === null)) continue;
    const key = JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (!seen.has(key)) {
      seen.set(key, values as Array<string | number | bigint>);
      if (seen.size > KEY_FILTER_MAX_KEYS) return undefined;
    }
  }
  return [...seen.values()];
}

function computeOnDemand(joined: Table, view: OnDemandFeatureView, service: FeatureService): Record<string, Vector> {
  const selected = service.projections.find((p) => p.view === view)!.features;
  const readers = Object.entries(view.inputs).map(([arg, ref]) => [arg, valueReader(joined.getChild(outputName(ref.view.name, ref.feature))!)] as const);
  const outputs = new Map<string, FeatureValue[]>(selected.map((f) => [f, new Array<FeatureValue>(joined.numRows)]));
  const inputs: Record<string, FeatureValue> = {};
  for (let i = 0; i < joined.numRows; i++) {
    for (const [arg, read] of readers) inputs[arg] = read(i);
    const result = applyTransform(view, inputs);
    for (const [name, values] of outputs) values[i] = result[name]!;
  }
  const columns: Record<string, Vector> = {};
  for (const [name, values] of outputs) {
    const type: ValueType = view.features.find((f) => f.name === name)!.type;
    columns[outputName(view.name, name)] = vectorFromArray(type === 'timestamp' ? values.map((v) => (v === null ? null : new Date(v as number))) : values, arrowType(type));
  }
  return columns;
}
