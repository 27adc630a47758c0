/**
 * The storage contract, held on both drivers: migrations, exactly-once writes, rollback on
 * failure, and the flight ingestion and summary computing the same numbers on PGlite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { count, eq, sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../../src/db/client.js';
import { openDatabase } from '../../src/db/client.js';
import { once } from '../../src/db/idempotency.js';
import { idempotencyKeys, ingestions } from '../../src/db/schema.js';
import { ingestFlights, summarizeDelays } from '../../examples/flight-delay/data/flights.js';
import { NotFoundError, UnavailableError, ValidationError } from '../../src/errors.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { vegaDataset } from '../../src/datasets/vega.js';
import { delaySummaries, rawFlights } from '../../examples/flight-delay/data/schema.js';

describeEachDriver('storage contract', (driver) => {
  const db = useTestDatabase(driver);

  it('applies the migrations, and applying them again changes nothing', async () => {
    expect(db.handle.driver).toBe(driver);
    const again = await db.testDb.open().catch((e: Error) => e);
    // PGlite is single-process: a second open of the same directory is refused while the first holds it.
    if (driver === 'pglite') {
      expect(again).toBeInstanceOf(Error);
      expect((again as Error).message).toMatch(/is already open in this process/);
    } else {
      await (again as DatabaseHandle).close();
    }
    const [row] = await db.handle.db.select({ n: count() }).from(idempotencyKeys);
    expect(row?.n).toBeGreaterThanOrEqual(0);
  });

  it('runs a keyed write once and hands the recorded result to every retry', async () => {
    let writes = 0;
    const write = async () => ({ value: ++writes });
    const first = await once(db.handle.db, 'contract:once', 'test', write);
    const second = await once(db.handle.db, 'contract:once', 'test', write);
    expect(first).toEqual({ result: { value: 1 }, replayed: false });
    expect(second).toEqual({ result: { value: 1 }, replayed: true });
    expect(writes).toBe(1);
  });

  it('serializes concurrent attempts with the same key into one write', async () => {
    let writes = 0;
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => once(db.handle.db, 'contract:concurrent', 'test', async () => ({ n: ++writes }))),
    );
    expect(writes).toBe(1);
    expect(attempts.filter((a) => !a.replayed)).toHaveLength(1);
    expect(new Set(attempts.map((a) => a.result.n))).toEqual(new Set([1]));
  });

  it('leaves nothing behind when a keyed write fails halfway', async () => {
    const failing = once(db.handle.db, 'contract:fails', 'test', async (tx) => {
      await tx.insert(ingestions).values({ id: 'half-written', dataset: 'flights', source: 'x', contentHash: 'h', rows: 0 });
      throw new Error('disk on fire');
    });
    await expect(failing).rejects.toThrow('disk on fire');
    expect(await db.handle.db.select().from(ingestions).where(eq(ingestions.id, 'half-written'))).toEqual([]);
    expect(await db.handle.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, 'contract:fails'))).toEqual([]);
  });

  it('ingests real flights once, however often the ingestion is retried', async () => {
    const first = await ingestFlights(db.handle.db, 'vega:flights-3m.parquet', { rows: 2_000 });
    const retry = await ingestFlights(db.handle.db, 'vega:flights-3m.parquet', { rows: 2_000 });
    expect(first.reused).toBe(false);
    expect(retry).toEqual({ ...first, reused: true });
    const [rows] = await db.handle.db.select({ n: count() }).from(rawFlights).where(eq(rawFlights.ingestionId, first.ingestionId));
    expect(rows?.n).toBe(2_000);
    const [firstFlight] = await db.handle.db.select().from(rawFlights).where(eq(rawFlights.rowNumber, 0)).limit(1);
    // The first row of flights-3m.parquet: LAS -> PHL at 00:01 on 2001-01-01, 33 minutes late.
    expect(firstFlight).toMatchObject({ origin: 'LAS', destination: 'PHL', delayMinutes: 33, distanceMiles: 2176 });
    expect(firstFlight?.departedAt.toISOString()).toBe('2001-01-01T00:01:00.000Z');
  });

  it('summarizes delays to the same numbers on every driver, once per key', async () => {
    const ingestion = await ingestFlights(db.handle.db, 'vega:flights-3m.parquet', { rows: 2_000 });
    const summary = await summarizeDelays(db.handle.db, ingestion.ingestionId, 'contract-summary', { delayThresholdMinutes: 15, minFlights: 50 });
    const again = await summarizeDelays(db.handle.db, ingestion.ingestionId, 'contract-summary', { delayThresholdMinutes: 15, minFlights: 50 });
    expect(again).toEqual({ ...summary, reused: true });
    expect(summary.flights).toBe(2_000);
    // Reference figures computed independently in SQL over the same 2,000 rows.
    const [reference] = await db.handle.db
      .select({
        airports: sql<number>`count(distinct ${rawFlights.origin})::int`,
        late: sql<number>`sum(case when ${rawFlights.delayMinutes} > 15 then 1 else 0 end)::int`,
      })
      .from(rawFlights)
      .where(eq(rawFlights.ingestionId, ingestion.ingestionId));
    expect(summary.airports).toBe(reference?.airports);
    expect(summary.delayedShare).toBeCloseTo((reference?.late ?? NaN) / 2_000, 12);
    expect(summary.worstAirports.length).toBeGreaterThan(0);
    const shares = summary.worstAirports.map((a) => a.delayedShare);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
    const [stored] = await db.handle.db.select({ n: count() }).from(delaySummaries).where(eq(delaySummaries.ingestionId, ingestion.ingestionId));
    expect(stored?.n).toBe(1);
  });

  it('refuses input it cannot ingest with an error that names the problem, and writes nothing', async () => {
    const before = await db.handle.db.select({ n: count() }).from(ingestions);
    const csv = vegaDataset('seattle-weather.csv');
    await expect(ingestFlights(db.handle.db, csv)).rejects.toThrow(`${csv} is not a readable Parquet file`);
    await expect(ingestFlights(db.handle.db, '/nonexistent/flights.parquet')).rejects.toBeInstanceOf(NotFoundError);
    await expect(ingestFlights(db.handle.db, 'vega:flights-3m.parquet', { rows: -5 })).rejects.toBeInstanceOf(ValidationError);
    expect(await db.handle.db.select({ n: count() }).from(ingestions)).toEqual(before);
  });

  it('refuses to summarize an ingestion that does not exist', async () => {
    await expect(summarizeDelays(db.handle.db, 'flights-missing', 'k', { delayThresholdMinutes: 15 })).rejects.toThrow(
      'No ingestion flights-missing: ingest the flights first.',
    );
  });
});

describe('PostgreSQL connection faults', () => {
  it('fails within seconds with a clear message when DATABASE_URL points nowhere', async () => {
    const started = Date.now();
    const error = await openDatabase({ url: 'postgres://steward:secret@127.0.0.1:1/steward', pgliteDir: '/unused' }).catch((e) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toContain('Cannot connect to PostgreSQL at postgres://steward:***@127.0.0.1:1/steward');
    expect(error.message).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
