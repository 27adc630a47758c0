/**
 * npx tsx bench/feature-store.ts [--flights N] [--postgres URL]
 *
 * The feature store end to end on vega-datasets flights-3m, on PGlite (or a fresh database on the
 * PostgreSQL server at URL). Each phase runs in its own process, so its peak RSS is its own:
 *
 * 1. ingestion + materialization: the flights Parquet file (all 3,000,000 rows, and a 300,000-row file
 *    with the same row groups) ingested into a feature view and materialized; rows/s and peak RSS,
 *    to show memory does not grow with the file.
 * 2. getHistoricalFeatures from the offline store: N label rows (default all flights) joined as of
 *    their departure against two views built from the same flights (origin and route running delay
 *    stats, one row per flight, stamped 1 ms after it), against DuckDB's ASOF JOIN on the same
 *    in-memory data and Steward's in-memory pointInTimeJoin; median of 3 after a warm-up.
 * 3. online reads through the read-through cache: p50/p99 for 1 entity x 50 features and 100 entities
 *    x 50 features, warm and (for the database path) with the cache dropped before every call.
 *
 * Figures are printed, never asserted: these machines are shared.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { parquetWriteFile } from 'hyparquet-writer';
import { openDatabase, type DatabaseHandle } from '../src/db/client.js';
import { vegaDataset } from '../src/datasets/vega.js';
import { benchHistorical, benchIngestion, benchOnline, loadFlights } from './feature-store-phases.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const postgresUrl = option('--postgres');
const phase = option('--phase');

/** A fresh database for one phase: a temporary PGlite directory, or a new database on the server. */
async function freshDatabase(): Promise<{ handle: DatabaseHandle; drop: () => Promise<void> }> {
  if (!postgresUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-features-'));
    const handle = await openDatabase({ url: undefined, pgliteDir: dir });
    return { handle, drop: async () => (await handle.close(), fs.rmSync(dir, { recursive: true, force: true })) };
  }
  const name = `steward_bench_${process.pid}`;
  const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString(), pgliteDir: '' });
  return {
    handle,
    drop: async () => {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

if (phase) {
  const { handle, drop } = await freshDatabase();
  try {
    let result: unknown;
    if (phase === 'ingest') result = await benchIngestion(handle.db, option('--file')!);
    else if (phase === 'historical') result = await benchHistorical(handle.db, Number(option('--flights')), await loadFlights(Number(option('--flights'))));
    else result = await benchOnline(handle.db);
    process.stdout.write(`RESULT ${JSON.stringify({ ...(result as object), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
  } finally {
    await drop();
  }
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
function runPhase<T>(phaseArgs: string[]): T & { peakRssMb: number } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', self, ...phaseArgs, ...(postgresUrl ? ['--postgres', postgresUrl] : [])], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`Phase ${phaseArgs.join(' ')} failed (exit ${child.status}):\n${child.stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as T & { peakRssMb: number };
}

const flights = Number(option('--flights') ?? 3_000_000);
console.log(`Feature store on ${postgresUrl ? 'PostgreSQL' : 'PGlite'}, ${os.cpus().length} cores.`);

// 1. Ingestion and materialization, at two file sizes with the same row groups.
const full = vegaDataset('flights-3m.parquet');
const small = path.join(os.tmpdir(), 'steward-bench-flights-300k.parquet');
if (!fs.existsSync(small)) {
  const { departedAt, delay, distance, origin, destination, airports } = await loadFlights(300_000);
  parquetWriteFile({
    filename: small,
    rowGroupSize: 272_727,
    columnData: [
      { name: 'date', data: Array.from(departedAt, (ms) => new Date(ms)), type: 'TIMESTAMP' },
      { name: 'delay', data: Array.from(delay, (d) => BigInt(d)), type: 'INT64' },
      { name: 'distance', data: Array.from(distance, (d) => BigInt(d)), type: 'INT64' },
      { name: 'origin', data: Array.from(origin, (o) => airports[o]!), type: 'STRING' },
      { name: 'destination', data: Array.from(destination, (d) => airports[d]!), type: 'STRING' },
    ],
  });
}
console.log('\nIngestion (Parquet, 20,000-row transactions) and full materialization, each size in a fresh process:');
for (const file of [small, full]) {
  const r = runPhase<Awaited<ReturnType<typeof benchIngestion>>>(['--phase', 'ingest', '--file', file]);
  console.log(
    `  ${fmt(r.rows).padStart(9)} rows  ingest ${fmt(r.rows / r.ingestSeconds)} rows/s (${r.ingestSeconds.toFixed(1)} s)  ` +
      `materialize ${fmt(r.rows / r.materializeSeconds)} rows/s (${r.materializeSeconds.toFixed(1)} s, ${fmt(r.entities)} entities)  peak RSS ${r.peakRssMb} MB`,
  );
}

// 2. Point-in-time training set from the offline store against DuckDB.
console.log(`\ngetHistoricalFeatures: ${fmt(flights)} label rows x 2 views of ${fmt(flights)} rows (origin, route), median of 3:`);
const h = runPhase<Awaited<ReturnType<typeof benchHistorical>>>(['--phase', 'historical', '--flights', String(flights)]);
console.log(`  ingest both views into the offline store: ${h.setupSeconds.toFixed(1)} s`);
console.log(`  Steward getHistoricalFeatures (load from DB + join): ${fmt(h.storeMs)} ms  (load ${fmt(h.loadMs)} ms)`);
console.log(`  Steward pointInTimeJoin on in-memory Arrow:          ${fmt(h.joinMs)} ms`);
console.log(`  DuckDB ASOF JOIN on in-memory tables (${h.duckThreads} threads):    ${fmt(h.duckMs)} ms`);
console.log(`  ratios: store/DuckDB ${(h.storeMs / h.duckMs).toFixed(2)}x (target <= 5x), in-memory join/DuckDB ${(h.joinMs / h.duckMs).toFixed(2)}x (target <= 1.5x)`);
console.log(`  matched rows Steward/DuckDB: origin ${fmt(h.originMatched)}/${fmt(h.duckOriginMatched)}, route ${fmt(h.routeMatched)}/${fmt(h.duckRouteMatched)}; peak RSS ${h.peakRssMb} MB`);

// 3. Online reads.
const o = runPhase<Awaited<ReturnType<typeof benchOnline>>>(['--phase', 'online']);
console.log('\nOnline reads, 50 features (p50 / p99 over 2,000 calls each):');
console.log(`  1 entity    warm cache ${o.warm1p50.toFixed(3)} / ${o.warm1p99.toFixed(3)} ms (target p99 <= 1 ms)   database path ${o.cold1p50.toFixed(2)} / ${o.cold1p99.toFixed(2)} ms`);
console.log(`  100 entities warm cache ${o.warm100p50.toFixed(3)} / ${o.warm100p99.toFixed(3)} ms (target p99 <= 5 ms)  database path ${o.cold100p50.toFixed(2)} / ${o.cold100p99.toFixed(2)} ms`);
console.log('  Feast reference (Go server on Redis, 16 vCPU): p99 1.78 ms for 1 row x 50 features, 22 ms for 100 rows.');
