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
 * Every command runs in a project folder whose steward.config.ts declares 20 pipelines (of 5 typed
 * steps each), as a team's repository would: `--help` and `models list` must not pay for loading it,
 * `steward pipelines` does (the config compiled by tsx, the pipelines validated).
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
// A team's project of 20 pipelines, importing Steward from dist as an installed package would.
const projectDir = path.join(home, 'project');
fs.mkdirSync(projectDir);
fs.writeFileSync(path.join(projectDir, 'package.json'), JSON.stringify({ name: 'bench-project', type: 'module' }));
fs.writeFileSync(
  path.join(projectDir, 'steward.config.ts'),
  `import { defineProject, definePipeline, defineStep, z } from ${JSON.stringify(path.join(root, 'dist', 'src', 'index.js'))};
const steps = Array.from({ length: 5 }, (_, i) => defineStep({
  name: 'bench.step' + i,
  input: z.object({ value: z.number() }),
  output: z.object({ value: z.number() }),
  run: async ({ value }) => ({ value: value + 1 }),
}));
const pipelines = Array.from({ length: 20 }, (_, n) => definePipeline({
  name: 'bench-pipeline-' + n,
  description: 'Pipeline ' + n + ' of the start-up benchmark',
  params: z.object({ start: z.coerce.number().default(n) }),
  steps: (p) => {
    const nodes = [steps[0].step('s0', { value: p.start })];
    for (let i = 1; i < steps.length; i++) nodes.push(steps[i].step('s' + i, { value: nodes[i - 1].output.value }));
    return nodes;
  },
}));
export default defineProject({ name: 'bench', pipelines });
`,
);
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
  { label: 'steward pipelines (20 of the project)', args: [bin, 'pipelines'] },
  ...(withSources ? [{ label: 'steward --help (sources, tsx)', args: [bin, '--help'], env: { ...env, STEWARD_FROM_SOURCE: '1' } }] : []),
];

/** Runs one case to completion and returns its wall time in milliseconds; a failure stops the benchmark. */
function time(c: Case): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, c.args, { env: c.env ?? env, encoding: 'utf8', cwd: projectDir });
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
  process.stdout.write(`steward CLI start-up from dist/ on Node ${process.version}, ${os.cpus().length} cores; STEWARD_HOME=${home}; in a project of 20 pipelines\n`);
  const listed = spawnSync(process.execPath, [bin, '--json', 'pipelines'], { env, encoding: 'utf8', cwd: projectDir });
  const own = (JSON.parse(listed.stdout) as { pipelines: Array<{ project: string }> }).pipelines.filter((p) => p.project === 'bench').length;
  if (own !== 20) throw new Error(`the benchmark project should list 20 pipelines of its own, listed ${own}:\n${listed.stdout}${listed.stderr}`);
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
