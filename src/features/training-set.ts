/**
 * Training sets from a feature service and a label definition. The examples are rows of a feature
 * view: for a `column` label the labels view's rows (its keys, its event time and the label column);
 * for a `future` label the rows of `view`, each labelled with the same entity's `feature` at its event
 * time + `horizon` (that exact time, or the first row after it within the view's TTL; an example with
 * no such row, or whose label is missing, is dropped). Rows with the same keys and event time count
 * once, as the store reads them (the latest created, then the latest written). Each example gets the
 * service's features point in time at its event time (getHistoricalFeatures: the latest row at or
 * before it and within each view's TTL), so no feature is stamped after its example.
 *
 * The artifact is an Arrow IPC file, rows in time order then by key: the join keys, `event_time`
 * (Float64 epoch ms), numeric features as Float64 (NaN when missing; booleans 0/1, timestamps epoch
 * ms), categorical (string) features as Utf8, and `label` (Int8 0/1 for classification, Float64 for
 * regression); its TabularColumns say which is which.
 *
 * @example
 * const set = await buildTrainingSet(db, artifacts, definitions, {
 *   service: 'rain_forecast', task: 'binary-classification',
 *   label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } },
 * });
 * set.columns; // { label: 'label', time: 'event_time', keys: ['station'], numeric: ['daily_weather__precipitation', ...], categorical: ['daily_weather__weather'] }
 */
import { Table, makeVector, tableToIPC, type Vector } from 'apache-arrow';
import type { Database } from '../db/client.js';
import { ValidationError } from '../errors.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { TASKS } from '../ml/tabular/task.js';
import { valueReader } from './arrow-values.js';
import { readTimes } from './columns.js';
import {
  featureRepository,
  outputName,
  parseDuration,
  resolveService,
  viewsOfService,
  type Definition,
  type FeatureService,
  type FeatureValue,
  type FeatureView,
  type ValueType,
} from './definitions.js';
import { gatherColumn } from './gather.js';
import { getHistoricalFeatures } from './historical.js';
import { toMillis } from './ingestion.js';
import { JoinKeys, keyKind } from './keys.js';
import { loadViewTable } from './offline-store.js';
import { requireApplied } from './registry.js';
import { timeOrder } from './sort.js';
import type { Task, TabularColumns } from '../ml/tabular/task.js';

/** Turns a label value into 0/1 for classification; absent, the value is the label as it is. */
export interface LabelTransform {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: string | number | boolean;
  oneOf?: ReadonlyArray<string | number>;
}

/**
 * Where the label comes from:
 * - `column`: each row of the labels view (its entity keys, its event time and `column`) is one
 *   example; the service's features are joined to it point in time at that event time;
 * - `future`: each row of `view` is one example, labelled with the same entity's `feature` value at
 *   event time + `horizon` (e.g. the next day's precipitation); rows with no such later row are dropped.
 */
export type LabelDefinition =
  | { kind: 'column'; view: string; column: string; transform?: LabelTransform; description?: string }
  | { kind: 'future'; view: string; feature: string; horizon: string; transform?: LabelTransform; description?: string };

/** What a built training set artifact holds: the trainer's steps read it. */
export interface TrainingSetSummary {
  /** `artifact://sha256/<hex>` of the Arrow IPC file. */
  uri: string;
  sha256: string;
  bytes: number;
  rows: number;
  task: Task;
  columns: TabularColumns;
  /** Classification: rows labelled 1. Regression: null. */
  positives: number | null;
  /** First and last example time, ISO 8601. */
  from: string;
  to: string;
  featureService: string;
  featureServiceVersion: number;
  label: string;
}

export interface BuildTrainingSetOptions {
  /** The feature service (by name, from `definitions`) whose features the model reads. */
  service: string | FeatureService;
  label: LabelDefinition;
  task: Task;
  /** Only examples at or after this time (ISO 8601 or epoch ms). */
  from?: string | number;
  /** Only examples before this time (ISO 8601 or epoch ms). */
  to?: string | number;
  /** At most this many examples: the latest ones. */
  maxRows?: number;
  /** The model the set is for: pii features need a purpose approved for it (src/governance/purposes.ts). */
  model?: string;
}

export interface TrainingSetProgress {
  stage: 'examples' | 'features' | 'writing';
  rows?: number;
}

function timeOption(value: string | number | undefined, name: 'from' | 'to'): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : toMillis(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new ValidationError(`The training set's ${name} must be an ISO 8601 date or date-time (e.g. 2015-01-01) or epoch milliseconds, got ${JSON.stringify(value)}.`, { [name]: value });
  }
  return ms;
}

/** What a view's columns are, for messages: keys, event time, created time, features. */
function columnsOfView(view: FeatureView): string {
  return [...view.joinKeys.map((k) => k.name), view.eventTimestamp, ...(view.createdTimestamp ? [view.createdTimestamp] : []), ...view.features.map((f) => f.name)].join(', ');
}

/** The label's name for messages and the summary. */
function describeLabel(label: LabelDefinition): string {
  if (label.description) return label.description;
  const base = label.kind === 'column' ? `${label.view}.${label.column}` : `${label.view}.${label.feature} in ${label.horizon}`;
  const t = label.transform;
  if (!t) return base;
  const parts = [
    t.gt !== undefined ? `> ${t.gt}` : '',
    t.gte !== undefined ? `>= ${t.gte}` : '',
    t.lt !== undefined ? `< ${t.lt}` : '',
    t.lte !== undefined ? `<= ${t.lte}` : '',
    t.eq !== undefined ? `= ${JSON.stringify(t.eq)}` : '',
    t.oneOf !== undefined ? `in {${t.oneOf.join(', ')}}` : '',
  ].filter(Boolean);
  return `${base} ${parts.join(' and ')}`;
}

const NUMERIC_TYPES: readonly ValueType[] = ['int32', 'int64', 'float64'];

/** Checks the label against its view and the task; returns how a stored value becomes the label (NaN drops the example). */
function labelFunction(label: LabelDefinition, view: FeatureView, column: string, type: ValueType, task: Task): (value: FeatureValue, time: number) => number {
  const where = `label "${column}" of feature view "${view.name}"`;
  const t = label.transform;
  if (task === 'regression') {
    if (t && Object.keys(t).length > 0) {
      throw new ValidationError(`The ${where} has a transform, which makes a 0/1 label: use task binary-classification, or drop the transform to predict the number.`, { view: view.name, column });
    }
    if (!NUMERIC_TYPES.includes(type)) {
      throw new ValidationError(`A regression label must be a number, but the ${where} is declared ${type}. Use a numeric column, or task binary-classification with a transform such as { eq: '…' }.`, {
        view: view.name,
        column,
        type,
      });
    }
    return (value) => (value === null ? NaN : (value as number));
  }
  if (t && Object.keys(t).length > 0) {
    const numeric = ['gt', 'gte', 'lt', 'lte'].filter((k) => t[k as keyof LabelTransform] !== undefined);
    for (const k of numeric) {
      if (typeof t[k as 'gt'] !== 'number' || !Number.isFinite(t[k as 'gt'])) throw new ValidationError(`The transform of the ${where} has ${k} ${JSON.stringify(t[k as 'gt'])}; give a number.`, { view: view.name, column });
    }
    if (numeric.length > 0 && !NUMERIC_TYPES.includes(type)) {
      throw new ValidationError(`The transform of the ${where} compares with ${numeric.join(', ')}, but the column is declared ${type}; compare numbers, or use eq / oneOf for ${type} values.`, { view: view.name, column, type });
    }
    if (t.oneOf !== undefined && (!Array.isArray(t.oneOf) || t.oneOf.length === 0)) throw new ValidationError(`The transform of the ${where} has an empty oneOf; list the values that make the label 1.`, { view: view.name, column });
    const oneOf = t.oneOf ? new Set<unknown>(t.oneOf) : undefined;
    return (value) => {
      if (value === null) return NaN;
      const n = value as number;
      const hold =
        (t.gt === undefined || n > t.gt) &&
        (t.gte === undefined || n >= t.gte) &&
        (t.lt === undefined || n < t.lt) &&
        (t.lte === undefined || n <= t.lte) &&
        (t.eq === undefined || value === t.eq) &&
        (oneOf === undefined || oneOf.has(value));
      return hold ? 1 : 0;
    };
  }
  if (type !== 'bool' && !NUMERIC_TYPES.includes(type)) {
    throw new ValidationError(`The ${where} is declared ${type}: a classification label is 0/1 or true/false. Give a transform such as { eq: '…' } or { oneOf: [...] } to say which values are 1.`, {
      view: view.name,
      column,
      type,
    });
  }
  return (value, time) => {
    if (value === null) return NaN;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value === 0 || value === 1) return value;
    throw new ValidationError(`The ${where} holds ${JSON.stringify(value)} (in its row at ${new Date(time).toISOString()}), not 0 or 1. Give a transform such as { gt: 0 } to say which values are 1.`, {
      view: view.name,
      column,
      value: String(value),
    });
  };
}

/** The columns the examples must carry for the service's views: each view's join keys, from the label view's keys or its features of the same name. */
function entityColumns(service: FeatureService, labelView: FeatureView): Array<{ name: string; from: 'key' | 'feature' }> {
  const columns = new Map<string, 'key' | 'feature'>(labelView.joinKeys.map((k) => [k.name, 'key']));
  for (const view of viewsOfService(service)) {
    for (const key of view.joinKeys) {
      if (columns.has(key.name)) continue;
      const feature = labelView.features.find((f) => f.name === key.name);
      if (!feature) {
        throw new ValidationError(
          `Feature service "${service.name}" reads feature view "${view.name}" by key "${key.name}", which the label's feature view "${labelView.name}" has neither as a key nor as a column (it has ${columnsOfView(labelView)}). Label rows must say which "${key.name}" they are about.`,
          { service: service.name, view: view.name, column: key.name },
        );
      }
      columns.set(key.name, 'feature');
    }
  }
  return [...columns].map(([name, from]) => ({ name, from }));
}

/** A name not among `taken`: `base`, else `base_`, `base__`... */
function freeName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  while (taken.has(name)) name += '_';
  return name;
}

/**
 * One row per (entity, event time) of a view table, as the store reads it: the latest created, then
 * the latest written. Returns the rows grouped by entity, each entity's rows in time order, with the
 * segment of each entity id.
 */
function latestRows(table: Table, view: FeatureView): { rows: Int32Array; entity: Int32Array; times: Float64Array; start: Int32Array; end: Int32Array } {
  const n = table.numRows;
  const keys = view.joinKeys.map((k) => table.getChild(k.name)!);
  const ids = new JoinKeys(keys.map((k) => keyKind(k.type)!), keys).entityIds;
  const entityCount = ids.reduce((m, id) => Math.max(m, id + 1), 0);
  const times = readTimes(table.getChild(view.eventTimestamp)!);
  const created = view.createdTimestamp ? readTimes(table.getChild(view.createdTimestamp)!) : undefined;
  // Stable: by time, then (counting sort) by entity, so each entity's rows are in time order, ties in written order.
  const byTime = timeOrder(times);
  const counts = new Int32Array(entityCount + 1);
  for (let i = 0; i < n; i++) counts[ids[i]! + 1]!++;
  for (let e = 0; e < entityCount; e++) counts[e + 1]! += counts[e]!;
  const start = counts.slice(0, entityCount);
  const next = counts.slice(0, entityCount);
  const sorted = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = byTime ? byTime[j]! : j;
    sorted[next[ids[i]!]!++] = i;
  }
  const rows: number[] = [];
  const segStart = new Int32Array(entityCount);
  const segEnd = new Int32Array(entityCount);
  for (let e = 0; e < entityCount; e++) {
    segStart[e] = rows.length;
    const to = e + 1 < entityCount ? start[e + 1]! : n;
    for (let j = start[e]!; j < to; ) {
      const t = times[sorted[j]!]!;
      let best = sorted[j]!;
      let k = j + 1;
      for (; k < to && times[sorted[k]!] === t; k++) {
        const candidate = sorted[k]!;
        const c = created ? (created[candidate]! === created[candidate]! ? created[candidate]! : t) : t;
        const b = created ? (created[best]! === created[best]! ? created[best]! : t) : t;
        if (c >= b) best = candidate;
      }
      rows.push(best);
      j = k;
    }
    segEnd[e] = rows.length;
  }
  const out = Int32Array.from(rows);
  const entity = new Int32Array(out.length);
  const outTimes = new Float64Array(out.length);
  for (let j = 0; j < out.length; j++) {
    entity[j] = ids[out[j]!]!;
    outTimes[j] = times[out[j]!]!;
  }
  return { rows: out, entity, times: outTimes, start: segStart, end: segEnd };
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number | string | bigint) < (b as number | string | bigint) ? -1 : 1;
}

/** The examples' order: by time, then by their keys' values. */
function exampleOrder(times: Float64Array, keys: readonly Vector[], rows: Int32Array): Int32Array {
  const byTime = timeOrder(times);
  const order = Int32Array.from(byTime ?? times.map((_, i) => i));
  let values: unknown[][] | undefined;
  for (let j = 0; j < order.length; ) {
    let k = j + 1;
    while (k < order.length && times[order[k]!] === times[order[j]!]) k++;
    if (k - j > 1) {
      // Examples at one time (several entities): by their keys, read once into plain arrays.
      values ??= keys.map((key) => Array.from(rows, (row) => key.get(row) as unknown));
      const run = Array.from(order.subarray(j, k)).sort((x, y) => {
        for (const column of values!) {
          const c = compareValues(column[x], column[y]);
          if (c !== 0) return c;
        }
        return 0;
      });
      order.set(run, j);
    }
    j = k;
  }
  return order;
}

/** Arrow's Float64 of a column's values: numbers as they are, booleans 0/1, timestamps epoch ms, missing NaN. */
function asFloat(vector: Vector): Float64Array {
  const read = valueReader(vector);
  const out = new Float64Array(vector.length);
  for (let i = 0; i < out.length; i++) {
    const v = read(i);
    out[i] = v === null ? NaN : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' ? v : NaN;
  }
  return out;
}

/** Builds the training set (see the module's description) and stores it as an artifact. */
export async function buildTrainingSet(
  db: Database,
  artifacts: ArtifactStore,
  definitions: readonly Definition[],
  options: BuildTrainingSetOptions,
  onProgress?: (progress: TrainingSetProgress) => void,
): Promise<TrainingSetSummary> {
  const { label, task } = options;
  if (!TASKS.includes(task)) throw new ValidationError(`Unknown task ${JSON.stringify(task)}; tasks are ${TASKS.join(', ')}.`, { task });
  const repo = featureRepository(typeof options.service === 'string' ? definitions : [...definitions, options.service]);
  const service = resolveService(repo, options.service);
  const view = repo.views.get(label?.view);
  if (!view) {
    throw new ValidationError(`The label reads feature view ${JSON.stringify(label?.view)}, which is not defined. Feature views: ${[...repo.views.keys()].sort().join(', ') || 'none'}.`, { view: label?.view });
  }
  const column = label.kind === 'column' ? label.column : label.kind === 'future' ? label.feature : undefined;
  if (label.kind !== 'column' && label.kind !== 'future') throw new ValidationError(`A label's kind is 'column' or 'future', got ${JSON.stringify((label as { kind: unknown }).kind)}.`, { view: view.name });
  const field = view.features.find((f) => f.name === column);
  if (!field) {
    throw new ValidationError(
      `Feature view "${view.name}" has no column ${JSON.stringify(column)} for the label${label.kind === 'future' ? ' (its feature)' : ''}; its columns are ${columnsOfView(view)}. A label is one of its features.`,
      { view: view.name, column },
    );
  }
  const horizonMs = label.kind === 'future' ? parseDuration(label.horizon, `The horizon of the label on "${view.name}"`) : 0;
  const toLabel = labelFunction(label, view, field.name, field.type, task);
  const from = timeOption(options.from, 'from');
  const to = timeOption(options.to, 'to');
  if (options.maxRows !== undefined && (!Number.isInteger(options.maxRows) || options.maxRows < 1)) {
    throw new ValidationError(`maxRows must be a whole number of rows above 0, got ${options.maxRows}.`, { maxRows: options.maxRows });
  }
  const carried = entityColumns(service, view);
  await requireApplied(db, [view]);

  // The label view's rows: keys, times, the label and any feature the service's views are keyed by.
  const loaded = [...new Set([field.name, ...carried.filter((c) => c.from === 'feature').map((c) => c.name)])];
  const table = await loadViewTable(db, view, { features: loaded, ...(from !== undefined ? { eventAfter: from - 1 } : {}) });
  const latest = latestRows(table, view);
  const values = valueReader(table.getChild(field.name)!);
  const examples: number[] = [];
  const exampleTimes: number[] = [];
  const labels: number[] = [];
  let inWindow = 0;
  for (let j = 0; j < latest.rows.length; j++) {
    const t = latest.times[j]!;
    if ((from !== undefined && t < from) || (to !== undefined && t >= to)) continue;
    inWindow++;
    let source = latest.rows[j]!;
    let sourceTime = t;
    if (label.kind === 'future') {
      // The same entity's first row at or after t + horizon, within the view's TTL.
      const target = t + horizonMs;
      let lo = j + 1;
      let hi = latest.end[latest.entity[j]!]!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (latest.times[mid]! < target) lo = mid + 1;
        else hi = mid;
      }
      if (lo >= latest.end[latest.entity[j]!]! || (view.ttlMs !== undefined && latest.times[lo]! - target >= view.ttlMs)) continue;
      source = latest.rows[lo]!;
      sourceTime = latest.times[lo]!;
    }
    const y = toLabel(values(source), sourceTime);
    if (y !== y) continue;
    examples.push(latest.rows[j]!);
    exampleTimes.push(t);
    labels.push(y);
  }
  const window = `${from !== undefined ? ` from ${new Date(from).toISOString()}` : ''}${to !== undefined ? ` to ${new Date(to).toISOString()}` : ''}`;
  if (examples.length === 0) {
    const why =
      inWindow === 0
        ? `feature view "${view.name}" has no rows${window}${latest.rows.length === 0 && from === undefined ? ': ingest its data first' : ''}`
        : label.kind === 'future'
          ? `no row of feature view "${view.name}"${window} has a later row of its entity ${label.horizon} on${view.ttlMs !== undefined ? ' (within the view\'s TTL)' : ''} with a "${field.name}" value`
          : `no row of feature view "${view.name}"${window} has a "${field.name}" value`;
    throw new ValidationError(`The training set has no examples: ${why}.`, { view: view.name, column: field.name });
  }
  onProgress?.({ stage: 'examples', rows: examples.length });

  // Time order, then keys; keep the latest maxRows.
  const rowsIndex = Int32Array.from(examples);
  const timesArray = Float64Array.from(exampleTimes);
  const keyVectors = view.joinKeys.map((k) => table.getChild(k.name)!);
  let order = exampleOrder(timesArray, keyVectors, rowsIndex);
  if (options.maxRows !== undefined && order.length > options.maxRows) order = order.slice(order.length - options.maxRows);
  const n = order.length;
  const picked = new Int32Array(n);
  const time = new Float64Array(n);
  const labelValues = task === 'regression' ? new Float64Array(n) : new Int8Array(n);
  let positives = 0;
  for (let j = 0; j < n; j++) {
    const e = order[j]!;
    picked[j] = rowsIndex[e]!;
    time[j] = timesArray[e]!;
    labelValues[j] = labels[e]!;
    positives += labels[e]!;
  }
  if (task === 'binary-classification' && (positives === 0 || positives === n)) {
    throw new ValidationError(
      `The classification label "${describeLabel(label)}" has one class in the training window: all ${n} examples of feature view "${view.name}"${window} are ${positives === 0 ? 0 : 1}. Widen from/to, or change the label's transform.`,
      { view: view.name, column: field.name, rows: n, positives },
    );
  }

  // Entity rows: the keys the service's views need and the example's time.
  const keyNames = carried.map((c) => c.name);
  const timeName = freeName('event_time', new Set(keyNames));
  const labelName = freeName('label', new Set([...keyNames, timeName]));
  const entityVectors: Record<string, Vector> = {};
  for (const name of keyNames) entityVectors[name] = makeVector(gatherColumn(table.getChild(name)!, picked));
  entityVectors[timeName] = makeVector(time);
  const entityRows = new Table(entityVectors);
  const joined = await getHistoricalFeatures(db, {
    entityRows,
    entityTimestamp: timeName,
    featureService: service,
    definitions: repo.definitions,
    ...(options.model ? { model: options.model } : {}),
  });
  onProgress?.({ stage: 'features', rows: n });

  const numeric: string[] = [];
  const categorical: string[] = [];
  const output: Record<string, Vector> = {};
  for (const name of keyNames) output[name] = joined.getChild(name)!;
  output[timeName] = makeVector(time);
  for (const projection of service.projections) {
    for (const feature of projection.features) {
      const name = outputName(projection.view.name, feature);
      const type = projection.view.features.find((f) => f.name === feature)!.type;
      const vector = joined.getChild(name)!;
      if (type === 'string') {
        categorical.push(name);
        output[name] = vector;
      } else {
        numeric.push(name);
        output[name] = makeVector(asFloat(vector));
      }
    }
  }
  output[labelName] = task === 'regression' ? makeVector(labelValues as Float64Array) : makeVector(labelValues as Int8Array);
  const result = new Table(output);
  onProgress?.({ stage: 'writing', rows: n });
  const artifact = await artifacts.put(tableToIPC(result, 'file'));
  return {
    uri: artifact.uri,
    sha256: artifact.sha256,
    bytes: artifact.bytes,
    rows: n,
    task,
    columns: { label: labelName, time: timeName, numeric, categorical, keys: keyNames },
    positives: task === 'regression' ? null : positives,
    from: new Date(time[0]!).toISOString(),
    to: new Date(time[n - 1]!).toISOString(),
    featureService: service.name,
    featureServiceVersion: service.version,
    label: describeLabel(label),
  };
}
