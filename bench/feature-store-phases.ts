/**
 * The phases of bench/feature-store.ts, each measured in a fresh database and process.
 */
import { performance } from 'node:perf_hooks';
import { BIGINT, DOUBLE, DuckDBDataChunk, DuckDBInstance, INTEGER, VARCHAR, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { Table, TimestampMillisecond, Utf8, makeData, makeVector, type Vector } from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Database } from '../src/db/client.js';
import { vegaDataset } from '../src/datasets/vega.js';
import {
  createFeatureStore,
  entity,
  featureService,
  featureView,
  getHistoricalFeatures,
  parquetSource,
  tableSource,
} from '../src/features/index.js';
import { loadViewTable } from '../src/features/offline-store.js';
import { pointInTimeJoin } from '../src/features/pit-join.js';

const RUNS = 3;
const source = { kind: 'pipeline' as const, name: 'bench' };
const origin = entity({ name: 'origin', joinKeys: { origin: 'string' } });
const route = entity({ name: 'route', joinKeys: { origin: 'string', destination: 'string' } });

export interface Flights {
  rows: number;
  departedAt: Float64Array;
  delay: Int32Array;
  distance: Int32Array;
  origin: Int32Array;
  destination: Int32Array;
  airports: string[];
}

export async function loadFlights(limit: number): Promise<Flights> {
  const file = await asyncBufferFromFile(vegaDataset('flights-3m.parquet'));
  const metadata = await parquetMetadataAsync(file);
  const rows = Math.min(limit, Number(metadata.num_rows));
  const columns = { departedAt: new Float64Array(rows), delay: new Int32Array(rows), distance: new Int32Array(rows), origin: new Int32Array(rows), destination: new Int32Array(rows) };
  const codes = new Map<string, number>();
  await parquetRead({
    file,
    metadata,
    compressors,
    rowEnd: rows,
    columns: ['date', 'delay', 'distance', 'origin', 'destination'],
    parsers: { timestampFromMicroseconds: (micros: bigint) => Number(micros / 1000n) },
    onChunk: ({ columnName, columnData, rowStart }) => {
      const target = columns[columnName === 'date' ? 'departedAt' : (columnName as keyof typeof columns)];
      const airport = columnName === 'origin' || columnName === 'destination';
      for (let i = 0; i < columnData.length && rowStart + i < rows; i++) {
        const v = columnData[i];
        if (!airport) target[rowStart + i] = Number(v);
        else {
          let id = codes.get(v as string);
          if (id === undefined) codes.set(v as string, (id = codes.size));
          target[rowStart + i] = id;
        }
      }
    },
  });
  return { rows, ...columns, airports: [...codes.keys()] };
}

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

async function medianOf(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Phase 1: a Parquet file of flights into a view, then a full materialization. */
export async function benchIngestion(db: Database, file: string) {
  const departures = featureView({
    name: 'departures',
    entities: [origin],
    schema: { delay: 'int32', distance: 'int32', destination: 'string' },
    eventTimestamp: 'date',
    source: { kind: 'parquet', path: file },
    owner: 'bench',
    description: 'Every departure',
  });
  const store = createFeatureStore(db, [departures]);
  await store.apply();
  let start = performance.now();
  const ingested = await store.ingest('departures', await parquetSource(file));
  const ingestSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  const [run] = await store.materialize();
  return { rows: ingested.rows, ingestSeconds, materializeSeconds: (performance.now() - start) / 1000, entities: run!.entitiesWritten };
}

function timestamps(ms: Float64Array): Vector {
  const words = new Int32Array(ms.length * 2);
  for (let i = 0; i < ms.length; i++) {
    words[2 * i] = ms[i]! % 4294967296;
    words[2 * i + 1] = Math.floor(ms[i]! / 4294967296);
  }
  return makeVector(makeData({ type: new TimestampMillisecond(), length: ms.length, data: new BigInt64Array(words.buffer) }));
}

function strings(codes: Int32Array, airports: string[]): Vector {
  const encoded = airports.map((a) => new TextEncoder().encode(a));
  const offsets = new Int32Array(codes.length + 1);
  for (let i = 0; i < codes.length; i++) offsets[i + 1] = offsets[i]! + encoded[codes[i]!]!.length;
  const bytes = new Uint8Array(offsets[codes.length]!);
  for (let i = 0; i < codes.length; i++) bytes.set(encoded[codes[i]!]!, offsets[i]!);
  return makeVector(makeData({ type: new Utf8(), length: codes.length, valueOffsets: offsets, data: bytes }));
}

/** Per group, the mean delay and count of its flights so far, this one included (stamped 1 ms after it). */
function runningStats(f: Flights, groupOf: (i: number) => number, groups: number) {
  const sums = new Float64Array(groups);
  const counts = new Int32Array(groups);
  const meanDelay = new Float64Array(f.rows);
  const seen = new Int32Array(f.rows);
  for (let i = 0; i < f.rows; i++) {
    const g = groupOf(i);
    sums[g]! += f.delay[i]!;
    counts[g]!++;
    meanDelay[i] = sums[g]! / counts[g]!;
    seen[i] = counts[g]!;
  }
  return { meanDelay, seen };
}

/** Phase 2: getHistoricalFeatures from the offline store, against DuckDB's ASOF JOIN and the in-memory join. */
export async function benchHistorical(db: Database, limit: number, f: Flights) {
  const A = f.airports.length;
  const byOrigin = runningStats(f, (i) => f.origin[i]!, A);
  const byRoute = runningStats(f, (i) => f.origin[i]! * A + f.destination[i]!, A * A);
  const asOf = f.departedAt.map((t) => t + 1);
  const schema = { mean_delay: 'float64' as const, flights: 'int32' as const };
  const originView = featureView({ name: 'origin_running', entities: [origin], schema, eventTimestamp: 'as_of', source, owner: 'bench', description: 'running origin stats' });
  const routeView = featureView({ name: 'route_running', entities: [route], schema, eventTimestamp: 'as_of', source, owner: 'bench', description: 'running route stats' });
  const service = featureService({ name: 'running', version: 1, features: [originView, routeView] });
  const store = createFeatureStore(db, [service]);
  await store.apply();
  const originCol = strings(f.origin, f.airports);
  const destinationCol = strings(f.destination, f.airports);
  const asOfCol = timestamps(asOf);
  let start = performance.now();
  const stats = (s: ReturnType<typeof runningStats>) => ({ mean_delay: makeVector(s.meanDelay), flights: makeVector(s.seen) });
  await store.ingest('origin_running', tableSource(new Table({ origin: originCol, as_of: asOfCol, ...stats(byOrigin) }), { description: 'bench', contentHash: `origin-${limit}` }), { batchRows: 50_000 });
  await store.ingest('route_running', tableSource(new Table({ origin: originCol, destination: destinationCol, as_of: asOfCol, ...stats(byRoute) }), { description: 'bench', contentHash: `route-${limit}` }), { batchRows: 50_000 });
  const setupSeconds = (performance.now() - start) / 1000;

  const labels = new Table({ departed_at: timestamps(f.departedAt), origin: originCol, destination: destinationCol, delay: makeVector(f.delay) });
  let result: Table | undefined;
  const storeMs = await medianOf(async () => (result = await getHistoricalFeatures(db, { entityRows: labels, entityTimestamp: 'departed_at', featureService: service })));
  start = performance.now();
  const loaded = [
    await loadViewTable(db, originView, { features: ['mean_delay', 'flights'], visibleBy: f.departedAt[f.rows - 1]! }),
    await loadViewTable(db, routeView, { features: ['mean_delay', 'flights'], visibleBy: f.departedAt[f.rows - 1]! }),
  ];
  const loadMs = performance.now() - start;
  const views = [originView, routeView].map((v, i) => ({ name: v.name, table: loaded[i]!, joinKeys: v.joinKeys.map((k) => k.name), eventTimestamp: 'as_of', features: ['mean_delay', 'flights'] }));
  const joinMs = await medianOf(async () => pointInTimeJoin(labels, views, { entityTimestamp: 'departed_at' }));
  const matched = (name: string) => result!.getChild(name)!.length - result!.getChild(name)!.nullCount;

  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  await duck.run(`CREATE TABLE flights (departed_ms BIGINT, origin VARCHAR, destination VARCHAR, delay INTEGER, origin_mean DOUBLE, origin_flights INTEGER, route_mean DOUBLE, route_flights INTEGER)`);
  const columns: [DuckDBType, (i: number) => DuckDBValue][] = [
    [BIGINT, (i) => BigInt(f.departedAt[i]!)],
    [VARCHAR, (i) => f.airports[f.origin[i]!]!],
    [VARCHAR, (i) => f.airports[f.destination[i]!]!],
    [INTEGER, (i) => f.delay[i]!],
    [DOUBLE, (i) => byOrigin.meanDelay[i]!],
    [INTEGER, (i) => byOrigin.seen[i]!],
    [DOUBLE, (i) => byRoute.meanDelay[i]!],
    [INTEGER, (i) => byRoute.seen[i]!],
  ];
  const appender = await duck.createAppender('flights');
  for (let from = 0; from < f.rows; from += 2048) {
    const count = Math.min(2048, f.rows - from);
    const chunk = DuckDBDataChunk.create(columns.map(([type]) => type), count);
    columns.forEach(([, value], c) => {
      const vector = chunk.getColumnVector(c);
      for (let i = 0; i < count; i++) vector.setItem(i, value(from + i));
      vector.flush();
    });
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
  appender.closeSync();
  await duck.run('CREATE TABLE labels AS SELECT epoch_ms(departed_ms) AS departed_at, origin, destination, delay FROM flights');
  await duck.run('CREATE TABLE origin_stats AS SELECT origin, epoch_ms(departed_ms + 1) AS as_of, origin_mean AS mean_delay, origin_flights AS flights FROM flights');
  await duck.run('CREATE TABLE route_stats AS SELECT origin, destination, epoch_ms(departed_ms + 1) AS as_of, route_mean AS mean_delay, route_flights AS flights FROM flights');
  const duckMs = await medianOf(() =>
    duck.run(`CREATE OR REPLACE TABLE joined AS SELECT l.*, o.mean_delay AS origin_mean, o.flights AS origin_flights, r.mean_delay AS route_mean, r.flights AS route_flights
      FROM labels l
      ASOF LEFT JOIN origin_stats o ON l.origin = o.origin AND l.departed_at >= o.as_of
      ASOF LEFT JOIN route_stats r ON l.origin = r.origin AND l.destination = r.destination AND l.departed_at >= r.as_of`),
  );
  const [counts] = (await duck.runAndReadAll('SELECT count(origin_mean), count(route_mean) FROM joined')).getRows();
  const threads = (await duck.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]![0];
  duck.closeSync();
  instance.closeSync();
  return {
    setupSeconds,
    storeMs,
    loadMs,
    joinMs,
    duckMs,
    duckThreads: Number(threads),
    originMatched: matched('origin_running__mean_delay'),
    routeMatched: matched('route_running__mean_delay'),
    duckOriginMatched: Number(counts![0]),
    duckRouteMatched: Number(counts![1]),
  };
}

function percentiles(times: number[]): [number, number] {
  const sorted = [...times].sort((a, b) => a - b);
  return [sorted[Math.floor(sorted.length * 0.5)]!, sorted[Math.floor(sorted.length * 0.99)]!];
}

/** Phase 3: online reads of 50 features for 1 and 100 entities. */
export async function benchOnline(db: Database) {
  const f = await loadFlights(100_000);
  const schema = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${String(i).padStart(2, '0')}`, 'float64' as const]));
  const wide = featureView({ name: 'wide', entities: [origin], schema, eventTimestamp: 'at', source, owner: 'bench', description: '50 features per airport' });
  const service = featureService({ name: 'wide_service', version: 1, features: [wide] });
  const store = createFeatureStore(db, [service], { revalidateMs: Number(process.env.BENCH_REVALIDATE_MS ?? 1000) });
  await store.apply();
  const rows = f.airports.length * 4;
  const columns: Record<string, Vector> = {
    origin: strings(Int32Array.from({ length: rows }, (_, i) => i % f.airports.length), f.airports),
    at: timestamps(Float64Array.from({ length: rows }, (_, i) => f.departedAt[0]! + Math.floor(i / f.airports.length) * 3_600_000)),
  };
  for (const name of Object.keys(schema)) columns[name] = makeVector(Float64Array.from({ length: rows }, (_, i) => (i * 7 + name.length) % 101));
  await store.ingest('wide', tableSource(new Table(columns), { description: 'bench' }));
  await store.materialize();
  const now = f.departedAt[0]! + 5 * 3_600_000;
  let seed = 1;
  const pick = () => ((seed = (seed * 1103515245 + 12345) >>> 0), { origin: f.airports[seed % f.airports.length]! });
  const measure = async (entities: number, cold: boolean) => {
    // Warm means every airport has been read once, so no measured call misses the cache.
    if (!cold) await store.getOnlineFeatures('wide_service', f.airports.map((a) => ({ origin: a })), { now });
    const times: number[] = [];
    for (let i = 0; i < 2_200; i++) {
      const keys = Array.from({ length: entities }, pick);
      if (cold) store.online.invalidate();
      const start = performance.now();
      const result = await store.getOnlineFeatures('wide_service', keys, { now });
      const ms = performance.now() - start;
      if (result.rows[0]!.statuses.wide__f00 !== 'present') throw new Error('bench rows should be present');
      if (i >= 200) times.push(ms);
    }
    return percentiles(times);
  };
  const [warm1p50, warm1p99] = await measure(1, false);
  const [warm100p50, warm100p99] = await measure(100, false);
  const [cold1p50, cold1p99] = await measure(1, true);
  const [cold100p50, cold100p99] = await measure(100, true);
  return { warm1p50, warm1p99, warm100p50, warm100p99, cold1p50, cold1p99, cold100p50, cold100p99 };
}
