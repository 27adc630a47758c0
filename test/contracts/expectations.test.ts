/**
 * Data-quality expectations on both drivers: every kind of expectation passes on clean data and
 * reports its observed value and sample offending rows on dirty data; a failed suite throws a
 * non-retryable error carrying the whole report, stored once per key and shaped as OpenLineage
 * data-quality facets; an expectation on a missing column is a definition error.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { evaluateExpectations, expect as expectThat, expectationSuite, ksStatistic, listQualityResults, qualityFacets, readQualityReport, runExpectations, type QualityReport } from '../../src/governance/expectations.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

const reference = Array.from({ length: 200 }, (_, i) => i / 2);

const suite = (expectations: Parameters<typeof expectationSuite>[0]['expectations']) =>
  expectationSuite({ name: 'readings', dataset: 'readings', table: 'dq_readings', expectations, sampleColumns: ['id', 'station', 'value'] });

describeEachDriver('data-quality expectations', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;

  beforeAll(async () => {
    await db().execute(sql`create table dq_readings (id integer not null, batch text not null, station text, value double precision, read_at timestamptz not null)`);
    // Batch "clean": 200 rows; batch "dirty": a null station, an out-of-range value, a duplicate id, an unknown station.
    await db().execute(sql`insert into dq_readings select g, 'clean', case when g % 2 = 0 then 'north' else 'south' end, (g - 1) / 2.0, timestamptz '2024-03-01T00:00:00Z' + (g || ' minutes')::interval from generate_series(1, 200) g`);
    await db().execute(sql`insert into dq_readings values
      (1, 'dirty', null, 5, '2024-03-01T00:00:00Z'), (2, 'dirty', 'north', 5000, '2024-03-01T00:01:00Z'),
      (2, 'dirty', 'north', 7, '2024-03-01T00:02:00Z'), (4, 'dirty', 'mars', 8, '2024-03-01T00:03:00Z')`);
  });

  const every = () => [
    expectThat.column('value', 'double precision'),
    expectThat.nullFraction('station', 0),
    expectThat.between('value', 0, 100),
    expectThat.inSet('station', ['north', 'south']),
    expectThat.matches('station', '^[a-z]+$'),
    expectThat.unique('id'),
    expectThat.rowCount({ min: 4, max: 1_000 }),
    expectThat.freshness('read_at', '10h', new Date('2024-03-01T12:00:00Z')),
    expectThat.distribution('value', reference, 0.1),
    expectThat.condition('value is not negative', ['value'], sql`value < 0`),
  ];

  it('passes every kind of expectation on clean data, observing each value', async () => {
    const report = await evaluateExpectations(db(), suite(every()), { where: sql`batch = 'clean'` });
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(report.rows).toBe(200);
    expect(Object.fromEntries(report.results.map((r) => [r.kind, r.observed]))).toMatchObject({
      columnExists: 'double precision',
      nullFraction: 0,
      between: 0,
      rowCount: 200,
      freshness: '2024-03-01T03:20:00.000Z',
    });
    expect(report.results.find((r) => r.kind === 'distribution')!.observed).toBeLessThan(0.02);
  });

  it('fails non-retryably with every expectation, its observed value and sample offending rows', async () => {
    const failure = await runExpectations(db(), suite(every()), { where: sql`batch = 'dirty'`, key: 'dq-dirty' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as ValidationError).retryable).toBe(false);
    const report = (failure as ValidationError).details!.report as QualityReport;
    expect(report.passed).toBe(false);
    expect(report.results).toHaveLength(10);
    const byKind = Object.fromEntries(report.results.map((r) => [r.kind, r]));
    expect(byKind.nullFraction).toMatchObject({ passed: false, observed: 0.25, samples: [{ id: 1, station: null, value: 5 }] });
    expect(byKind.between).toMatchObject({ passed: false, observed: 1, samples: [{ id: 2, station: 'north', value: 5000 }] });
    expect(byKind.inSet).toMatchObject({ passed: false, observed: 1, samples: [{ id: 4, station: 'mars' }] });
    expect(byKind.unique).toMatchObject({ passed: false, observed: 1, samples: [{ id: 2 }] });
    expect(byKind.distribution!.passed).toBe(false);
    expect(byKind.freshness).toMatchObject({ passed: false, observed: '2024-03-01T00:03:00.000Z' });
    expect(byKind.rowCount).toMatchObject({ passed: true, observed: 4 });
    expect(byKind.condition).toMatchObject({ passed: true, observed: 0 });
    expect((failure as Error).message).toMatch(/^Data quality check "readings" failed on readings \(6 of 10 expectations\): station null fraction at most 0: observed 0\.25, e\.g\. \{"id":1,"station":null,"value":5\}/);

    // Stored once under its key, and shaped as OpenLineage data-quality facets.
    const stored = await readQualityReport(db(), 'dq-dirty');
    expect(stored?.results.map((r) => r.passed)).toEqual(report.results.map((r) => r.passed));
    await runExpectations(db(), suite(every()), { where: sql`batch = 'dirty'`, key: 'dq-dirty' }).catch(() => undefined);
    expect((await listQualityResults(db(), { dataset: 'readings' })).map((r) => [r.key, r.suite, r.passed, r.rows])).toEqual([['dq-dirty', 'readings', false, 4]]);
    const facets = qualityFacets(stored!);
    expect(facets.dataQualityAssertions!.assertions).toContainEqual({ assertion: 'value between 0 and 100', success: false, column: 'value' });
    expect(facets.dataQualityMetrics).toMatchObject({ rowCount: 4, columnMetrics: { station: { nullCount: 1 } } });
  });

  it('tolerates offending rows up to the share `mostly` allows, and still counts and samples them', async () => {
    // The dirty batch's 4 rows: one value out of range, one station not in the set.
    const report = await evaluateExpectations(
      db(),
      suite([expectThat.between('value', 0, 100, { mostly: 0.75 }), expectThat.between('value', 0, 100, { mostly: 0.8 }), expectThat.inSet('station', ['north', 'south'], { mostly: 0.75 })]),
      { where: sql`batch = 'dirty'` },
    );
    expect(report.results.map((r) => [r.expectation, r.passed, r.observed])).toEqual([
      ['value between 0 and 100 for at least 75% of rows', true, 1],
      ['value between 0 and 100 for at least 80% of rows', false, 1],
      ['station in {north, south} for at least 75% of rows', true, 1],
    ]);
    expect(report.results[0]!.samples).toEqual([{ id: 2, station: 'north', value: 5000 }]);
    expect(report.passed).toBe(false);
    expect(() => expectThat.matches('station', '^[a-z]+$', { mostly: 1.5 })).toThrow('Expectation "station matches": mostly must be a share of rows in (0, 1], such as 0.999; got 1.5.');
    expect(expectThat.condition('value is not negative', ['value'], sql`value < 0`, { mostly: 1 })).not.toHaveProperty('mostly');
  });

  it('reports a missing column as a failed columnExists expectation, and refuses other expectations on it', async () => {
    const report = await evaluateExpectations(db(), suite([expectThat.column('humidity', 'real'), expectThat.column('value', 'integer')]));
    expect(report.results.map((r) => [r.expectation, r.passed, r.observed])).toEqual([
      ['column humidity exists with type real', false, 'missing'],
      ['column value exists with type integer', false, 'double precision'],
    ]);
    await expect(evaluateExpectations(db(), suite([expectThat.between('humidity', 0, 1)]))).rejects.toThrow(
      /Expectation "humidity between 0 and 1" of suite "readings" names column humidity, which table dq_readings does not have \(it has id, batch, station, value, read_at\)/,
    );
    await expect(evaluateExpectations(db(), { ...suite([expectThat.rowCount({ min: 1 })]), table: 'no_such_table' })).rejects.toThrow(/guards table "no_such_table", which does not exist/);
  });
});

it('measures the Kolmogorov-Smirnov distance between samples', () => {
  expect(ksStatistic([1, 2, 3], [1, 2, 3])).toBe(0);
  expect(ksStatistic([1, 2, 3], [4, 5, 6])).toBe(1);
  expect(ksStatistic([1, 2, 3, 4], [3, 4, 5, 6])).toBe(0.5);
});
