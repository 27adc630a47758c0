import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/ml/random.js';
import { ScorerMetrics } from '../../../src/serving/metrics.js';
import { ModelHost } from '../../../src/serving/model-host.js';
import { MAX_REQUEST_ID_LENGTH } from '../../../src/serving/request-id.js';
import { createScorerServer } from '../../../src/serving/server.js';
import { FIXTURE_SIGNATURE, MemorySource, SQRT_SIGNATURE, fixtureRow, sqrtModel, trainFixtureModel } from '../../support/serving-models.js';

let app: FastifyInstance;
let host: ModelHost;
let source: MemorySource;

beforeAll(async () => {
  source = new MemorySource()
    .add('flight-delay', { version: 1, bytes: await trainFixtureModel(1, 0), signature: FIXTURE_SIGNATURE })
    .add('flight-delay', { version: 2, bytes: await trainFixtureModel(2, 2), signature: FIXTURE_SIGNATURE })
    .add('flight-delay', { version: 3, bytes: Uint8Array.of(9, 9, 9), signature: FIXTURE_SIGNATURE })
    .add('sqrt', { version: 1, bytes: sqrtModel(), signature: SQRT_SIGNATURE })
    .alias('flight-delay', 'champion', 1);
  const metrics = new ScorerMetrics({ processMetrics: false });
  host = new ModelHost({ source, metrics });
  await host.deploy('flight-delay@champion');
  await host.deploy('sqrt@1');
  app = createScorerServer({ host, metrics, bodyLimit: 64 * 1024 });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await host.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : (payload as object), headers: { 'content-type': 'application/json', ...headers } });

describe('Open Inference Protocol v2', () => {
  it('reports liveness, readiness and model metadata', async () => {
    expect((await app.inject('/v2/health/live')).json()).toEqual({ live: true });
    expect((await app.inject('/v2/health/ready')).statusCode).toBe(200);
    expect((await app.inject('/v2/models/flight-delay/ready')).statusCode).toBe(200);
    expect((await app.inject('/v2/models/flight-delay/versions/2/ready')).statusCode).toBe(400);
    expect((await app.inject('/v2/models/nope/ready')).statusCode).toBe(404);
    expect((await app.inject('/v2/models/flight-delay')).json()).toEqual({
      name: 'flight-delay',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'hour', datatype: 'FP32', shape: [-1, 1] },
        { name: 'distance', datatype: 'FP32', shape: [-1, 1] },
        { name: 'origin', datatype: 'BYTES', shape: [-1, 1] },
      ],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    });
  });

  it('infers from tensors and answers with the version, the request id and every output', async () => {
    const response = await post('/v2/models/flight-delay/infer', {
      id: 'oip-1',
      inputs: [
        { name: 'hour', shape: [2, 1], datatype: 'FP32', data: [8, 20] },
        { name: 'distance', shape: [2, 1], datatype: 'FP32', data: [300, 900] },
        { name: 'origin', shape: [2, 1], datatype: 'BYTES', data: ['ORD', 'SFO'] },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('oip-1');
    const body = response.json();
    expect(body).toMatchObject({ model_name: 'flight-delay', model_version: '1', id: 'oip-1', parameters: { arm: 'primary' } });
    expect(body.outputs.map((o: { name: string; shape: number[]; datatype: string }) => [o.name, o.shape, o.datatype])).toEqual([
      ['label', [2], 'INT64'],
      ['probabilities', [2, 2], 'FP32'],
    ]);
    const [p0, p1] = [body.outputs[1].data.slice(0, 2), body.outputs[1].data.slice(2)];
    expect(p0[0] + p0[1]).toBeCloseTo(1, 5);
    expect(body.outputs[0].data).toEqual([p0[1] > 0.5 ? 1 : 0, p1[1] > 0.5 ? 1 : 0]);
    const only = await post('/v2/models/flight-delay/versions/1/infer', {
      inputs: [
        { name: 'hour', shape: [1, 1], datatype: 'FP32', data: [8] },
        { name: 'distance', shape: [1, 1], datatype: 'FP32', data: [300] },
        { name: 'origin', shape: [1, 1], datatype: 'BYTES', data: ['ORD'] },
      ],
      outputs: [{ name: 'probabilities' }],
    });
    expect(only.json().outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
    expect(only.json().outputs[0].data).toEqual(p0);
    expect(only.json().parameters.arm).toBe('direct');
  });

  it('answers bad requests with a 4xx in the protocol error format', async () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['/v2/models/flight-delay/infer', { inputs: [{ name: 'hour', shape: [1], datatype: 'FP32', data: [1] }] }, 400, /Input "hour" has shape \[1\]; the model takes \[N, 1\]/],
      ['/v2/models/flight-delay/infer', { inputs: 'x' }, 400, /"inputs" must be a non-empty array/],
      ['/v2/models/flight-delay/infer', [], 400, /An infer request is a JSON object/],
      ['/v2/models/flight-delay/infer', { inputs: [], outputs: [{ name: 'nope' }] }, 400, /Unknown output\(s\) "nope"/],
      ['/v2/models/nope/infer', { inputs: [] }, 404, /Model "nope" is not served here; served: flight-delay, sqrt\./],
      ['/v2/models/flight-delay/versions/9/infer', { inputs: [] }, 404, /flight-delay v9 is not loaded here; loaded: v1\./],
      ['/v2/models/flight-delay/versions/latest/infer', { inputs: [] }, 404, /has no version "latest"/],
    ];
    for (const [url, payload, status, message] of cases) {
      const response = await post(url, payload);
      expect([url, response.statusCode]).toEqual([url, status]);
      expect(Object.keys(response.json())).toEqual(['error']);
      expect(response.json().error).toMatch(message);
    }
  });
});

describe('/predict', () => {
  it('scores one object or an array of them, with the version and a request id', async () => {
    const one = await post('/predict/flight-delay', fixtureRow(1), { 'x-request-id': 'mine-1' });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ requestId: 'mine-1', model: 'flight-delay', version: 1, arm: 'primary' });
    expect(typeof one.json().score).toBe('number');
    const many = await post('/predict/flight-delay', [fixtureRow(1), fixtureRow(2)]);
    expect(many.json().scores).toHaveLength(2);
    expect(many.json().scores[0]).toBe(one.json().score);
    expect(many.json().requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(many.headers['x-request-id']).toBe(many.json().requestId);
  });

  it('refuses bad input with the row and feature, and never crashes', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ hour: 1, origin: 'SFO' }, /^feature "distance" is missing/],
      [{ ...fixtureRow(1), seat: '1A' }, /^unknown feature\(s\) "seat"/],
      [{ ...fixtureRow(1), hour: 'noon' }, /^feature "hour" must be a number, got string "noon"\.$/],
      [[fixtureRow(1), { ...fixtureRow(1), origin: 7 }], /^Row 1: feature "origin" must be a string/],
      [JSON.stringify('just a string'), /expected an object of named features/],
      [[], /holds no rows/],
      [[[]], /Row 0: expected an object/],
    ];
    for (const [payload, message] of cases) {
      const response = await post('/predict/flight-delay', payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatch(message);
    }
    const broken = await app.inject({ method: 'POST', url: '/predict/flight-delay', payload: '{"hour": 1,', headers: { 'content-type': 'application/json' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toMatch(/not valid JSON/);
    const proto = await app.inject({ method: 'POST', url: '/predict/flight-delay', payload: '{"__proto__": {"hour": 1}, "distance": 1, "origin": "a"}', headers: { 'content-type': 'application/json' } });
    expect(proto.statusCode).toBe(400);
    const nan = await post('/predict/sqrt', { x: null });
    expect(nan.json()).toEqual({ error: 'feature "x" is null; this model does not accept missing values for it.' });
    const negative = await post('/predict/sqrt', { x: -1 });
    expect(negative.statusCode).toBe(500);
    expect(negative.json().error).toMatch(/produced a score of NaN/);
    expect((await post('/predict', fixtureRow(1))).json().error).toMatch(/serves 2 models \(flight-delay, sqrt\); name one/);
    const text = await app.inject({ method: 'POST', url: '/predict/flight-delay', payload: 'hour=1', headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    expect(Object.keys(text.json())).toEqual(['error']);
    expect((await app.inject('/v2/health/live')).statusCode).toBe(200);
  });

  it('answers hundreds of random JSON bodies with 4xx errors and keeps serving', async () => {
    const random = mulberry32(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const value = (depth: number): unknown => {
      const kind = depth > 2 ? pick(['n', 's', 'z', 'b']) : pick(['n', 's', 'z', 'b', 'a', 'o', 'row']);
      switch (kind) {
        case 'n':
          return pick([0, -1, 1e308, -1e308, 3.5, 2 ** 53 + 1]);
        case 's':
          return pick(['', 'ORD', 'x'.repeat(300), '__proto__', 'NaN']);
        case 'z':
          return null;
        case 'b':
          return random() < 0.5;
        case 'a':
          return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
        case 'o':
          return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(['hour', 'distance', 'origin', 'inputs', 'name', 'shape', 'data', 'datatype', 'x']), value(depth + 1)]));
        default:
          return { ...fixtureRow(1), [pick(['hour', 'distance', 'origin'])]: value(depth + 1) };
      }
    };
    const urls = ['/predict/flight-delay', '/predict/sqrt', '/v2/models/flight-delay/infer', '/v2/models/sqrt/versions/1/infer', '/admin/models/sqrt/reload'];
    for (let i = 0; i < 300; i++) {
      const url = pick(urls);
      const response = await post(url, JSON.stringify(value(0)));
      if (response.statusCode >= 500) {
        // The only 5xx a caller can cause is the sqrt model scoring NaN for a negative x: the model's fault, counted against it.
        expect([url, response.json().error]).toEqual([url, expect.stringMatching(/produced a score of NaN/)]);
      } else if (response.statusCode !== 200) {
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(Object.keys(response.json())).toEqual(['error']);
      }
    }
    expect((await post('/predict/flight-delay', fixtureRow(3))).statusCode).toBe(200);
  });

  it('names the shapes /predict takes when rows come wrapped (rows, instances, inputs, data) or as columns', async () => {
    const accepted = '/predict takes one row as an object of named features, { "hour": ..., "distance": ..., "origin": ... }, or an array of such rows, [{ "hour": ..., "distance": ..., "origin": ... }, ...].';
    for (const wrapper of ['rows', 'instances', 'inputs', 'data']) {
      const response = await post('/predict/flight-delay', { [wrapper]: [fixtureRow(1), fixtureRow(2)] });
      expect([wrapper, response.statusCode]).toEqual([wrapper, 400]);
      expect(response.json()).toEqual({
        error: `${accepted} This body wraps its rows in "${wrapper}": send the rows themselves as the body${wrapper === 'inputs' ? '; OIP v2 tensors go to POST /v2/models/{model}/infer' : ''}.`,
      });
      expect(response.json().error).not.toMatch(/is missing/);
    }
    const columns = await post('/predict/flight-delay', { hour: [8, 20], distance: [300, 900], origin: ['ORD', 'SFO'] });
    expect(columns.statusCode).toBe(400);
    expect(columns.json()).toEqual({ error: `${accepted} This body is an object of arrays (columns): send one object per row instead.` });
    // The same rows sent as /predict takes them are scored.
    expect((await post('/predict/flight-delay', [fixtureRow(1), fixtureRow(2)])).statusCode).toBe(200);
    // A genuinely incomplete row still names the missing feature.
    expect((await post('/predict/flight-delay', { hour: 1, origin: 'SFO' })).json().error).toMatch(/^feature "distance" is missing/);
  });

  it('holds request ids to one limit on /predict, OIP v2 infer and ground truth, refusing longer ones with 400 in the standard shape', async () => {
    const longest = 'r'.repeat(MAX_REQUEST_ID_LENGTH);
    const tooLong = 'r'.repeat(MAX_REQUEST_ID_LENGTH + 1);
    const ok = await post('/predict/flight-delay', fixtureRow(1), { 'x-request-id': longest });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().requestId).toBe(longest);
    expect(ok.headers['x-request-id']).toBe(longest);

    const refused = await post('/predict/flight-delay', fixtureRow(1), { 'x-request-id': tooLong });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ error: `The request id in the x-request-id header has ${MAX_REQUEST_ID_LENGTH + 1} characters; request ids are at most ${MAX_REQUEST_ID_LENGTH}.` });
    const inputs = [
      { name: 'hour', shape: [1, 1], datatype: 'FP32', data: [8] },
      { name: 'distance', shape: [1, 1], datatype: 'FP32', data: [300] },
      { name: 'origin', shape: [1, 1], datatype: 'BYTES', data: ['ORD'] },
    ];
    expect((await post('/v2/models/flight-delay/infer', { id: longest, inputs })).json().id).toBe(longest);
    const oip = await post('/v2/models/flight-delay/infer', { id: tooLong, inputs });
    expect(oip.statusCode).toBe(400);
    expect(oip.json()).toEqual({ error: `The request id in the body's "id" has ${MAX_REQUEST_ID_LENGTH + 1} characters; request ids are at most ${MAX_REQUEST_ID_LENGTH}.` });
    const oipHeader = await post('/v2/models/flight-delay/infer', { inputs }, { 'x-request-id': tooLong });
    expect([oipHeader.statusCode, Object.keys(oipHeader.json())]).toEqual([400, ['error']]);

    // Ground truth: an id /predict accepts is accepted here too (this scorer has no database: 501, past the id check).
    expect((await post(`/predictions/${longest}/ground-truth`, { value: 1 })).statusCode).toBe(501);
    for (const id of [tooLong, 'r'.repeat(MAX_REQUEST_ID_LENGTH * 12 + 1), 'r'.repeat(3000)]) {
      const truth = await post(`/predictions/${id}/ground-truth`, { value: 1 });
      expect([id.length, truth.statusCode]).toEqual([id.length, 400]);
      expect(truth.json()).toEqual({ error: `The request id in the path has ${id.length} characters; request ids are at most ${MAX_REQUEST_ID_LENGTH}.` });
    }
    // Any other over-long path segment gets the same shape, never fastify's own 414.
    const longModel = await post(`/predict/${'m'.repeat(3000)}`, fixtureRow(1));
    expect([longModel.statusCode, Object.keys(longModel.json())]).toEqual([400, ['error']]);
    expect(longModel.json().error).toMatch(/is too long: model names, versions and request ids are at most 128 characters\.$/);
  });

  it('answers an oversized body with 413 before parsing it', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => fixtureRow(i));
    const response = await post('/predict/flight-delay', big);
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toBe('The request body is larger than the limit of 65536 bytes; send fewer rows per request.');
  });
});

describe('admin API and metrics', () => {
  it('sets a canary, reports per-version stats, and refuses a corrupt version while the old one keeps serving', async () => {
    const set = await app.inject({ method: 'PUT', url: '/admin/models/flight-delay/routing', payload: { strategy: 'canary', primary: 1, candidate: 2, percent: 50 } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ previous: { strategy: 'single', version: 1 }, routing: { strategy: 'canary', percent: 50 }, loaded: [2] });
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) seen.add((await post('/predict/flight-delay', fixtureRow(i), { 'x-request-id': `c-${i}` })).json().version);
    expect(seen).toEqual(new Set([1, 2]));
    const stats = (await app.inject('/admin/models/flight-delay/stats?windowSeconds=60')).json();
    expect(stats.versions.map((v: { version: number; arms: string[] }) => [v.version, v.arms])).toEqual([
      [1, ['primary']],
      [2, ['candidate']],
    ]);
    expect(stats.versions[1].requests).toBeGreaterThan(0);
    expect(stats.versions[1].latencyMs.p99).toBeGreaterThan(0);
    expect(stats.versions[1].scores.count).toBe(stats.versions[1].rows);

    const corrupt = await app.inject({ method: 'PUT', url: '/admin/models/flight-delay/routing', payload: { strategy: 'single', version: 3 } });
    expect(corrupt.statusCode).toBe(422);
    expect(corrupt.json().error).toMatch(/^Could not load flight-delay v3: .* flight-delay keeps serving v1 with v2 as a 50% canary\.$/);
    expect((await app.inject('/admin/models/flight-delay')).json()).toMatchObject({ routing: { strategy: 'canary' }, lastLoad: { ok: false, ref: 'flight-delay@3' } });
    const invalid = await app.inject({ method: 'PUT', url: '/admin/models/flight-delay/routing', payload: { strategy: 'canary', primary: 1 } });
    expect(invalid.statusCode).toBe(400);

    source.alias('flight-delay', 'champion', 2);
    const reload = await app.inject({ method: 'POST', url: '/admin/models/flight-delay/reload' });
    expect(reload.json()).toMatchObject({ routing: { strategy: 'single', version: 2 }, changed: true });
    expect((await post('/predict/flight-delay', fixtureRow(1))).json().version).toBe(2);
  });

  it('exports Prometheus metrics per model and version', async () => {
    const response = await app.inject('/metrics');
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/steward_scorer_requests_total\{model="flight-delay",version="1"\} \d+/);
    expect(response.body).toMatch(/steward_scorer_errors_total\{model="sqrt",version="1"\} [1-9]\d*/);
    expect(response.body).toMatch(/steward_scorer_rejected_total\{model="sqrt",version="1"\} [1-9]\d*/);
    expect(response.body).toMatch(/steward_scorer_request_duration_seconds_bucket\{le="0.001",model="flight-delay",version="2"\} \d+/);
    expect(response.body).toMatch(/steward_scorer_model_loads_total\{model="flight-delay",outcome="failed"\} 1/);
  });

  it('guards the admin API with a token when one is configured', async () => {
    const guarded = createScorerServer({ host, adminToken: 's3cret' });
    expect((await guarded.inject('/admin/models')).statusCode).toBe(401);
    expect((await guarded.inject({ url: '/admin/models', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
    await guarded.close();
  });
});
