/**
 * What a new user does, from the package Steward publishes: `npm pack` this repository (which
 * builds dist/ through prepack), install the tarball in a folder outside the repository, run
 * `npx steward init demo`, then in demo/ `npm install`, `npm test` (its declarations, then its
 * pipelines through a test stack: train, release through a sign-off, its own pipeline), `npm start`
 * (train-rain-tomorrow, which Steward builds from the declared model, runs through Temporal and
 * registers a model), and, while `npx steward dev` runs there, `npx steward pipelines`, `npx
 * steward apply --dry-run` and `npx steward catalog list` show the project's own definitions.
 *
 * Slow by nature (two npm installs, a build, a Temporal dev server): timeouts are generous and no
 * assertion is about time; the durations are printed. The Temporal CLI must be where Steward finds
 * it (`node bin/steward.js setup` puts it in ~/.cache/steward/bin). STEWARD_E2E_KEEP=1 keeps the
 * temporary folder for a look afterwards; STEWARD_E2E_TARBALL=<file> installs that tarball instead
 * of packing the repository.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const MINUTE = 60_000;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The environment a user's shell would have: none of this test run's Steward, database, Temporal
 * or npm settings (npm_* variables set by an `npm test` above us would steer the inner npm).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(STEWARD_|npm_|NPM_|VITEST|TEMPORAL_|OTEL_)/i.test(key) || ['DATABASE_URL', 'NODE_OPTIONS', 'NODE_ENV', 'INIT_CWD', 'TEST'].includes(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' };
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) took over ${timeoutMs / 1000} s; output so far:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - began });
    });
  });
}

/** Signals the process group a detached child leads (npx, npm and the node they start), by its id. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

const shown = (r: Ran) => `exit ${r.code} after ${(r.ms / 1000).toFixed(1)} s\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

function expectSuccess(r: Ran, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed: ${shown(r)}`);
}

const timings: Record<string, number> = {};
const time = (label: string, r: Ran) => {
  timings[label] = r.ms;
  return r;
};

describe('a project made by `npx steward init`, from an npm pack tarball', () => {
  let work: string;
  let demo: string;
  let tarball: string;
  let dev: { child: ChildProcess; output: () => string; exited: Promise<number | null> } | undefined;

  beforeAll(async () => {
    const temporal = path.join(os.homedir(), '.cache', 'steward', 'bin', 'temporal');
    if (!fs.existsSync(temporal) && !process.env.PATH?.split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, 'temporal')))) {
      throw new Error(`No Temporal CLI at ${temporal} or on PATH: run \`node bin/steward.js setup\` in ${repo} once (it builds one with Go).`);
    }
    // Outside the repository: nothing from it (its node_modules, its .npmrc) may help the project.
    work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-e2e-')));
    demo = path.join(work, 'demo');

    if (process.env.STEWARD_E2E_TARBALL) {
      // A tarball packed earlier (to rerun quickly, or one CI built once).
      tarball = path.join(work, path.basename(process.env.STEWARD_E2E_TARBALL));
      fs.copyFileSync(process.env.STEWARD_E2E_TARBALL, tarball);
    } else {
      const packed = time('npm pack (with the build)', await run('npm', ['pack', '--json', '--pack-destination', work], repo, 15 * MINUTE));
      expectSuccess(packed, 'npm pack');
      const [pack] = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[/m))) as Array<{ filename: string }>;
      tarball = path.join(work, path.basename(pack!.filename));
    }
    expect(fs.existsSync(tarball)).toBe(true);

    // Steward installed the way a user gets it, then `npx steward init demo` beside it.
    fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'e2e-tools', private: true, allowScripts: { 'onnxruntime-node': false, esbuild: false, '@swc/core': false, protobufjs: false } }, null, 2));
    expectSuccess(time('npm install <tarball>', await run('npm', ['install', '--no-audit', '--no-fund', tarball], work, 20 * MINUTE)), 'npm install of the tarball');
    const init = time('npx steward init demo', await run('npx', ['steward', 'init', 'demo'], work, 5 * MINUTE));
    expectSuccess(init, 'steward init');
    expect(init.stdout).toContain('Created project "demo"');
  }, 40 * MINUTE);

  afterAll(async () => {
    if (dev) {
      killGroup(dev.child, 'SIGINT');
      const stopped = await Promise.race([dev.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
      if (!stopped) killGroup(dev.child, 'SIGKILL');
    }
    // The project's own Temporal dev server (its history in demo/.steward/temporal), started by npm start.
    if (demo && fs.existsSync(path.join(demo, 'node_modules'))) await run('npx', ['steward', 'server', 'stop'], demo, 2 * MINUTE).catch(() => undefined);
    console.log(`e2e timings:\n${Object.entries(timings).map(([label, ms]) => `  ${label.padEnd(34)} ${(ms / 1000).toFixed(1).padStart(7)} s`).join('\n')}`);
    if (work && process.env.STEWARD_E2E_KEEP !== '1') fs.rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`kept ${work}`);
  }, 5 * MINUTE);

  it('depends on the tarball it was made from and installs without npm warnings about project config', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(demo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    expect(manifest.dependencies.steward).toBe(`file:${tarball}`);
    expect(manifest.scripts).toMatchObject({ start: 'steward start', test: 'vitest run' });

    const install = time('npm install (demo)', await run('npm', ['install', '--no-audit', '--no-fund'], demo, 20 * MINUTE));
    expectSuccess(install, 'npm install in the project');
    const output = install.stdout + install.stderr;
    expect(output).not.toMatch(/Unknown project config/);
    // Every install script is decided in allowScripts: npm lists none as skipped for review.
    expect(output).not.toMatch(/install scripts/i);
    // One copy of each library whose objects cross into Steward.
    for (const shared of ['zod', 'apache-arrow']) expect(fs.existsSync(path.join(demo, 'node_modules', 'steward', 'node_modules', shared))).toBe(false);
  }, 25 * MINUTE);

  it('type-checks against the published declarations', async () => {
    expectSuccess(time('npm run typecheck (demo)', await run('npm', ['run', 'typecheck'], demo, 10 * MINUTE)), 'tsc in the project');
  }, 10 * MINUTE);

  it('passes its own tests (`npm test`)', async () => {
    const test = time('npm test (demo)', await run('npm', ['test'], demo, 15 * MINUTE));
    expectSuccess(test, 'npm test in the project');
    // test/declarations.test.ts (3) and test/train.test.ts (4, through Temporal).
    expect(test.stdout).toMatch(/Test Files\s+2 passed/);
    expect(test.stdout).toMatch(/Tests\s+7 passed/);
  }, 15 * MINUTE);

  it('runs the pipeline Steward builds from its declared model through Temporal and registers it (`npm start`)', async () => {
    const start = time('npm start (demo)', await run('npm', ['start'], demo, 20 * MINUTE));
    expectSuccess(start, 'npm start in the project');
    expect(start.stdout).toMatch(/project "demo"/);
    for (const step of ['ingestDailyWeather', 'checkDailyWeather', 'trainingSet', 'trainLinear', 'trainGradientBoosting', 'choose', 'reference', 'register']) {
      expect(start.stdout).toMatch(new RegExp(`✓ ${step}\\b`));
    }
    expect(start.stdout).toMatch(/Registered model rain-tomorrow version 1\b/);
  }, 20 * MINUTE);

  it("shows the project's own definitions while `steward dev` runs", async () => {
    const began = Date.now();
    const child = spawn('npx', ['steward', 'dev'], { cwd: demo, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    dev = { child, output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
    for (const deadline = Date.now() + 5 * MINUTE; !/Steward is up/.test(output); ) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`steward dev exited before it was up:\n${output}`);
      if (Date.now() > deadline) throw new Error(`steward dev was not up after 5 minutes:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    timings['steward dev up'] = Date.now() - began;

    const pipelines = time('npx steward pipelines', await run('npx', ['steward', 'pipelines'], demo, 5 * MINUTE));
    expectSuccess(pipelines, 'steward pipelines');
    for (const name of ['train-rain-tomorrow', 'release-rain-tomorrow', 'drift-retrain-rain-tomorrow', 'summarize-weather']) expect(pipelines.stdout).toContain(name);

    const apply = time('npx steward apply --dry-run', await run('npx', ['steward', 'apply', '--dry-run'], demo, 5 * MINUTE));
    expectSuccess(apply, 'steward apply --dry-run');
    for (const name of ['station', 'daily_weather', 'rain_forecast']) expect(apply.stdout).toContain(name);

    const catalog = time('npx steward catalog list', await run('npx', ['steward', 'catalog', 'list'], demo, 5 * MINUTE));
    expectSuccess(catalog, 'steward catalog list');
    expect(catalog.stdout).toContain('data/seattle-weather.csv');
    expect(catalog.stdout).toContain('daily_weather');

    // The model npm start registered, read beside the running dev (the shared embedded database).
    const versions = time('npx steward models versions', await run('npx', ['steward', 'models', 'versions', 'rain-tomorrow'], demo, 5 * MINUTE));
    expectSuccess(versions, 'steward models versions');
    expect(versions.stdout).toMatch(/\bv1\b/);
  }, 25 * MINUTE);
});
