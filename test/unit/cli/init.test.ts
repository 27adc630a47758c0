import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadAppProject } from '../../../src/app/project.js';
import { registerInitCommand } from '../../../src/cli/init-command.js';
import { fromOutsideRegistry, DENIED_INSTALL_SCRIPTS, installedStewardSpec, projectManifest, scaffoldProject, stewardPackage, type StewardPackage } from '../../../src/cli/init/scaffold.js';
import { vegaDataset } from '../../../src/datasets/vega.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-init-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const read = (file: string) => fs.readFileSync(file, 'utf8');
const manifestOf = (dir: string) => JSON.parse(read(path.join(dir, 'package.json'))) as Record<string, Record<string, unknown>>;
/** Everything in `dir`, recursively, relative (to see that nothing else was written). */
const tree = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();

describe('steward init', () => {
  it('scaffolds a runnable project into a new folder', () => {
    const target = path.join(tmp, 'rain');
    const result = scaffoldProject({ target, steward: 'file:/somewhere/steward-0.1.0.tgz' });
    expect(result.name).toBe('rain');
    expect(result.files).toEqual([
      '.gitignore',
      'README.md',
      'data/seattle-weather.csv',
      'features.ts',
      'package.json',
      'src/summarize-weather.ts',
      'steward.config.ts',
      'test/declarations.test.ts',
      'test/train.test.ts',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    // Only the project: no staging folder left beside it.
    expect(fs.readdirSync(tmp)).toEqual(['rain']);

    const manifest = manifestOf(target);
    expect(manifest.name).toBe('rain');
    expect(manifest.type).toBe('module');
    expect(manifest.scripts).toMatchObject({ start: 'steward start', test: 'vitest run' });
    expect(manifest.dependencies).toMatchObject({ steward: 'file:/somewhere/steward-0.1.0.tgz' });
    // Steward's peers at the versions Steward itself uses.
    const own = stewardPackage().manifest;
    const versionOf = (name: string) => own.peerDependencies?.[name] ?? own.dependencies?.[name];
    expect(manifest.dependencies!.zod).toBe(versionOf('zod'));
    expect(manifest.dependencies!['apache-arrow']).toBe(versionOf('apache-arrow'));
    expect(Object.keys(manifest.devDependencies!).sort()).toEqual(['@types/node', 'typescript', 'vitest']);
    // npm 11's allowScripts: onnxruntime-node's CUDA download denied, no project config npm warns about.
    expect(manifest.allowScripts).toEqual({ 'file:/somewhere/steward-0.1.0.tgz': true, ...Object.fromEntries(Object.keys(DENIED_INSTALL_SCRIPTS).map((name) => [name, false])) });
    expect(fs.existsSync(path.join(target, '.npmrc'))).toBe(false);

    // The real sample, byte for byte, and the name in place of the placeholder everywhere.
    expect(fs.readFileSync(path.join(target, 'data/seattle-weather.csv')).equals(fs.readFileSync(vegaDataset('seattle-weather.csv')))).toBe(true);
    for (const file of result.files.filter((f) => !f.endsWith('.csv'))) expect(read(path.join(target, file))).not.toContain('__PROJECT_NAME__');
    expect(read(path.join(target, 'steward.config.ts'))).toContain("name: 'rain'");
    expect(read(path.join(target, 'steward.config.ts'))).toContain("start: { pipeline: 'train-rain-tomorrow' }");
    expect(read(path.join(target, 'README.md'))).toMatch(/npm install && npm start[\s\S]*npm test/);
    for (const pipeline of ['train-rain-tomorrow', 'release-rain-tomorrow', 'drift-retrain-rain-tomorrow']) expect(read(path.join(target, 'README.md'))).toContain(pipeline);
    expect(read(path.join(target, '.gitignore'))).toContain('.steward/');
    // The view reads the project's own copy of the data, not the one in Steward's dependencies.
    expect(read(path.join(target, 'features.ts'))).toContain("WEATHER_FILE = 'data/seattle-weather.csv'");
    expect(read(path.join(target, 'features.ts'))).not.toContain('vega:');
  });

  it('makes a project of declarations that Steward loads with its train, release and drift-retrain pipelines', async () => {
    const target = path.join(tmp, 'declared');
    scaffoldProject({ target, steward: '^0.1.0' });
    // Loaded as the CLI and the worker load it (through tsx; here `steward` is this checkout's sources).
    const project = await loadAppProject({ project: target });
    expect(project.name).toBe('declared');
    expect(project.source).toBe(path.join(target, 'steward.config.ts'));
    expect(project.models.map((m) => m.name)).toEqual(['rain-tomorrow']);
    const names = project.pipelines.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['train-rain-tomorrow', 'release-rain-tomorrow', 'drift-retrain-rain-tomorrow', 'summarize-weather']));
    expect(project.start).toEqual({ pipeline: 'train-rain-tomorrow' });
    // The training pipeline ingests the view's file and checks it against the declared expectations first.
    const train = project.pipelines.find((p) => p.name === 'train-rain-tomorrow')!;
    expect(train.spec.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['ingestDailyWeather', 'checkDailyWeather', 'trainingSet', 'register']));
    expect(project.features.map((d) => d.name)).toEqual(expect.arrayContaining(['station', 'daily_weather', 'rain_forecast']));
    expect(project.catalog.map((c) => c.name)).toContain('data/seattle-weather.csv');
  }, 60_000);

  it('imports Steward only through its public entry points', () => {
    const target = path.join(tmp, 'entry-points');
    const { files } = scaffoldProject({ target, steward: '^0.1.0' });
    const specifiers = new Set<string>();
    for (const file of files.filter((f) => f.endsWith('.ts'))) {
      for (const match of read(path.join(target, file)).matchAll(/from '([^']+)'/g)) specifiers.add(match[1]!);
    }
    const steward = [...specifiers].filter((s) => s === 'steward' || s.startsWith('steward/')).sort();
    expect(steward).toEqual(['steward', 'steward/data', 'steward/features', 'steward/registry', 'steward/testing']);
    const packages = [...specifiers].filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !s.startsWith('steward')).sort();
    expect(packages).toEqual(['vitest', 'vitest/config']);
  });

  it('fills an existing empty folder', () => {
    const target = path.join(tmp, 'empty');
    fs.mkdirSync(target);
    scaffoldProject({ target, steward: '^0.1.0' });
    expect(fs.existsSync(path.join(target, 'steward.config.ts'))).toBe(true);
    expect(fs.readdirSync(tmp)).toEqual(['empty']);
  });

  it('refuses a non-empty folder, naming it, and writes nothing', () => {
    const target = path.join(tmp, 'busy');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'notes.txt'), 'mine');
    expect(() => scaffoldProject({ target, steward: '^0.1.0' })).toThrow(`The folder ${target} is not empty (it holds notes.txt)`);
    expect(tree(tmp)).toEqual(['busy', path.join('busy', 'notes.txt')]);
    expect(read(path.join(target, 'notes.txt'))).toBe('mine');
  });

  it('refuses a file in the way', () => {
    const target = path.join(tmp, 'file');
    fs.writeFileSync(target, 'x');
    expect(() => scaffoldProject({ target, steward: '^0.1.0' })).toThrow(/exists and is not a folder/);
    expect(tree(tmp)).toEqual(['file']);
  });

  it.each([
    ['Rain_Tomorrow', true, /Project name "Rain_Tomorrow" \(the --name\) is not allowed/],
    ['steward', true, /Steward's own package name/],
    ['x'.repeat(41), true, /at most 40 characters/],
  ])('refuses the project name %s', (name, _given, message) => {
    expect(() => scaffoldProject({ target: path.join(tmp, 'ok'), name, steward: '^0.1.0' })).toThrow(message);
    expect(tree(tmp)).toEqual([]);
  });

  it("refuses a folder whose name is no project name unless --name is given", () => {
    expect(() => scaffoldProject({ target: path.join(tmp, '2024 Rain'), steward: '^0.1.0' })).toThrow(/the folder's name; choose another with --name/);
    expect(tree(tmp)).toEqual([]);
    expect(scaffoldProject({ target: path.join(tmp, '2024 Rain'), name: 'rain-2024', steward: '^0.1.0' }).name).toBe('rain-2024');
    expect(manifestOf(path.join(tmp, '2024 Rain')).name).toBe('rain-2024');
  });

  it("allows Steward's own prepare script when npm gets it from outside the registry (which runs it)", () => {
    for (const spec of ['git+https://github.com/example/steward.git#v0.1.0', 'example/steward', `file:${tmp}`, 'file:/somewhere/steward-0.1.0.tgz', 'https://example.com/steward-0.1.0.tgz']) {
      expect(fromOutsideRegistry(spec)).toBe(true);
    }
    for (const spec of ['^0.1.0', '0.1.0', 'latest', 'npm:steward@^0.1.0']) expect(fromOutsideRegistry(spec)).toBe(false);
    expect(projectManifest('x', 'file:/x/steward-0.1.0.tgz', stewardPackage()).allowScripts).toMatchObject({ 'file:/x/steward-0.1.0.tgz': true, 'onnxruntime-node': false });
    expect(Object.keys(projectManifest('x', '^0.1.0', stewardPackage()).allowScripts as object)).toEqual(Object.keys(DENIED_INSTALL_SCRIPTS));
  });

  it('makes a relative file: spec absolute (package.json lives elsewhere)', () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const result = scaffoldProject({ target: 'rel', steward: 'file:./steward-0.1.0.tgz' });
      expect(result.steward.spec).toBe(`file:${path.join(fs.realpathSync(tmp), 'steward-0.1.0.tgz')}`);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('the Steward spec a project depends on by default', () => {
  const fakeInstall = (hostManifest: object | undefined, lock?: object): StewardPackage => {
    const host = path.join(tmp, 'host');
    const root = path.join(host, 'node_modules', 'steward');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'steward', version: '0.3.1' }));
    if (hostManifest) fs.writeFileSync(path.join(host, 'package.json'), JSON.stringify(hostManifest));
    if (lock) fs.writeFileSync(path.join(host, 'node_modules', '.package-lock.json'), JSON.stringify(lock));
    return stewardPackage(path.join(root, 'dist', 'src', 'cli', 'init', 'scaffold.js'));
  };

  it('is what the installing project asked for, a local path made absolute', () => {
    const pkg = fakeInstall({ dependencies: { steward: 'file:../steward-0.3.1.tgz' } });
    expect(installedStewardSpec(pkg).spec).toBe(`file:${path.join(tmp, 'steward-0.3.1.tgz')}`);
    expect(installedStewardSpec(fakeInstall({ devDependencies: { steward: '^0.3.0' } })).spec).toBe('^0.3.0');
  });

  it("falls back to npm's lockfile, then to the version", () => {
    expect(installedStewardSpec(fakeInstall(undefined, { packages: { 'node_modules/steward': { resolved: 'file:../steward.tgz' } } })).spec).toBe(`file:${path.join(tmp, 'steward.tgz')}`);
    fs.rmSync(path.join(tmp, 'host'), { recursive: true });
    expect(installedStewardSpec(fakeInstall({ dependencies: {} })).spec).toBe('^0.3.1');
  });

  it('is the checkout itself when Steward runs from one', () => {
    const pkg = stewardPackage();
    expect(installedStewardSpec({ ...pkg, root: '/work/checkout' }).spec).toBe('file:/work/checkout');
  });
});

describe('the init command', () => {
  it('prints the project it made as JSON, and the next commands as text', async () => {
    const program = () => {
      const p = new Command().name('steward').exitOverride().addOption(new Option('--json').default(false));
      registerInitCommand(p);
      return p;
    };
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program().parseAsync(['init', path.join(tmp, 'one'), '--steward', '^0.1.0', '--json'], { from: 'user' });
      const printed = JSON.parse(String(write.mock.calls.map((c) => c[0]).join('')));
      expect(printed).toMatchObject({ project: 'one', dir: path.join(tmp, 'one'), steward: '^0.1.0' });
      write.mockClear();
      await program().parseAsync(['init', path.join(tmp, 'two'), '--name', 'second', '--steward', '^0.1.0'], { from: 'user' });
      const text = write.mock.calls.map((c) => c[0]).join('');
      expect(text).toContain('Created project "second"');
      expect(text).toContain('npm install && npm start');
    } finally {
      write.mockRestore();
    }
    await expect(program().parseAsync(['init', path.join(tmp, 'one'), '--steward', '^0.1.0'], { from: 'user' })).rejects.toThrow(/is not empty/);
  });
});
