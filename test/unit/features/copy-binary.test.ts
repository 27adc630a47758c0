import { describe, expect, it } from 'vitest';
import { BinaryCopyDecoder, type CopyKind } from '../../../src/features/copy-binary.js';
import { mulberry32 } from '../../../src/ml/random.js';

const PG_EPOCH_MS = 946_684_800_000;

/** PostgreSQL's binary COPY format, written from JS values: the reference the decoder is checked against. */
function encode(kinds: CopyKind[], rows: Array<Array<string | number | boolean | bigint | null>>): Uint8Array {
  const parts: number[] = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
  const push = (bytes: Uint8Array) => parts.push(...bytes);
  const int32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n);
    return b;
  };
  for (const row of rows) {
    const count = new Uint8Array(2);
    new DataView(count.buffer).setInt16(0, kinds.length);
    push(count);
    row.forEach((value, c) => {
      if (value === null) return push(int32(-1));
      let bytes: Uint8Array;
      const view = (n: number) => ((bytes = new Uint8Array(n)), new DataView(bytes.buffer));
      switch (kinds[c]) {
        case 'text':
          bytes = new TextEncoder().encode(value as string);
          break;
        case 'int4':
          view(4).setInt32(0, value as number);
          break;
        case 'int8':
          view(8).setBigInt64(0, BigInt(value as number));
          break;
        case 'float8':
          view(8).setFloat64(0, value as number);
          break;
        case 'bool':
          bytes = new Uint8Array([value ? 1 : 0]);
          break;
        case 'timestamptz':
          view(8).setBigInt64(0, BigInt(((value as number) - PG_EPOCH_MS) * 1000));
          break;
      }
      push(int32(bytes!.length));
      push(bytes!);
    });
  }
  push(new Uint8Array([0xff, 0xff]));
  return Uint8Array.from(parts);
}

const kinds: CopyKind[] = ['text', 'int4', 'int8', 'float8', 'bool', 'timestamptz'];
const rows: Array<Array<string | number | boolean | null>> = [
  ['ORD', 1, 2 ** 40 + 7, 1.5, true, Date.UTC(2001, 0, 1, 6, 10)],
  [null, null, null, null, null, null],
  ['', -5, -(2 ** 35), -0.25, false, Date.UTC(1969, 11, 31, 23, 59, 59, 999)],
  ['Zürich ✈', 2147483647, 9007199254740991, Number.MAX_VALUE, true, Date.UTC(2099, 11, 31)],
];

describe('binary COPY decoder', () => {
  it('decodes every kind, nulls included, however the data is split into chunks', () => {
    const data = encode(kinds, rows);
    const rng = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const decoder = new BinaryCopyDecoder(kinds);
      for (let at = 0; at < data.length; ) {
        const size = 1 + Math.floor(rng() * 12);
        decoder.push(data.subarray(at, at + size));
        at += size;
      }
      const columns = decoder.finish();
      expect(rows.map((_, r) => columns.map((c) => c.value(r)))).toEqual(rows);
    }
  });

  it('builds Arrow vectors with the same values and nulls', () => {
    const decoder = new BinaryCopyDecoder(kinds);
    decoder.push(encode(kinds, rows));
    const vectors = decoder.finish().map((c) => c.toVector());
    expect([...vectors[0]!]).toEqual(['ORD', null, '', 'Zürich ✈']);
    expect([...vectors[2]!]).toEqual([2n ** 40n + 7n, null, -(2n ** 35n), 9007199254740991n]);
    expect([...vectors[4]!]).toEqual([true, null, false, true]);
    expect([...vectors[5]!]).toEqual([rows[0]![5], null, rows[2]![5], rows[3]![5]]);
    expect(vectors.map((v) => v.nullCount)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('refuses data that ends in the middle of a row', () => {
    const data = encode(kinds, rows);
    const decoder = new BinaryCopyDecoder(kinds);
    decoder.push(data.subarray(0, data.length - 10));
    expect(() => decoder.finish()).toThrow('COPY data ended in the middle of a row');
  });
});
