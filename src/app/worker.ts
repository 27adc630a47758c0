/**
 * The worker: every workflow (bundled once per code version and cached under .steward/cache) and
 * every activity, built by the activity factory from injected dependencies. SIGINT/SIGTERM shut it
 * down gracefully: it stops polling, lets running activities finish within the grace time, and
 * anything cut off is retried by Temporal on another worker.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../../activities/index.js';
import type { LogLevel } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { sdkLogFunction } from '../platform/sdk-log.js';
import type { Tracing } from '../platform/tracing.js';
import { workflowTracingModules } from '../platform/tracing-config.js';

/**
 * The workflows' entry point for webpack: workflows/index.ts beside the sources when this module runs
 * from them (tsx, vitest), dist/workflows/index.js when it runs compiled (the build mirrors the tree).
 */
const compiled = import.meta.url.endsWith('.js');
const sourceExtension = compiled ? '.js' : '.ts';
export const workflowsPath = fileURLToPath(new URL(`../../workflows/index${sourceExtension}`, import.meta.url));
const workflowsDir = path.dirname(workflowsPath);
const srcDir = fileURLToPath(new URL('../', import.meta.url));

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: ActivityDependencies;
  /** Folder for the cached workflow bundle (e.g. .steward/cache); no caching when undefined. */
  cacheDir?: string;
  logger: Logger;
  /** Time running activities get to finish on shutdown. */
  shutdownGraceTime?: string;
  /** Steward's log level; the SDK's own INFO chatter shows only at debug. */
  logLevel?: LogLevel;
  /** OpenTelemetry tracing of workflows and activities (src/platform/tracing.ts); off when undefined. */
  tracing?: Tracing;
}

let runtimeInstalled = false;

/** The SDK's runtime is process-wide and can be configured once, before the first worker. */
export function installRuntime(level: LogLevel): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger(level === 'debug' ? 'INFO' : level === 'error' ? 'ERROR' : 'WARN', sdkLogFunction) });
  } catch {
    // Already created by the host process (e.g. a test environment): keep its settings.
  }
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  installRuntime(options.logLevel ?? 'info');
  const connection = await NativeConnection.connect({ address: options.address });
  const workflowBundle = await workflowBundleFor(options.cacheDir, options.logger, options.tracing ? workflowTracingModules : []);
  return Worker.create({
    ...options.tracing?.workerOptions(),
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle,
    activities: createActivities(options.activities),
    shutdownGraceTime: (options.shutdownGraceTime ?? '10 seconds') as '10 seconds',
  });
}

/**
 * Bundling the workflows with webpack takes seconds; the result depends only on the workflow
 * sources (and the contracts they import) and the SDK version, so it is cached by their hash.
 */
export async function workflowBundleFor(cacheDir: string | undefined, logger: Logger, interceptorModules: string[] = []): Promise<WorkflowBundleWithSourceMap> {
  const key = cacheDir ? `${bundleKey()}${interceptorModules.length ? '-traced' : ''}` : undefined;
  const file = cacheDir && key ? path.join(cacheDir, `workflows-${key}.json`) : undefined;
  if (file && fs.existsSync(file)) {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
  }
  logger.debug('Bundling workflows...');
  const bundle = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: interceptorModules, logger: quietWebpackLogger(logger) });
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(bundle));
    fs.renameSync(`${file}.tmp`, file);
  }
  return bundle;
}

function bundleKey(): string {
  const hash = createHash('sha256');
  const sdk = JSON.parse(fs.readFileSync(fileURLToPath(import.meta.resolve('@temporalio/worker/package.json')), 'utf8')) as { version: string };
  hash.update(sdk.version);
  for (const file of [...listSources(workflowsDir), path.join(srcDir, `contracts${sourceExtension}`), path.join(srcDir, 'pipeline', `spec${sourceExtension}`)].sort()) {
    hash.update(file).update(fs.readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The workflow modules: .ts sources, or the compiled .js (not their .d.ts and .map files). */
function listSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listSources(full);
    return entry.name.endsWith(sourceExtension) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function quietWebpackLogger(logger: Logger) {
  return {
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (message: string) => logger.debug(message),
    error: (message: string) => logger.error(message),
    log: () => {},
  };
}
