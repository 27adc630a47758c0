/**
 * npm run bench:cli [-- --runs N] [-- --sources]
 *
 * How long the `steward` command takes to start, run from the compiled CLI in dist/ (the npm script
 * builds it first when a source changed): `steward --help`, and `steward models list` on the
 * embedded PGlite database in a fresh temporary STEWARD_HOME (after one warm-up run that creates
 * and migrates the database). Each figure is the median of N runs (default 9), printed with its
 * ratio to a bare `node -e ''` start measured in the same rounds: the commands and the baseline take
 * turns, so a busy machine slows them alike. `--sources` adds `steward --help` run from the
 * TypeScript sources through tsx (STEWARD_FROM_SOURCE=1), what every start cost before dist/.
 * Figures are printed, never asserted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin', 'steward.js');
const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const runs = runsArg === -1 ? 9 : Number(args[runsArg + 1]);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number of at least 1, got "${args[runsArg + 1]}".`);
const withSources = args.includes('--sources');

if (!fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) {
  throw new Error('dist/ is not built: run `npm run bench:cli` (it builds first) or `npm run build`.');
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-cli-'));
// The embedded database, whatever the caller's shell points at; the compiled CLI, even in a checkout.
const env: NodeJS.ProcessEnv = { ...process.env, STEWARD_HOME: home, STEWARD_FROM_SOURCE: '0' };
delete env.DATABASE_URL;

interface Case {
  label: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const cases: Case[] = [
  { label: "node -e ''", args: ['-e', ''] },
  { label: 'steward --help', args: [bin, '--help'] },
  { label: 'steward models list', args: [bin, 'models', 'list'] },
  ...(withSources ? [{ label: 'steward --help (sources, tsx)', args: [bin, '--help'], env: { ...env, STEWARD_FROM_SOURCE: '1' } }] : []),
];

/** Runs one case to completion and returns its wall time in milliseconds; a failure stops the benchmark. */
function time(c: Case): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, c.args, { env: c.env ?? env, encoding: 'utf8' });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${c.label} exited with ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

try {
  process.stdout.write(`steward CLI start-up from dist/ on Node ${process.version}, ${os.cpus().length} cores; STEWARD_HOME=${home}\n`);
  const warmUp = time(cases[2]!);
  process.stdout.write(`warm-up: steward models list created and migrated the database in ${warmUp.toFixed(0)} ms\n`);
  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < runs; round++) {
    for (const c of cases) samples.get(c)!.push(time(c));
  }
  const baseline = median(samples.get(cases[0]!)!);
  process.stdout.write(`median of ${runs} run${runs === 1 ? '' : 's'} each:\n`);
  for (const c of cases) {
    const ms = median(samples.get(c)!);
    process.stdout.write(`  ${c.label.padEnd(32)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / baseline).toFixed(1).padStart(5)}x node\n`);
  }
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}
