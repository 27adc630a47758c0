import fs from 'node:fs';
import { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { compileSignature, type ServingSignature } from '../../../src/serving/signature.js';
import { batchFromColumns, batchFromOip, batchFromRecords, recordsOf, shortestFloat32 } from '../../../src/serving/validation.js';
import { FIXTURE_SIGNATURE, trainFixtureModel } from '../../support/serving-models.js';

const externalBytes = new Uint8Array(fs.readFileSync(new URL('../../fixtures/onnx/external-logreg.onnx', import.meta.url)));

let steward: ServingSignature;
let external: ServingSignature;
const sessions: InferenceSession[] = [];

async function signatureOf(bytes: Uint8Array, registered: unknown, producer: string): Promise<ServingSignature> {
  const session = await InferenceSession.create(bytes);
  sessions.push(session);
  return compileSignature({ inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata, registered, producer });
}

beforeAll(async () => {
  steward = await signatureOf(await trainFixtureModel(), FIXTURE_SIGNATURE, 'steward');
  external = await signatureOf(externalBytes, { inputs: [{ name: 'X', elementType: 'float32' }], outputs: [] }, 'onnx.helper');
});
afterAll(async () => {
  for (const s of sessions) await s.release();
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('compiling a serving signature', () => {
  it("takes Steward's exports as one [N,1] input per feature that accept missing values, scoring P(class 1)", () => {
    expect(steward.inputs.map((i) => [i.name, i.type, i.datatype, i.width, i.allowMissing])).toEqual([
      ['hour', 'float32', 'FP32', 1, true],
      ['distance', 'float32', 'FP32', 1, true],
      ['origin', 'string', 'BYTES', 1, true],
    ]);
    expect(steward.score).toEqual({ output: 'probabilities', column: 1, width: 2 });
    expect(steward.maxRows).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes an external [batch, 3] matrix input as one feature of width 3 that refuses missing values', () => {
    expect(external.inputs).toEqual([{ name: 'X', type: 'float32', datatype: 'FP32', shape: [-1, 3], width: 3, allowMissing: false }]);
    expect(external.score.output).toBe('logit');
  });

  it('refuses a registered signature that disagrees with the graph, naming every difference', async () => {
    const error = await signatureOf(externalBytes, { inputs: [{ name: 'features', type: 'float' }] }, 'x').catch((e: Error) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/model input "X" is not in the registered signature; registered input\(s\) "features" are not inputs/);
    const typed = await signatureOf(externalBytes, { inputs: [{ name: 'X', type: 'string' }] }, 'x').catch((e: Error) => e);
    expect((typed as Error).message).toMatch(/input "X" is registered as string but the model takes float32/);
    const none = await signatureOf(externalBytes, {}, 'x').catch((e: Error) => e);
    expect((none as Error).message).toMatch(/lists no inputs/);
  });

  it('uses the registered score output and column, and refuses one the model does not have', async () => {
    const chosen = await signatureOf(externalBytes, { inputs: ['X'], score: { output: 'probability', column: 0 } }, 'x');
    expect(chosen.score).toEqual({ output: 'probability', column: 0, width: 1 });
    const wrong = await signatureOf(externalBytes, { inputs: ['X'], score: { output: 'nope' } }, 'x').catch((e: Error) => e);
    expect((wrong as Error).message).toMatch(/score output "nope" is not a numeric output/);
  });
});

describe('named-feature rows (/predict)', () => {
  it('decodes rows into typed columns, missing values as NaN and empty categories', () => {
    const batch = batchFromRecords(steward, [
      { hour: 7, distance: 500.5, origin: 'SFO' },
      { hour: null, distance: 10, origin: null },
    ]);
    expect(batch.rows).toBe(2);
    expect(Array.from(batch.columns[0] as Float32Array)).toEqual([7, Number.NaN]);
    expect(Array.from(batch.columns[1] as Float32Array)).toEqual([500.5, 10]);
    expect(batch.columns[2]).toEqual(['SFO', '']);
  });

  it('names the row and feature of every kind of bad input', () => {
    expect(refusal(() => batchFromRecords(steward, [{ hour: 1, origin: 'SFO' }], true))).toBe('feature "distance" is missing; the model takes "hour", "distance", "origin".');
    expect(refusal(() => batchFromRecords(steward, [{ hour: 1, distance: 2, origin: 'SFO' }, { hour: 1, distance: 2, origin: 'SFO', seat: '12A' }]))).toBe(
      'Row 1: unknown feature(s) "seat"; the model takes "hour", "distance", "origin".',
    );
    expect(refusal(() => batchFromRecords(steward, [{ hour: '7', distance: 2, origin: 'SFO' }], true))).toBe('feature "hour" must be a number, got string "7".');
    expect(refusal(() => batchFromRecords(steward, [{ hour: 7, distance: 2, origin: 3 }], true))).toBe('feature "origin" must be a string, got number 3.');
    expect(refusal(() => batchFromRecords(steward, [{ hour: [7], distance: 2, origin: 'SFO' }], true))).toBe('feature "hour" must be a number, got an array.');
    expect(refusal(() => batchFromRecords(steward, [{ hour: 1e39, distance: 2, origin: 'SFO' }], true))).toMatch(/is 1e\+39; only finite numbers/);
    expect(refusal(() => batchFromRecords(steward, ['SFO'], true))).toBe('expected an object of named features, got string "SFO".');
    expect(refusal(() => batchFromRecords(steward, [[1, 2, 'SFO']]))).toBe('Row 0: expected an object of named features, got an array.');
    expect(refusal(() => batchFromRecords(steward, []))).toMatch(/holds no rows/);
  });

  it('refuses missing values where the model cannot take them, and checks a wide feature per value', () => {
    expect(batchFromRecords(external, [{ X: [1, 2, 3] }]).columns[0]).toEqual(Float32Array.of(1, 2, 3));
    expect(refusal(() => batchFromRecords(external, [{ X: [1, null, 3] }], true))).toBe('feature "X"[1] is null; this model does not accept missing values for it.');
    expect(refusal(() => batchFromRecords(external, [{ X: [1, 2] }], true))).toBe('feature "X" must be an array of 3 values, got 2 values.');
  });

  it('does not take inherited properties for features', () => {
    const signature = { ...steward, inputs: [{ ...steward.inputs[0]!, name: 'constructor' }], index: new Map([['constructor', 0]]) };
    expect(refusal(() => batchFromRecords(signature, [{}], true))).toMatch(/feature "constructor" is missing/);
  });
});

describe('Open Inference Protocol v2 tensors', () => {
  const tensors = (rows: number) => [
    { name: 'origin', datatype: 'BYTES', shape: [rows, 1], data: Array.from({ length: rows }, () => 'ATL') },
    { name: 'hour', datatype: 'FP32', shape: [rows, 1], data: Array.from({ length: rows }, (_, i) => i) },
    { name: 'distance', datatype: 'FP32', shape: [rows, 1], data: Array.from({ length: rows }, () => [100]) },
  ];

  it('decodes inputs in any order, flat or nested', () => {
    const batch = batchFromOip(steward, tensors(3));
    expect(batch.rows).toBe(3);
    expect(Array.from(batch.columns[0] as Float32Array)).toEqual([0, 1, 2]);
    expect(Array.from(batch.columns[1] as Float32Array)).toEqual([100, 100, 100]);
    expect(batch.columns[2]).toEqual(['ATL', 'ATL', 'ATL']);
  });

  it('refuses wrong shapes, datatypes, counts, names and duplicates', () => {
    const [origin, hour, distance] = tensors(2);
    expect(refusal(() => batchFromOip(steward, [origin, { ...hour, shape: [2] }, distance]))).toBe('Input "hour" has shape [2]; the model takes [N, 1].');
    expect(refusal(() => batchFromOip(steward, [origin, { ...hour, shape: [2, 2] }, distance]))).toBe('Input "hour" has shape [2, 2]; the model takes [N, 1].');
    expect(refusal(() => batchFromOip(steward, [origin, { ...hour, datatype: 'FP64' }, distance]))).toBe('Input "hour" has datatype "FP64"; the model takes FP32.');
    expect(refusal(() => batchFromOip(steward, [origin, { ...hour, data: [1] }, distance]))).toBe('Input "hour" has 1 values; shape [2, 1] needs 2.');
    expect(refusal(() => batchFromOip(steward, [origin, { ...hour, shape: [3, 1], data: [1, 2, 3] }, distance]))).toMatch(/"hour" has 3 rows but an earlier input has 2/);
    expect(refusal(() => batchFromOip(steward, [origin, hour]))).toBe('Input(s) "distance" are missing from the request.');
    expect(refusal(() => batchFromOip(steward, [origin, hour, distance, { ...hour }]))).toBe('Input "hour" is given twice.');
    expect(refusal(() => batchFromOip(steward, [{ ...hour, name: 'minute' }]))).toMatch(/Unknown input "minute"/);
    expect(refusal(() => batchFromOip(steward, [origin, { ...hour, data: ['a', 'b'] }, distance]))).toBe('Input "hour" value 0 must be a number, got string "a".');
    expect(refusal(() => batchFromOip(steward, {}))).toMatch(/"inputs" must be a non-empty array/);
  });

  it("honours a graph's fixed batch size", () => {
    const fixed = { ...steward, maxRows: 1 };
    expect(refusal(() => batchFromOip(fixed, tensors(2)))).toBe('The request holds 2 rows; this model scores at most 1 per request.');
  });
});

describe('columns (TypeScript API and batch scoring)', () => {
  it('passes float32 columns through untouched and converts the rest', () => {
    const hour = Float32Array.of(1, 2);
    const batch = batchFromColumns(steward, { hour, distance: Float64Array.of(10, Number.NaN), origin: ['ATL', null] });
    expect(batch.columns[0]).toBe(hour);
    expect(Array.from(batch.columns[1] as Float32Array)).toEqual([10, Number.NaN]);
    expect(batch.columns[2]).toEqual(['ATL', '']);
    expect(Array.from(batchFromColumns(steward, { hour: [1n, 2n], distance: [1, 2], origin: ['a', 'b'] }).columns[0] as Float32Array)).toEqual([1, 2]);
  });

  it('names the file row of a bad value and refuses mismatched lengths', () => {
    expect(refusal(() => batchFromColumns(external, { X: Float32Array.of(1, 2, 3, 4, Number.NaN, 6) }, 1000))).toBe('Row 1001: feature "X"[1] is NaN; this model does not accept missing values for it.');
    expect(refusal(() => batchFromColumns(steward, { hour: [1], distance: [1, 2], origin: ['a'] }))).toBe('Feature "distance" has 2 rows but "hour" has 1.');
    expect(refusal(() => batchFromColumns(steward, { hour: [1], distance: [Infinity], origin: ['a'] }))).toBe('Row 0: feature "distance" is Infinity; only finite numbers are accepted.');
  });
});

describe('rows for the prediction log', () => {
  it('prints float32 values as the caller wrote them and missing values as null', () => {
    const batch = batchFromRecords(steward, [{ hour: 0.1, distance: null, origin: 'SFO' }]);
    expect(recordsOf(steward, batch)).toEqual([{ hour: 0.1, distance: null, origin: 'SFO' }]);
    expect(shortestFloat32(Math.fround(1234.567))).toBe(1234.567);
  });
});
