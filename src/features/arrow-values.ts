/**
 * Feature values between Arrow columns and the plain values transforms and online reads use:
 * numbers (int64 included, exact to 2^53), strings, booleans, epoch milliseconds for timestamps, null.
 */
import { Bool, DataType, Float64, Int32, Int64, TimestampMillisecond, Utf8, type Vector } from 'apache-arrow';
import { bitSet, nullsOf, readTimes } from './columns.js';
import type { FeatureValue, ValueType } from './definitions.js';

export function arrowType(type: ValueType): DataType {
  switch (type) {
    case 'string':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new TimestampMillisecond();
  }
}

/** A fast reader of row i: typed arrays for single-chunk numeric columns, `get` otherwise. */
export function valueReader(vector: Vector): (i: number) => FeatureValue {
  const type = vector.type as DataType;
  if (DataType.isTimestamp(type) || DataType.isDate(type)) {
    const ms = readTimes(vector);
    return (i) => (ms[i] === ms[i] ? ms[i]! : null);
  }
  if (vector.data.length === 1 && (DataType.isFloat(type) || (DataType.isInt(type) && type.bitWidth <= 32))) {
    const data = vector.data[0]!;
    const values = data.values as ArrayLike<number>;
    const nulls = nullsOf(data);
    const offset = data.offset;
    return nulls ? (i) => (bitSet(nulls, offset + i) ? values[i]! : null) : (i) => values[i]!;
  }
  return (i) => {
    const v = vector.get(i) as unknown;
    if (v === null || v === undefined) return null;
    return typeof v === 'bigint' ? Number(v) : (v as FeatureValue);
  };
}
