import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NewPredictionLogRow } from '../../../src/db/schema.js';
import { NotFoundError, ValidationError } from '../../../src/errors.js';
import { ModelLoadError, ScoringError } from '../../../src/serving/errors.js';
import { ModelHost } from '../../../src/serving/model-host.js';
import { PredictionLog } from '../../../src/serving/prediction-log.js';
import { batchFromColumns, batchFromRecords } from '../../../src/serving/validation.js';
import { FIXTURE_SIGNATURE, MemorySource, SQRT_SIGNATURE, fixtureRow, sqrtModel, trainFixtureModel } from '../../support/serving-models.js';

let v1: Uint8Array;
let v2: Uint8Array;
let hosts: ModelHost[] = [];

beforeAll(async () => {
  v1 = await trainFixtureModel(1, 0);
  v2 = await trainFixtureModel(2, 2);
});
afterEach(async () => {
  for (const h of hosts) await h.close();
  hosts = [];
});

function source(): MemorySource {
  return new MemorySource()
    .add('flight-delay', { version: 1, bytes: v1, signature: FIXTURE_SIGNATURE })
    .add('flight-delay', { version: 2, bytes: v2, signature: FIXTURE_SIGNATURE })
    .add('flight-delay', { version: 3, bytes: Uint8Array.of(1, 2, 3), signature: FIXTURE_SIGNATURE })
    .add('flight-delay', { version: 4, bytes: v2, signature: { inputs: [{ name: 'hour', type: 'float' }], outputs: [] } })
    .add('sqrt', { version: 1, bytes: sqrtModel(), signature: SQRT_SIGNATURE })
    .alias('flight-delay', 'champion', 1);
}

function hostOf(s: MemorySource, extra: Partial<ConstructorParameters<typeof ModelHost>[0]> = {}): ModelHost {
  const host = new ModelHost({ source: s, ...extra });
  hosts.push(host);
  return host;
}

const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => fixtureRow(from + i));
const score = (host: ModelHost, requestId: string, records = rows(1), model = 'flight-delay') =>
  host.score(model, { requestId, decode: (signature) => batchFromRecords(signature, records) });

/** What a bare onnxruntime session says for the same rows: the host must answer exactly this. */
async function bareScores(bytes: Uint8Array, records: ReturnType<typeof rows>): Promise<number[]> {
  const session = await InferenceSession.create(bytes);
  const n = records.length;
  const out = await session.run({
    hour: new Tensor('float32', Float32Array.from(records, (r) => r.hour), [n, 1]),
    distance: new Tensor('float32', Float32Array.from(records, (r) => r.distance), [n, 1]),
    origin: new Tensor('string', records.map((r) => r.origin), [n, 1]),
  });
  await session.release();
  const p = out.probabilities!.data as Float32Array;
  return records.map((_, i) => p[2 * i + 1]!);
}

describe('ModelHost', () => {
  it('serves an alias and answers exactly what onnxruntime answers, naming the version', async () => {
    const host = hostOf(source());
    const change = await host.deploy('flight-delay@champion');
    expect(change).toMatchObject({ routing: { strategy: 'single', version: 1 }, loaded: [1], changed: true });
    const batch = rows(5);
    const result = await score(host, 'r1', batch);
    expect(result).toMatchObject({ requestId: 'r1', model: 'flight-delay', version: 1, arm: 'primary', rows: 5 });
    expect(Array.from(result.scores)).toEqual(await bareScores(v1, batch));
    expect(host.status('flight-delay')).toMatchObject({ ready: true, follows: { alias: 'champion', pollMs: null }, versions: [{ version: 1, arms: ['primary'] }] });
  });

  it('moves with the alias on reload, and does nothing when it did not move', async () => {
    const s = source();
    const host = hostOf(s);
    await host.deploy('flight-delay@champion');
    expect(await host.reload('flight-delay')).toMatchObject({ changed: false, loaded: [] });
    s.alias('flight-delay', 'champion', 2);
    expect(await host.reload('flight-delay')).toMatchObject({ changed: true, loaded: [2], routing: { strategy: 'single', version: 2 } });
    expect((await score(host, 'r')).version).toBe(2);
    expect(host.status('flight-delay').versions.map((v) => v.version)).toEqual([2]);
  });

  it('polls the alias and acts only when it moves, so routing set by hand is not undone', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const s = source().add('flight-delay', { version: 5, bytes: v1, signature: FIXTURE_SIGNATURE });
      const host = hostOf(s);
      await host.deploy('flight-delay@champion', { pollMs: 1000 });
      const settle = async () => {
        await vi.advanceTimersByTimeAsync(1000);
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      };
      await host.setRouting('flight-delay', { strategy: 'canary', primary: 1, candidate: 2, percent: 10 });
      await settle();
      expect(host.routing('flight-delay')).toEqual({ strategy: 'canary', primary: 1, candidate: 2, percent: 10 });
      // Promotion moves the alias: the canary ends on the candidate.
      s.alias('flight-delay', 'champion', 2);
      await settle();
      await vi.waitFor(() => expect(host.routing('flight-delay')).toEqual({ strategy: 'single', version: 2 }));
      // Pinning a version stops following the alias.
      await host.reload('flight-delay', '1');
      s.alias('flight-delay', 'champion', 5);
      await settle();
      expect(host.routing('flight-delay')).toEqual({ strategy: 'single', version: 1 });
      expect(host.status('flight-delay').follows).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the old version serving when a load fails, and says why', async () => {
    const host = hostOf(source());
    await host.deploy('flight-delay@1');
    const corrupt = await host.setRouting('flight-delay', { strategy: 'single', version: 3 }).catch((e: Error) => e);
    expect(corrupt).toBeInstanceOf(ModelLoadError);
    expect((corrupt as Error).message).toMatch(/^Could not load flight-delay v3: reading the ONNX model failed: .* flight-delay keeps serving v1\.$/);
    const mismatch = await host.setRouting('flight-delay', { strategy: 'canary', primary: 1, candidate: 4, percent: 50 }).catch((e: Error) => e);
    expect((mismatch as Error).message).toMatch(/checking the signature failed: The model does not match its registered signature: model input "distance" is not in the registered signature/);
    expect(host.routing('flight-delay')).toEqual({ strategy: 'single', version: 1 });
    expect(host.status('flight-delay').lastLoad).toMatchObject({ ok: false, ref: 'flight-delay@4' });
    expect((await score(host, 'r')).version).toBe(1);
    const missing = await host.setRouting('flight-delay', { strategy: 'single', version: 9 }).catch((e: Error) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it('routes a canary by request id, the same id always to the same version', async () => {
    const host = hostOf(source());
    await host.setRouting('flight-delay', { strategy: 'canary', primary: 1, candidate: 2, percent: 30 });
    const versions = new Map<string, number>();
    for (let i = 0; i < 300; i++) versions.set(`id-${i}`, (await score(host, `id-${i}`)).version);
    const share = [...versions.values()].filter((v) => v === 2).length / versions.size;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    for (const id of ['id-1', 'id-2', 'id-3']) expect((await score(host, id)).version).toBe(versions.get(id));
    const stats = host.stats('flight-delay');
    expect(stats.versions.map((v) => [v.version, v.arms, v.requests])).toEqual([
      [1, ['primary'], [...versions.values()].filter((v) => v === 1).length + [1, 2, 3].filter((i) => versions.get(`id-${i}`) === 1).length],
      [2, ['candidate'], [...versions.values()].filter((v) => v === 2).length + [1, 2, 3].filter((i) => versions.get(`id-${i}`) === 2).length],
    ]);
  });

  it('answers shadowed requests from the primary and logs the shadow answer beside it', async () => {
    const written: NewPredictionLogRow[] = [];
    const log = new PredictionLog(async (r) => void written.push(...r), { flushIntervalMs: 3_600_000 });
    const host = hostOf(source(), { log });
    await host.setRouting('flight-delay', { strategy: 'shadow', primary: 1, shadow: 2 });
    const batch = rows(3);
    const result = await score(host, 'shadowed', batch);
    expect(result.version).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    await log.close();
    expect(written.map((r) => [r.requestId, r.version, r.arm, r.shadow])).toEqual([
      ['shadowed', 1, 'primary', false],
      ['shadowed', 2, 'shadow', true],
    ]);
    expect(written[1]!.outputs).toEqual((await bareScores(v2, batch)).map((x) => x));
    expect(written[0]!.inputs).toEqual(batch);
    expect(host.stats('flight-delay').versions.map((v) => [v.version, v.arms, v.requests])).toEqual([
      [1, ['primary'], 1],
      [2, ['shadow'], 1],
    ]);
  });

  it('splits A/B over named arms and scores a pinned version directly', async () => {
    const host = hostOf(source());
    await host.setRouting('flight-delay', { strategy: 'ab', arms: [{ name: 'control', version: 1, weight: 1 }, { name: 'treatment', version: 2, weight: 1 }] });
    const arms = new Set<string>();
    for (let i = 0; i < 50; i++) arms.add(`${(await score(host, `ab-${i}`)).arm}`);
    expect(arms).toEqual(new Set(['control', 'treatment']));
    const direct = await host.score('flight-delay', { requestId: 'd', version: 2, decode: (s) => batchFromRecords(s, rows(1)) });
    expect(direct).toMatchObject({ version: 2, arm: 'direct' });
    await expect(host.reload('flight-delay', 'champion')).rejects.toThrow(/split A\/B/);
  });

  it('counts a score that is not a finite number as the version failing, and bad input as rejected', async () => {
    const host = hostOf(source());
    await host.deploy('sqrt@1');
    const x = (value: number) => host.score('sqrt', { requestId: `x${value}`, decode: (s) => batchFromColumns(s, { x: Float32Array.of(value) }) });
    expect(Array.from((await x(4)).scores)).toEqual([2]);
    const failed = await x(-1).catch((e: Error) => e);
    expect(failed).toBeInstanceOf(ScoringError);
    expect((failed as Error).message).toBe('sqrt v1 produced a score of NaN for row 0; a score must be a finite number.');
    await expect(host.score('sqrt', { requestId: 'bad', decode: (s) => batchFromRecords(s, [{ y: 1 }]) })).rejects.toBeInstanceOf(ValidationError);
    expect(host.stats('sqrt').versions[0]).toMatchObject({ requests: 2, errors: 1, errorRate: 0.5, rejected: 1 });
  });

  it('refuses unknown models and versions with 404s that say what is served', async () => {
    const host = hostOf(source());
    await host.deploy('flight-delay@1');
    await expect(score(host, 'r', rows(1), 'nope')).rejects.toThrow('Model "nope" is not served here; served: flight-delay.');
    await expect(host.score('flight-delay', { requestId: 'r', version: 7, decode: (s) => batchFromRecords(s, rows(1)) })).rejects.toThrow(
      'flight-delay v7 is not loaded here; loaded: v1.',
    );
    const neverServed = await host.deploy('flight-delay-two@champion').catch((e: Error) => e);
    expect(neverServed).toBeInstanceOf(NotFoundError);
    expect(host.modelNames()).toEqual(['flight-delay']);
  });
});
