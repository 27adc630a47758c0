/**
 * A decoder for PostgreSQL's binary COPY format straight into flat typed arrays and Arrow columns:
 * no JS object per row and, for text, no JS string per value (Arrow's Utf8 takes the bytes as they
 * are). Chunks may split tuples anywhere; the decoder keeps the unfinished tail for the next chunk.
 *
 * Format: an 11-byte signature, int32 flags, int32 extension length and extension; then per tuple an
 * int16 field count (-1 ends the data) and per field an int32 byte length (-1 for null) and the bytes,
 * all big-endian. timestamptz is int64 microseconds since 2000-01-01.
 */
import { Bool, Float64, Int32, Int64, TimestampMillisecond, Utf8, makeData, makeVector, type Vector } from 'apache-arrow';
import { UnavailableError } from '../errors.js';

export type CopyKind = 'text' | 'int4' | 'int8' | 'float8' | 'bool' | 'timestamptz';

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4294967296;

/** One decoded column: values in a typed array (text: UTF-8 bytes with offsets), validity as bits. */
export class CopyColumn {
  length = 0;
  nullCount = 0;
  validity = new Uint8Array(128);
  /** float8 and timestamptz (epoch ms): Float64Array; int4 and bool: Int32Array; int8: Int32Array word pairs (low, high). */
  values: Float64Array | Int32Array;
  offsets: Int32Array | undefined;
  bytes: Uint8Array | undefined;
  private byteLength = 0;

  constructor(readonly kind: CopyKind) {
    this.values = kind === 'float8' || kind === 'timestamptz' ? new Float64Array(1024) : new Int32Array(kind === 'int8' ? 2048 : 1024);
    if (kind === 'text') {
      this.offsets = new Int32Array(1025);
      this.bytes = new Uint8Array(16_384);
    }
  }

  isValid(i: number): boolean {
    return (this.validity[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  /** Row i as a JS value (null, number, boolean or string); int8 as a number, timestamps as epoch ms. */
  value(i: number): string | number | boolean | null {
    if (!this.isValid(i)) return null;
    switch (this.kind) {
      case 'text':
        return decoder.decode(this.bytes!.subarray(this.offsets![i]!, this.offsets![i + 1]!));
      case 'int8':
        return this.values[2 * i + 1]! * TWO_32 + (this.values[2 * i]! >>> 0);
      case 'bool':
        return this.values[i] === 1;
      default:
        return this.values[i]!;
    }
  }

  /** The column as an Arrow vector (int8 as Int64, timestamptz as millisecond timestamps). */
  toVector(): Vector {
    const length = this.length;
    const nullBitmap = this.nullCount > 0 ? this.validity.slice(0, (length + 7) >> 3) : undefined;
    const common = { length, nullCount: this.nullCount, nullBitmap };
    switch (this.kind) {
      case 'text':
        return makeVector(
          makeData({ type: new Utf8(), ...common, valueOffsets: this.offsets!.slice(0, length + 1), data: this.bytes!.slice(0, this.byteLength) }),
        );
      case 'float8':
        return makeVector(makeData({ type: new Float64(), ...common, data: (this.values as Float64Array).slice(0, length) }));
      case 'int4':
        return makeVector(makeData({ type: new Int32(), ...common, data: (this.values as Int32Array).slice(0, length) }));
      case 'int8':
        return makeVector(makeData({ type: new Int64(), ...common, data: new BigInt64Array(this.values.slice(0, 2 * length).buffer) }));
      case 'bool': {
        const bits = new Uint8Array((length + 7) >> 3);
        for (let i = 0; i < length; i++) if (this.values[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
        return makeVector(makeData({ type: new Bool(), ...common, data: bits }));
      }
      case 'timestamptz': {
        const words = new Int32Array(2 * length);
        for (let i = 0; i < length; i++) {
          const ms = this.values[i]!;
          if (ms !== ms) continue;
          words[2 * i] = ms % TWO_32;
          words[2 * i + 1] = Math.floor(ms / TWO_32);
        }
        return makeVector(makeData({ type: new TimestampMillisecond(), ...common, data: new BigInt64Array(words.buffer) }));
      }
    }
  }

  /** Appends one field; `view` and `at` locate its bytes (len < 0 for null). */
  append(view: DataView, source: Uint8Array, at: number, len: number): void {
    const i = this.length;
    this.ensure(i + 1);
    if (len < 0) {
      this.nullCount++;
      if (this.kind === 'text') this.offsets![i + 1] = this.byteLength;
      else if (this.kind === 'float8' || this.kind === 'timestamptz') this.values[i] = NaN;
      this.length = i + 1;
      return;
    }
    this.validity[i >> 3]! |= 1 << (i & 7);
    switch (this.kind) {
      case 'text': {
        if (this.byteLength + len > this.bytes!.length) {
          const grown = new Uint8Array(Math.max(this.bytes!.length * 2, this.byteLength + len));
          grown.set(this.bytes!.subarray(0, this.byteLength));
          this.bytes = grown;
        }
        this.bytes!.set(source.subarray(at, at + len), this.byteLength);
        this.byteLength += len;
        this.offsets![i + 1] = this.byteLength;
        break;
      }
      case 'float8':
        this.values[i] = view.getFloat64(at);
        break;
      case 'int4':
        this.values[i] = view.getInt32(at);
        break;
      case 'bool':
        this.values[i] = source[at]! === 1 ? 1 : 0;
        break;
      case 'int8':
        this.values[2 * i] = view.getInt32(at + 4);
        this.values[2 * i + 1] = view.getInt32(at);
        break;
      case 'timestamptz': {
        const micros = view.getInt32(at) * TWO_32 + view.getUint32(at + 4);
        this.values[i] = Math.floor(micros / 1000) + PG_EPOCH_MS;
        break;
      }
    }
    this.length = i + 1;
  }

  private ensure(rows: number): void {
    const perRow = this.kind === 'int8' ? 2 : 1;
    if (rows * perRow > this.values.length) {
      const grown = new (this.values.constructor as new (n: number) => Float64Array | Int32Array)(Math.max(this.values.length * 2, rows * perRow));
      grown.set(this.values);
      this.values = grown;
      if (this.offsets) {
        const offsets = new Int32Array(grown.length + 1);
        offsets.set(this.offsets);
        this.offsets = offsets;
      }
    }
    if (rows > this.validity.length * 8) {
      const validity = new Uint8Array(this.validity.length * 2);
      validity.set(this.validity);
      this.validity = validity;
    }
  }
}

const decoder = new TextDecoder();

export class BinaryCopyDecoder {
  readonly columns: CopyColumn[];
  private pending: Uint8Array = new Uint8Array(0);
  private headerRead = false;
  private ended = false;

  constructor(kinds: readonly CopyKind[]) {
    this.columns = kinds.map((k) => new CopyColumn(k));
  }

  get rows(): number {
    return this.columns[0]?.length ?? 0;
  }

  push(chunk: Uint8Array): void {
    let buffer = chunk;
    if (this.pending.length > 0) {
      buffer = new Uint8Array(this.pending.length + chunk.length);
      buffer.set(this.pending);
      buffer.set(chunk, this.pending.length);
    }
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let p = 0;
    if (!this.headerRead) {
      if (buffer.length < 19) {
        this.pending = buffer.slice();
        return;
      }
      for (let i = 0; i < SIGNATURE.length; i++) {
        if (buffer[i] !== SIGNATURE[i]) throw new UnavailableError('The database sent COPY data that is not in the binary format.');
      }
      const extension = view.getInt32(15);
      if (buffer.length < 19 + extension) {
        this.pending = buffer.slice();
        return;
      }
      p = 19 + extension;
      this.headerRead = true;
    }
    const fieldCount = this.columns.length;
    const lengths = new Int32Array(fieldCount);
    while (!this.ended && p + 2 <= buffer.length) {
      const count = view.getInt16(p);
      if (count === -1) {
        this.ended = true;
        p += 2;
        break;
      }
      if (count !== fieldCount) throw new UnavailableError(`COPY tuple has ${count} fields; expected ${fieldCount}.`);
      // Check the whole tuple is here before appending any of it.
      let q = p + 2;
      let complete = true;
      for (let f = 0; f < fieldCount; f++) {
        if (q + 4 > buffer.length) {
          complete = false;
          break;
        }
        const len = view.getInt32(q);
        lengths[f] = len;
        q += 4 + (len > 0 ? len : 0);
        if (q > buffer.length) {
          complete = false;
          break;
        }
      }
      if (!complete) break;
      let at = p + 2;
      for (let f = 0; f < fieldCount; f++) {
        const len = lengths[f]!;
        this.columns[f]!.append(view, buffer, at + 4, len);
        at += 4 + (len > 0 ? len : 0);
      }
      p = q;
    }
    this.pending = p < buffer.length ? buffer.slice(p) : new Uint8Array(0);
  }

  /** Checks the data ended cleanly. */
  finish(): CopyColumn[] {
    if (this.pending.length > 0 || (this.headerRead && !this.ended)) {
      throw new UnavailableError('COPY data ended in the middle of a row; the connection may have dropped. Retry.');
    }
    return this.columns;
  }
}
