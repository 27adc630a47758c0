/**
 * Finds the `temporal` CLI that runs the embedded dev server, installing it when it is missing.
 * Order: STEWARD_TEMPORAL_CLI, then PATH, then the project's .steward/bin, then the user cache
 * (~/.cache/steward/bin, shared by every clone); when none has it, `go install` builds it into the
 * user cache. v1.5.1 is the newest tag that `go install` can build (later ones carry `replace`
 * directives) and needs Go 1.25 or later. Without Go, the Temporal SDK's own cached download is tried
 * (it needs internet access).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from './logger.js';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MIN_GO = [1, 25] as const;

export interface FindCliOptions {
  /** STEWARD_TEMPORAL_CLI, when set. */
  explicitPath?: string;
  /** The project's state folder (.steward). */
  home: string;
  /** The per-user cache folder shared by clones (~/.cache/steward). */
  userCache: string;
  env?: NodeJS.ProcessEnv;
  /** Folders to look for Go in beyond PATH (default GO_INSTALL_DIRS). */
  goDirs?: readonly string[];
  /** Downloads the CLI into a folder when there is no Go (default: the Temporal SDK's cached download). */
  download?: (dir: string) => Promise<void>;
}

export function cliCandidates(options: FindCliOptions): string[] {
  const env = options.env ?? process.env;
  const fromPath = (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'temporal'));
  return [...fromPath, path.join(options.home, 'bin', 'temporal'), path.join(options.userCache, 'bin', 'temporal')];
}

/** The first usable `temporal` binary, or undefined. Throws when STEWARD_TEMPORAL_CLI names a missing file. */
export function findTemporalCli(options: FindCliOptions): string | undefined {
  if (options.explicitPath) {
    if (!isExecutable(options.explicitPath)) {
      throw new ConfigError(
        `STEWARD_TEMPORAL_CLI=${options.explicitPath} is not an executable file. Point it at a \`temporal\` binary, or unset it to let Steward find or install one.`,
      );
    }
    return options.explicitPath;
  }
  return cliCandidates(options).find(isExecutable);
}

/** Whether `file` is a regular file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** How to get the CLI by hand, for the error message when Steward cannot. */
export function installInstructions(userCache: string): string {
  return [
    'Steward needs the Temporal CLI to run its embedded dev server. Install it one of these ways:',
    `  - with Go ${MIN_GO.join('.')}+: GOBIN=${path.join(userCache, 'bin')} go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`,
    '  - download a release from https://github.com/temporalio/cli/releases and put `temporal` on your PATH',
    '  - or set STEWARD_TEMPORAL_CLI=/path/to/temporal, or TEMPORAL_ADDRESS=host:7233 to use a running Temporal cluster.',
  ].join('\n');
}

export function goVersion(go: string | undefined, env: NodeJS.ProcessEnv = process.env): [number, number] | undefined {
  if (!go) return undefined;
  const result = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', env });
  const match = /^go(\d+)\.(\d+)/.exec(result.stdout?.trim() ?? '');
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Where Go lives when it is installed but not on PATH (the official tarball's location). */
export const GO_INSTALL_DIRS = ['/usr/local/go/bin'];

/** Go from PATH, else from its standard install location, else none. */
function goBinary(env: NodeJS.ProcessEnv, extraDirs: readonly string[]): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  return dirs.map((dir) => path.join(dir, 'go')).find(isExecutable);
}

/**
 * Ensures a `temporal` binary exists and returns its path, building it with `go install` when
 * needed. The build takes a few minutes the first time; its output streams to the logger.
 */
export async function ensureTemporalCli(options: FindCliOptions & { logger: Logger }): Promise<string> {
  const found = findTemporalCli(options);
  if (found) return found;
  const env = options.env ?? process.env;
  const go = goBinary(env, options.goDirs ?? GO_INSTALL_DIRS);
  const version = goVersion(go, env);
  if (!go || !version) return downloadWithSdk(options);
  if (version[0] < MIN_GO[0] || (version[0] === MIN_GO[0] && version[1] < MIN_GO[1])) {
    throw new ConfigError(
      `No \`temporal\` binary was found, and Go ${version.join('.')} is too old to build one (${MIN_GO.join('.')}+ needed).\n${installInstructions(options.userCache)}`,
    );
  }
  const binDir = path.join(options.userCache, 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  options.logger.info(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${binDir} (first run only; a few minutes)...`);
  let failure = await goInstall(go, binDir, env, options.logger);
  if (failure && /sum\.golang\.org|checksum database|verifying module/i.test(failure)) {
    options.logger.warn('The Go checksum database is unreachable from this machine; retrying with GOSUMDB=off (modules still come from GOPROXY).');
    failure = await goInstall(go, binDir, { ...env, GOSUMDB: 'off' }, options.logger);
  }
  const built = path.join(binDir, 'temporal');
  if (failure || !isExecutable(built)) {
    throw new ConfigError(`go install of the Temporal CLI failed:\n${failure ?? 'no binary was produced'}\n${installInstructions(options.userCache)}`);
  }
  return built;
}

function goInstall(go: string, binDir: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: binDir, GOFLAGS: [env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' ') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const started = Date.now();
    const progress = setInterval(() => logger.info(`  still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)...`), 20_000);
    child.on('close', () => clearInterval(progress));
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) logger.debug(`go: ${line}`);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolve(error.message));
    child.on('close', (code) => resolve(code === 0 ? undefined : output.slice(-4000)));
  });
}

/** Without Go: let the Temporal SDK download its pinned CLI build into the user cache, then use that file. */
async function downloadWithSdk(options: FindCliOptions & { logger: Logger }): Promise<string> {
  const downloadDir = path.join(options.userCache, 'sdk-download');
  options.logger.info(`Go is not installed; trying the Temporal SDK's download of the CLI into ${downloadDir}...`);
  try {
    await (options.download ?? sdkDownload)(downloadDir);
  } catch (error) {
    throw new ConfigError(
      `No \`temporal\` binary was found, Go is not installed, and the SDK's download failed (${(error as Error).message}).\n${installInstructions(options.userCache)}`,
    );
  }
  const downloaded = fs
    .readdirSync(downloadDir)
    .map((name) => path.join(downloadDir, name))
    .find((file) => path.basename(file).startsWith('temporal') && isExecutable(file));
  if (!downloaded) throw new ConfigError(`The SDK's download left no executable in ${downloadDir}.\n${installInstructions(options.userCache)}`);
  return downloaded;
}

/** The SDK downloads its pinned CLI build when it starts a dev server with `cached-download`. */
async function sdkDownload(downloadDir: string): Promise<void> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const probe = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download', downloadDir } } });
  await probe.teardown();
}
