/**
 * Reading a training set (an Arrow IPC artifact whose rows are in time order) as the trainer sees
 * it: the declared features as a FeatureFrame, the label as numbers, the example times, and the
 * time-ordered split that holds out the most recent rows. Every declaration is checked against the
 * file before anything is trained, and each refusal is a ValidationError naming the training set
 * and the column and saying what to change.
 *
 * Column types: a numeric feature may be any Arrow integer, float or boolean column (null is
 * missing, NaN); a categorical feature a string or dictionary column, or numbers and booleans,
 * which are taken as their text (null is missing). The time column holds epoch milliseconds, an
 * Arrow timestamp or a date. The label holds 0/1 (numbers or booleans) for classification and
 * numbers for regression, with no nulls: the training set builder drops unlabelled rows.
 */
import { DataType, tableFromIPC, type Table, type Vector } from 'apache-arrow';
import { ValidationError } from '../../errors.js';
import { isTimeType, readTimes } from '../../features/columns.js';
import type { CategoricalValue, FeatureFrame } from '../preprocessing.js';
import type { TabularColumns, Task } from './task.js';

/** A training set read for a task: the features, the label per row, and when each example happened. */
export interface TabularData {
  rows: number;
  frame: FeatureFrame;
  /** 0/1 for classification, the target for regression. */
  labels: Float64Array;
  /** Epoch milliseconds, non-decreasing. */
  times: Float64Array;
}

/** One side of a split: rows `[from, to)` of the training set. */
export interface TabularPart extends TabularData {
  from: number;
  to: number;
}

export interface TabularSplit {
  train: TabularPart;
  test: TabularPart;
  /** The first and last training example, ISO 8601. */
  trainFrom: string;
  trainTo: string;
  /** The first held-out example (the model never saw an example from then on) and the last. */
  validatedFrom: string;
  validatedTo: string;
}

export interface ReadOptions {
  /** How messages name the training set, e.g. its artifact URI. Default "the training set". */
  dataset?: string;
}

const TEXT_SAMPLE = 40;

/** Decodes a training set artifact and reads the declared columns for `task`. */
export function readTrainingSet(bytes: Uint8Array, task: Task, columns: TabularColumns, options: ReadOptions = {}): { table: Table; data: TabularData } {
  const dataset = options.dataset ?? 'the training set';
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new ValidationError(`${capitalized(dataset)} is not an Arrow IPC file (${(error as Error).message}); pass the artifact a training set step wrote.`, { dataset });
  }
  return { table, data: readTabular(table, task, columns, { dataset }) };
}

/** The declared columns of a decoded training set, checked. */
export function readTabular(table: Table, task: Task, columns: TabularColumns, options: ReadOptions = {}): TabularData {
  const dataset = options.dataset ?? 'the training set';
  checkDeclaration(columns, dataset);
  const rows = table.numRows;
  const vector = (name: string, role: string): Vector => {
    const found = table.getChild(name);
    if (!found) {
      const present = table.schema.fields.map((f) => `"${f.name}"`).join(', ');
      throw new ValidationError(`${capitalized(dataset)} has no column "${name}" (declared as ${role}); its columns are ${present}. Declare one of them, or rebuild the training set with it.`, {
        dataset,
        column: name,
        role,
      });
    }
    return found;
  };

  const times = readTimeColumn(vector(columns.time, 'the time column'), columns.time, dataset);
  const labels = readLabel(vector(columns.label, 'the label'), columns.label, task, dataset);
  const numeric: Record<string, Float64Array> = {};
  for (const name of columns.numeric) numeric[name] = readNumericFeature(vector(name, 'a numeric feature'), name, dataset);
  const categorical: Record<string, readonly CategoricalValue[]> = {};
  for (const name of columns.categorical) categorical[name] = readCategorical(vector(name, 'a categorical feature'), name, dataset);
  for (const name of columns.keys ?? []) vector(name, 'an entity key');
  return { rows, frame: { numeric, categorical }, labels, times };
}

/**
 * Holds out the last `testFraction` of the rows, the most recent examples, so the model is validated
 * on the future of what it learned from; rows sharing the time at the boundary are all held out, so
 * every training example is strictly older than every held-out one. Classification needs both
 * classes among the training rows.
 */
export function splitByTime(data: TabularData, task: Task, columns: TabularColumns, testFraction: number, options: ReadOptions = {}): TabularSplit {
  const dataset = options.dataset ?? 'the training set';
  if (!(testFraction > 0 && testFraction < 1)) throw new ValidationError(`testFraction must be between 0 and 1 (exclusive), got ${testFraction}.`, { testFraction });
  const n = data.rows;
  let cut = Math.floor(n * (1 - testFraction));
  // Examples at the boundary's time all go to the held-out side: the split is a point in time.
  while (cut > 0 && cut < n && data.times[cut] === data.times[cut - 1]) cut--;
  if (cut < 1 || cut >= n) {
    throw new ValidationError(`${capitalized(dataset)} has ${n} rows: too few to hold out ${testFraction} of them and train on the rest. Build it over a longer window.`, {
      dataset,
      rows: n,
      testFraction,
    });
  }
  const train = slicePart(data, 0, cut);
  const test = slicePart(data, cut, n);
  const split: TabularSplit = {
    train,
    test,
    trainFrom: iso(data.times[0]!),
    trainTo: iso(data.times[cut - 1]!),
    validatedFrom: iso(data.times[cut]!),
    validatedTo: iso(data.times[n - 1]!),
  };
  if (task === 'binary-classification') {
    const positives = countPositives(train.labels);
    if (positives === 0 || positives === train.rows) {
      throw new ValidationError(
        `Label "${columns.label}" of ${dataset} has only class ${positives === 0 ? 0 : 1} in the training window (${split.trainFrom} to ${split.trainTo}, ${train.rows} rows): a classifier needs examples of both. Widen the window or change the label's transform.`,
        { dataset, column: columns.label, from: split.trainFrom, to: split.trainTo, rows: train.rows },
      );
    }
  }
  return split;
}

/** Rows of classification labels that are 1. */
export function countPositives(labels: Float64Array): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives++;
  return positives;
}

/**
 * The held-out rows of a column that is not necessarily a feature (an entity key, a group column for
 * fairness), as text: the group each row belongs to; a missing value is its own group, "(missing)".
 */
export function readGroupColumn(table: Table, name: string, from: number, to: number, options: ReadOptions = {}): string[] {
  const dataset = options.dataset ?? 'the training set';
  const vector = table.getChild(name);
  if (!vector) {
    const present = table.schema.fields.map((f) => `"${f.name}"`).join(', ');
    throw new ValidationError(`${capitalized(dataset)} has no column "${name}" (declared as a fairness group column); its columns are ${present}.`, { dataset, column: name });
  }
  const values = readCategorical(vector.slice(from, to), name, dataset, 'Fairness group column');
  return values.map((v) => (v === null || v === undefined || v === '' ? '(missing)' : v));
}

function checkDeclaration(columns: TabularColumns, dataset: string): void {
  const roles = new Map<string, string>();
  const claim = (name: string, role: string) => {
    if (typeof name !== 'string' || name.length === 0) throw new ValidationError(`The columns declared for ${dataset} name ${role} with an empty name.`, { dataset, role });
    const previous = roles.get(name);
    if (previous) throw new ValidationError(`Column "${name}" of ${dataset} is declared both as ${previous} and as ${role}; a column plays one part.`, { dataset, column: name });
    roles.set(name, role);
  };
  claim(columns.label, 'the label');
  claim(columns.time, 'the time column');
  for (const name of columns.numeric) claim(name, 'a numeric feature');
  for (const name of columns.categorical) claim(name, 'a categorical feature');
  if (columns.numeric.length + columns.categorical.length === 0) throw new ValidationError(`No features are declared for ${dataset}: name at least one numeric or categorical column.`, { dataset });
}

function readTimeColumn(vector: Vector, name: string, dataset: string): Float64Array {
  if (!isTimeType(vector.type)) {
    throw new ValidationError(`Time column "${name}" of ${dataset} has type ${String(vector.type)}; it must hold epoch milliseconds, timestamps or dates.`, { dataset, column: name });
  }
  const times = readTimes(vector);
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (!Number.isFinite(t)) throw new ValidationError(`Time column "${name}" of ${dataset} has no time at row ${i}; every example needs one.`, { dataset, column: name, row: i });
    if (i > 0 && t < times[i - 1]!) {
      throw new ValidationError(
        `Rows of ${dataset} are not in time order: row ${i} (${iso(t)}) comes after row ${i - 1} (${iso(times[i - 1]!)}) in column "${name}". The split holds out the last rows as the most recent; sort the training set by time.`,
        { dataset, column: name, row: i },
      );
    }
  }
  return times;
}

function isText(type: DataType): boolean {
  return DataType.isUtf8(type) || DataType.isLargeUtf8(type) || (DataType.isDictionary(type) && (DataType.isUtf8(type.dictionary) || DataType.isLargeUtf8(type.dictionary)));
}

function isNumber(type: DataType): boolean {
  return DataType.isInt(type) || DataType.isFloat(type);
}

/** A text value of a column, to quote in a message. */
function firstText(vector: Vector): { row: number; value: string } | undefined {
  for (let i = 0; i < vector.length; i++) {
    const v = vector.get(i) as unknown;
    if (v !== null && v !== undefined) return { row: i, value: String(v).slice(0, TEXT_SAMPLE) };
  }
  return undefined;
}

function readNumericFeature(vector: Vector, name: string, dataset: string): Float64Array {
  const type = vector.type as DataType;
  if (isNumber(type)) return readTimes(vector);
  if (DataType.isBool(type)) return Float64Array.from({ length: vector.length }, (_, i) => toNumber(vector.get(i) as boolean | null));
  if (isText(type)) {
    const sample = firstText(vector);
    throw new ValidationError(
      `Numeric feature "${name}" of ${dataset} holds text${sample ? ` ("${sample.value}" at row ${sample.row})` : ''}; declare it categorical, or convert it to numbers before building the training set.`,
      { dataset, column: name, type: String(type) },
    );
  }
  throw new ValidationError(`Numeric feature "${name}" of ${dataset} has type ${String(type)}; a numeric feature holds integers, floats or booleans.`, { dataset, column: name, type: String(type) });
}

function toNumber(value: boolean | null | undefined): number {
  return value === null || value === undefined ? Number.NaN : value ? 1 : 0;
}

/** Strings as they are (a dictionary decoded once per chunk); numbers and booleans as their text. */
function readCategorical(vector: Vector, name: string, dataset: string, role = 'Categorical feature'): CategoricalValue[] {
  const type = vector.type as DataType;
  if (!(isText(type) || isNumber(type) || DataType.isBool(type) || DataType.isDictionary(type))) {
    throw new ValidationError(`${role} "${name}" of ${dataset} has type ${String(type)}; it must hold strings, numbers or booleans.`, { dataset, column: name, type: String(type) });
  }
  const out = new Array<CategoricalValue>(vector.length);
  if (DataType.isDictionary(type)) {
    let base = 0;
    for (const chunk of vector.data) {
      const dictionary = chunk.dictionary;
      const words: CategoricalValue[] = dictionary ? Array.from({ length: dictionary.length }, (_, k) => asCategory(dictionary.get(k))) : [];
      const indices = chunk.values as ArrayLike<number | bigint>;
      for (let i = 0; i < chunk.length; i++) out[base + i] = chunk.getValid(i) ? (words[Number(indices[i]!)] ?? null) : null;
      base += chunk.length;
    }
    return out;
  }
  for (let i = 0; i < vector.length; i++) out[i] = asCategory(vector.get(i));
  return out;
}

function asCategory(value: unknown): CategoricalValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isNaN(value)) return null;
  return String(value);
}

function readLabel(vector: Vector, name: string, task: Task, dataset: string): Float64Array {
  const type = vector.type as DataType;
  const classification = task === 'binary-classification';
  if (!(isNumber(type) || DataType.isBool(type))) {
    const sample = firstText(vector);
    const what = isText(type) ? `text${sample ? ` ("${sample.value}" at row ${sample.row})` : ''}` : `values of type ${String(type)}`;
    throw new ValidationError(
      classification
        ? `Label "${name}" of ${dataset} holds ${what}; a binary-classification label is 0 or 1. Give the label definition a transform (e.g. { eq: 'rain' } or { gt: 0 }).`
        : `Label "${name}" of ${dataset} holds ${what}; a regression label must be numeric. Choose a numeric column, or declare the task binary-classification with a transform.`,
      { dataset, column: name, task, type: String(type) },
    );
  }
  const labels = DataType.isBool(type) ? Float64Array.from({ length: vector.length }, (_, i) => toNumber(vector.get(i) as boolean | null)) : readTimes(vector);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isFinite(y)) {
      throw new ValidationError(`Label "${name}" of ${dataset} is ${Number.isNaN(y) ? 'missing' : y} at row ${i}; every example needs a finite label (drop unlabelled rows when building the training set).`, {
        dataset,
        column: name,
        row: i,
      });
    }
    if (classification && y !== 0 && y !== 1) {
      throw new ValidationError(
        `Label "${name}" of ${dataset} is ${y} at row ${i}; a binary-classification label is 0 or 1. Give the label definition a transform (e.g. { gt: 0 }), or declare the task regression.`,
        { dataset, column: name, row: i, value: y },
      );
    }
  }
  return labels;
}

function slicePart(data: TabularData, from: number, to: number): TabularPart {
  return {
    from,
    to,
    rows: to - from,
    frame: {
      numeric: Object.fromEntries(Object.entries(data.frame.numeric ?? {}).map(([k, v]) => [k, v.subarray(from, to)])),
      categorical: Object.fromEntries(Object.entries(data.frame.categorical ?? {}).map(([k, v]) => [k, v.slice(from, to)])),
    },
    labels: data.labels.subarray(from, to),
    times: data.times.subarray(from, to),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
