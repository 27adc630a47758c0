/**
 * Steward's side of `npm run bench:drift`, run in its own process by bench/drift.ts so that its peak
 * memory is its own: reads the columns bench/drift.ts wrote, runs each drift test through
 * detectColumnDrift (the path monitoring takes: counting nulls/NaN, preparing, testing), best of the
 * repeats, then the whole dataset with Evidently's default rule, and prints JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { detectColumnDrift, detectDatasetDrift, type ColumnValues, type DriftTestName } from '../src/monitoring/index.js';

interface ColumnMeta {
  name: string;
  kind: 'numeric' | 'categorical';
  width: number;
  tests: DriftTestName[];
}

const folder = process.argv[2] ?? '';
const meta = JSON.parse(fs.readFileSync(path.join(folder, 'meta.json'), 'utf8')) as { repeats: number; columns: ColumnMeta[] };

function load(column: ColumnMeta, side: 'ref' | 'cur'): ColumnValues {
  const bytes = fs.readFileSync(path.join(folder, `${column.name}.${side}`));
  if (column.kind === 'numeric') return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8).slice();
  const out = new Array<string>(bytes.byteLength / column.width);
  for (let i = 0; i < out.length; i++) {
    let end = i * column.width + column.width;
    while (end > i * column.width && bytes[end - 1] === 0) end--;
    out[i] = bytes.toString('latin1', i * column.width, end);
  }
  return out;
}

const data = new Map(meta.columns.map((c) => [c.name, { reference: load(c, 'ref'), current: load(c, 'cur') }] as const));
const rssLoadedKb = process.resourceUsage().maxRSS;
const results = [];
for (const column of meta.columns) {
  const { reference, current } = data.get(column.name)!;
  for (const test of column.tests) {
    let best = Number.POSITIVE_INFINITY;
    let result = detectColumnDrift(reference, current, { column: column.name, test });
    for (let r = 0; r < meta.repeats; r++) {
      const start = performance.now();
      result = detectColumnDrift(reference, current, { column: column.name, test });
      best = Math.min(best, (performance.now() - start) / 1000);
    }
    if (!result.decided) throw new Error(`${column.name}/${test} was not decided: ${result.reason}`);
    results.push({ column: column.name, test, seconds: best, statistic: result.statistic, score: result.pValue ?? result.distance });
  }
}
const references = Object.fromEntries([...data].map(([name, d]) => [name, d.reference]));
const currents = Object.fromEntries([...data].map(([name, d]) => [name, d.current]));
const start = performance.now();
const dataset = detectDatasetDrift(references, currents);
const datasetSeconds = (performance.now() - start) / 1000;
const spelled = (x: number | null) => (x === null || Number.isFinite(x) ? x : String(x));
console.log(
  JSON.stringify({
    results: results.map((r) => ({ ...r, statistic: spelled(r.statistic), score: spelled(r.score) })),
    dataset: {
      seconds: datasetSeconds,
      drifted: dataset.columns.map((c) => ({ column: c.column, test: c.test, score: spelled(c.pValue ?? c.distance), drifted: c.drifted })),
      datasetDrift: dataset.datasetDrift,
    },
    rssLoadedKb,
    rssPeakKb: process.resourceUsage().maxRSS,
  }),
);
