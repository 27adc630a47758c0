/**
 * The feature store on real flights (every 300th flight of flights-3m, January to June 2001), on
 * both drivers: the feature pipeline's views leak nothing (every training row's features equal an
 * independent SQL aggregate of the flights that departed strictly before it), the online store
 * serves what the offline store gives at the same time (skew test), and the training set built
 * through the store matches the SQL-window training set the trainer uses today.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { ingestFlights } from '../../examples/flight-delay/data/flights.js';
import { buildFlightTrainingSet, loadTrainingSet } from '../../examples/flight-delay/features/raw-training-set.js';
import { createFeatureStore, getHistoricalFeatures, type FeatureStore } from '../../src/features/index.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { buildFlightTrainingSetFromStore, flightEntityRows } from '../../examples/flight-delay/features/flight-training-set.js';
import { computeFlightFeatures, flightDelayService, flightFeatureDefinitions } from '../../examples/flight-delay/features/flights.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { flightSampleFile } from '../support/flight-sample.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-flight-features-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Equal numbers, allowing for PostgreSQL's numeric avg rounding differently in the last bits. */
function close(a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  return Math.abs(Number(a) - Number(b)) <= 1e-9 * Math.max(1, Math.abs(Number(b)));
}

interface Oracle {
  n1h: number;
  d1h: number | null;
  n1d: number;
  d1d: number | null;
  s1d: number | null;
  n7d: number;
  d7d: number | null;
  s7d: number | null;
  r7: number;
  rd7: number | null;
  rs7: number | null;
  r30: number;
  rd30: number | null;
}

describeEachDriver('feature store on real flights', (driver) => {
  const db = useTestDatabase(driver);
  let ingestionId: string;
  let store: FeatureStore;

  beforeAll(async () => {
    ({ ingestionId } = await ingestFlights(db.handle.db, await flightSampleFile()));
    store = createFeatureStore(db.handle.db, [...flightFeatureDefinitions]);
    await store.apply();
  }, 300_000);

  it('computes the views from raw flights once: a rerun on the same ingestion writes nothing', async () => {
    const first = await computeFlightFeatures(db.handle.db, ingestionId);
    expect(first.flights).toBeGreaterThan(9_000);
    expect(first.views.map((v) => [v.view, v.reused])).toEqual([
      ['origin_delays', false],
      ['route_delays', false],
    ]);
    // A row when a flight enters each window and when it leaves: about 4 rows a flight for 3 origin windows.
    expect(first.views[0]!.rows).toBeGreaterThan(3 * first.flights);
    const again = await computeFlightFeatures(db.handle.db, ingestionId);
    expect(again.views.map((v) => [v.reused, v.rows])).toEqual(first.views.map((v) => [true, v.rows]));
  });

  it('never lets a training row see a flight that departed at or after its own time', async () => {
    const entityRows = await flightEntityRows(db.handle.db, ingestionId, { delayThresholdMinutes: 15 });
    const training = await getHistoricalFeatures(db.handle.db, { entityRows, entityTimestamp: 'departed_at', featureService: flightDelayService });
    // The oracle, independent of the store: SQL windows over the raw flights that end 1 microsecond before each departure.
    const oracle = (end: string) =>
      queryRows<Oracle>(
        db.handle.db,
        sql.raw(`
        select
          count(*) over o1h as n1h, avg(delay_minutes) over o1h as d1h,
          count(*) over o1d as n1d, avg(delay_minutes) over o1d as d1d, avg((delay_minutes > 15)::int) over o1d as s1d,
          count(*) over o7d as n7d, avg(delay_minutes) over o7d as d7d, avg((delay_minutes > 15)::int) over o7d as s7d,
          count(*) over r7 as r7, avg(delay_minutes) over r7 as rd7, avg((delay_minutes > 15)::int) over r7 as rs7,
          count(*) over r30 as r30, avg(delay_minutes) over r30 as rd30
        from raw_flights where ingestion_id = '${ingestionId}'
        window
          o1h as (partition by origin order by departed_at range between interval '1 hour' preceding and ${end}),
          o1d as (partition by origin order by departed_at range between interval '1 day' preceding and ${end}),
          o7d as (partition by origin order by departed_at range between interval '7 days' preceding and ${end}),
          r7 as (partition by origin, destination order by departed_at range between interval '7 days' preceding and ${end}),
          r30 as (partition by origin, destination order by departed_at range between interval '30 days' preceding and ${end})
        order by departed_at, row_number`),
      );
    const strictlyBefore = await oracle(`interval '1 microsecond' preceding`);
    const upToAndIncluding = await oracle('current row');
    expect(strictlyBefore.length).toBe(training.numRows);
    const pairs: Array<[string, keyof Oracle, boolean]> = [
      ['origin_delays__flights_1h', 'n1h', true],
      ['origin_delays__mean_delay_1h', 'd1h', false],
      ['origin_delays__flights_1d', 'n1d', true],
      ['origin_delays__mean_delay_1d', 'd1d', false],
      ['origin_delays__delayed_share_1d', 's1d', false],
      ['origin_delays__flights_7d', 'n7d', true],
      ['origin_delays__mean_delay_7d', 'd7d', false],
      ['origin_delays__delayed_share_7d', 's7d', false],
      ['route_delays__flights_7d', 'r7', true],
      ['route_delays__mean_delay_7d', 'rd7', false],
      ['route_delays__delayed_share_7d', 'rs7', false],
      ['route_delays__flights_30d', 'r30', true],
      ['route_delays__mean_delay_30d', 'rd30', false],
    ];
    let leakyWouldDiffer = 0;
    for (const [name, key, isCount] of pairs) {
      const values = training.getChild(name)!;
      const mismatches: string[] = [];
      for (let i = 0; i < training.numRows; i++) {
        // No feature row yet (the origin's first flight in the sample) is a count of zero flights before it.
        const got = isCount ? (values.get(i) ?? 0) : values.get(i);
        const want = isCount ? Number(strictlyBefore[i]![key]) : strictlyBefore[i]![key];
        if (!close(got, want === null ? null : Number(want))) mismatches.push(`row ${i}: store ${got} vs flights before ${want}`);
        if (isCount && Number(upToAndIncluding[i]![key]) !== got) leakyWouldDiffer++;
      }
      expect(mismatches.slice(0, 3), name).toEqual([]);
    }
    // Counting the flight itself (a leak) would have changed every count on every row.
    expect(leakyWouldDiffer).toBe(5 * training.numRows);
  });

  it('serves online exactly the values the offline store gives at the same time, TTLs included (skew test)', async () => {
    const runs = await store.materialize();
    expect(runs.map((r) => r.view)).toEqual(['origin_delays', 'route_delays']);
    const [{ last }] = (await queryRows<{ last: string | Date }>(db.handle.db, sql`select max(departed_at) as last from raw_flights where ingestion_id = ${ingestionId}`)) as [{ last: string | Date }];
    const routes = await queryRows<{ origin: string; destination: string }>(
      db.handle.db,
      sql`select distinct origin, destination from raw_flights where ingestion_id = ${ingestionId} order by origin, destination`,
    );
    const statuses = new Map<string, number>();
    // Just after the last flight, and 40 days later when origin rows (TTL 30 days) have expired but route rows (60 days) have not.
    for (const now of [new Date(last).getTime() + 60_000, new Date(last).getTime() + 40 * 86_400_000]) {
      const entityRows = new Table({
        origin: vectorFromArray(routes.map((r) => r.origin), new Utf8()),
        destination: vectorFromArray(routes.map((r) => r.destination), new Utf8()),
        at: vectorFromArray(routes.map(() => new Date(now)), new TimestampMillisecond()),
      });
      const offline = await store.getHistoricalFeatures({ entityRows, entityTimestamp: 'at', featureService: 'flight_delay' });
      const online = await store.getOnlineFeatures('flight_delay', routes, { now });
      for (const name of online.features) {
        const expected = [...offline.getChild(name)!];
        const served = online.rows.map((r) => r.values[name]);
        const differing = served.map((v, i) => (close(v, expected[i]) ? null : `${routes[i]!.origin}-${routes[i]!.destination}: online ${v} offline ${expected[i]}`)).filter(Boolean);
        expect(differing.slice(0, 3), `${name} at ${new Date(now).toISOString()}`).toEqual([]);
        for (const row of online.rows) statuses.set(row.statuses[name]!, (statuses.get(row.statuses[name]!) ?? 0) + 1);
      }
    }
    expect([...statuses.keys()].sort()).toEqual(['expired', 'present']);
  });

  it('builds the training set through the store with the same features as the SQL-window training set', async () => {
    const artifacts = new LocalArtifactStore(path.join(tmp, driver));
    const fromStore = await buildFlightTrainingSetFromStore(db.handle.db, artifacts, ingestionId, { delayThresholdMinutes: 15 });
    const fromSql = await buildFlightTrainingSet(db.handle.db, artifacts, ingestionId, { delayThresholdMinutes: 15 });
    expect(fromStore).toMatchObject({ rows: fromSql.rows, positives: fromSql.positives, from: fromSql.from, to: fromSql.to, featureService: 'flight_delay' });
    const [a, b] = [await loadTrainingSet(artifacts, fromStore.uri), await loadTrainingSet(artifacts, fromSql.uri)];
    for (const name of ['departedAt', 'hour', 'dayOfWeek', 'month', 'distance', 'originDelay7d', 'originFlights7d', 'label', 'origin']) {
      const [x, y] = [a.getChild(name)!.toArray() as ArrayLike<unknown>, b.getChild(name)!.toArray() as ArrayLike<unknown>];
      const differing = Array.from(x, (v, i) => (Number.isNaN(v) && Number.isNaN(y[i]) ? true : typeof v === 'number' ? close(v, y[i]) : v === y[i])).filter((same) => !same).length;
      expect(differing, name).toBe(0);
    }
    // The models consume the same features either way; the service's other columns travel in the set.
    expect(fromStore.features).toEqual(fromSql.features);
    expect(a.schema.fields.map((f) => f.name)).toContain('delay_trend__hour_vs_week');
  });

  it('records statistics of every feature when materializing', async () => {
    const stats = await store.statistics('origin_delays');
    const flights7d = stats.features.flights_7d!;
    expect(flights7d).toMatchObject({ kind: 'numeric', nulls: 0, min: 0 });
    expect(stats.features.mean_delay_1h).toMatchObject({ kind: 'numeric' });
    expect(stats.features.mean_delay_1h!.nulls).toBeGreaterThan(0);
    const [{ n }] = (await queryRows<{ n: number }>(db.handle.db, sql`select count(*)::int as n from features.origin_delays`)) as [{ n: number }];
    expect(stats.rows).toBe(n);
    expect(flights7d.count).toBe(n);
  });
});
