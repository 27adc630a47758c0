/**
 * Issue 18, the scorer: bad requests to the fastify app through `inject`, against real ONNX models
 * (the flight-delay fixture Steward trains and exports, plus hand-built graphs with integer,
 * boolean and [N,3] inputs and one with a fixed batch size). Every refusal asserts the status, the
 * scorer's one error shape (`{ "error": "..." }`, nothing else) and the message; afterwards the
 * prediction log holds no entry for any refused request and the ground-truth table no row from a
 * refused body, while the good requests around them are logged exactly once. (Request-id limits and
 * /predict wrapper shapes have suites of their own.)
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type DatabaseHandle } from '../../../src/db/client.js';
import type { NewPredictionLogRow } from '../../../src/db/schema.js';
import { ModelHost } from '../../../src/serving/model-host.js';
import { PredictionLog } from '../../../src/serving/prediction-log.js';
import { createScorerServer } from '../../../src/serving/server.js';
import { createTestDatabase, type TestDatabase } from '../../support/databases.js';
import { FIXTURE_SIGNATURE, MemorySource, SQRT_SIGNATURE, fixtureRow, sqrtModel, trainFixtureModel } from '../../support/serving-models.js';

const { onnx } = onnxProto;
const { FLOAT, INT64, BOOL } = onnx.TensorProto.DataType;
const { INT, INTS } = onnx.AttributeProto.AttributeType;

const tensor = (name: string, elemType: number, dims: Array<number | 'N'>) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (d === 'N' ? { dimParam: 'N' } : { dimValue: d })) } } },
});

/** score = count + flag + sum(vec): an int64 [N,1], a bool [N,1] and a float [N,3] input, none of which takes a missing value. */
function typedModel(): Uint8Array {
  const cast = (input: string, output: string) => ({ opType: 'Cast', domain: '', input: [input], output: [output], attribute: [{ name: 'to', type: INT, i: FLOAT }] });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 11 }],
      producerName: 'fault-tests',
      graph: {
        name: 'typed',
        node: [
          cast('count', 'count_f'),
          cast('flag', 'flag_f'),
          { opType: 'ReduceSum', domain: '', input: ['vec'], output: ['vec_sum'], attribute: [{ name: 'axes', type: INTS, ints: [1] }, { name: 'keepdims', type: INT, i: 1 }] },
          { opType: 'Add', domain: '', input: ['count_f', 'flag_f'], output: ['partial'] },
          { opType: 'Add', domain: '', input: ['partial', 'vec_sum'], output: ['score'] },
        ],
        input: [tensor('count', INT64, ['N', 1]), tensor('flag', BOOL, ['N', 1]), tensor('vec', FLOAT, ['N', 3])],
        output: [tensor('score', FLOAT, ['N', 1])],
      },
    }),
  ).finish();
}
const TYPED_SIGNATURE = {
  inputs: [
    { name: 'count', type: 'int64' },
    { name: 'flag', type: 'bool' },
    { name: 'vec', type: 'float32' },
  ],
  outputs: [{ name: 'score', type: 'float32' }],
};

/** sqrt(x) on exactly `rows` rows: a graph whose batch dimension is fixed. */
function fixedBatchModel(rows: number): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 15 }],
      producerName: 'fault-tests',
      graph: { name: 'fixed', node: [{ opType: 'Sqrt', domain: '', input: ['x'], output: ['score'] }], input: [tensor('x', FLOAT, [rows, 1])], output: [tensor('score', FLOAT, [rows, 1])] },
    }),
  ).finish();
}

const BODY_LIMIT = 16 * 1024;
let app: FastifyInstance;
let host: ModelHost;
let log: PredictionLog;
const logged: NewPredictionLogRow[] = [];
let testDb: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase('pglite');
  handle = await testDb.open();
  const source = new MemorySource()
    .add('flight-delay', { version: 1, bytes: await trainFixtureModel(1, 0), signature: FIXTURE_SIGNATURE })
    .add('sqrt', { version: 1, bytes: sqrtModel(), signature: SQRT_SIGNATURE })
    .add('typed', { version: 1, bytes: typedModel(), signature: TYPED_SIGNATURE })
    .add('one', { version: 1, bytes: fixedBatchModel(1), signature: SQRT_SIGNATURE })
    .add('pair', { version: 1, bytes: fixedBatchModel(2), signature: SQRT_SIGNATURE });
  log = new PredictionLog(async (rows) => void logged.push(...rows), { batchSize: 1000, flushIntervalMs: 3_600_000 });
  host = new ModelHost({ source, log });
  for (const ref of ['flight-delay@1', 'sqrt@1', 'typed@1', 'one@1']) await host.deploy(ref);
  app = createScorerServer({ host, db: handle.db, bodyLimit: BODY_LIMIT });
  await app.ready();
}, 180_000);

afterAll(async () => {
  await app?.close();
  await host?.close();
  await log?.close();
  await handle?.close();
  await testDb?.destroy();
});

interface Request {
  method?: 'GET' | 'POST' | 'PUT';
  url: string;
  /** An object is sent as JSON; a string is sent as it is. */
  body?: unknown;
  contentType?: string | null;
}

let sequence = 0;
const refusedIds: string[] = [];

async function send(request: Request, requestId: string): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (request.contentType !== null) headers['content-type'] = request.contentType ?? 'application/json';
  const payload = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  return app.inject({ method: request.method ?? 'POST', url: request.url, headers, ...(payload === undefined ? {} : { payload }) });
}

const row = fixtureRow(1);
const oip = (overrides: Record<string, unknown> = {}, inputs?: unknown[]) => ({
  inputs: inputs ?? [
    { name: 'hour', shape: [2, 1], datatype: 'FP32', data: [8, 20] },
    { name: 'distance', shape: [2, 1], datatype: 'FP32', data: [300, 900] },
    { name: 'origin', shape: [2, 1], datatype: 'BYTES', data: ['ORD', 'SFO'] },
  ],
  ...overrides,
});
const hour = (patch: Record<string, unknown>) => oip({}, [{ name: 'hour', shape: [2, 1], datatype: 'FP32', data: [8, 20], ...patch }, { name: 'distance', shape: [2, 1], datatype: 'FP32', data: [300, 900] }, { name: 'origin', shape: [2, 1], datatype: 'BYTES', data: ['ORD', 'SFO'] }]);
const typed = (patch: Record<string, unknown>) => ({ count: 1, flag: true, vec: [1, 2, 3], ...patch });
const predict = (body: unknown, model = 'flight-delay'): Request => ({ url: `/predict/${model}`, body });
const infer = (body: unknown, path = '/v2/models/flight-delay/infer'): Request => ({ url: path, body });

type Case = [what: string, request: Request, status: number, message: string | RegExp];

/**
 * Unparseable JSON is refused with the parser's own detail (where it went wrong), and JSON with a
 * `__proto__` or `constructor.prototype` key is refused against prototype poisoning, naming the key.
 */
const NOT_JSON = /^The request body is not valid JSON: /;

const transport: Case[] = [
  ['text/plain', { url: '/predict/flight-delay', body: 'hour=8', contentType: 'text/plain' }, 415, /^Unsupported Media Type/],
  ['a form post', { url: '/predict/flight-delay', body: 'hour=8&distance=300', contentType: 'application/x-www-form-urlencoded' }, 415, /^Unsupported Media Type/],
  ['XML', { url: '/predict/flight-delay', body: '<row hour="8"/>', contentType: 'application/xml' }, 415, /^Unsupported Media Type/],
  ['malformed JSON', { url: '/predict/flight-delay', body: '{"hour": 8,' }, 400, /^The request body is not valid JSON: .*position 11/],
  ['an empty JSON body', { url: '/predict/flight-delay', body: '' }, 400, /^The request body is not valid JSON: it is empty/],
  ['a NaN literal', { url: '/predict/flight-delay', body: '{"hour": NaN, "distance": 300, "origin": "ORD"}' }, 400, /^The request body is not valid JSON: Unexpected token 'N'/],
  ['a trailing comma', { url: '/predict/flight-delay', body: '[{"hour": 8, "distance": 300, "origin": "ORD"},]' }, 400, /^The request body is not valid JSON: Unexpected token '\]'/],
  ['a body over the limit', predict(Array.from({ length: 400 }, (_, i) => fixtureRow(i))), 413, `The request body is larger than the limit of ${BODY_LIMIT} bytes; send fewer rows per request.`],
  ['a __proto__ key', { url: '/predict/flight-delay', body: '{"__proto__": {"hour": 8}, "distance": 300, "origin": "ORD"}' }, 400, 'The request body is not valid JSON: the key "__proto__" is not allowed (prototype poisoning).'],
  ['a constructor.prototype key', { url: '/predict/flight-delay', body: '{"constructor": {"prototype": {"hour": 8}}, "hour": 8, "distance": 300, "origin": "ORD"}' }, 400, 'The request body is not valid JSON: the key "constructor.prototype" is not allowed (prototype poisoning).'],
];

const records: Case[] = [
  ['a missing feature', predict({ hour: 8, origin: 'ORD' }), 400, 'feature "distance" is missing; the model takes "hour", "distance", "origin".'],
  ['an empty object', predict({}), 400, 'feature "hour" is missing; the model takes "hour", "distance", "origin".'],
  ['an extra feature', predict({ ...row, seat: '12A' }), 400, 'unknown feature(s) "seat"; the model takes "hour", "distance", "origin".'],
  ['a feature name in other case', predict({ Hour: 8, distance: 300, origin: 'ORD' }), 400, 'feature "hour" is missing; the model takes "hour", "distance", "origin".'],
  ['a number sent as a string', predict({ ...row, hour: '8' }), 400, 'feature "hour" must be a number, got string "8".'],
  ['"NaN" as a string', predict({ ...row, distance: 'NaN' }), 400, 'feature "distance" must be a number, got string "NaN".'],
  ['1e999 (Infinity once parsed)', { url: '/predict/flight-delay', body: '{"hour": 1e999, "distance": 300, "origin": "ORD"}' }, 400, 'feature "hour" is Infinity; only finite numbers are accepted.'],
  ['-1e999', { url: '/predict/flight-delay', body: '{"hour": 8, "distance": -1e999, "origin": "ORD"}' }, 400, 'feature "distance" is -Infinity; only finite numbers are accepted.'],
  ['a number beyond float32', predict({ ...row, distance: 1e39 }), 400, 'feature "distance" is 1e+39; only finite numbers are accepted.'],
  ['a boolean for a number', predict({ ...row, hour: true }), 400, 'feature "hour" must be a number, got boolean true.'],
  ['a nested object for a number', predict({ ...row, hour: { value: 8 } }), 400, 'feature "hour" must be a number, got an object.'],
  ['an array for a scalar feature', predict({ ...row, hour: [8] }), 400, 'feature "hour" must be a number, got an array.'],
  ['a number for a category', predict({ ...row, origin: 7 }), 400, 'feature "origin" must be a string, got number 7.'],
  ['null where the model takes no missing value', predict({ x: null }, 'sqrt'), 400, 'feature "x" is null; this model does not accept missing values for it.'],
  ['JSON null as the body', predict('null'), 400, 'expected an object of named features, got null.'],
  ['a number as the body', predict('42'), 400, 'expected an object of named features, got number 42.'],
  ['an empty batch', predict([]), 400, 'The request holds no rows; send at least one.'],
  ['a batch with a number as a row', predict([row, 5]), 400, 'Row 1: expected an object of named features, got number 5.'],
  ['a batch whose third row lacks a feature', predict([row, row, { hour: 1, origin: 'ORD' }]), 400, 'Row 2: feature "distance" is missing; the model takes "hour", "distance", "origin".'],
  ['a batch whose second row has a bad value', predict([row, { ...row, hour: 'late' }]), 400, 'Row 1: feature "hour" must be a number, got string "late".'],
  ['a batch above the model\'s fixed batch size', predict([{ x: 1 }, { x: 4 }], 'one'), 400, 'The request holds 2 rows; this model scores at most 1 per request.'],
  ['a fraction for an int64 input', predict(typed({ count: 1.5 }), 'typed'), 400, 'feature "count" must be a whole number, got number 1.5.'],
  ['an int64 beyond exact JSON integers', { url: '/predict/typed', body: '{"count": 9007199254740993, "flag": true, "vec": [1, 2, 3]}' }, 400, 'feature "count" is 9007199254740992, beyond the integers JSON numbers carry exactly.'],
  ['a string for an int64 input', predict(typed({ count: '7' }), 'typed'), 400, 'feature "count" must be a whole number, got string "7".'],
  ['"true" for a bool input', predict(typed({ flag: 'true' }), 'typed'), 400, 'feature "flag" must be true or false, got string "true".'],
  ['1 for a bool input', predict(typed({ flag: 1 }), 'typed'), 400, 'feature "flag" must be true or false, got number 1.'],
  ['an array of the wrong length', predict(typed({ vec: [1, 2] }), 'typed'), 400, 'feature "vec" must be an array of 3 values, got 2 values.'],
  ['a scalar for an array input', predict(typed({ vec: 5 }), 'typed'), 400, 'feature "vec" must be an array of 3 values, got number 5.'],
  ['a string inside an array input', predict(typed({ vec: [1, 'a', 3] }), 'typed'), 400, 'feature "vec"[1] must be a number, got string "a".'],
  ['null inside an array input', predict(typed({ vec: [1, 2, null] }), 'typed'), 400, 'feature "vec"[2] is null; this model does not accept missing values for it.'],
  ['a nested array inside an array input', predict(typed({ vec: [[1], 2, 3] }), 'typed'), 400, 'feature "vec"[0] must be a number, got an array.'],
];

const oipCases: Case[] = [
  ['an infer body that is a list', infer([]), 400, 'An infer request is a JSON object: { "inputs": [{ "name", "shape", "datatype", "data" }], "outputs"?: [{ "name" }] }.'],
  ['no inputs', infer({}), 400, '"inputs" must be a non-empty array of tensors ({ name, shape, datatype, data }).'],
  ['an input missing', infer(oip({}, oip().inputs.slice(0, 2))), 400, 'Input(s) "origin" are missing from the request.'],
  ['an input given twice', infer(oip({}, [...oip().inputs, oip().inputs[0]])), 400, 'Input "hour" is given twice.'],
  ['an unknown input', infer(oip({}, [...oip().inputs, { name: 'minute', shape: [2, 1], datatype: 'FP32', data: [0, 0] }])), 400, 'Unknown input "minute"; the model takes "hour", "distance", "origin".'],
  ['an input that is a string', infer(oip({}, ['hour'])), 400, 'Every entry of "inputs" must be an object, got string "hour".'],
  ['the wrong datatype', infer(hour({ datatype: 'FP64' })), 400, 'Input "hour" has datatype "FP64"; the model takes FP32.'],
  ['no datatype', infer(hour({ datatype: undefined })), 400, 'Input "hour" has datatype undefined; the model takes FP32.'],
  ['a shape of the wrong rank', infer(hour({ shape: [2] })), 400, 'Input "hour" has shape [2]; the model takes [N, 1].'],
  ['a shape with the wrong width', infer(hour({ shape: [1, 2] })), 400, 'Input "hour" has shape [1, 2]; the model takes [N, 1].'],
  ['a negative dimension', infer(hour({ shape: [-1, 1] })), 400, 'Input "hour" needs "shape", an array of non-negative whole numbers.'],
  ['a shape that is a string', infer(hour({ shape: '2x1' })), 400, 'Input "hour" needs "shape", an array of non-negative whole numbers.'],
  ['zero rows', infer(hour({ shape: [0, 1], data: [] })), 400, 'The request holds no rows; send at least one.'],
  ['fewer values than the shape needs', infer(hour({ data: [8] })), 400, 'Input "hour" has 1 values; shape [2, 1] needs 2.'],
  ['more values than the shape needs, nested', infer(hour({ data: [[8, 9], [20, 21]] })), 400, 'Input "hour" has 4 values; shape [2, 1] needs 2.'],
  ['inputs with different batch sizes', infer(oip({}, [oip().inputs[0], { name: 'distance', shape: [1, 1], datatype: 'FP32', data: [300] }, oip().inputs[2]])), 400, 'Input "distance" has 1 rows but an earlier input has 2; every input needs the same batch size.'],
  ['data that is not a list', infer(hour({ data: 8 })), 400, 'Input "hour" needs "data", an array of values.'],
  ['a string in an FP32 tensor', infer(hour({ data: [8, '20'] })), 400, 'Input "hour" value 1 must be a number, got string "20".'],
  ['a number in a BYTES tensor', infer(oip({}, [oip().inputs[0], oip().inputs[1], { name: 'origin', shape: [2, 1], datatype: 'BYTES', data: ['ORD', 1] }])), 400, 'Input "origin" value 1 must be a string, got number 1.'],
  ['outputs that is not a list', infer(oip({ outputs: 'probabilities' })), 400, '"outputs" must be an array of { "name": "<output>" }.'],
  ['an unknown output', infer(oip({ outputs: [{ name: 'logits' }] })), 400, 'Unknown output(s) "logits"; the model has "label", "probabilities".'],
  ['a shape above the fixed batch size', infer({ inputs: [{ name: 'x', shape: [3, 1], datatype: 'FP32', data: [1, 4, 9] }] }, '/v2/models/one/infer'), 400, 'The request holds 3 rows; this model scores at most 1 per request.'],
];

const routes: Case[] = [
  ['an unknown model on /predict', predict(row, 'flight-dealy'), 404, 'Model "flight-dealy" is not served here; served: flight-delay, sqrt, typed, one.'],
  ['/predict without a model on a scorer of four', { url: '/predict', body: row }, 400, 'This scorer serves 4 models (flight-delay, sqrt, typed, one); name one: POST /predict/{model}.'],
  ['an unknown model on infer', infer(oip(), '/v2/models/nope/infer'), 404, 'Model "nope" is not served here; served: flight-delay, sqrt, typed, one.'],
  ['a version that is not loaded', infer(oip(), '/v2/models/flight-delay/versions/7/infer'), 404, 'flight-delay v7 is not loaded here; loaded: v1.'],
  ['a version that is not a number', infer(oip(), '/v2/models/flight-delay/versions/latest/infer'), 404, 'Model "flight-delay" has no version "latest"; versions are numbers.'],
  ['a version of ten digits', infer(oip(), '/v2/models/flight-delay/versions/1234567890/infer'), 404, 'Model "flight-delay" has no version "1234567890"; versions are numbers.'],
  ['metadata of an unknown model', { method: 'GET', url: '/v2/models/nope' }, 404, 'Model "nope" is not served here; served: flight-delay, sqrt, typed, one.'],
  ['GET on /predict', { method: 'GET', url: '/predict/flight-delay' }, 404, 'No route GET /predict/flight-delay; the scorer serves /v2/..., /predict/{model}, /metrics and /admin/models.'],
  ['an unknown route', { url: '/v1/models/flight-delay:predict', body: { instances: [row] } }, 404, /^No route POST \/v1\/models\/flight-delay:predict; the scorer serves/],
  ['metrics when they are off', { method: 'GET', url: '/metrics' }, 404, 'Metrics are not enabled on this scorer.'],
  ['a routing policy with an unknown strategy', { method: 'PUT', url: '/admin/models/flight-delay/routing', body: { strategy: 'yolo' } }, 400, /^Invalid routing policy: .*Use \{ strategy: 'single', version \}/],
  ['a canary of 150 percent', { method: 'PUT', url: '/admin/models/flight-delay/routing', body: { strategy: 'canary', primary: 1, candidate: 2, percent: 150 } }, 400, /^Invalid routing policy: percent: /],
  ['a canary onto itself', { method: 'PUT', url: '/admin/models/flight-delay/routing', body: { strategy: 'canary', primary: 1, candidate: 1, percent: 5 } }, 400, 'A canary needs a candidate version different from the primary.'],
  ['a reload with a numeric ref', { method: 'POST', url: '/admin/models/flight-delay/reload', body: { ref: 2 } }, 400, '"ref" must be a string such as "champion", "4" or "flight-delay@champion".'],
  ['stats over a negative window', { method: 'GET', url: '/admin/models/flight-delay/stats?windowSeconds=-5' }, 400, 'windowSeconds must be a positive number, got "-5".'],
];

const groundTruth: Case[] = [
  ['an empty object', { url: '/predictions/gt-1/ground-truth', body: {} }, 400, 'Send the ground truth as { "value": 1 } or { "values": [1, 0, ...] } (one per row) or { "values": [{ "row": 3, "value": 1 }] }.'],
  ['a label as a string', { url: '/predictions/gt-1/ground-truth', body: { value: '1' } }, 400, /^Send the ground truth as \{ "value": 1 \}/],
  ['an empty list', { url: '/predictions/gt-1/ground-truth', body: { values: [] } }, 400, /^Send the ground truth as/],
  ['null among the values', { url: '/predictions/gt-1/ground-truth', body: { values: [1, null] } }, 400, 'Ground truth for row 1 is null; it must be a finite number (a 0/1 label or the observed target).'],
  ['Infinity', { url: '/predictions/gt-1/ground-truth', body: '{"value": 1e999}' }, 400, 'Ground truth for row 0 is Infinity; it must be a finite number (a 0/1 label or the observed target).'],
  ['a negative row', { url: '/predictions/gt-1/ground-truth', body: { values: [{ row: -1, value: 1 }] } }, 400, 'Ground-truth row -1 is not a row index (0, 1, ...).'],
  ['a fractional row', { url: '/predictions/gt-1/ground-truth', body: { values: [{ row: 1.5, value: 1 }] } }, 400, 'Ground-truth row 1.5 is not a row index (0, 1, ...).'],
  ['a row without its index', { url: '/predictions/gt-1/ground-truth', body: { values: [{ value: 1 }] } }, 400, 'Ground-truth row NaN is not a row index (0, 1, ...).'],
  ['one row twice', { url: '/predictions/gt-1/ground-truth', body: { values: [{ row: 0, value: 1 }, { row: 0, value: 0 }] } }, 400, 'Ground truth names a row twice.'],
  ['malformed JSON', { url: '/predictions/gt-1/ground-truth', body: '{"value": ' }, 400, NOT_JSON],
  ['text/plain', { url: '/predictions/gt-1/ground-truth', body: '1', contentType: 'text/plain' }, 415, /^Unsupported Media Type/],
];

describe.each([
  ['transport', transport],
  ['/predict rows', records],
  ['OIP v2 infer', oipCases],
  ['routes, versions and admin', routes],
  ['ground truth', groundTruth],
])('bad scorer requests: %s', (_group, cases) => {
  it.each(cases)('answers %s with a 4xx and the reason', async (_what, request, status, message) => {
    const requestId = `refused-${++sequence}`;
    refusedIds.push(requestId);
    const response = await send(request, requestId);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json() as Record<string, unknown>;
    // One shape for every error, with no stack or internals.
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error).toBe('string');
    if (typeof message === 'string') expect(body.error).toBe(message);
    else expect(body.error).toMatch(message);
    expect(body.error).not.toMatch(/\n\s+at |node_modules|TypeError|Cannot read properties/);
  });
});

describe('what refused requests leave behind', () => {
  it('logs the good requests around them once each, and none of the refused ones', async () => {
    const good = [
      await send(predict(row), 'good-predict'),
      await send(predict([row, fixtureRow(2)]), 'good-batch'),
      await send(infer(oip()), 'good-infer'),
      await send(predict(typed({}), 'typed'), 'good-typed'),
      await send(predict({ x: 4 }, 'one'), 'good-one'),
    ];
    expect(good.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(good[3]!.json().score).toBe(1 + 1 + 6);
    await log.flush();
    expect(logged.map((r) => r.requestId).sort()).toEqual(['good-batch', 'good-infer', 'good-one', 'good-predict', 'good-typed']);
    expect(logged.find((r) => r.requestId === 'good-batch')?.rows).toBe(2);
    expect(logged.some((r) => refusedIds.includes(r.requestId))).toBe(false);
    expect(log.dropped).toBe(0);
  });

  it('attaches no ground truth from a refused body, and attaches a good one', async () => {
    const rows = async () => queryRows<{ request_id: string; row_index: number; value: number }>(handle.db, sql`select request_id, row_index, value from prediction_ground_truth order by request_id, row_index`);
    expect(await rows()).toEqual([]);
    expect((await send({ url: '/predictions/good-batch/ground-truth', body: { values: [1, 0] } }, 'gt')).statusCode).toBe(204);
    expect(await rows()).toEqual([
      { request_id: 'good-batch', row_index: 0, value: 1 },
      { request_id: 'good-batch', row_index: 1, value: 0 },
    ]);
  });

  it('left the routing as it was after the refused admin calls', () => {
    expect(host.routing('flight-delay')).toEqual({ strategy: 'single', version: 1 });
    expect(host.modelNames()).toEqual(['flight-delay', 'sqrt', 'typed', 'one']);
  });
});

describe('known defects (reported, not fixed here)', () => {
  // DEFECT: a model whose graph fixes its batch dimension above 1 cannot be served. The warm-up
  // (src/serving/loaded-model.ts warm()) always runs a 1-row batch first, which onnxruntime refuses
  // ("Got invalid dimensions for input: x ... Got: 1 Expected: 2"), so deploy fails with
  // ModelLoadError; and validation (src/serving/validation.ts checkRows) treats the fixed dimension as
  // a maximum, so a 1-row request to such a model would pass validation and fail in the runtime as a
  // 500 rather than a 400.
  it.fails('serves a model whose batch dimension is fixed at 2', async () => {
    const pair = new ModelHost({ source: new MemorySource().add('pair', { version: 1, bytes: fixedBatchModel(2), signature: SQRT_SIGNATURE }) });
    try {
      await pair.deploy('pair@1');
    } finally {
      await pair.close();
    }
  });
});
