/**
 * npm run bench:drift
 *
 * Every column of flights-3m (date as epoch ms, delay, distance, origin, destination), ordered by
 * date and cut in half: 1.5 million reference rows against 1.5 million current rows. The columns are
 * written once to a temporary folder as raw binary (Float64 for numbers, fixed-width ASCII for
 * airport codes); Steward's tests (bench/drift-steward.ts, its own Node process) and scipy's
 * (bench/drift_scipy.py, Debian's /usr/bin/python3 with python3-scipy) read the same files in the
 * same run. Each test is timed from the in-memory column to its result, best of BENCH_DRIFT_REPEATS
 * (3), and each side's peak RSS is reported after loading and after the tests. Prints per-test
 * times, the ratio Steward/scipy (target: <= 1 on every test), and whether the statistics agree.
 * Figures are printed, never asserted.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { vegaDataset } from '../src/datasets/vega.js';
import { parquetSource } from '../src/features/sources.js';

const REPEATS = Number(process.env.BENCH_DRIFT_REPEATS ?? 3);
const NUMERIC = ['date', 'delay', 'distance'] as const;
const CATEGORICAL = ['origin', 'destination'] as const;
const NUMERIC_TESTS = ['ks', 'wasserstein', 'jensenshannon'];
const CATEGORICAL_TESTS = ['chisquare', 'jensenshannon'];

console.log('Reading flights-3m.parquet...');
const source = await parquetSource(vegaDataset('flights-3m.parquet'));
const n = source.rows ?? 0;
const numbers = Object.fromEntries(NUMERIC.map((c) => [c, new Float64Array(n)])) as Record<(typeof NUMERIC)[number], Float64Array>;
const strings = Object.fromEntries(CATEGORICAL.map((c) => [c, new Array<string>(n)])) as Record<(typeof CATEGORICAL)[number], string[]>;
for await (const batch of source.batches()) {
  for (const c of NUMERIC) {
    const values = batch.columns[c]!;
    for (let i = 0; i < batch.length; i++) numbers[c][batch.rowStart + i] = values[i] === null ? Number.NaN : Number(values[i]);
  }
  for (const c of CATEGORICAL) {
    const values = batch.columns[c]!;
    for (let i = 0; i < batch.length; i++) strings[c][batch.rowStart + i] = String(values[i]);
  }
}

// Order by date (stable), then the first half is the reference and the second the current data.
const order = Uint32Array.from({ length: n }, (_, i) => i);
let sorted = true;
for (let i = 1; i < n && sorted; i++) sorted = numbers.date[i - 1]! <= numbers.date[i]!;
if (!sorted) order.sort((a, b) => numbers.date[a]! - numbers.date[b]! || a - b);
const half = Math.floor(n / 2);
const cutDate = new Date(numbers.date[order[half]!]!).toISOString().slice(0, 10);

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-drift-'));
const columns = [];
for (const c of NUMERIC) {
  const all = numbers[c];
  for (const [side, from, to] of [['ref', 0, half], ['cur', half, n]] as const) {
    const out = Float64Array.from(order.subarray(from, to), (i) => all[i]!);
    fs.writeFileSync(path.join(folder, `${c}.${side}`), new Uint8Array(out.buffer));
  }
  columns.push({ name: c, kind: 'numeric', width: 8, tests: NUMERIC_TESTS });
}
for (const c of CATEGORICAL) {
  const all = strings[c];
  let width = 1;
  for (const value of all) width = Math.max(width, value.length);
  for (const [side, from, to] of [['ref', 0, half], ['cur', half, n]] as const) {
    const out = Buffer.alloc((to - from) * width);
    for (let r = from; r < to; r++) out.write(all[order[r]!]!, (r - from) * width, 'latin1');
    fs.writeFileSync(path.join(folder, `${c}.${side}`), out);
  }
  columns.push({ name: c, kind: 'categorical', width, tests: CATEGORICAL_TESTS });
}
fs.writeFileSync(path.join(folder, 'meta.json'), JSON.stringify({ repeats: REPEATS, columns }));
console.log(
  `${half.toLocaleString('en-US')} reference rows (before ${cutDate}) vs ${(n - half).toLocaleString('en-US')} current rows, ${columns.length} columns; best of ${REPEATS}.`,
);

interface SideResult {
  results: Array<{ column: string; test: string; seconds: number; statistic: number | string; score: number | string }>;
  rssLoadedKb: number;
  rssPeakKb: number;
  dataset?: { seconds: number; drifted: Array<{ column: string; test: string; score: number | string; drifted: boolean }>; datasetDrift: boolean };
}
const run = (file: string, args: string[]): SideResult =>
  JSON.parse(execFileSync(file, args, { encoding: 'utf8', maxBuffer: 1 << 24 })) as SideResult;
console.log('Running Steward (node) and scipy (python3) on the same files...');
const steward = run(process.execPath, ['--import', 'tsx', new URL('./drift-steward.ts', import.meta.url).pathname, folder]);
const scipy = run('/usr/bin/python3', [new URL('./drift_scipy.py', import.meta.url).pathname, folder]);
fs.rmSync(folder, { recursive: true, force: true });

const num = (x: number | string): number => (typeof x === 'number' ? x : Number(x));
const agree = (a: number, b: number): string => {
  if (a === b) return 'equal';
  if (!Number.isFinite(a) || !Number.isFinite(b)) return `DIFFER (${a} vs ${b})`;
  const rel = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
  return rel < 1e-9 ? 'equal' : rel < 1e-6 ? `rel ${rel.toExponential(1)}` : `DIFFER rel ${rel.toExponential(1)}`;
};
const header = `${'column'.padEnd(13)}${'test'.padEnd(15)}${'Steward s'.padStart(10)}${'scipy s'.padStart(10)}${'ratio'.padStart(8)}   ${'statistic'.padEnd(20)}${'score (p or distance)'}`;
console.log(`\n${header}`);
let stewardTotal = 0;
let scipyTotal = 0;
let slower = 0;
for (const s of steward.results) {
  const k = scipy.results.find((r) => r.column === s.column && r.test === s.test)!;
  stewardTotal += s.seconds;
  scipyTotal += k.seconds;
  const ratio = s.seconds / k.seconds;
  if (ratio > 1) slower++;
  const stat = `${num(s.statistic).toPrecision(6)} ${agree(num(s.statistic), num(k.statistic))}`;
  const score = `${num(s.score).toPrecision(6)} ${agree(num(s.score), num(k.score))}`;
  console.log(
    `${s.column.padEnd(13)}${s.test.padEnd(15)}${s.seconds.toFixed(3).padStart(10)}${k.seconds.toFixed(3).padStart(10)}${`${ratio.toFixed(2)}x`.padStart(8)}   ${stat.padEnd(20)}${score}`,
  );
}
console.log(
  `${'all tests'.padEnd(28)}${stewardTotal.toFixed(3).padStart(10)}${scipyTotal.toFixed(3).padStart(10)}${`${(stewardTotal / scipyTotal).toFixed(2)}x`.padStart(8)}`,
);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
console.log(
  `\npeak RSS  Steward: ${mb(steward.rssLoadedKb)} with the columns loaded, ${mb(steward.rssPeakKb)} after the tests (+${mb(steward.rssPeakKb - steward.rssLoadedKb)})`,
);
console.log(
  `          scipy:   ${mb(scipy.rssLoadedKb)} with the columns loaded, ${mb(scipy.rssPeakKb)} after the tests (+${mb(scipy.rssPeakKb - scipy.rssLoadedKb)})`,
);
const d = steward.dataset!;
console.log(
  `\nEvidently's default rule over all ${d.drifted.length} columns (detectDatasetDrift): ${d.seconds.toFixed(3)} s; dataset drift: ${d.datasetDrift}; ` +
    d.drifted.map((c) => `${c.column} ${c.test} ${num(c.score).toFixed(4)}${c.drifted ? ' drifted' : ''}`).join(', '),
);
console.log(`target: Steward at least as fast as scipy on every test (${slower === 0 ? 'met' : `${slower} slower`})`);
