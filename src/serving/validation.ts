/**
 * Requests become a Batch, one typed column per model input, only after every value was checked
 * against the version's signature: missing or extra features, wrong types, wrong shapes, NaN or
 * null where the model cannot take a missing value. Every refusal is a ValidationError naming the
 * row and feature, so a caller can fix the request; nothing a caller sends reaches the runtime
 * unchecked. Three front doors share the checks: row objects (/predict), OIP v2 tensors (/v2
 * infer) and columns (the TypeScript API and batch scoring).
 */
import { Tensor } from 'onnxruntime-node';
import { ValidationError } from '../errors.js';
import type { InputSpec, ServingSignature } from './signature.js';

export type Column = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | string[];

/** Decoded, validated model inputs: `columns[i]` holds input i's values, rows × width, row-major. */
export interface Batch {
  rows: number;
  columns: Column[];
}

/** Largest finite float32; a bigger number would become Infinity in the tensor. */
const FLOAT32_MAX = 3.4028234663852886e38;

function allocate(spec: InputSpec, size: number): Column {
  switch (spec.type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'bool':
      return new Uint8Array(size);
    case 'string':
      return new Array<string>(size);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * Where the values being decoded come from, so a message can name a value's row and feature from
 * its flat index alone: the message is built only when a value is refused.
 */
interface Where {
  source: 'record' | 'oip' | 'column';
  /** A single object was sent, so rows go unnumbered. */
  single: boolean;
  /** Row number of the first row (batch scoring numbers rows by file position). */
  firstRow: number;
}

function locate(where: Where, spec: InputSpec, at: number): string {
  if (where.source === 'oip') return `Input "${spec.name}" value ${at}`;
  const row = where.firstRow + Math.floor(at / spec.width);
  const element = spec.width > 1 ? `[${at % spec.width}]` : '';
  const text = `feature "${spec.name}"${element}`;
  if (where.single) return text;
  return `Row ${row}: ${text}`;
}

/** Writes one scalar into `column[at]` or throws a ValidationError saying what was expected. */
function put(spec: InputSpec, column: Column, at: number, value: unknown, where: Where): void {
  switch (spec.type) {
    case 'float32':
    case 'float64': {
      if (typeof value === 'number') {
        if (value !== value) {
          if (!spec.allowMissing) throw new ValidationError(`${locate(where, spec, at)} is NaN; this model does not accept missing values for it.`);
        } else if (value === Infinity || value === -Infinity || (spec.type === 'float32' && (value > FLOAT32_MAX || value < -FLOAT32_MAX))) {
          throw new ValidationError(`${locate(where, spec, at)} is ${value}; only finite numbers are accepted.`);
        }
        (column as Float32Array)[at] = value;
        return;
      }
      if (value === null) {
        if (!spec.allowMissing) throw new ValidationError(`${locate(where, spec, at)} is null; this model does not accept missing values for it.`);
        (column as Float32Array)[at] = Number.NaN;
        return;
      }
      throw new ValidationError(`${locate(where, spec, at)} must be a number, got ${describe(value)}.`);
    }
    case 'int32':
    case 'int64': {
      if (typeof value === 'number' && Number.isInteger(value)) {
        if (spec.type === 'int32') {
          if (value > 2147483647 || value < -2147483648) throw new ValidationError(`${locate(where, spec, at)} is ${value}, outside the int32 range.`);
          (column as Int32Array)[at] = value;
        } else {
          if (!Number.isSafeInteger(value)) throw new ValidationError(`${locate(where, spec, at)} is ${value}, beyond the integers JSON numbers carry exactly.`);
          (column as BigInt64Array)[at] = BigInt(value);
        }
        return;
      }
      if (typeof value === 'bigint' && spec.type === 'int64') {
        (column as BigInt64Array)[at] = value;
        return;
      }
      throw new ValidationError(`${locate(where, spec, at)} must be a whole number, got ${describe(value)}.`);
    }
    case 'bool': {
      if (typeof value === 'boolean') {
        (column as Uint8Array)[at] = value ? 1 : 0;
        return;
      }
      throw new ValidationError(`${locate(where, spec, at)} must be true or false, got ${describe(value)}.`);
    }
    case 'string': {
      if (typeof value === 'string') {
        (column as string[])[at] = value;
        return;
      }
      if (value === null || value === undefined) {
        if (!spec.allowMissing) throw new ValidationError(`${locate(where, spec, at)} is null; this model does not accept missing values for it.`);
        (column as string[])[at] = '';
        return;
      }
      throw new ValidationError(`${locate(where, spec, at)} must be a string, got ${describe(value)}.`);
    }
  }
}

function checkRows(signature: ServingSignature, rows: number, what: string): void {
  if (rows === 0) throw new ValidationError(`The request holds no ${what}; send at least one.`);
  if (rows > signature.maxRows) throw new ValidationError(`The request holds ${rows} ${what}; this model scores at most ${signature.maxRows} per request.`);
}

function names(list: Iterable<string>): string {
  return [...list].map((n) => `"${n}"`).join(', ');
}

/** Keys other APIs wrap rows or tensors in (KServe v1 `instances`, OIP `inputs`, `rows`, `data`). */
const WRAPPERS = ['rows', 'instances', 'inputs', 'data'];

/**
 * A single /predict object that is not one row but a wrapper around rows (`{"rows": [...]}`,
 * `{"instances": [...]}`, ...) or columns (`{"hour": [8, 20], ...}`): refused with the shapes
 * /predict takes, rather than with the first feature it seems to lack. A model whose own input is
 * named like a wrapper, or whose inputs take arrays, still gets its rows as they are.
 */
function refuseWrapped(signature: ServingSignature, record: Record<string, unknown>): void {
  const keys = Object.keys(record);
  if (keys.length === 0) return;
  const inputs = signature.inputs.map((s) => s.name);
  const example = `{ ${inputs.slice(0, 3).map((n) => `"${n}": ...`).join(', ')}${inputs.length > 3 ? ', ...' : ''} }`;
  const accepted = `/predict takes one row as an object of named features, ${example}, or an array of such rows, [${example}, ...]`;
  const only = keys.length === 1 ? keys[0]! : undefined;
  if (only !== undefined && WRAPPERS.includes(only) && !signature.index.has(only)) {
    const tensors = only === 'inputs' ? '; OIP v2 tensors go to POST /v2/models/{model}/infer' : '';
    throw new ValidationError(`${accepted}. This body wraps its rows in "${only}": send the rows themselves as the body${tensors}.`, { wrapper: only });
  }
  const columns = keys.every((k) => Array.isArray(record[k]));
  if (columns && keys.some((k) => signature.index.get(k) === undefined || signature.inputs[signature.index.get(k)!]!.width === 1)) {
    throw new ValidationError(`${accepted}. This body is an object of arrays (columns): send one object per row instead.`, { columns: keys.slice(0, 10) });
  }
}

/**
 * Row objects keyed by feature name (/predict). `single` drops the row number from messages when
 * the caller sent one object rather than an array.
 */
export function batchFromRecords(signature: ServingSignature, records: readonly unknown[], single = false): Batch {
  const rows = records.length;
  if (single && rows === 1 && typeof records[0] === 'object' && records[0] !== null && !Array.isArray(records[0])) refuseWrapped(signature, records[0] as Record<string, unknown>);
  checkRows(signature, rows, 'rows');
  const inputs = signature.inputs;
  const columns = inputs.map((spec) => allocate(spec, rows * spec.width));
  const where: Where = { source: 'record', single, firstRow: 0 };
  for (let i = 0; i < rows; i++) {
    const record = records[i];
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ValidationError(`${single ? '' : `Row ${i}: `}expected an object of named features, got ${describe(record)}.`);
    }
    let keys = 0;
    for (const _ in record) keys++;
    for (let j = 0; j < inputs.length; j++) {
      const spec = inputs[j]!;
      const value = Object.hasOwn(record, spec.name) ? (record as Record<string, unknown>)[spec.name] : undefined;
      if (value === undefined) throw new ValidationError(`${single ? '' : `Row ${i}: `}feature "${spec.name}" is missing; the model takes ${names(inputs.map((s) => s.name))}.`);
      if (spec.width === 1) {
        put(spec, columns[j]!, i, value, where);
      } else {
        if (!Array.isArray(value) || value.length !== spec.width) {
          throw new ValidationError(
            `${single ? '' : `Row ${i}: `}feature "${spec.name}" must be an array of ${spec.width} values, got ${Array.isArray(value) ? `${value.length} values` : describe(value)}.`,
          );
        }
        for (let k = 0; k < spec.width; k++) put(spec, columns[j]!, i * spec.width + k, value[k], where);
      }
    }
    if (keys !== inputs.length) {
      const extra = Object.keys(record).filter((k) => !signature.index.has(k));
      throw new ValidationError(`${single ? '' : `Row ${i}: `}unknown feature(s) ${names(extra)}; the model takes ${names(inputs.map((s) => s.name))}.`);
    }
  }
  return { rows, columns };
}

/** One input tensor of an Open Inference Protocol v2 request. */
export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

function flatten(data: readonly unknown[], into: unknown[]): void {
  for (const value of data) {
    if (Array.isArray(value)) flatten(value, into);
    else into.push(value);
  }
}

const OIP: Where = { source: 'oip', single: false, firstRow: 0 };

/** The `inputs` of a v2 infer request: every model input exactly once, each with its datatype and a shape whose first dimension is the batch. */
export function batchFromOip(signature: ServingSignature, inputs: unknown): Batch {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new ValidationError('"inputs" must be a non-empty array of tensors ({ name, shape, datatype, data }).');
  const columns = new Array<Column>(signature.inputs.length);
  let rows = -1;
  for (const raw of inputs as unknown[]) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(`Every entry of "inputs" must be an object, got ${describe(raw)}.`);
    const tensor = raw as Partial<OipTensor>;
    const j = typeof tensor.name === 'string' ? signature.index.get(tensor.name) : undefined;
    if (j === undefined) throw new ValidationError(`Unknown input ${JSON.stringify(tensor.name)}; the model takes ${names(signature.inputs.map((s) => s.name))}.`);
    const spec = signature.inputs[j]!;
    if (columns[j] !== undefined) throw new ValidationError(`Input "${spec.name}" is given twice.`);
    if (tensor.datatype !== spec.datatype) throw new ValidationError(`Input "${spec.name}" has datatype ${JSON.stringify(tensor.datatype)}; the model takes ${spec.datatype}.`);
    const shape = tensor.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ValidationError(`Input "${spec.name}" needs "shape", an array of non-negative whole numbers.`);
    }
    const expected = spec.shape.map((d, axis) => (axis === 0 ? 'N' : String(d))).join(', ');
    if (shape.length !== spec.shape.length || shape.some((d, axis) => axis > 0 && d !== spec.shape[axis])) {
      throw new ValidationError(`Input "${spec.name}" has shape [${shape.join(', ')}]; the model takes [${expected}].`);
    }
    if (rows === -1) {
      rows = shape[0]!;
      checkRows(signature, rows, 'rows');
    } else if (shape[0] !== rows) {
      throw new ValidationError(`Input "${spec.name}" has ${shape[0]} rows but an earlier input has ${rows}; every input needs the same batch size.`);
    }
    if (!Array.isArray(tensor.data)) throw new ValidationError(`Input "${spec.name}" needs "data", an array of values.`);
    let data = tensor.data as unknown[];
    if (data.some(Array.isArray)) {
      const flat: unknown[] = [];
      flatten(data, flat);
      data = flat;
    }
    const size = rows * spec.width;
    if (data.length !== size) throw new ValidationError(`Input "${spec.name}" has ${data.length} values; shape [${shape.join(', ')}] needs ${size}.`);
    const column = allocate(spec, size);
    for (let k = 0; k < size; k++) put(spec, column, k, data[k], OIP);
    columns[j] = column;
  }
  const missing = signature.inputs.filter((_, j) => columns[j] === undefined).map((s) => s.name);
  if (missing.length > 0) throw new ValidationError(`Input(s) ${names(missing)} are missing from the request.`);
  return { rows, columns };
}

/** A column given to the TypeScript API or read from a file: typed arrays pass through when they already have the model's type. */
export type ColumnInput = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | ArrayLike<unknown>;

/**
 * Columns keyed by feature name (row-major rows × width for [N,k] inputs). `firstRow` numbers the
 * rows in messages (batch scoring passes the file row of the batch's first row).
 */
export function batchFromColumns(signature: ServingSignature, given: Readonly<Record<string, ColumnInput>>, firstRow = 0): Batch {
  const inputs = signature.inputs;
  const extra = Object.keys(given).filter((k) => !signature.index.has(k));
  if (extra.length > 0) throw new ValidationError(`Unknown feature(s) ${names(extra)}; the model takes ${names(inputs.map((s) => s.name))}.`);
  let rows = -1;
  const where: Where = { source: 'column', single: false, firstRow };
  const columns = inputs.map((spec) => {
    const values = given[spec.name];
    if (values === undefined) throw new ValidationError(`Feature "${spec.name}" is missing; the model takes ${names(inputs.map((s) => s.name))}.`);
    if (values.length % spec.width !== 0) throw new ValidationError(`Feature "${spec.name}" has ${values.length} values, not a multiple of its ${spec.width} values per row.`);
    const n = values.length / spec.width;
    if (rows === -1) rows = n;
    else if (n !== rows) throw new ValidationError(`Feature "${spec.name}" has ${n} rows but "${inputs[0]!.name}" has ${rows}.`);
    return columnOf(spec, values, where);
  });
  checkRows(signature, Math.max(rows, 0), 'rows');
  return { rows, columns };
}

function columnOf(spec: InputSpec, values: ColumnInput, where: Where): Column {
  const size = values.length;
  // Typed arrays of the model's own type are fed as they are, after the checks a value needs.
  if ((spec.type === 'float32' && values instanceof Float32Array) || (spec.type === 'float64' && values instanceof Float64Array)) {
    for (let k = 0; k < size; k++) {
      const v = values[k]!;
      if (v - v !== 0 && (v === v || !spec.allowMissing)) put(spec, values, k, v, where);
    }
    return values;
  }
  if (spec.type === 'float32' && values instanceof Float64Array) {
    const column = new Float32Array(size);
    for (let k = 0; k < size; k++) {
      const v = values[k]!;
      if (v - v === 0 && v <= FLOAT32_MAX && v >= -FLOAT32_MAX) column[k] = v;
      else put(spec, column, k, v, where);
    }
    return column;
  }
  if ((spec.type === 'int32' && values instanceof Int32Array) || (spec.type === 'int64' && values instanceof BigInt64Array)) return values;
  const column = allocate(spec, size);
  for (let k = 0; k < size; k++) {
    const v = values[k];
    // Files carry integers as bigint (INT64) or numbers, and floats as numbers: numeric inputs take either.
    put(spec, column, k, typeof v === 'bigint' && spec.type !== 'int64' ? Number(v) : v === undefined ? null : v, where);
  }
  return column;
}

/*
 * Decoders for ModelHost.score, made by functions so the closure is anonymous: under tsx (which
 * keeps function names), creating a named arrow costs a defineProperty, about 2 µs per request.
 */

/** Decodes row objects keyed by feature name. */
export function decodeRecords(records: readonly unknown[], single = false): (signature: ServingSignature) => Batch {
  return (signature) => batchFromRecords(signature, records, single);
}

/** Decodes the `inputs` of an OIP v2 infer request. */
export function decodeOip(inputs: unknown): (signature: ServingSignature) => Batch {
  return (signature) => batchFromOip(signature, inputs);
}

/** Decodes columns keyed by feature name. */
export function decodeColumns(columns: Readonly<Record<string, ColumnInput>>, firstRow = 0): (signature: ServingSignature) => Batch {
  return (signature) => batchFromColumns(signature, columns, firstRow);
}

/** The tensors a session runs a batch with: [rows] for rank-1 inputs, [rows, width] otherwise. */
export function feedsOf(signature: ServingSignature, batch: Batch): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  const inputs = signature.inputs;
  for (let j = 0; j < inputs.length; j++) {
    const spec = inputs[j]!;
    const dims = spec.shape.length === 1 ? [batch.rows] : [batch.rows, spec.width];
    feeds[spec.name] = new Tensor(spec.type, batch.columns[j] as Float32Array, dims);
  }
  return feeds;
}

/** Row objects of a batch, for the prediction log: numbers as the caller most likely wrote them (float32 printed shortest). */
export function recordsOf(signature: ServingSignature, batch: Batch, limit = batch.rows): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const rows = Math.min(limit, batch.rows);
  for (let i = 0; i < rows; i++) {
    const record: Record<string, unknown> = {};
    signature.inputs.forEach((spec, j) => {
      const column = batch.columns[j]!;
      const value = (k: number): unknown => {
        const v = column[k]!;
        if (typeof v === 'bigint') return Number(v);
        if (spec.type === 'bool') return v === 1;
        if (typeof v === 'number') return v !== v ? null : spec.type === 'float32' ? shortestFloat32(v) : v;
        return v;
      };
      record[spec.name] = spec.width === 1 ? value(i) : Array.from({ length: spec.width }, (_, k) => value(i * spec.width + k));
    });
    out.push(record);
  }
  return out;
}

/** The shortest decimal that rounds to the same float32: 0.1, not 0.10000000149011612. */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return v;
  for (let digits = 1; digits < 10; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}
