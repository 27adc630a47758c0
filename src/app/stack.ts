/**
 * The local stack, assembled: Temporal (embedded dev server or TEMPORAL_ADDRESS), the database
 * (PGlite or DATABASE_URL), a worker, and optionally the HTTP API. `steward dev` keeps it up;
 * `steward start` and the worked example's `npm start` bring it up, run their pipelines and shut
 * down their own parts, leaving the dev server running for the next command.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { builtinProject } from '../../pipelines/index.js';
import { taskQueueFor } from './project.js';
import type { Project } from '../project/define.js';
import { createApi } from '../api/server.js';
import { LocalArtifactStore, type ArtifactStore } from '../artifacts/index.js';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { startHostedScorer, type HostedScorer } from '../serving/hosted-scorer.js';
import { httpScorerAdmin } from '../serving/scorer-client.js';
import type { StewardConfig } from '../platform/config.js';
import { ensureTemporal, type TemporalEndpoint } from '../platform/dev-server.js';
import type { Logger } from '../platform/logger.js';
import { ConfigError } from '../errors.js';
import { firstFreePort } from '../platform/ports.js';
import { connectClient } from '../platform/temporal.js';
import { createWorker } from './worker.js';
import { configuredTracing } from '../platform/tracing-config.js';

export interface Stack {
  /** What the worker runs and the API offers: Steward's built-ins and the team's project. */
  project: Project;
  /** The task queue the worker polls and runs are started on (per project). */
  taskQueue: string;
  temporal: TemporalEndpoint;
  database: DatabaseHandle;
  /** Where the worker, the API and the scorer keep and read artifacts. */
  artifacts: ArtifactStore;
  client: Client;
  worker: Worker;
  /** Resolves when the worker has stopped (after `shutdown()` or a signal). */
  workerDone: Promise<void>;
  api?: { app: FastifyInstance; url: string };
  /** The scorer deployments drive, unless STEWARD_SCORER_URL points at one elsewhere. */
  scorer?: HostedScorer;
  shutdown(): Promise<void>;
}

export async function startStack(config: StewardConfig, logger: Logger, options: { api: boolean; scorer?: boolean; project?: Project }): Promise<Stack> {
  const project = options.project ?? builtinProject;
  const taskQueue = taskQueueFor(config, project);
  const temporal = await ensureTemporal(config, logger);
  // A PostgreSQL outage and the recovery are reported in the stack's log (src/db/availability.ts).
  const database = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir, logger });
  const cleanups: Array<() => Promise<unknown>> = [() => database.close()];
  try {
    const tracing = await configuredTracing(config);
    if (tracing) {
      cleanups.unshift(() => tracing.shutdown());
      logger.info(`Tracing workflows and activities to ${config.tracing.tracesEndpoint ?? config.tracing.endpoint}`);
    }
    const client = await connectClient(temporal.address, temporal.namespace, tracing?.clientInterceptors());
    cleanups.unshift(() => client.connection.close());
    const artifacts = new LocalArtifactStore(path.join(config.home, 'artifacts'));
    let scorer: HostedScorer | undefined;
    if (options.scorer !== false && !config.scorer.url) {
      scorer = await startHostedScorer(config, database.db, artifacts, logger);
      cleanups.unshift(() => scorer!.close());
    }
    const scorerUrl = config.scorer.url ?? scorer?.url;
    const worker = await createWorker({
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueue,
      activities: {
        db: database.db,
        artifacts,
        pipelines: project.pipelines,
        steps: [...project.steps.values()],
        features: project.features,
        expectations: project.expectations,
        ...(project.source ? { projectRoot: path.dirname(project.source) } : {}),
        logger,
        crashAfterCommit: config.faults.crashAfterCommit,
        lineage: { endpoint: config.lineage.url, logger },
        ...(scorerUrl ? { scorer: () => httpScorerAdmin(scorerUrl) } : {}),
      },
      cacheDir: path.join(config.home, 'cache'),
      logger,
      logLevel: config.logLevel,
      tracing,
    });
    const workerDone = worker.run();
    let api: Stack['api'];
    if (options.api) {
      const app = createApi({ client, taskQueue, pipelines: project.pipelines, database: { driver: database.driver }, db: database.db, artifacts });
      const port = await apiPort(config, logger);
      await app.listen({ host: config.api.host, port });
      api = { app, url: `http://${config.api.host}:${port}` };
      // Reviewer commands find the API here when its port moved.
      const stateFile = apiStateFile(config);
      fs.mkdirSync(path.dirname(stateFile), { recursive: true });
      fs.writeFileSync(stateFile, JSON.stringify({ url: api.url, pid: process.pid }));
      cleanups.unshift(async () => fs.rmSync(stateFile, { force: true }));
      cleanups.unshift(() => app.close());
    }
    const shutdown = async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone.catch(() => {});
      for (const cleanup of cleanups) await cleanup().catch(() => {});
    };
    return { project, taskQueue, temporal, database, artifacts, client, worker, workerDone, api, scorer, shutdown };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw error;
  }
}

async function apiPort(config: StewardConfig, logger: Logger): Promise<number> {
  const port = await firstFreePort(config.api.port, 50, config.api.host);
  if (port === undefined) throw new ConfigError(`Port ${config.api.port} (Steward API) is in use. Set STEWARD_API_PORT to a free port.`);
  if (port !== config.api.port) logger.warn(`Port ${config.api.port} (Steward API) is in use; using ${port} instead (set STEWARD_API_PORT to choose).`);
  return port;
}

export function apiStateFile(config: StewardConfig): string {
  return path.join(config.home, 'api.json');
}

/** Where the API is: STEWARD_API_URL, else the one `steward dev` started (if alive), else host:port. */
export function apiUrlOf(config: StewardConfig): string {
  if (config.api.url) return config.api.url.replace(/\/$/, '');
  try {
    const state = JSON.parse(fs.readFileSync(apiStateFile(config), 'utf8')) as { url: string; pid: number };
    process.kill(state.pid, 0);
    return state.url;
  } catch {
    return `http://${config.api.host}:${config.api.port}`;
  }
}
