/**
 * `steward init`: a runnable project from templates/project/ (this package's own folder), the
 * sample data copied from vega-datasets, and a package.json that depends on this Steward.
 *
 * Nothing is written unless all of it is: the project is rendered into a temporary folder beside
 * the target and renamed into place, so a failure (or a refusal) leaves no partial project.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vegaDataset } from '../../datasets/vega.js';
import { ConfigError, ValidationError } from '../../errors.js';

/** Lowercase letters, digits and '-', starting with a letter: a project name and an npm package name alike. */
export const PROJECT_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** In templates, replaced by the project's name. */
const NAME_PLACEHOLDER = /__PROJECT_NAME__/g;
/** Template files whose names npm would drop or act on when Steward is packed. */
const RENAMED: Record<string, string> = { gitignore: '.gitignore' };
const SAMPLE_DATA = 'seattle-weather.csv';

/** Install scripts a scaffolded project denies (npm 11's `allowScripts`), each with why it is not needed. */
export const DENIED_INSTALL_SCRIPTS: Readonly<Record<string, string>> = {
  'onnxruntime-node': 'downloads CUDA binaries from the internet; the CPU binaries ship in the package',
  esbuild: 'only checks its binary, which its platform package (an optional dependency) already holds',
  '@swc/core': 'only checks its native binding, which its platform package already holds',
  protobufjs: 'only checks the versions of its optional dependencies',
};

export interface StewardPackage {
  /** The folder holding Steward's package.json. */
  root: string;
  version: string;
  manifest: {
    version: string;
    engines?: Record<string, string>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
}

/** This Steward's package: the nearest package.json named "steward" above this module. */
export function stewardPackage(from: string = fileURLToPath(import.meta.url)): StewardPackage {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as StewardPackage['manifest'] & { name?: string };
      if (manifest.name === 'steward') return { root: dir, version: manifest.version, manifest };
    }
    if (path.dirname(dir) === dir) throw new ConfigError(`Cannot find Steward's package.json above ${from}; reinstall Steward.`);
  }
}

/** A dependency spec that names a local path, made absolute (it is written into another folder's package.json). */
function absoluteSpec(spec: string, base: string): string {
  const local = spec.startsWith('file:') ? spec.slice('file:'.length) : /^(\.{1,2}\/|\/|~\/)/.test(spec) ? spec : undefined;
  if (local === undefined) return spec;
  return `file:${path.resolve(base, local.replace(/^\/\/(?=\/)/, ''))}`;
}

export interface StewardSpec {
  spec: string;
  /** How it was found, for the message init prints. */
  from: string;
}

/**
 * The spec Steward itself was installed as, for the new project's dependency: the host project's
 * own dependency on it (a version range, a git URL, a tarball or folder made absolute), else what
 * npm's lockfile says it resolved, else `^<version>`. From a checkout (not installed in a
 * node_modules folder), the checkout itself.
 */
export function installedStewardSpec(pkg: StewardPackage = stewardPackage()): StewardSpec {
  const parent = path.dirname(pkg.root);
  if (path.basename(parent) !== 'node_modules') return { spec: `file:${pkg.root}`, from: `the Steward checkout at ${pkg.root} (not an installed package)` };
  const host = path.dirname(parent);
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(host, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
      const spec = manifest[field]?.steward;
      if (typeof spec === 'string' && spec.trim()) return { spec: absoluteSpec(spec.trim(), host), from: `${path.join(host, 'package.json')} (${field})` };
    }
  } catch {
    // No readable package.json: try the lockfile.
  }
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(parent, '.package-lock.json'), 'utf8')) as { packages?: Record<string, { resolved?: string }> };
    const resolved = lock.packages?.['node_modules/steward']?.resolved;
    if (resolved && (resolved.startsWith('file:') || resolved.startsWith('git'))) return { spec: absoluteSpec(resolved, host), from: path.join(parent, '.package-lock.json') };
  } catch {
    // No lockfile either.
  }
  return { spec: `^${pkg.version}`, from: `Steward's version (${pkg.version})` };
}

/** A project name as given, or the folder's name; refused unless it is a valid project name. */
export function checkProjectName(name: string, given: boolean): string {
  const how = given ? 'the --name' : `the folder's name; choose another with --name <project>`;
  if (!PROJECT_NAME.test(name)) {
    throw new ValidationError(`Project name "${name}" (${how}) is not allowed: use lowercase letters, digits and '-', starting with a letter, at most 40 characters, e.g. rain-tomorrow.`, { name });
  }
  if (name === 'steward') throw new ValidationError(`Project name "steward" (${how}) is Steward's own package name, which the project depends on; choose another.`, { name });
  return name;
}

/** The target must be a new folder or an empty one; otherwise nothing is written. */
export function checkTarget(target: string): 'new' | 'empty' {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return 'new';
  }
  if (!stat.isDirectory()) throw new ValidationError(`${target} exists and is not a folder; steward init writes a new project into a new or empty folder.`, { target });
  const entries = fs.readdirSync(target);
  if (entries.length > 0) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, ... (${entries.length} entries)` : '');
    throw new ValidationError(`The folder ${target} is not empty (it holds ${shown}); steward init writes only into a new or empty folder, and wrote nothing.`, { target, entries: entries.length });
  }
  return 'empty';
}

function templatesDir(pkg: StewardPackage): string {
  const dir = path.join(pkg.root, 'templates', 'project');
  if (!fs.existsSync(dir)) throw new ConfigError(`Steward's project templates are missing (${dir}); reinstall Steward.`, { dir });
  return dir;
}

/** The scaffolded project's package.json. */
export function projectManifest(name: string, stewardSpec: string, pkg: StewardPackage): Record<string, unknown> {
  const m = pkg.manifest;
  const versionOf = (dependency: string, fallback: string) => m.peerDependencies?.[dependency] ?? m.dependencies?.[dependency] ?? m.devDependencies?.[dependency] ?? fallback;
  return {
    name,
    version: '0.1.0',
    private: true,
    description: 'Will it rain tomorrow? A Steward project of declarations: a feature view over daily weather and a model Steward trains, releases and monitors on Temporal.',
    type: 'module',
    engines: { node: m.engines?.node ?? '>=20.19.0' },
    scripts: {
      start: 'steward start',
      test: 'vitest run',
      dev: 'steward dev',
      typecheck: 'tsc --noEmit',
    },
    dependencies: {
      steward: stewardSpec,
      // Peer dependencies of Steward: their objects (schemas, Arrow tables) cross into Steward, so there is one copy of each.
      'apache-arrow': versionOf('apache-arrow', '^21.2.0'),
      zod: versionOf('zod', '^4.6.7'),
    },
    devDependencies: {
      '@types/node': versionOf('@types/node', '^20.19.43'),
      typescript: versionOf('typescript', '~5.9.3'),
      vitest: versionOf('vitest', '^4.1.12'),
    },
    // npm 11 runs no dependency's install scripts unless allowed; these are denied on purpose (see DENIED_INSTALL_SCRIPTS).
    // Steward from anywhere but the registry has its `prepare` script run by npm (it builds dist/ from a
    // git checkout, and does nothing in a tarball, which ships dist/ built): allowed. npm matches such a
    // dependency by its spec (`file:/abs/steward-0.1.0.tgz`), not by its name.
    allowScripts: {
      ...(fromOutsideRegistry(stewardSpec) ? { [stewardSpec]: true } : {}),
      ...Object.fromEntries(Object.keys(DENIED_INSTALL_SCRIPTS).map((name) => [name, false])),
    },
  };
}

/** Whether npm gets Steward from elsewhere than the registry (a tarball, a folder, git, a URL), so runs its `prepare`. */
export function fromOutsideRegistry(spec: string): boolean {
  return /^(file:|git\+|git:|github:|gitlab:|bitbucket:|gist:|https?:|\.{0,2}\/|~\/)/.test(spec) || /^[\w.-]+\/[\w.-]+(#.*)?$/.test(spec);
}

export interface ScaffoldOptions {
  /** The folder to create (or fill, when empty). */
  target: string;
  /** The project's name (default: the folder's name). */
  name?: string;
  /** The package.json dependency on Steward (default: how this Steward was installed). */
  steward?: string;
}

export interface ScaffoldResult {
  target: string;
  name: string;
  steward: StewardSpec;
  files: string[];
}

/** Renders the project into `options.target`, atomically; refuses a non-empty target or a bad name before writing anything. */
export function scaffoldProject(options: ScaffoldOptions, pkg: StewardPackage = stewardPackage()): ScaffoldResult {
  const target = path.resolve(options.target);
  const name = checkProjectName(options.name ?? path.basename(target), options.name !== undefined);
  checkTarget(target);
  const steward: StewardSpec = options.steward !== undefined ? { spec: checkSpec(options.steward), from: '--steward' } : installedStewardSpec(pkg);
  const templates = templatesDir(pkg);
  const sample = vegaDataset(SAMPLE_DATA);

  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  // Beside the target, so the final rename stays on one file system.
  const staging = path.join(parent, `.${path.basename(target)}.steward-init-${randomUUID().slice(0, 8)}`);
  const files: string[] = [];
  try {
    fs.mkdirSync(staging);
    const write = (relative: string, content: string | Buffer) => {
      const file = path.join(staging, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      files.push(relative.split(path.sep).join('/'));
    };
    for (const relative of listFiles(templates)) {
      const base = path.basename(relative);
      const renamed = path.join(path.dirname(relative), RENAMED[base] ?? base);
      write(renamed, fs.readFileSync(path.join(templates, relative), 'utf8').replace(NAME_PLACEHOLDER, name));
    }
    write('package.json', `${JSON.stringify(projectManifest(name, steward.spec, pkg), null, 2)}\n`);
    write(path.join('data', SAMPLE_DATA), fs.readFileSync(sample));
    // The target may have been created (or filled) meanwhile: check again just before taking its place.
    if (checkTarget(target) === 'empty') fs.rmdirSync(target);
    fs.renameSync(staging, target);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return { target, name, steward, files: files.sort() };
}

function checkSpec(spec: string): string {
  const trimmed = spec.trim();
  if (!trimmed || /\s/.test(trimmed)) throw new ValidationError(`--steward ${JSON.stringify(spec)} is not a dependency spec; give e.g. ^0.1.0, file:/path/steward-0.1.0.tgz or a git URL.`, { spec });
  return absoluteSpec(trimmed, process.cwd());
}

/** Files under `dir`, relative to it, in a stable order. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(dir, relative));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}
