/**
 * The feature store's contract on both drivers, on small hand-made data whose right answers are
 * known: apply and plan (and the refusals), idempotent and all-or-nothing ingestion from Parquet,
 * Arrow IPC and memory, point-in-time semantics (TTL, created timestamps against late backfills,
 * nulls for missing), materialization full and incremental, online statuses and the cache, online /
 * offline skew, and statistics. Real flights are in feature-store-flights.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { Float64, Int32, Int64, Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { featureIngestions } from '../../src/db/schema.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import {
  OnlineStore,
  apply,
  arrowSource,
  createFeatureStore,
  entity,
  featureService,
  featureView,
  getHistoricalFeatures,
  ingest,
  onDemandFeatureView,
  parquetSource,
  plan,
  tableSource,
  type FeatureStore,
} from '../../src/features/index.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const source = { kind: 'pipeline' as const, name: 'test' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-features-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const customer = entity({ name: 'customer', joinKeys: { customer_id: 'string' } });
const shop = entity({ name: 'shop', joinKeys: { shop_id: 'int64' } });
const spend = featureView({
  name: 'customer_spend',
  entities: [customer],
  schema: { spend: 'float64', visits: 'int32', tier: 'string', email: { type: 'string', tags: { sensitivity: 'pii' } } },
  eventTimestamp: 'event_at',
  createdTimestamp: 'created_at',
  ttl: '3h',
  source,
  owner: 'growth',
  description: 'Spend per customer',
});
const sales = featureView({ name: 'shop_sales', entities: [shop], schema: { revenue: 'float64' }, eventTimestamp: 'at', source, owner: 'ops', description: 'Sales' });
const perVisit = onDemandFeatureView({
  name: 'spend_per_visit',
  inputs: { spend: spend.feature('spend'), visits: spend.feature('visits') },
  schema: { value: 'float64' },
  transform: ({ spend, visits }) => ({ value: spend === null || !visits ? null : (spend as number) / (visits as number) }),
  owner: 'growth',
  description: 'Spend per visit',
});
const checkout = featureService({ name: 'checkout', version: 1, features: [spend.select('spend', 'visits', 'tier'), sales, perVisit] });

interface SpendRow {
  customer_id: string | null;
  event_at: number | null;
  created_at?: number | null;
  spend: number | null;
  visits?: number | null;
  tier?: string | null;
  email?: string | null;
}

function spendTable(rows: SpendRow[]): Table {
  return new Table({
    customer_id: vectorFromArray(rows.map((r) => r.customer_id), new Utf8()),
    event_at: vectorFromArray(rows.map((r) => (r.event_at === null ? null : new Date(r.event_at))), new TimestampMillisecond()),
    created_at: vectorFromArray(rows.map((r) => (r.created_at == null ? null : new Date(r.created_at))), new TimestampMillisecond()),
    spend: vectorFromArray(rows.map((r) => r.spend), new Float64()),
    visits: vectorFromArray(rows.map((r) => r.visits ?? null), new Int32()),
    tier: vectorFromArray(rows.map((r) => r.tier ?? null), new Utf8()),
    email: vectorFromArray(rows.map((r) => r.email ?? null), new Utf8()),
  });
}

/** c1: a correction of its 1h row created at 3h, and a backfill of a 90m event created at 4h; c2: one old row; c3: nothing. */
const history: SpendRow[] = [
  { customer_id: 'c1', event_at: T0, created_at: T0, spend: 10, visits: 1, tier: 'bronze', email: 'a@x' },
  { customer_id: 'c1', event_at: T0 + HOUR, created_at: T0 + HOUR, spend: 20, visits: 2, tier: 'silver', email: 'a@x' },
  { customer_id: 'c1', event_at: T0 + HOUR, created_at: T0 + 3 * HOUR, spend: 25, visits: 2, tier: 'silver', email: null },
  { customer_id: 'c1', event_at: T0 + 90 * MIN, created_at: T0 + 4 * HOUR, spend: 999, visits: 3, tier: 'gold', email: null },
  { customer_id: 'c2', event_at: T0, created_at: null, spend: 5, visits: 0, tier: 'silver', email: 'b@x' },
];

function entityRows(rows: Array<[customer: string, shop: bigint, at: number]>): Table {
  return new Table({
    customer_id: vectorFromArray(rows.map((r) => r[0]), new Utf8()),
    shop_id: vectorFromArray(rows.map((r) => r[1]), new Int64()),
    at: vectorFromArray(rows.map((r) => new Date(r[2])), new TimestampMillisecond()),
  });
}

const column = (table: Table, name: string) => [...table.getChild(name)!].map((v) => (typeof v === 'bigint' ? Number(v) : v));

describeEachDriver('feature store contract', (driver) => {
  const db = useTestDatabase(driver);
  const count = async (table: string, where = 'true') =>
    (await queryRows<{ n: number }>(db.handle.db, sql.raw(`select count(*)::int as n from ${table} where ${where}`)))[0]!.n;

  describe('apply and plan', () => {
    const demo = (schema: Record<string, 'float64' | 'int32' | 'string'>, ttl = '1h') =>
      featureView({ name: 'plan_demo', entities: [customer], schema, eventTimestamp: 'at', ttl, source, owner: 'ops', description: 'demo' });

    it('plans creates, applies them, and then plans nothing to do', async () => {
      const v1 = demo({ a: 'float64' });
      const first = await apply(db.handle.db, [v1], { dryRun: true });
      expect(first.applied).toBe(false);
      expect(first.items.map((i) => `${i.action} ${i.kind} ${i.name}`)).toEqual(['create entity customer', 'create featureView plan_demo']);
      await expect(plan(db.handle.db, [v1])).resolves.toMatchObject({ items: [{ action: 'create' }, { action: 'create' }] });
      expect((await apply(db.handle.db, [v1])).applied).toBe(true);
      const again = await plan(db.handle.db, [v1]);
      expect(again.items.map((i) => `${i.action} v${i.toVersion}`)).toEqual(['unchanged v1', 'unchanged v1']);
      expect(await count('features.plan_demo')).toBe(0);
    });

    it('applies compatible changes as a new version, adding the new column to the stored table', async () => {
      const result = await apply(db.handle.db, [demo({ a: 'float64', b: 'int32' }, '2h')]);
      const change = result.items.find((i) => i.name === 'plan_demo')!;
      expect(change).toMatchObject({ action: 'change', fromVersion: 1, toVersion: 2 });
      expect(change.changes).toEqual(['ttlMs 1h -> 2h', 'add feature b (int32)']);
      const columns = await queryRows<{ column_name: string; data_type: string }>(
        db.handle.db,
        sql`select column_name, data_type from information_schema.columns where table_schema = 'features' and table_name = 'plan_demo' and column_name = 'b'`,
      );
      expect(columns).toEqual([{ column_name: 'b', data_type: 'integer' }]);
    });

    it('refuses a type change and a removed feature, naming the column, and changes nothing', async () => {
      const typeChange = apply(db.handle.db, [demo({ a: 'int32', b: 'int32' }, '5h')]);
      await expect(typeChange).rejects.toThrow(ValidationError);
      await expect(typeChange).rejects.toThrow(/feature view "plan_demo", column "a": feature "a" changes type from float64 to int32/);
      await expect(apply(db.handle.db, [demo({ a: 'float64' }, '2h')])).rejects.toThrow(/column "b": feature "b" would be removed/);
      const after = await plan(db.handle.db, [demo({ a: 'float64', b: 'int32' }, '2h')]);
      expect(after.items.find((i) => i.name === 'plan_demo')).toMatchObject({ action: 'unchanged', toVersion: 2 });
    });

    it('refuses a join key change and a service whose features change under the same version', async () => {
      const rekeyed = featureView({ name: 'plan_demo', entities: [shop], schema: { a: 'float64', b: 'int32' }, eventTimestamp: 'at', ttl: '2h', source, owner: 'ops', description: 'demo' });
      await expect(apply(db.handle.db, [rekeyed])).rejects.toThrow(/column "shop_id": join keys change from \(customer_id string\) to \(shop_id int64\)/);
      const view = demo({ a: 'float64', b: 'int32' }, '2h');
      await apply(db.handle.db, [featureService({ name: 'plan_service', version: 1, features: [view] })]);
      const narrowed = featureService({ name: 'plan_service', version: 1, features: [view.select('a')] });
      await expect(apply(db.handle.db, [narrowed])).rejects.toThrow(/its features change but its version stays 1.*Bump the version to 2/);
      const bumped = await apply(db.handle.db, [featureService({ name: 'plan_service', version: 2, features: [view.select('a')] })]);
      expect(bumped.items.find((i) => i.name === 'plan_service')?.changes).toEqual(['version 1 -> 2', 'features changed']);
    });

    it('refuses two different definitions of one view in the same apply, naming the column', async () => {
      const other = featureView({ name: 'plan_demo', entities: [customer], schema: { a: 'string', b: 'int32' }, eventTimestamp: 'at', ttl: '2h', source, owner: 'ops', description: 'demo' });
      await expect(apply(db.handle.db, [demo({ a: 'float64', b: 'int32' }, '2h'), other])).rejects.toThrow(
        'Two different definitions of feature view "plan_demo": they differ in column "a" (type float64 vs string).',
      );
    });
  });

  describe('ingestion', () => {
    const events = featureView({
      name: 'ingest_events',
      entities: [customer],
      schema: { amount: 'float64', kind: 'string', n: 'int32' },
      eventTimestamp: 'at',
      source,
      owner: 'ops',
      description: 'events',
    });
    const TEN = Array.from({ length: 10 }, (_, i) => i);

    function writeParquet(name: string, overrides: Record<string, { data: unknown[]; type: string } | null> = {}): string {
      const columns: Record<string, { data: unknown[]; type: string } | null> = {
        customer_id: { data: TEN.map((i) => `c${i % 3}`), type: 'STRING' },
        at: { data: TEN.map((i) => new Date(T0 + i * MIN)), type: 'TIMESTAMP' },
        amount: { data: TEN.map((i) => i * 1.5), type: 'DOUBLE' },
        kind: { data: TEN.map((i) => (i % 2 ? 'odd' : 'even')), type: 'STRING' },
        n: { data: TEN, type: 'INT32' },
        ...overrides,
      };
      const filename = path.join(tmp, `${driver}-${name}.parquet`);
      parquetWriteFile({
        filename,
        columnData: Object.entries(columns)
          .filter(([, c]) => c !== null)
          .map(([n, c]) => ({ name: n, data: c!.data, type: c!.type as 'STRING' })),
      });
      return filename;
    }

    it('writes a Parquet file in batches once: a retry after a crash resumes without duplicating rows, a rerun writes nothing', async () => {
      await apply(db.handle.db, [events]);
      const file = writeParquet('good');
      const crash = ingest(db.handle.db, 'ingest_events', await parquetSource(file), {
        batchRows: 3,
        afterBatchCommit: (batch) => {
          if (batch === 1) throw new Error('worker killed');
        },
      });
      await expect(crash).rejects.toThrow('worker killed');
      expect(await count('features.ingest_events')).toBe(6);
      const [record] = await db.handle.db.select().from(featureIngestions);
      expect(record).toMatchObject({ status: 'running', rows: 6, batches: 2 });

      const progress: number[] = [];
      const retry = await ingest(db.handle.db, 'ingest_events', await parquetSource(file), { batchRows: 3, onProgress: (p) => progress.push(p.rowsWritten) });
      expect(retry).toMatchObject({ rows: 10, batches: 4, batchesSkipped: 2, reused: false });
      expect(progress).toEqual([3, 6, 9, 10]);
      expect(await count('features.ingest_events')).toBe(10);
      const rerun = await ingest(db.handle.db, 'ingest_events', await parquetSource(file), { batchRows: 3 });
      expect(rerun).toMatchObject({ reused: true, rows: 10, ingestionId: retry.ingestionId });
      expect(await count('features.ingest_events')).toBe(10);
    });

    it('reads Arrow IPC files one record batch at a time', async () => {
      const table = new Table({
        customer_id: vectorFromArray(['x1', 'x2', 'x3'], new Utf8()),
        at: vectorFromArray([new Date(T0), new Date(T0 + MIN), new Date(T0 + 2 * MIN)], new TimestampMillisecond()),
        amount: vectorFromArray([1, 2, 3], new Float64()),
        kind: vectorFromArray(['a', null, 'c'], new Utf8()),
        n: vectorFromArray([1, 2, null], new Int32()),
      });
      const file = path.join(tmp, `${driver}-events.arrow`);
      fs.writeFileSync(file, tableToIPC(table.concat(table.slice(0, 2)), 'file'));
      const result = await ingest(db.handle.db, 'ingest_events', await arrowSource(file), { batchRows: 2 });
      expect(result).toMatchObject({ rows: 5, batches: 3 });
      expect(await count('features.ingest_events', `customer_id = 'x2' and kind is null`)).toBe(2);
    });

    it('refuses a file whose schema does not match the view, naming the column, before writing anything', async () => {
      const before = await db.handle.db.select().from(featureIngestions);
      await expect(parquetSource(writeParquet('no-kind', { kind: null })).then((s) => ingest(db.handle.db, 'ingest_events', s))).rejects.toThrow(
        /has no column "kind" \(the view's feature, string\)/,
      );
      const wrongType = writeParquet('amount-text', { amount: { data: TEN.map(String), type: 'STRING' } });
      await expect(parquetSource(wrongType).then((s) => ingest(db.handle.db, 'ingest_events', s))).rejects.toThrow(
        'column "amount" holds string values but the view declares float64',
      );
      expect(await db.handle.db.select().from(featureIngestions)).toEqual(before);
    });

    it('takes back every batch when a later row lacks its timestamp, and marks the ingestion failed', async () => {
      const rowsBefore = await count('features.ingest_events');
      const file = writeParquet('null-time', { at: { data: TEN.map((i) => (i === 7 ? null : new Date(T0 + i * MIN))), type: 'TIMESTAMP' } });
      const attempt = ingest(db.handle.db, 'ingest_events', await parquetSource(file), { batchRows: 3 });
      await expect(attempt).rejects.toThrow(/Row 7 of .*: event timestamp "at" is missing/);
      expect(await count('features.ingest_events')).toBe(rowsBefore);
      const failed = (await db.handle.db.select().from(featureIngestions)).find((r) => r.source === file);
      expect(failed).toMatchObject({ status: 'failed', rows: 0 });
      expect(failed?.error).toContain('Row 7');
    });

    it('names the column and row of unparseable timestamps, missing join keys and non-finite numbers', async () => {
      const rows = (overrides: Record<string, unknown[]>) =>
        tableSource(
          new Table({
            customer_id: vectorFromArray(overrides.customer_id ?? ['a', 'b'], new Utf8()),
            at: vectorFromArray(overrides.at ?? ['2024-01-01T00:00:00Z', '2024-01-01 00:05'], new Utf8()),
            amount: vectorFromArray(overrides.amount ?? [1, 2], new Float64()),
            kind: vectorFromArray(['k', 'k'], new Utf8()),
            n: vectorFromArray([1, 2], new Int32()),
          }),
          { description: 'memory' },
        );
      await expect(ingest(db.handle.db, 'ingest_events', rows({ at: ['2024-01-01T00:00:00Z', 'yesterday'] }))).rejects.toThrow(
        'Row 1 of memory: event timestamp "at" has an unparseable timestamp "yesterday"',
      );
      await expect(ingest(db.handle.db, 'ingest_events', rows({ customer_id: ['a', null] }))).rejects.toThrow('join key "customer_id" is missing');
      await expect(ingest(db.handle.db, 'ingest_events', rows({ amount: [1, NaN] }))).rejects.toThrow(
        /feature "amount" is NaN; non-finite numbers are refused \(ingest with nonFinite: 'null' to store them as null\)/,
      );
      const stored = await ingest(db.handle.db, 'ingest_events', rows({ amount: [Infinity, 2] }), { nonFinite: 'null' });
      expect(stored.nonFiniteAsNull).toEqual({ amount: 1 });
      expect(await count('features.ingest_events', `_ingestion = ${stored.ingestionId} and amount is null`)).toBe(1);
      // A time without a zone is UTC.
      expect(await count('features.ingest_events', `_ingestion = ${stored.ingestionId} and at = '2024-01-01T00:05:00Z'`)).toBe(1);
    });
  });

  describe('point in time, online and statistics', () => {
    let store: FeatureStore;

    it('joins as of each row: at-or-before, within the TTL, ignoring rows created later (late backfills), null when missing', async () => {
      store = createFeatureStore(db.handle.db, [checkout]);
      await store.apply();
      await store.ingest('customer_spend', tableSource(spendTable(history), { description: 'history' }));
      await store.ingest('shop_sales', tableSource(new Table({ shop_id: vectorFromArray([7n], new Int64()), at: vectorFromArray([new Date(T0)], new TimestampMillisecond()), revenue: vectorFromArray([100], new Float64()) }), { description: 'sales' }));
      const asked: Array<[string, bigint, number]> = [
        ['c1', 7n, T0 - MIN],
        ['c1', 7n, T0],
        ['c1', 7n, T0 + HOUR],
        ['c1', 7n, T0 + 2 * HOUR],
        ['c1', 8n, T0 + 3 * HOUR],
        ['c1', 7n, T0 + 4 * HOUR],
        ['c2', 7n, T0 + 3 * HOUR - MIN],
        ['c2', 7n, T0 + 3 * HOUR],
        ['c3', 7n, T0 + 1000 * HOUR],
      ];
      const result = await store.getHistoricalFeatures({ entityRows: entityRows(asked), entityTimestamp: 'at', featureService: 'checkout' });
      expect(result.schema.fields.map((f) => f.name)).toEqual([
        'customer_id',
        'shop_id',
        'at',
        'customer_spend__spend',
        'customer_spend__visits',
        'customer_spend__tier',
        'shop_sales__revenue',
        'spend_per_visit__value',
      ]);
      expect(column(result, 'customer_spend__spend')).toEqual([null, 10, 20, 20, 25, 999, 5, null, null]);
      expect(column(result, 'customer_spend__tier')).toEqual([null, 'bronze', 'silver', 'silver', 'silver', 'gold', 'silver', null, null]);
      expect(column(result, 'spend_per_visit__value')).toEqual([null, 10, 10, 10, 12.5, 333, null, null, null]);
      expect(column(result, 'shop_sales__revenue')).toEqual([null, 100, 100, 100, null, 100, 100, 100, 100]);
    });

    it('refuses unknown services and entity keys of the wrong type, naming them', async () => {
      const rows = entityRows([['c1', 7n, T0]]);
      await expect(getHistoricalFeatures(db.handle.db, { entityRows: rows, entityTimestamp: 'at', featureService: 'nope', definitions: [checkout] })).rejects.toThrow(NotFoundError);
      const wrong = new Table({ customer_id: rows.getChild('customer_id')!, shop_id: vectorFromArray(['7'], new Utf8()), at: rows.getChild('at')! });
      await expect(store.getHistoricalFeatures({ entityRows: wrong, entityTimestamp: 'at', featureService: checkout })).rejects.toThrow(
        'Entity key "shop_id" has type Utf8 in the entity rows, but feature view "shop_sales" declares it int64.',
      );
      await expect(store.getOnlineFeatures('checkout', [{ customer_id: 'c1', shop_id: 'seven' }])).rejects.toThrow(/"shop_id" must be a whole number \(int64\)/);
      await expect(store.getOnlineFeatures('checkout', [{ customer_id: 'c1' }])).rejects.toThrow(/has no "shop_id", a join key of feature view "shop_sales"/);
    });

    it('materializes the latest row per entity and serves it with present, expired and missing statuses', async () => {
      const progress: number[] = [];
      const runs = await store.materialize({ views: ['customer_spend', 'shop_sales'], batchRows: 2, onProgress: (p) => p.view === 'customer_spend' && progress.push(p.rowsRead) });
      expect(runs.map((r) => [r.view, r.mode, r.rowsRead, r.entitiesWritten])).toEqual([
        ['customer_spend', 'full', 5, 2],
        ['shop_sales', 'full', 1, 1],
      ]);
      expect(progress).toEqual([0, 2, 4, 5]);
      const online = await store.getOnlineFeatures('checkout', [{ customer_id: 'c1', shop_id: 7 }, { customer_id: 'c2', shop_id: 8 }, { customer_id: 'c3', shop_id: 7n }], { now: T0 + 4 * HOUR });
      expect(online.features).toEqual(['customer_spend__spend', 'customer_spend__visits', 'customer_spend__tier', 'shop_sales__revenue', 'spend_per_visit__value']);
      expect(online.rows.map((r) => r.values)).toEqual([
        { customer_spend__spend: 999, customer_spend__visits: 3, customer_spend__tier: 'gold', shop_sales__revenue: 100, spend_per_visit__value: 333 },
        { customer_spend__spend: null, customer_spend__visits: null, customer_spend__tier: null, shop_sales__revenue: null, spend_per_visit__value: null },
        { customer_spend__spend: null, customer_spend__visits: null, customer_spend__tier: null, shop_sales__revenue: 100, spend_per_visit__value: null },
      ]);
      expect(online.rows.map((r) => [r.statuses.customer_spend__spend, r.statuses.shop_sales__revenue, r.statuses.spend_per_visit__value])).toEqual([
        ['present', 'present', 'present'],
        ['expired', 'missing', 'expired'],
        ['missing', 'present', 'missing'],
      ]);
    });

    it('materializes incrementally only what was ingested since, never letting an old backfill replace a newer row', async () => {
      const other = new OnlineStore(db.handle.db, [checkout], { revalidateMs: 0 });
      const ask = (s: OnlineStore) => s.getOnlineFeatures('checkout', [{ customer_id: 'c2', shop_id: 7 }], { now: T0 + 4 * HOUR });
      expect((await ask(other)).rows[0]!.statuses.customer_spend__spend).toBe('expired');
      await other.settle();
      await store.ingest(
        'customer_spend',
        tableSource(
          spendTable([
            { customer_id: 'c2', event_at: T0 + 4 * HOUR, created_at: T0 + 4 * HOUR, spend: 7, visits: 7, tier: 'gold' },
            { customer_id: 'c1', event_at: T0 + 20 * MIN, created_at: T0 + 4 * HOUR, spend: -1, visits: 1, tier: 'bronze' },
          ]),
          { description: 'late rows' },
        ),
      );
      const [run] = await store.materialize({ views: ['customer_spend'], incremental: true });
      expect(run).toMatchObject({ mode: 'incremental', fromSeq: 1, toSeq: 2, rowsRead: 2, entitiesWritten: 2 });
      const fresh = await store.getOnlineFeatures('checkout', [{ customer_id: 'c1', shop_id: 7 }, { customer_id: 'c2', shop_id: 7 }], { now: T0 + 4 * HOUR });
      expect(fresh.rows.map((r) => r.values.customer_spend__spend)).toEqual([999, 7]);
      // Another process's cache: stale until its background check sees the new materialization.
      expect((await ask(other)).rows[0]!.values.customer_spend__spend).toBe(null);
      await other.settle();
      expect((await ask(other)).rows[0]!.values.customer_spend__spend).toBe(7);
      const [again] = await store.materialize({ views: ['customer_spend'], incremental: true });
      expect(again).toMatchObject({ rowsRead: 0, fromSeq: 2, toSeq: 2 });
    });

    it('serves online exactly what getHistoricalFeatures gives at the same time (no skew)', async () => {
      for (const now of [T0 + 4 * HOUR, T0 + 6 * HOUR + 30 * MIN, T0 + 8 * HOUR]) {
        const keys: Array<[string, bigint]> = [['c1', 7n], ['c2', 7n], ['c3', 8n], ['c2', 8n]];
        const offline = await store.getHistoricalFeatures({ entityRows: entityRows(keys.map(([c, s]) => [c, s, now])), entityTimestamp: 'at', featureService: 'checkout' });
        const online = await store.getOnlineFeatures('checkout', keys.map(([customer_id, shop_id]) => ({ customer_id, shop_id })), { now });
        for (const name of online.features) expect(online.rows.map((r) => r.values[name]), `${name} at ${new Date(now).toISOString()}`).toEqual(column(offline, name));
      }
    });

    it('stores statistics at materialization, extended by incremental runs', async () => {
      const stats = await store.statistics('customer_spend');
      expect(stats.mode).toBe('incremental');
      const spendStats = stats.features.spend!;
      const values = [10, 20, 25, 999, 5, 7, -1];
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
      expect(spendStats).toMatchObject({ kind: 'numeric', count: 7, nulls: 0, min: -1, max: 999 });
      if (spendStats.kind !== 'numeric') throw new Error('spend is numeric');
      expect(spendStats.mean).toBeCloseTo(mean, 9);
      expect(spendStats.std).toBeCloseTo(std, 9);
      expect(spendStats.quantiles.p50).toBe(10);
      expect(spendStats.histogram.counts.reduce((a, b) => a + b, 0)).toBe(7);
      const tier = stats.features.tier!;
      expect(tier).toMatchObject({ kind: 'categorical', count: 7, nulls: 0, distinct: 3 });
      if (tier.kind !== 'categorical') throw new Error('tier is categorical');
      expect(tier.top.slice(0, 2)).toEqual([
        { value: 'silver', count: 3, share: 3 / 7 },
        { value: 'bronze', count: 2, share: 2 / 7 },
      ]);
      expect(stats.features.email).toMatchObject({ count: 3, nulls: 4 });
      await expect(store.statistics('ingest_events')).rejects.toThrow(/no statistics yet.*steward materialize --view ingest_events/);
    });
  });
});
