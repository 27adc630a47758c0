/**
 * Issue 18, data files: bad files through the feature store's ingestion (parquetSource,
 * arrowSource, ingest) and through `steward features ingest` as a user runs it, on a real PGlite
 * database. Every refusal asserts the message a user sees (the file, the column or row where there
 * is one, what to do) and that nothing was kept: the view's offline rows, its complete ingestions
 * and their batch records are exactly as before, and a refused attempt leaves no running
 * ingestion behind (a failed one holds no rows). The accepted oddities (duplicate rows, extra
 * columns, CR/LF and quotes in values, a zero-row file) keep every row exactly once, and ingesting
 * the same content again writes nothing.
 *
 * The library cases read Parquet and Arrow IPC, so CSV habits appear there as their Parquet
 * equivalents (a BOM in a column name, CR/LF inside values). The command reads CSV, JSON and JSON
 * Lines as well (files.ts), in a project that declares the view: there the text formats' own
 * faults (a missing key column, text in a number column, a ragged row, an unterminated quote, a
 * binary file, a JSON object or a cut JSON line) are refused with one line and no stack, the file
 * and its columns are checked before the database is opened, and a CSV export with a byte-order
 * mark and CRLF line ends is read as it is.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { Bool, Field, Float64, Int32, Int64, Struct, Table, TimestampMillisecond, Utf8, makeData, makeVector, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerFeatureCommands } from '../../../src/cli/feature-commands.js';
import type { CommandContext } from '../../../src/cli/context.js';
import { queryRows, type DatabaseHandle } from '../../../src/db/client.js';
import { isStewardError } from '../../../src/errors.js';
import { apply, arrowSource, entity, featureView, ingest, parquetSource } from '../../../src/features/index.js';
import { loadConfig } from '../../../src/platform/config.js';
import { createLogger } from '../../../src/platform/logger.js';
import { createTestDatabase, type TestDatabase } from '../../support/databases.js';
import { rootProject } from '../../support/projects.js';
import { combineProjects, defineProject } from '../../../src/project/define.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const VIEW = 'fault_events';
const customer = entity({ name: 'customer', joinKeys: { customer_id: 'string' } });
const events = featureView({
  name: VIEW,
  entities: [customer],
  schema: { amount: 'float64', visits: 'int32', tier: 'string', active: 'bool' },
  eventTimestamp: 'event_at',
  source: { kind: 'pipeline', name: 'faults' },
  owner: 'ops',
  description: 'Bad-input fixtures',
});

let testDb: TestDatabase;
let handle: DatabaseHandle;
let dir: string;

type Col = { data: unknown[]; type: string } | null;
const TEN = Array.from({ length: 10 }, (_, i) => i);

/** A Parquet file of `n` good rows for the view, with columns replaced (or removed with null). */
function parquet(name: string, overrides: Record<string, Col> = {}, options: { n?: number; rowGroupSize?: number } = {}): string {
  const rows = Array.from({ length: options.n ?? 10 }, (_, i) => i);
  const columns: Record<string, Col> = {
    customer_id: { data: rows.map((i) => `c${i % 3}`), type: 'STRING' },
    event_at: { data: rows.map((i) => new Date(T0 + i * MIN)), type: 'TIMESTAMP' },
    amount: { data: rows.map((i) => i * 1.5), type: 'DOUBLE' },
    visits: { data: rows, type: 'INT32' },
    tier: { data: rows.map((i) => (i % 2 ? 'gold' : 'silver')), type: 'STRING' },
    active: { data: rows.map((i) => i % 2 === 0), type: 'BOOLEAN' },
    ...overrides,
  };
  const filename = path.join(dir, name);
  parquetWriteFile({
    filename,
    columnData: Object.entries(columns)
      .filter(([, c]) => c !== null)
      .map(([n, c]) => ({ name: n, data: c!.data as never, type: c!.type as 'STRING' })),
    ...(options.rowGroupSize ? { rowGroupSize: options.rowGroupSize } : {}),
  });
  return filename;
}

/** Ten rows with `name`'s value replaced at row `at`. */
const withValue = (name: string, type: string, at: number, value: unknown, base: (i: number) => unknown): Col => ({ data: TEN.map((i) => (i === at ? value : base(i))), type });

function arrowTable(overrides: Record<string, Vector | null> = {}, n = 3): Table {
  const rows = Array.from({ length: n }, (_, i) => i);
  const columns: Record<string, Vector | null> = {
    customer_id: vectorFromArray(rows.map((i) => `a${i}`), new Utf8()),
    event_at: vectorFromArray(rows.map((i) => new Date(T0 + i * MIN)), new TimestampMillisecond()),
    amount: vectorFromArray(rows.map((i) => i + 0.5), new Float64()),
    visits: vectorFromArray(rows, new Int32()),
    tier: vectorFromArray(rows.map(() => 'gold'), new Utf8()),
    active: vectorFromArray(rows.map(() => true), new Bool()),
    ...overrides,
  };
  return new Table(Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== null)) as Record<string, Vector>);
}

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function count(table: string, where = 'true'): Promise<number> {
  return (await queryRows<{ n: number }>(handle.db, sql.raw(`select count(*)::int as n from ${table} where ${where}`)))[0]!.n;
}

/** What a refused file must leave unchanged. */
async function snapshot() {
  return {
    offlineRows: await count(`features.${VIEW}`),
    complete: await count('feature_ingestions', `status = 'complete'`),
    completeRows: (await queryRows<{ n: number }>(handle.db, sql.raw(`select coalesce(sum(rows), 0)::int as n from feature_ingestions where status = 'complete'`)))[0]!.n,
    batches: await count('feature_ingestion_batches'),
    running: await count('feature_ingestions', `status = 'running'`),
  };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bad-files-'));
  testDb = await createTestDatabase('pglite');
  handle = await testDb.open();
  await apply(handle.db, [events]);
  const baseline = await ingest(handle.db, VIEW, await parquetSource(parquet('baseline.parquet')));
  expect(baseline).toMatchObject({ rows: 10, reused: false });
}, 180_000);

afterAll(async () => {
  await handle?.close();
  await testDb?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});


const viaParquet = (file: string, options: { batchRows?: number } = {}) => async () => ingest(handle.db, VIEW, await parquetSource(file), options);
const viaArrow = (file: string, options: { batchRows?: number } = {}) => async () => ingest(handle.db, VIEW, await arrowSource(file), options);
/** The file's path as messages print it, lazily (the directory exists only once the suite starts). */
const at = (name: string) => () => path.join(dir, name);

/**
 * The refusals. Functions build their file when the case runs; `says` entries that are functions
 * are resolved then (to name the file's path).
 */
const refusals: Array<[string, () => () => Promise<unknown>, Array<string | RegExp | (() => string)>]> = [
  // Not a file of the format at all.
  ['an empty .parquet file', () => viaParquet(write('empty.parquet', '')), [() => `${at('empty.parquet')()} is empty (0 bytes), not a Parquet file; write the file again.`]],
  ['CSV text named .parquet', () => viaParquet(write('csv.parquet', 'customer_id,event_at,amount\nc1,2024-01-01,1\n')), [() => `${at('csv.parquet')()} is not a readable Parquet file (parquet file invalid (footer != PAR1))`]],
  [
    'a Parquet file cut short (footer gone)',
    () => {
      const bytes = fs.readFileSync(parquet('whole.parquet'));
      return viaParquet(write('cut.parquet', bytes.subarray(0, bytes.length - 100)));
    },
    [() => `${at('cut.parquet')()} is not a readable Parquet file`],
  ],
  [
    'a Parquet file whose second row group is damaged (the first was already written)',
    () => {
      const file = parquet('damaged.parquet', {}, { rowGroupSize: 5 });
      const bytes = fs.readFileSync(file);
      const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      const chunk = metadata.row_groups[1]!.columns[0]!.meta_data!;
      const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
      bytes.fill(0, start, start + 16);
      fs.writeFileSync(file, bytes);
      return viaParquet(file, { batchRows: 5 });
    },
    [() => `${at('damaged.parquet')()} is damaged at rows 5-9:`, 'It is not a complete Parquet file; write it again. Nothing from this source was kept.'],
  ],
  ['a directory named .parquet', () => viaParquet(fs.mkdirSync(path.join(dir, 'folder.parquet'), { recursive: true }) ?? path.join(dir, 'folder.parquet')), [() => `${at('folder.parquet')()} is a directory, not a Parquet file; give the path of one file.`]],
  ['a path that does not exist', () => viaParquet(path.join(dir, 'missing.parquet')), [() => `File not found: ${at('missing.parquet')()}. Check the path.`]],
  ['an empty .arrow file', () => viaArrow(write('empty.arrow', '')), [() => `${at('empty.arrow')()} is empty (0 bytes), not an Arrow IPC file`]],
  ['JSON records named .arrow', () => viaArrow(write('records.arrow', JSON.stringify([{ customer_id: 'c1', event_at: '2024-01-01', amount: 1 }]))), [() => `${at('records.arrow')()} is not a readable Arrow IPC file`]],
  ['JSON that is not records, named .arrow', () => viaArrow(write('object.arrow', '{"rows": 3}')), [() => `${at('object.arrow')()} is not a readable Arrow IPC file`]],
  ['a huge single line named .arrow', () => viaArrow(write('line.arrow', 'x'.repeat(2 * 1024 * 1024))), [() => `${at('line.arrow')()} is not a readable Arrow IPC file`]],
  ['a Parquet file named .arrow', () => viaArrow(parquet('parquet.arrow')), [() => `${at('parquet.arrow')()} is not a readable Arrow IPC file`]],
  ['a directory named .arrow', () => viaArrow(fs.mkdirSync(path.join(dir, 'folder.arrow'), { recursive: true }) ?? path.join(dir, 'folder.arrow')), [() => `${at('folder.arrow')()} is a directory, not an Arrow IPC file`]],
  [
    'an Arrow stream cut in its last record batch (two batches already read)',
    () => {
      const table = arrowTable();
      const ipc = tableToIPC(table.concat(table).concat(table), 'stream');
      return viaArrow(write('cut.arrows', ipc.subarray(0, ipc.length - 60)), { batchRows: 2 });
    },
    [() => `${at('cut.arrows')()} is damaged after row 6:`, 'It is not a complete Arrow IPC file; write it again.'],
  ],
  ['an Arrow file cut short', () => viaArrow(write('cut.arrow', tableToIPC(arrowTable(), 'file').subarray(0, 300))), [() => `${at('cut.arrow')()} is not a readable Arrow IPC file`]],

  // The wrong columns.
  ['a file without the join key column', () => viaParquet(parquet('no-key.parquet', { customer_id: null })), ['does not match feature view "fault_events": it has no column "customer_id" (the view\'s join key, string). It has event_at, amount, visits, tier, active.']],
  ['a file without the event timestamp', () => viaParquet(parquet('no-time.parquet', { event_at: null })), ['it has no column "event_at" (the view\'s event timestamp, timestamp)']],
  ['a file without one feature', () => viaParquet(parquet('no-tier.parquet', { tier: null })), [() => `${at('no-tier.parquet')()} does not match feature view "fault_events": it has no column "tier" (the view's feature, string).`]],
  [
    'a header in other case (Customer_ID)',
    () => viaParquet(parquet('case.parquet', { customer_id: null, Customer_ID: { data: TEN.map(String), type: 'STRING' } })),
    ['it has no column "customer_id"', 'Column Customer_ID differs only by case, spaces or invisible characters (such as a byte-order mark): rename it to "customer_id".'],
  ],
  [
    'a header with a trailing space (a hand-edited CSV converted to Parquet)',
    () => viaParquet(parquet('space.parquet', { customer_id: null, 'customer_id ': { data: TEN.map(String), type: 'STRING' } })),
    ['It has event_at, amount, visits, tier, active, "customer_id ". Column "customer_id " differs only by case, spaces or invisible characters (such as a byte-order mark): rename it to "customer_id".'],
  ],
  [
    'a zero-width space inside a header',
    () => viaParquet(parquet('zwsp.parquet', { tier: null, 'ti\u200Ber': { data: TEN.map(String), type: 'STRING' } })),
    ['it has no column "tier"', 'Column "ti\\u200ber" differs only by case, spaces or invisible characters'],
  ],
  ['an Arrow file with another schema', () => viaArrow(write('other.arrow', tableToIPC(arrowTable({ amount: null, price: vectorFromArray([1, 2, 3], new Float64()) }), 'file'))), ['it has no column "amount" (the view\'s feature, float64). It has customer_id, event_at, visits, tier, active, price.']],

  // The wrong types.
  ['text in a numeric column', () => viaParquet(parquet('amount-text.parquet', { amount: { data: TEN.map((i) => `${i} EUR`), type: 'STRING' } })), ['column "amount" holds string values but the view declares float64.']],
  ['fractions in an int32 column', () => viaParquet(parquet('visits-double.parquet', { visits: { data: TEN.map((i) => i + 0.5), type: 'DOUBLE' } })), ['column "visits" holds float values but the view declares int32.']],
  ['numbers in a bool column', () => viaParquet(parquet('active-int.parquet', { active: { data: TEN, type: 'INT32' } })), ['column "active" holds integer values but the view declares bool.']],
  ['integer customer ids for a string join key', () => viaArrow(write('int-key.arrow', tableToIPC(arrowTable({ customer_id: vectorFromArray([1n, 2n, 3n], new Int64()) }), 'file'))), ['column "customer_id" holds integer values but the view declares string.']],
  ['numbers in an Arrow string feature', () => viaArrow(write('int-tier.arrow', tableToIPC(arrowTable({ tier: vectorFromArray([1, 2, 3], new Int32()) }), 'file'))), ['column "tier" holds integer values but the view declares string.']],
  [
    'a struct in a numeric column',
    () => {
      const type = new Struct([new Field('value', new Float64())]);
      const amount = makeVector(makeData({ type, length: 3, nullCount: 0, children: [makeData({ type: new Float64(), length: 3, data: Float64Array.of(1, 2, 3) })] }));
      return viaArrow(write('struct.arrow', tableToIPC(arrowTable({ amount }), 'file')));
    },
    [() => `Row 0 of ${at('struct.arrow')()}: feature "amount" is {"value":1}, not a number. Nothing from this source was kept.`],
  ],

  // The wrong values, found row by row (earlier batches are taken back).
  ['NaN in a numeric feature', () => viaParquet(parquet('nan.parquet', { amount: withValue('amount', 'DOUBLE', 3, Number.NaN, (i) => i) })), [() => `Row 3 of ${at('nan.parquet')()}: feature "amount" is NaN; non-finite numbers are refused (ingest with nonFinite: 'null' to store them as null). Nothing from this source was kept.`]],
  ['Infinity in a numeric feature, in the last batch', () => viaParquet(parquet('inf.parquet', { amount: withValue('amount', 'DOUBLE', 9, Number.POSITIVE_INFINITY, (i) => i) }), { batchRows: 2 }), ['Row 9 of', 'feature "amount" is Infinity; non-finite numbers are refused']],
  ['a number beyond int32', () => viaParquet(parquet('big.parquet', { visits: { data: TEN.map((i) => (i === 6 ? 3_000_000_000n : BigInt(i))), type: 'INT64' } }), { batchRows: 4 }), ['Row 6 of', 'feature "visits" is 3000000000, outside int32. Nothing from this source was kept.']],
  ['a missing entity key', () => viaParquet(parquet('null-key.parquet', { customer_id: withValue('customer_id', 'STRING', 4, null, (i) => `c${i}`) }), { batchRows: 3 }), ['Row 4 of', 'join key "customer_id" is missing (every row needs its entity key). Nothing from this source was kept.']],
  ['a missing event time after three written batches', () => viaParquet(parquet('null-time.parquet', { event_at: withValue('event_at', 'TIMESTAMP', 9, null, (i) => new Date(T0 + i * MIN)) }), { batchRows: 3 }), ['Row 9 of', 'event timestamp "event_at" is missing (every row needs the time its values became true)']],
  ['a timestamp in words', () => viaParquet(parquet('words.parquet', { event_at: withValue('event_at', 'STRING', 2, 'yesterday', (i) => new Date(T0 + i * MIN).toISOString()) })), ['Row 2 of', 'event timestamp "event_at" has an unparseable timestamp "yesterday" (write ISO 8601 such as 2024-01-31T08:00:00Z']],
  ['February 30th', () => viaParquet(parquet('feb30.parquet', { event_at: withValue('event_at', 'STRING', 5, '2024-02-30T10:00:00Z', (i) => new Date(T0 + i * MIN).toISOString()) })), ['Row 5 of', 'has an unparseable timestamp "2024-02-30T10:00:00Z"']],
  ['month 13', () => viaParquet(parquet('month13.parquet', { event_at: withValue('event_at', 'STRING', 1, '2024-13-01', (i) => new Date(T0 + i * MIN).toISOString()) })), ['Row 1 of', 'has an unparseable timestamp "2024-13-01"']],
  ['an epoch beyond what PostgreSQL stores', () => viaParquet(parquet('far.parquet', { event_at: withValue('event_at', 'DOUBLE', 0, 1e20, (i) => T0 + i * MIN) })), ['Row 0 of', 'has an unparseable timestamp "100000000000000000000"']],
  ['a NUL character in a string feature', () => viaParquet(parquet('nul.parquet', { tier: withValue('tier', 'STRING', 7, 'gold\u0000', () => 'gold') })), ['Row 7 of', 'feature "tier" contains a NUL character. Nothing from this source was kept.']],
];

describe('bad data files are refused with a message, and nothing is kept', () => {
  it.each(refusals)(
    'refuses %s',
    async (_what, make, says) => {
      const before = await snapshot();
      const attempt = make();
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      // A refusal the user can act on (the CLI prints StewardErrors without a stack), never a crash.
      expect(error).toBeDefined();
      expect(isStewardError(error)).toBe(true);
      const message = (error as Error).message;
      for (const part of says) {
        const expected = typeof part === 'function' ? part() : part;
        if (typeof expected === 'string') expect(message).toContain(expected);
        else expect(message).toMatch(expected);
      }
      expect(message).not.toMatch(/\n\s+at /);
      // Nothing kept: no rows, no completed ingestion, no batch record, nothing left running.
      expect(await snapshot()).toEqual(before);
      const failed = await queryRows<{ rows: number; batches: number; error: string }>(handle.db, sql`select rows::int, batches, error from feature_ingestions where status = 'failed'`);
      for (const record of failed) expect([record.rows, record.batches]).toEqual([0, 0]);
    },
    60_000,
  );
});

describe('odd but valid files keep every row exactly once', () => {
  const source = async (file: string) => (file.endsWith('.parquet') ? parquetSource(file) : arrowSource(file));
  const ingested = async (file: string) => ingest(handle.db, VIEW, await source(file));

  it('keeps both of two identical rows, and ingesting the file again writes nothing', async () => {
    const file = parquet('duplicates.parquet', { customer_id: { data: TEN.map(() => 'dup'), type: 'STRING' }, event_at: { data: TEN.map(() => new Date(T0)), type: 'TIMESTAMP' }, amount: { data: TEN.map(() => 1), type: 'DOUBLE' }, visits: { data: TEN.map(() => 1), type: 'INT32' } }, { n: 10 });
    const before = await snapshot();
    const first = await ingested(file);
    expect(first).toMatchObject({ rows: 10, reused: false });
    expect(await count(`features.${VIEW}`, `customer_id = 'dup'`)).toBe(10);
    const again = await ingested(file);
    expect(again).toMatchObject({ rows: 10, reused: true, ingestionId: first.ingestionId });
    // The same content under another name is the same ingestion.
    const copy = path.join(dir, 'duplicates-copy.parquet');
    fs.copyFileSync(file, copy);
    expect(await ingested(copy)).toMatchObject({ reused: true, ingestionId: first.ingestionId });
    expect(await snapshot()).toEqual({ ...before, offlineRows: before.offlineRows + 10, complete: before.complete + 1, completeRows: before.completeRows + 10, batches: before.batches + 1 });
  });

  it('reads a byte-order mark before the first header (a CSV export converted to Parquet) as the header', async () => {
    const file = parquet('bom.parquet', { customer_id: null, '\uFEFFcustomer_id': { data: TEN.map((i) => `bom${i}`), type: 'STRING' } });
    expect(await ingested(file)).toMatchObject({ rows: 10, reused: false });
    expect(await count(`features.${VIEW}`, `customer_id like 'bom%'`)).toBe(10);
  });

  it('ignores extra columns and stores the view columns of every row', async () => {
    const file = parquet('extra.parquet', { customer_id: { data: TEN.map((i) => `x${i}`), type: 'STRING' }, note: { data: TEN.map(() => 'ignored'), type: 'STRING' } });
    const result = await ingested(file);
    expect(result).toMatchObject({ rows: 10, reused: false });
    expect(await count(`features.${VIEW}`, `customer_id like 'x%'`)).toBe(10);
  });

  it('stores CR/LF, quotes, commas, empty strings and a line holding only \\. in values as they are, one row each', async () => {
    const values = ['line\r\nbreak', 'say "hi"', 'a,b,c', '', '\\.', 'trailing\n', '"', 'ünïcödé ✓', '\\N', 'NULL'];
    const file = parquet('text.parquet', { customer_id: { data: TEN.map((i) => `t${i}`), type: 'STRING' }, tier: { data: values, type: 'STRING' } });
    const result = await ingested(file);
    expect(result).toMatchObject({ rows: 10 });
    const stored = await queryRows<{ customer_id: string; tier: string | null }>(handle.db, sql.raw(`select customer_id, tier from features.${VIEW} where _ingestion = ${result.ingestionId} order by _row`));
    expect(stored.map((r) => r.tier)).toEqual(values);
  });

  it('ingests a zero-row file as zero rows', async () => {
    const before = await snapshot();
    const result = await ingested(parquet('zero.parquet', {}, { n: 0 }));
    expect(result).toMatchObject({ rows: 0, batches: 0, reused: false });
    expect((await snapshot()).offlineRows).toBe(before.offlineRows);
  });

  it('stores non-finite numbers as null only when asked, counting them', async () => {
    const file = parquet('nan-ok.parquet', { customer_id: { data: TEN.map((i) => `n${i}`), type: 'STRING' }, amount: withValue('amount', 'DOUBLE', 3, Number.NaN, (i) => i) });
    const result = await ingest(handle.db, VIEW, await parquetSource(file), { nonFinite: 'null' });
    expect(result).toMatchObject({ rows: 10, nonFiniteAsNull: { amount: 1 } });
    expect(await count(`features.${VIEW}`, `_ingestion = ${result.ingestionId} and amount is null`)).toBe(1);
  });

  it('takes a file again after it was refused and fixed, exactly once', async () => {
    const before = await snapshot();
    const bad = parquet('retry.parquet', { customer_id: { data: TEN.map((i) => (i === 8 ? null : `r${i}`)), type: 'STRING' } });
    await expect(ingest(handle.db, VIEW, await parquetSource(bad), { batchRows: 3 })).rejects.toThrow('join key "customer_id" is missing');
    expect(await snapshot()).toEqual(before);
    const good = parquet('retry.parquet', { customer_id: { data: TEN.map((i) => `r${i}`), type: 'STRING' } });
    expect(await ingest(handle.db, VIEW, await parquetSource(good), { batchRows: 3 })).toMatchObject({ rows: 10, batches: 4 });
    expect(await count(`features.${VIEW}`, `customer_id like 'r%'`)).toBe(10);
  });
});

describe('steward features ingest, as a user runs it', () => {
  let home: string;
  // The project the user runs the command in: Steward's built-ins and the test's entity and view,
  // with a second view declared in code but never applied.
  const pending = featureView({
    name: 'fault_pending',
    entities: [customer],
    schema: { amount: 'float64', visits: 'int32', tier: 'string', active: 'bool' },
    eventTimestamp: 'event_at',
    source: { kind: 'pipeline', name: 'faults' },
    owner: 'ops',
    description: 'Declared in code, never applied',
  });
  const project = combineProjects(rootProject, defineProject({ name: 'faults', features: [customer, events, pending] }));

  /** `steward <args>` in process, over the PGlite database at `pgliteDir`, with what it wrote to stdout and stderr. */
  async function stewardOver(pgliteDir: string, args: string[]): Promise<{ stdout: string; stderr: string; error?: Error }> {
    const config = loadConfig({ STEWARD_HOME: home }, home);
    const context = (): CommandContext => ({ config: { ...config, database: { url: undefined, pgliteDir } }, logger: createLogger('error'), json: false, project: async () => project });
    const program = new Command().exitOverride();
    registerFeatureCommands(program, context);
    let stdout = '';
    let stderr = '';
    const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    try {
      await program.parseAsync(['node', 'steward', ...args]);
      return { stdout, stderr };
    } catch (error) {
      return { stdout, stderr, error: error as Error };
    } finally {
      outSpy.mockRestore();
      errSpy.mockRestore();
    }
  }
  const steward = (...args: string[]) => stewardOver(testDb.pgliteDir, args);

  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bad-files-home-'));
    before = await snapshot();
    // PGlite is single-process: the command opens the database itself.
    await handle.close();
  }, 60_000);
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  const HEADER = ['customer_id', 'event_at', 'amount', 'visits', 'tier', 'active'];
  /** A CSV file of ten good rows for the view (keys `prefix`0-9), its records edited by `edit` (the header is record 0). */
  function csv(name: string, edit: (records: string[][]) => string[][] = (r) => r, options: { prefix?: string; eol?: string; bom?: boolean } = {}): string {
    const records = [HEADER, ...TEN.map((i) => [`${options.prefix ?? 'c'}${i}`, new Date(T0 + i * MIN).toISOString(), String(i * 1.5), String(i), i % 2 ? 'gold' : 'silver', String(i % 2 === 0)])];
    const eol = options.eol ?? '\n';
    return write(name, `${options.bom ? '\uFEFF' : ''}${edit(records).map((r) => r.join(',')).join(eol)}${eol}`);
  }
  const without = (column: string) => (records: string[][]) => records.map((r) => r.filter((_, c) => HEADER[c] !== column));
  const atRow = (row: number, column: string, value: string) => (records: string[][]) => records.map((r, i) => (i === row ? r.map((v, c) => (HEADER[c] === column ? value : v)) : r));
  const ingestArgs = (file: string, ...more: string[]) => ['features', 'ingest', VIEW, file, ...more];
  const noColumn = (file: string, column: string, what: string, columns: string, fix: string) => `${file} has no column "${column}" (${what}) for feature view "fault_events". Its columns are ${columns}.${fix}`;
  const KEY_FIX = " Map it in the view's file source with columns: { customer_id: '<file column>' }, or give every row one value with constants: { customer_id: '…' }.";

  /** Each case: the command's arguments (its files made when the case runs) and the whole one-line message, given the file argument. */
  const cli: Array<[string, () => string[], (file: string) => string]> = [
    // CSV is read now: its faults are refused by what the file holds, naming the file, the row, line and column.
    ['a CSV file without the join key column', () => ingestArgs(csv('no-key.csv', without('customer_id'))), (file) => noColumn(file, 'customer_id', "the view's join key, string", 'event_at, amount, visits, tier, active', KEY_FIX)],
    [
      'a CSV header in other case (Customer_ID)',
      () => ingestArgs(csv('case.csv', (r) => [['Customer_ID', ...HEADER.slice(1)], ...r.slice(1)])),
      (file) =>
        noColumn(file, 'customer_id', "the view's join key, string", 'Customer_ID, event_at, amount, visits, tier, active', ` Column "Customer_ID" differs only by case or spaces: rename it in the view's file source (columns: { customer_id: 'Customer_ID' }).`),
    ],
    [
      'text in a numeric CSV column, after two written batches',
      () => ingestArgs(csv('amount-text.csv', atRow(7, 'amount', '12 EUR')), '--batch-rows', '3'),
      (file) => `${file}, row 7 (line 8): column "amount" (feature of feature view "fault_events") is "12 EUR", not a number (declared float64). Fix the value, or declare "amount" string if the column is text. Nothing from this file was kept.`,
    ],
    [
      'NaN in a CSV numeric column',
      () => ingestArgs(csv('nan.csv', atRow(4, 'amount', 'NaN'))),
      // The ingestion counts rows from 0 (this is the file's data row 4, line 5) and names the library's option, not --non-finite.
      (file) => `Row 3 of ${file}: feature "amount" is NaN; non-finite numbers are refused (ingest with nonFinite: 'null' to store them as null). Nothing from this source was kept.`,
    ],
    [
      'a CSV row missing its key',
      () => ingestArgs(csv('empty-key.csv', atRow(10, 'customer_id', ''))),
      (file) => `${file}, row 10 (line 11): column "customer_id" (join key of feature view "fault_events") is missing (every row needs its entity key). Fix the value. Nothing from this file was kept.`,
    ],
    // csv-parse's reason, between Steward's file and line and its "nothing kept".
    [
      'a CSV file with a ragged row',
      () => ingestArgs(csv('ragged.csv', (r) => r.map((fields, i) => (i === 5 ? fields.slice(0, 2) : fields)))),
      (file) => `${file}, line 6 is not valid CSV: Invalid Record Length: expect 6, got 2 on line 6. Nothing from this file was kept.`,
    ],
    [
      'a CSV file with an unterminated quote (in its last row)',
      () => ingestArgs(csv('quote.csv', atRow(10, 'tier', '"gold'))),
      (file) => `${file}, line 11 is not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line 11. Nothing from this file was kept.`,
    ],
    // Binary content is refused before any parsing, saying what the file is when its signature tells.
    [
      'a binary file named .csv',
      () => ingestArgs(write('binary.csv', Uint8Array.from({ length: 256 }, (_, i) => i))),
      (file) => `${file} is not a CSV text file: it is binary (it holds NUL or control bytes). Give the file's real format, or convert it to CSV.`,
    ],
    [
      'a Parquet file named .csv',
      () => ingestArgs((fs.copyFileSync(path.join(dir, 'baseline.parquet'), path.join(dir, 'parquet.csv')), path.join(dir, 'parquet.csv'))),
      (file) => `${file} is not a CSV text file: it is Parquet (give format: 'parquet'). Give the file's real format, or convert it to CSV.`,
    ],
    [
      'a gzip file named .jsonl',
      () => ingestArgs(write('events.jsonl', Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, ...new TextEncoder().encode('{"customer_id": "c1"}')]))),
      (file) => `${file} is not a JSON Lines text file: it is gzip-compressed (decompress it first). Give the file's real format, or convert it to JSON Lines.`,
    ],
    // JSON and JSON Lines.
    [
      'JSON records without the join key',
      () => ingestArgs(write('no-key.json', JSON.stringify(TEN.map((i) => ({ event_at: new Date(T0 + i * MIN).toISOString(), amount: i, visits: i, tier: 'gold', active: true }))))),
      (file) => noColumn(file, 'customer_id', "the view's join key, string", 'event_at, amount, visits, tier, active', KEY_FIX),
    ],
    [
      'a JSON object, not an array of records',
      () => ingestArgs(write('object.json', '{"rows": 3}')),
      (file) => `${file} is not a JSON array of objects (Top-level object should be an array). Write it as [{...}, {...}], or as one object per line with format 'jsonl'. Nothing from this file was kept.`,
    ],
    [
      'JSON Lines with a line cut short',
      () => ingestArgs(write('cut.jsonl', `${JSON.stringify({ customer_id: 'j1', event_at: '2024-01-01', amount: 1, visits: 1, tier: 'gold', active: true })}\n{"customer_id": "j2", "event_at": "2024-01-0\n`)),
      (file) => `${file}, line 2 is not valid JSON (Unterminated string in JSON at position 44); JSON Lines hold one object per line. Nothing from this file was kept.`,
    ],
    // Not a file, or not one whose format Steward can tell.
    ['a file without an extension', () => ingestArgs(write('events', 'x')), (file) => `Cannot tell the format of ${file} from its name (it has no extension); give format: 'csv', 'json', 'jsonl', 'parquet', 'arrow'.`],
    ['a file without an extension, read with --format CSV', () => ingestArgs(write('events', 'x'), '--format', 'CSV'), (file) => noColumn(file, 'customer_id', "the view's join key, string", 'x', KEY_FIX)],
    ['--format that Steward does not read', () => ingestArgs(path.join(dir, 'baseline.parquet'), '--format', 'xlsx'), () => '--format must be one of csv, json, jsonl, parquet, arrow, got "xlsx".'],
    ['a directory named .parquet', () => ingestArgs((fs.mkdirSync(path.join(dir, 'folder.parquet'), { recursive: true }), path.join(dir, 'folder.parquet'))), (file) => `${file} is a directory, not a Parquet file; give the path of one file.`],
    ['a path that does not exist', () => ingestArgs(path.join(dir, 'nowhere', 'x.parquet')), (file) => `File not found: ${file}. Check the path.`],
    ['a Parquet file with a schema the view does not have', () => ingestArgs(parquet('cli-no-key.parquet', { customer_id: null })), (file) => noColumn(file, 'customer_id', "the view's join key, string", 'event_at, amount, visits, tier, active', KEY_FIX)],
    // The view and the options.
    [
      'a view the project does not declare',
      () => ['features', 'ingest', 'fault_evnets', path.join(dir, 'baseline.parquet')],
      () => 'The project has no feature view "fault_evnets". Its feature views: fault_events, fault_pending, origin_delays, route_delays. Declare it in the project\'s features (steward.config.ts) and run `steward apply`.',
    ],
    ['a view the project declares but never applied', () => ['features', 'ingest', 'fault_pending', path.join(dir, 'baseline.parquet')], () => 'The feature view "fault_pending" is not registered. Run `steward apply` first.'],
    [
      'a view without a declared file, given none',
      () => ['features', 'ingest', VIEW],
      () =>
        `Feature view "fault_events" declares no file to ingest (its rows come from pipeline "faults"). Give one: steward features ingest fault_events <file>; or declare it in the view, source: { kind: 'file', path: 'data/….csv' }, and run \`steward apply\`.`,
    ],
    ['--non-finite with an unknown policy', () => ingestArgs(path.join(dir, 'baseline.parquet'), '--non-finite', 'zero'), () => '--non-finite must be refuse or null, got zero.'],
    ['--batch-rows that is not a number', () => ingestArgs(path.join(dir, 'baseline.parquet'), '--batch-rows', 'lots'), () => '--batch-rows must be a whole number of rows above 0, got "lots".'],
  ];

  it.each(cli)(
    'refuses %s with one line and no stack, printing nothing on stdout',
    async (_what, makeArgs, says) => {
      const args = makeArgs();
      const { stdout, error } = await steward(...args);
      expect(error).toBeDefined();
      expect(isStewardError(error)).toBe(true);
      expect(error!.message).toBe(says(args[3] ?? ''));
      expect(stdout).toBe('');
    },
    60_000,
  );

  it('checks the file and its columns before it opens the database', async () => {
    // A database that cannot be opened: a good file fails on it, bad files are answered before it.
    const broken = path.join(write('not-a-folder', 'x'), 'pglite');
    const good = await stewardOver(broken, ingestArgs(path.join(dir, 'baseline.parquet')));
    expect((good.error as NodeJS.ErrnoException | undefined)?.code).toBe('ENOTDIR');
    const noKey = csv('before-db.csv', without('customer_id'));
    const missing = await stewardOver(broken, ingestArgs(noKey));
    expect(missing.error?.message).toBe(noColumn(noKey, 'customer_id', "the view's join key, string", 'event_at, amount, visits, tier, active', KEY_FIX));
    const nowhere = await stewardOver(broken, ingestArgs(path.join(dir, 'nowhere.csv')));
    expect(nowhere.error?.message).toBe(`File not found: ${path.join(dir, 'nowhere.csv')}. Check the path.`);
  });

  it('says a good file was ingested, then that ingesting it again wrote nothing; refused files left no trace', async () => {
    const file = parquet('cli-good.parquet', { customer_id: { data: TEN.map((i) => `cli${i}`), type: 'STRING' } });
    const hash = `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
    const first = await steward(...ingestArgs(file));
    expect(first.error).toBeUndefined();
    const id = /^ {2}ingestion: {5}(\d+)$/m.exec(first.stdout)?.[1];
    expect(first.stdout).toBe([`Ingested 10 rows into fault_events in 1 batch from ${file} (parquet).`, `  ingestion:     ${id}`, '  rows written:  10', '  skipped:       none', `  content hash:  ${hash}`, ''].join('\n'));
    // Progress goes to stderr (a line per tenth of the rows when stderr is not a terminal), the result to stdout.
    expect(first.stderr).toContain('fault_events [##############################] 100% 10/10 rows');
    const again = await steward(...ingestArgs(file));
    expect(again.error).toBeUndefined();
    expect(again.stdout).toBe(
      [`${file} was already ingested into fault_events: nothing written.`, `  ingestion:     ${id}`, '  rows written:  0', '  skipped:       10 rows, ingested before with this content', `  content hash:  ${hash}`, ''].join('\n'),
    );

    // A CSV export with a byte-order mark and CRLF line ends: the mark is not part of the first column's name.
    const exported = csv('excel.csv', (r) => r, { prefix: 'xl', eol: '\r\n', bom: true });
    const csvRun = await steward(...ingestArgs(exported, '--batch-rows', '4'));
    expect(csvRun.error).toBeUndefined();
    expect(csvRun.stdout).toMatch(new RegExp(`^Ingested 10 rows into fault_events in 3 batches from ${exported.replaceAll('.', '\\.')} \\(csv\\)\\.\\n`));
    // A CSV file's length is not known up front: rows so far, at once and then at most every second.
    expect(csvRun.stderr).toContain(`fault_events <- ${exported}: 4 rows so far (1 batch)`);

    handle = await testDb.open();
    const rows = await queryRows<{ customer_id: string; tier: string; active: boolean }>(handle.db, sql.raw(`select customer_id, tier, active from features.${VIEW} where customer_id like 'xl%' order by _row`));
    expect(rows).toEqual(TEN.map((i) => ({ customer_id: `xl${i}`, tier: i % 2 ? 'gold' : 'silver', active: i % 2 === 0 })));
    expect(await snapshot()).toEqual({ ...before, offlineRows: before.offlineRows + 20, complete: before.complete + 2, completeRows: before.completeRows + 20, batches: before.batches + 4 });
    const failed = await queryRows<{ rows: number; batches: number }>(handle.db, sql`select rows::int, batches from feature_ingestions where status = 'failed'`);
    expect(failed.length).toBeGreaterThan(0);
    for (const record of failed) expect([record.rows, record.batches]).toEqual([0, 0]);
  }, 120_000);
});
