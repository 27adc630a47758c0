/**
 * README's "Bring your own dataset", run as a new user would follow it: the section's TypeScript
 * blocks (each opens with a `// <file>` comment naming where it goes) are written into a fresh
 * project folder beside vega-datasets' weather.csv copied to data/weather.csv, and the loop the
 * section describes runs through Temporal on that project: train, release through a reviewer's
 * sign-off to a deployed model, the section's own /predict and ground-truth requests, a window of
 * scored rows with their truth, and drift-retrain on it. Every `npx steward ...` the section writes
 * is checked against the CLI's commands and options; `steward pipelines` and `features preview`
 * run in the project folder. A broken block or command in the README fails here.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerCommands } from '../../src/cli/commands.js';
import { vegaDataset } from '../../src/datasets/vega.js';
import { loadModelCard } from '../../src/registry/model-card.js';
import { parseCsv } from '../../src/sdk/csv.js';
import { startTestStack, type TestStack } from '../../src/sdk/test-stack.js';
import { stewardBin } from '../support/processes.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = 'max-temp-tomorrow';
const SECTION = 'Bring your own dataset';

/** The README's section, from its heading to the next `## `. */
function readmeSection(title: string): string {
  const text = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README.md has no section "## ${title}".`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

function codeBlocks(section: string, lang: string): string[] {
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);
}

/** The shell lines of the section's sh blocks: continuations joined, comments dropped. */
function shellLines(section: string): string[] {
  return codeBlocks(section, 'sh')
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/(^|\s)#\s.*$/, '').trim())
    .filter((line) => line.length > 0);
}

/** Shell words, with '...' and "..." quoting. */
function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Each `npx steward ...` of the section (in its sh blocks and its inline code), as its words after `steward`. */
function stewardCommands(section: string): string[][] {
  const prose = section.replace(/^```\w*\n[\s\S]*?^```/gm, '');
  const inline = [...prose.matchAll(/`(npx steward [^`]+)`/g)].map((m) => m[1]!);
  return [...shellLines(section), ...inline]
    .flatMap((line) => line.split('&&').map((s) => s.trim()))
    .filter((s) => /^npx steward\b/.test(s))
    .map((s) => words(s).slice(2));
}

/** The curl requests of the section: path, headers and JSON body. */
function curlRequests(section: string): Array<{ path: string; headers: Record<string, string>; body: unknown }> {
  return shellLines(section)
    .filter((line) => line.startsWith('curl '))
    .map((line) => {
      const w = words(line);
      const url = w.find((x) => /^https?:\/\//.test(x));
      const headers: Record<string, string> = {};
      let body: unknown;
      for (let i = 0; i < w.length; i++) {
        if (w[i] === '-H') {
          const [name, ...value] = w[i + 1]!.split(':');
          headers[name!.trim().toLowerCase()] = value.join(':').trim();
        }
        if (w[i] === '-d') body = JSON.parse(w[i + 1]!);
      }
      if (!url) throw new Error(`curl line without a URL: ${line}`);
      return { path: new URL(url).pathname, headers, body };
    });
}

/**
 * Refuses a command line the CLI would refuse: an unknown command, an unknown option, or too few or
 * too many arguments. Returns the command's path (e.g. `schedule create`).
 */
function checkCommand(program: Command, argv: string[]): string {
  let command = program;
  let i = 0;
  const pathOf: string[] = [];
  for (; i < argv.length; i++) {
    const sub = command.commands.find((c) => c.name() === argv[i] || c.aliases().includes(argv[i]!));
    if (!sub) break;
    command = sub;
    pathOf.push(sub.name());
  }
  const shown = `steward ${argv.join(' ')}`;
  if (command === program) throw new Error(`${shown}: "${argv[0]}" is not a steward command.`);
  if (command.commands.length > 0) throw new Error(`${shown}: "${pathOf.join(' ')}" needs one of its subcommands (${command.commands.map((c) => c.name()).join(', ')}).`);
  const options = [];
  for (let c: Command | null = command; c; c = c.parent) options.push(...c.options);
  const positional: string[] = [];
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      positional.push(word);
      continue;
    }
    const [flag] = word.split('=');
    const option = options.find((o) => o.long === flag || o.short === flag);
    if (!option) throw new Error(`${shown}: "${pathOf.join(' ')}" has no option ${flag}.`);
    if (option.required && !word.includes('=')) i++;
  }
  const args = command.registeredArguments;
  const least = args.filter((a) => a.required).length;
  const most = args.some((a) => a.variadic) ? Infinity : args.length;
  if (positional.length < least || positional.length > most) {
    throw new Error(`${shown}: "${pathOf.join(' ')}" takes ${least === most ? least : `${least} to ${most}`} arguments, got ${positional.length} (${positional.join(' ')}).`);
  }
  return pathOf.join(' ');
}

function runCli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [stewardBin, ...args], { cwd, env: { ...process.env, STEWARD_HOME: path.join(cwd, '.steward') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** weather.csv's rows per city, in date order. */
function weatherByCity(): Map<string, Array<Record<string, string>>> {
  const { header, rows } = parseCsv(fs.readFileSync(vegaDataset('weather.csv'), 'utf8'));
  const byCity = new Map<string, Array<Record<string, string>>>();
  for (const r of rows) {
    const row = Object.fromEntries(header.map((h, k) => [h, r[k] ?? '']));
    const city = byCity.get(row.location!) ?? [];
    city.push(row);
    byCity.set(row.location!, city);
  }
  for (const city of byCity.values()) city.sort((a, b) => a.date!.localeCompare(b.date!));
  return byCity;
}

/** A day's row as the model's request, named the way the README says: `city_weather__<column>`. */
function request(row: Record<string, string>): Record<string, number | string> {
  return {
    city_weather__precipitation: Number(row.precipitation),
    city_weather__temp_max: Number(row.temp_max),
    city_weather__temp_min: Number(row.temp_min),
    city_weather__wind: Number(row.wind),
    city_weather__weather: row.weather!,
  };
}

const rmse = (predicted: readonly number[], actual: readonly number[]) => Math.sqrt(predicted.reduce((s, p, i) => s + (p - actual[i]!) ** 2, 0) / predicted.length);

describe('README: bring your own dataset', () => {
  const section = readmeSection(SECTION);
  let dir: string;
  let stack: TestStack | undefined;

  beforeAll(() => {
    process.env.STEWARD_TEMPORAL_CLI ??= inject('temporalCli');
    // The user's project: the section's files, their CSV in data/, and (standing in for
    // node_modules/steward) a tsconfig mapping `steward` to this checkout's sources.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-readme-dataset-'));
    const files = codeBlocks(section, 'ts').map((block) => {
      const named = /^\/\/ (\S+\.ts)\n/.exec(block);
      if (!named) throw new Error(`A ts block of "${SECTION}" does not open with a // <file> comment:\n${block.slice(0, 200)}`);
      return { file: named[1]!, code: block };
    });
    expect(files.map((f) => f.file).sort()).toEqual(['src/weather.ts', 'steward.config.ts']);
    for (const { file, code } of files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), code);
    }
    fs.mkdirSync(path.join(dir, 'data'));
    fs.copyFileSync(vegaDataset('weather.csv'), path.join(dir, 'data', 'weather.csv'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'weather', private: true, type: 'module' }, null, 2));
    const src = path.join(repo, 'src');
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            verbatimModuleSyntax: true,
            skipLibCheck: true,
            noEmit: true,
            paths: { steward: [path.join(src, 'index.ts')], 'steward/*': [path.join(src, 'sdk', '*.ts')] },
          },
          include: ['steward.config.ts', 'src'],
        },
        null,
        2,
      ),
    );
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes only commands the CLI has, with options and arguments it takes", () => {
    const program = new Command().name('steward').option('--json').option('-v, --verbose').option('--project <path>');
    registerCommands(program, () => {
      throw new Error('no command runs in this check');
    });
    const commands = stewardCommands(section);
    const used = commands.map((argv) => checkCommand(program, argv));
    expect(used).toEqual(
      expect.arrayContaining(['init', 'features preview', 'pipelines', 'dev', 'run', 'models versions', 'models card', 'principals add', 'tokens create', 'approvals list', 'approvals approve', 'status', 'deploy status', 'schedule create', 'drift list']),
    );
    const started = commands.filter((argv) => argv[0] === 'run' || (argv[0] === 'schedule' && argv[1] === 'create')).map((argv) => argv.find((w, k) => k > 0 && !w.startsWith('-') && w !== 'create'));
    expect(new Set(started)).toEqual(new Set([`train-${MODEL}`, `release-${MODEL}`, `drift-retrain-${MODEL}`]));
  });

  it("loads in the project's folder: `steward pipelines` lists the model's three, `features preview` reads data/weather.csv", async () => {
    const [pipelines, preview] = await Promise.all([runCli(['pipelines', '--json'], dir), runCli(['features', 'preview', 'data/weather.csv', '--json'], dir)]);
    expect(pipelines.code, pipelines.stderr).toBe(0);
    const listed = JSON.parse(pipelines.stdout) as { project: { name: string }; pipelines: Array<{ name: string; project: string }> };
    expect(listed.project.name).toBe('weather');
    expect(listed.pipelines.map((p) => p.name)).toEqual(expect.arrayContaining([`train-${MODEL}`, `release-${MODEL}`, `drift-retrain-${MODEL}`]));
    expect(preview.code, preview.stderr).toBe(0);
    const schema = JSON.parse(preview.stdout) as { columns: Record<string, string> };
    expect(schema.columns).toEqual({ location: 'string', date: 'timestamp', precipitation: 'float64', temp_max: 'float64', temp_min: 'float64', wind: 'float64', weather: 'string' });
  });

  it('trains: ingests data/weather.csv, checks it, fits both candidates and registers the better, under RMSE 4', async () => {
    stack = await startTestStack({ project: path.join(dir, 'steward.config.ts') });
    const run = await stack.run(`train-${MODEL}`);
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
    expect(Object.values(steps).every((status) => status === 'completed'), JSON.stringify(steps)).toBe(true);
    expect(Object.keys(steps)).toEqual(
      expect.arrayContaining(['ingestCityWeather', 'checkCityWeather', 'trainingSet', 'trainLinear', 'trainGradientBoosting', 'evaluateLinear', 'evaluateGradientBoosting', 'choose', 'reference', 'register']),
    );
    expect((run.outputs.ingestCityWeather as { rows: number }).rows).toBe(2922);
    const trainingSet = run.outputs.trainingSet as { rows: number; task: string; columns: { keys: string[]; numeric: string[]; categorical: string[] } };
    // Each city's every day but its last has a next day to label it.
    expect(trainingSet.rows).toBe(2920);
    expect(trainingSet.task).toBe('regression');
    expect(trainingSet.columns.keys).toEqual(['location']);
    expect(trainingSet.columns.categorical).toEqual(['city_weather__weather']);
    const choose = run.outputs.choose as { metrics: Record<string, number>; ranking: Array<{ algorithm: string; value: number }> };
    expect(choose.ranking.map((r) => r.algorithm).sort()).toEqual(['gradient-boosting', 'linear']);
    expect(choose.metrics.rmse).toBeLessThan(4);
    // Tomorrow's maximum is not today's: an RMSE near 0 would mean the label leaked into the features.
    expect(choose.metrics.rmse).toBeGreaterThan(1.5);
    expect(run.outputs.register).toMatchObject({ version: 1, task: 'regression', created: true });

    // The inputs the README names are the model's (its card lists them under Features).
    const card = await loadModelCard(stack.db, MODEL, 1);
    const inputs = card.inputs.map((f) => f.name).sort();
    expect(inputs).toEqual(Object.keys(request(weatherByCity().get('Seattle')![0]!)).sort());
    expect([...new Set(section.match(/city_weather__\w+/g))].sort()).toEqual(inputs);
  });

  let requests: { scores: number[]; truths: number[] } = { scores: [], truths: [] };

  it("releases v1 through a technical reviewer's sign-off to the scorer, which answers the README's requests", async () => {
    const release = await stack!.start(`release-${MODEL}`, { version: 1 });
    const alice = await stack!.reviewer('alice', ['technical']);
    const decision = await stack!.decide(release.runId, alice, 'approve', { comment: 'RMSE within 4, card read' });
    expect(decision.status).toBe('approved');
    const run = await release.result;
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
    expect(steps).toMatchObject({ validate: 'completed', signoff: 'completed', promote: 'completed', deploy: 'completed' });
    expect(run.outputs.validate).toMatchObject({ passed: true });

    const curls = curlRequests(section);
    expect(curls.map((c) => c.path)).toEqual([`/predict/${MODEL}`, `/predictions/${curls[0]!.headers['x-request-id']}/ground-truth`]);
    const [predict, truth] = curls;
    const answer = await fetch(`${stack!.scorerUrl}${predict!.path}`, { method: 'POST', headers: predict!.headers, body: JSON.stringify(predict!.body) });
    expect(answer.status, await answer.clone().text()).toBe(200);
    const scored = (await answer.json()) as { requestId: string; version: number; score: number };
    expect(scored).toMatchObject({ requestId: predict!.headers['x-request-id'], version: 1 });
    expect(scored.score).toBeGreaterThan(-10);
    expect(scored.score).toBeLessThan(30);
    const posted = await fetch(`${stack!.scorerUrl}${truth!.path}`, { method: 'POST', headers: truth!.headers, body: JSON.stringify(truth!.body) });
    expect(posted.status).toBe(204);
    requests = { scores: [scored.score], truths: [(truth!.body as { value: number }).value] };
  });

  it('monitors a window of scored days with their truth: drift-retrain completes, judging decay on RMSE', async () => {
    // The last 150 days of each city, interleaved: today's weather scored, tomorrow's maximum posted as its truth.
    const days = [...weatherByCity().values()].flatMap((rows) => rows.slice(-151).map((row, k, all) => (k + 1 < all.length ? { row, next: all[k + 1]! } : undefined)).filter((d) => d !== undefined));
    days.sort((a, b) => a.row.date!.localeCompare(b.row.date!));
    expect(days).toHaveLength(300);
    for (let i = 0; i < days.length; i += 25) {
      const batch = days.slice(i, i + 25);
      const response = await fetch(`${stack!.scorerUrl}/predict/${MODEL}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch.map((d) => request(d.row))) });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { requestId: string; version: number; scores: number[] };
      expect(answer.scores).toHaveLength(batch.length);
      const truths = batch.map((d) => Number(d.next.temp_max));
      const posted = await fetch(`${stack!.scorerUrl}/predictions/${answer.requestId}/ground-truth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values: truths }) });
      expect(posted.status).toBe(204);
      requests.scores.push(...answer.scores);
      requests.truths.push(...truths);
    }
    // The prediction log is written in batches: give it a moment to flush.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const run = await stack!.run(`drift-retrain-${MODEL}`, { windowEnd: new Date(Date.now() + 60_000).toISOString() });
    expect(run.params.windowDays).toBe(1);
    const monitor = run.outputs.monitor as { rows: number; enough: boolean; metric: string; current: number | null; reference: number };
    expect(monitor.metric).toBe('rmse');
    expect(monitor.rows).toBe(301);
    expect(monitor.enough).toBe(true);
    // The decay metric is the RMSE of exactly what the scorer answered against the truths posted.
    expect(monitor.current).toBeCloseTo(rmse(requests.scores, requests.truths), 3);
    const policy = run.outputs.policy as { decision: string };
    expect(['hold', 'retrain']).toContain(policy.decision);
    const steps = Object.fromEntries(run.steps.map((s) => [s.name, s.status]));
    expect(steps.monitor).toBe('completed');
    expect(steps.policy).toBe('completed');
    expect(Object.values(steps).every((status) => status === 'completed' || status === 'skipped'), JSON.stringify(steps)).toBe(true);
  });
});
