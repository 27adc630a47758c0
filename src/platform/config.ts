/**
 * Steward's configuration, read once from named environment variables. Nothing else in the code
 * base reads process.env: pass a StewardConfig (or the piece of it that is needed) instead.
 */
import path from 'node:path';
import os from 'node:os';
import { ConfigError } from '../errors.js';

/** The environment variables Steward reads, in one place so `--help` and the README can list them. */
export const envKeys = {
  home: 'STEWARD_HOME',
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  temporalCli: 'STEWARD_TEMPORAL_CLI',
  temporalPort: 'STEWARD_TEMPORAL_PORT',
  temporalUiPort: 'STEWARD_TEMPORAL_UI_PORT',
  databaseUrl: 'DATABASE_URL',
  apiPort: 'STEWARD_API_PORT',
  apiHost: 'STEWARD_API_HOST',
  apiUrl: 'STEWARD_API_URL',
  token: 'STEWARD_TOKEN',
  auditKey: 'STEWARD_AUDIT_KEY',
  scorerPort: 'STEWARD_SCORER_PORT',
  scorerUrl: 'STEWARD_SCORER_URL',
  taskQueue: 'STEWARD_TASK_QUEUE',
  logLevel: 'STEWARD_LOG_LEVEL',
  cpuThreads: 'STEWARD_CPU_THREADS',
  crashAfterCommit: 'STEWARD_FAULT_CRASH_AFTER_COMMIT',
  openLineageUrl: 'OPENLINEAGE_URL',
  otlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  otlpTracesEndpoint: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  otelServiceName: 'OTEL_SERVICE_NAME',
  protectedAliases: 'STEWARD_PROTECTED_ALIASES',
} as const;

export const envHelp: Record<keyof typeof envKeys, string> = {
  home: 'where Steward keeps local state (default: ./.steward)',
  temporalAddress: 'host:port of a Temporal cluster; when set, no dev server is started',
  temporalNamespace: 'Temporal namespace (default: default)',
  temporalCli: 'path to a `temporal` CLI binary to run the embedded dev server with',
  temporalPort: 'gRPC port of the embedded dev server (default: 7233)',
  temporalUiPort: 'Web UI port of the embedded dev server (default: 8233)',
  databaseUrl: 'postgres:// URL; when set, PostgreSQL is used instead of the embedded PGlite',
  apiPort: "port of Steward's HTTP API (default: 8080)",
  apiHost: "interface Steward's HTTP API binds to (default: 127.0.0.1)",
  apiUrl: "where reviewer commands reach Steward's HTTP API (default: the running `steward dev`, else http://STEWARD_API_HOST:STEWARD_API_PORT)",
  token: 'your API token, for reviewer commands (`steward tokens create <principal>` issues one)',
  auditKey: 'a secret that signs and checks audit checkpoints (`steward audit checkpoint`, `steward audit verify --checkpoint`)',
  scorerPort: 'port of the scorer `steward dev` hosts (default: 8000)',
  scorerUrl: 'the scorer deployments drive (default: the one `steward dev` hosts)',
  taskQueue: 'Temporal task queue the worker polls (default: steward)',
  logLevel: 'debug | info | warn | error (default: info)',
  cpuThreads: 'worker threads for CPU-bound step work (training, ONNX export, evaluation, Parquet decoding); 0 runs it inline (default: the number of cores)',
  crashAfterCommit: 'test only: SIGKILL the worker right after the named step commits its write',
  otlpEndpoint: 'an OTLP/HTTP collector (e.g. http://localhost:4318): traces workflows and activities (off when unset)',
  otlpTracesEndpoint: 'the OTLP traces URL itself, when it is not <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces',
  otelServiceName: 'service.name on the spans (default: steward)',
  openLineageUrl: 'an OpenLineage endpoint (e.g. Marquez at http://localhost:5000) that step lineage events are also POSTed to',
  protectedAliases: 'comma-separated model aliases protected like champion and production (moved only onto approved versions, by a principal allowed to deploy)',
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface StewardConfig {
  /** Local state: the PGlite database, the dev server's SQLite file, artifacts, the CLI cache. */
  home: string;
  temporal: {
    /** Set when an external cluster is used; undefined means "run the embedded dev server". */
    address: string | undefined;
    namespace: string;
    cliPath: string | undefined;
    devServerPort: number;
    devServerUiPort: number;
  };
  database: { url: string | undefined; pgliteDir: string };
  api: { host: string; port: number; url: string | undefined };
  /** The scorer: the port `steward dev` serves it on, or the URL of one running elsewhere. */
  scorer: { port: number; url: string | undefined };
  /** The caller's API token (reviewer commands), never logged. */
  token: string | undefined;
  /** The HMAC key for audit checkpoints, never logged. */
  auditKey: string | undefined;
  taskQueue: string;
  logLevel: LogLevel;
  faults: { crashAfterCommit: string | undefined };
  /** Step lineage is always stored; with a URL it is also POSTed there (OpenLineage HTTP transport). */
  lineage: { url: string | undefined };
  /** OpenTelemetry tracing (src/platform/tracing.ts): off unless an endpoint is set. */
  tracing: { endpoint: string | undefined; tracesEndpoint: string | undefined; serviceName: string | undefined };
  /** The model registry: aliases protected besides champion and production (src/registry/aliases.ts). */
  registry: { protectedAliases: string[] };
}

function port(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(`${key}=${raw} is not a port number (0 to 65535).`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** STEWARD_PROTECTED_ALIASES: alias names (the registry's shape: lowercase letters, digits, dashes). */
function aliasList(env: NodeJS.ProcessEnv, key: string): string[] {
  const names = (env[key] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const bad = names.filter((name) => !/^[a-z][a-z0-9-]{0,62}$/.test(name));
  if (bad.length) throw new ConfigError(`${key} lists ${bad.map((b) => `"${b}"`).join(', ')}: alias names are lowercase letters, digits and dashes, starting with a letter (e.g. champion,staging).`);
  return [...new Set(names)];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): StewardConfig {
  const home = path.resolve(cwd, nonEmpty(env[envKeys.home]) ?? '.steward');
  const logLevel = (nonEmpty(env[envKeys.logLevel]) ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`${envKeys.logLevel}=${logLevel} is not one of debug, info, warn, error.`);
  }
  return {
    home,
    temporal: {
      address: nonEmpty(env[envKeys.temporalAddress]),
      namespace: nonEmpty(env[envKeys.temporalNamespace]) ?? 'default',
      cliPath: nonEmpty(env[envKeys.temporalCli]),
      devServerPort: port(env, envKeys.temporalPort, 7233),
      devServerUiPort: port(env, envKeys.temporalUiPort, 8233),
    },
    database: { url: nonEmpty(env[envKeys.databaseUrl]), pgliteDir: path.join(home, 'pglite') },
    api: { host: nonEmpty(env[envKeys.apiHost]) ?? '127.0.0.1', port: port(env, envKeys.apiPort, 8080), url: nonEmpty(env[envKeys.apiUrl]) },
    scorer: { port: port(env, envKeys.scorerPort, 8000), url: nonEmpty(env[envKeys.scorerUrl]) },
    token: nonEmpty(env[envKeys.token]),
    auditKey: nonEmpty(env[envKeys.auditKey]),
    taskQueue: nonEmpty(env[envKeys.taskQueue]) ?? 'steward',
    logLevel,
    faults: { crashAfterCommit: nonEmpty(env[envKeys.crashAfterCommit]) },
    lineage: { url: nonEmpty(env[envKeys.openLineageUrl]) },
    tracing: {
      endpoint: nonEmpty(env[envKeys.otlpEndpoint]),
      tracesEndpoint: nonEmpty(env[envKeys.otlpTracesEndpoint]),
      serviceName: nonEmpty(env[envKeys.otelServiceName]),
    },
    registry: { protectedAliases: aliasList(env, envKeys.protectedAliases) },
  };
}

/** Where installed tools are cached across clones of the project (the Temporal CLI, ~250 MB). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(nonEmpty(env.XDG_CACHE_HOME) ?? path.join(os.homedir(), '.cache'), 'steward');
}
