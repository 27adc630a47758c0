/**
 * Feature enrichment in the scorer, on both drivers: the flight features applied, ingested and
 * materialized into a real online store, a flight-delay-shaped model exported to ONNX and served
 * from the registry by a real fastify scorer. A row that sends entity keys scores exactly as the
 * same row sending the store's values (no skew); expired and unknown entities pass as missing only
 * where the model takes missing values, else are refused naming feature, entity and status; a
 * request without `entities` is scored as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError, NotFoundError } from '../../src/errors.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../../examples/flight-delay/features/raw-training-set.js';
import { createFeatureStore, tableSource, type FeatureStore } from '../../src/features/index.js';
import { trainLogisticRegression } from '../../src/ml/linear.js';
import { exportOnnx } from '../../src/ml/onnx-export.js';
import { mulberry32 } from '../../src/ml/random.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { Enricher, type OnlineFeatureReader } from '../../src/serving/enrichment.js';
import { loggedPredictions } from '../../src/serving/ground-truth.js';
import { ModelHost } from '../../src/serving/model-host.js';
import { registrySource } from '../../src/serving/model-source.js';
import { PredictionLog, databaseSink } from '../../src/serving/prediction-log.js';
import { createScorerServer } from '../../src/serving/server.js';
import { flightDelayEnrichment } from '../../examples/flight-delay/features/enrichments.js';
import { flightFeatureDefinitions } from '../../examples/flight-delay/features/flights.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { registerFixture } from '../support/serving-models.js';

const DAY = 86_400_000;
const AIRPORTS = ['ORD', 'SFO', 'JFK', 'SEA'];

/** How the flight-delay model's inputs map to the flight_delay service (as examples/flight-delay/features/flight-training-set.ts builds them). */
const FLIGHT_ENRICHMENT = flightDelayEnrichment;

/** The store's values per origin: ORD and SFO fresh, JFK last seen 40 days ago (the view's TTL is 30 days). */
const ORIGINS = [
  { origin: 'ORD', ageMs: 10 * 60_000, flights7d: 120, meanDelay7d: 31.5 },
  { origin: 'SFO', ageMs: 20 * 60_000, flights7d: 80, meanDelay7d: 4.25 },
  { origin: 'JFK', ageMs: 40 * DAY, flights7d: 95, meanDelay7d: 18 },
];
const ROUTES = [
  ['ORD', 'SFO'],
  ['SFO', 'ORD'],
  ['JFK', 'ORD'],
  ['SEA', 'SFO'],
] as const;

function originTable(now: number): Table {
  const n = ORIGINS.length;
  const ints = (values: number[]) => vectorFromArray(values, new Int32());
  const floats = (values: number[]) => vectorFromArray(values, new Float64());
  return new Table({
    origin: vectorFromArray(ORIGINS.map((o) => o.origin), new Utf8()),
    as_of: vectorFromArray(ORIGINS.map((o) => new Date(now - o.ageMs)), new TimestampMillisecond()),
    flights_1h: ints(new Array(n).fill(2)),
    mean_delay_1h: floats(new Array(n).fill(10)),
    flights_1d: ints(new Array(n).fill(20)),
    mean_delay_1d: floats(new Array(n).fill(12)),
    delayed_share_1d: floats(new Array(n).fill(0.3)),
    flights_7d: ints(ORIGINS.map((o) => o.flights7d)),
    mean_delay_7d: floats(ORIGINS.map((o) => o.meanDelay7d)),
    delayed_share_7d: floats(new Array(n).fill(0.25)),
  });
}

function routeTable(now: number): Table {
  const n = ROUTES.length;
  return new Table({
    origin: vectorFromArray(ROUTES.map((r) => r[0]), new Utf8()),
    destination: vectorFromArray(ROUTES.map((r) => r[1]), new Utf8()),
    as_of: vectorFromArray(ROUTES.map(() => new Date(now - 60_000)), new TimestampMillisecond()),
    flights_7d: vectorFromArray(new Array(n).fill(10), new Int32()),
    mean_delay_7d: vectorFromArray(new Array(n).fill(8), new Float64()),
    delayed_share_7d: vectorFromArray(new Array(n).fill(0.2), new Float64()),
    flights_30d: vectorFromArray(new Array(n).fill(40), new Int32()),
    mean_delay_30d: vectorFromArray(new Array(n).fill(9), new Float64()),
  });
}

/** A logistic regression on the flight-delay model's features (late: evenings, and origins with long recent delays), exported by Steward. */
async function trainFlightModel(): Promise<Uint8Array> {
  const random = mulberry32(7);
  const n = 500;
  const numeric = Object.fromEntries(NUMERIC_FEATURES.map((f) => [f, new Float64Array(n)])) as Record<(typeof NUMERIC_FEATURES)[number], Float64Array>;
  const origin: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    numeric.hour[i] = Math.floor(random() * 24);
    numeric.dayOfWeek[i] = 1 + Math.floor(random() * 7);
    numeric.month[i] = 1 + Math.floor(random() * 12);
    numeric.distance[i] = 100 + random() * 2500;
    numeric.originDelay7d[i] = random() * 40;
    numeric.originFlights7d[i] = Math.floor(random() * 200);
    origin.push(AIRPORTS[i % AIRPORTS.length]!);
    labels.push((numeric.hour[i]! - 14) / 4 + (numeric.originDelay7d[i]! - 15) / 8 + (random() - 0.5) > 0 ? 1 : 0);
  }
  const frame = { numeric, categorical: { origin } };
  return (await exportOnnx(trainLogisticRegression(frame, labels, { C: 1 }), frame)).onnx;
}

function signature(strict: boolean) {
  return {
    inputs: [
      ...NUMERIC_FEATURES.map((name) => ({ name, type: 'float', ...(strict && name === 'originDelay7d' ? { allowMissing: false } : {}) })),
      ...CATEGORICAL_FEATURES.map((name) => ({ name, type: 'string' })),
    ],
    outputs: ['label', 'probabilities'],
  };
}

/** A flight as the caller knows it at request time: calendar and distance, plus its route. */
function flight(origin: string, destination: string, hour: number) {
  return { entities: { origin, destination }, request: { hour, dayOfWeek: 5, month: 3, distance: 740 + hour * 10 } };
}

describeEachDriver('scorer feature enrichment', (driver) => {
  const fx = useTestDatabase(driver);
  let home: string;
  let store: FeatureStore;
  let host: ModelHost;
  let log: PredictionLog;
  let app: FastifyInstance;
  let plain: FastifyInstance;
  const reads: number[] = [];

  beforeAll(async () => {
    const db = fx.handle.db;
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-enrichment-'));
    const artifacts = new LocalArtifactStore(path.join(home, 'artifacts'));
    const now = Date.now();
    store = createFeatureStore(db, flightFeatureDefinitions);
    await store.apply();
    await store.ingest('origin_delays', tableSource(originTable(now), { description: 'origin delays' }));
    await store.ingest('route_delays', tableSource(routeTable(now), { description: 'route delays' }));
    await store.materialize();

    const bytes = await trainFlightModel();
    const lenient = await registerFixture(db, artifacts, 'flight-delay', bytes, signature(false));
    const strict = await registerFixture(db, artifacts, 'flight-delay-strict', bytes, signature(true));
    log = new PredictionLog(databaseSink(db), { batchSize: 50, flushIntervalMs: 200 });
    host = new ModelHost({ source: registrySource(db, artifacts), log });
    await host.deploy(`flight-delay@${lenient}`);
    await host.deploy(`flight-delay-strict@${strict}`);

    // The real store, counting its reads.
    const reader: OnlineFeatureReader = {
      definitions: store.definitions,
      getOnlineFeatures: (service, keys) => {
        reads.push(keys.length);
        return store.getOnlineFeatures(service, keys);
      },
    };
    const enricher = new Enricher(reader, FLIGHT_ENRICHMENT);
    app = createScorerServer({ host, enrich: { 'flight-delay': enricher, 'flight-delay-strict': enricher } });
    plain = createScorerServer({ host });
  });
  afterAll(async () => {
    await app?.close();
    await plain?.close();
    await host?.close();
    await log?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  const predict = async (model: string, body: unknown, options: { server?: FastifyInstance; requestId?: string } = {}) => {
    const response = await (options.server ?? app).inject({
      method: 'POST',
      url: `/predict/${model}`,
      payload: body as object,
      headers: options.requestId ? { 'x-request-id': options.requestId } : {},
    });
    return { status: response.statusCode, body: response.json() };
  };

  it('scores rows sent as entity keys exactly as the same rows sending the store values, in one online read, and logs what was scored', async () => {
    const flights = [flight('ORD', 'SFO', 18), flight('SFO', 'ORD', 18), flight('ORD', 'SFO', 7)];
    const stored = new Map(ORIGINS.map((o) => [o.origin, { originDelay7d: o.meanDelay7d, originFlights7d: o.flights7d }]));
    const explicit = flights.map((f) => ({ ...f.request, origin: f.entities.origin, ...stored.get(f.entities.origin)! }));

    reads.length = 0;
    const enriched = await predict('flight-delay', flights.map((f) => ({ entities: f.entities, ...f.request })), { requestId: 'enriched-1' });
    expect(enriched.status).toBe(200);
    expect(reads).toEqual([3]);
    const sent = await predict('flight-delay', explicit);
    expect(enriched.body.scores).toEqual(sent.body.scores);
    // The store's values matter: same hour, different origin delays, different scores.
    expect(enriched.body.scores[0]).not.toBe(enriched.body.scores[1]);

    const one = await predict('flight-delay', { entities: flights[0]!.entities, ...flights[0]!.request });
    expect(one).toMatchObject({ status: 200, body: { score: sent.body.scores[0] } });

    await log.flush();
    const [logged] = (await loggedPredictions(fx.handle.db, { model: 'flight-delay' })).filter((p) => p.requestId === 'enriched-1');
    expect(logged!.inputs).toEqual(explicit);
    expect(logged!.outputs).toEqual(enriched.body.scores);
  });

  it('passes expired and unknown entities on as missing where the model takes missing values, and refuses them, naming why, where it does not', async () => {
    const expired = flight('JFK', 'ORD', 12);
    const unknown = flight('XXX', 'SFO', 12);
    const rows = [expired, unknown].map((f) => ({ entities: f.entities, ...f.request }));
    const lenient = await predict('flight-delay', rows);
    const asMissing = await predict(
      'flight-delay',
      [expired, unknown].map((f) => ({ ...f.request, origin: f.entities.origin, originDelay7d: null, originFlights7d: 0 })),
    );
    expect(lenient.status).toBe(200);
    expect(lenient.body.scores).toEqual(asMissing.body.scores);

    const refusedExpired = await predict('flight-delay-strict', rows[0]);
    expect(refusedExpired).toEqual({
      status: 400,
      body: {
        error:
          'feature "originDelay7d" (origin_delays__mean_delay_7d from feature service "flight_delay") is expired (the entity\'s latest row is older than the view\'s TTL) for entity {"origin":"JFK","destination":"ORD"}; this model does not accept missing values for it.',
      },
    });
    const refusedUnknown = await predict('flight-delay-strict', [{ entities: { origin: 'ORD', destination: 'SFO' }, ...unknown.request }, rows[1]]);
    expect(refusedUnknown.status).toBe(400);
    expect(refusedUnknown.body.error).toBe(
      'Row 1: feature "originDelay7d" (origin_delays__mean_delay_7d from feature service "flight_delay") is missing (the online store has no row for this entity) for entity {"origin":"XXX","destination":"SFO"}; this model does not accept missing values for it.',
    );
    // A fresh entity scores on the strict model like on the lenient one.
    const fresh = flight('SFO', 'ORD', 9);
    const strictScore = await predict('flight-delay-strict', { entities: fresh.entities, ...fresh.request });
    expect(strictScore.body.score).toBe((await predict('flight-delay', { entities: fresh.entities, ...fresh.request })).body.score);
  });

  it('refuses a feature sent beside the entities that provide it, and malformed or partial entities', async () => {
    const f = flight('ORD', 'SFO', 18);
    const refuse = async (body: unknown) => {
      const response = await predict('flight-delay', body);
      expect(response.status).toBe(400);
      return response.body.error as string;
    };
    expect(await refuse([{ entities: f.entities, ...f.request, originDelay7d: 3 }])).toBe(
      'Row 0: feature "originDelay7d" comes from feature "origin_delays__mean_delay_7d" of feature service "flight_delay" when a row carries "entities"; do not send it too.',
    );
    expect(await refuse({ entities: f.entities, ...f.request, origin: 'ORD' })).toBe(
      'feature "origin" comes from the entity key "origin" when a row carries "entities"; do not send it too.',
    );
    expect(await refuse({ entities: { origin: 'ORD' }, ...f.request })).toMatch(/has no "destination", a join key of feature view "route_delays"/);
    expect(await refuse({ entities: 'ORD', ...f.request })).toBe('"entities" must be an object of join keys such as { "origin": "ORD" }, got "ORD".');
    expect(await refuse({ entities: { origin: 'ORD', destination: ['SFO'] }, ...f.request })).toBe('entity key "destination" must be a string or a number, got ["SFO"].');
    expect(await refuse([{ entities: f.entities, ...f.request }, { ...f.request, origin: 'ORD', originDelay7d: 1, originFlights7d: 2 }])).toBe(
      '1 of 2 rows carry "entities"; in one request every row does or none does.',
    );
  });

  it('scores a request without entities exactly as a scorer without enrichment does', async () => {
    const row = { hour: 17, dayOfWeek: 5, month: 3, distance: 740, originDelay7d: 12.5, originFlights7d: 3100, origin: 'ORD' };
    const withEnrichment = await predict('flight-delay', [row, { ...row, origin: 'SEA' }]);
    expect(withEnrichment.status).toBe(200);
    expect(withEnrichment.body.scores).toEqual((await predict('flight-delay', [row, { ...row, origin: 'SEA' }], { server: plain })).body.scores);
    const { originDelay7d: _, ...partial } = row;
    const missing = await predict('flight-delay', partial);
    expect(missing).toEqual(await predict('flight-delay', partial, { server: plain }));
    expect(missing.body.error).toMatch(/^feature "originDelay7d" is missing; the model takes /);
    // Without an enricher for the model, `entities` is what it always was: an unknown feature.
    expect((await predict('flight-delay', { entities: { origin: 'ORD', destination: 'SFO' }, ...row }, { server: plain })).body.error).toMatch(/unknown feature\(s\) "entities"/);
  });

  it('refuses an enrichment config naming an unknown service or a feature the service does not serve', () => {
    expect(() => new Enricher(store, { featureService: 'nope' })).toThrow(NotFoundError);
    expect(() => new Enricher(store, { featureService: 'flight_delay', features: { x: 'origin_delays__nope' } })).toThrow(
      /Enrichment of "x" from feature service "flight_delay": "origin_delays__nope" is not one of its features \(origin_delays__flights_1h, /,
    );
    expect(() => new Enricher(store, { featureService: 'flight_delay', features: { x: 'flights_7d' } })).toThrow(ConfigError);
    expect(() => new Enricher(store, { featureService: 'flight_delay', features: { x: 'flights_7d' } })).toThrow(/more than one of its views; name it as view__feature/);
    // A feature name only one view has is enough.
    expect(new Enricher(store, { featureService: 'flight_delay', features: { x: 'hour_vs_week' } }).service).toBe('flight_delay');
  });
});
