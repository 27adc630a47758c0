/**
 * The scorer inside the local stack (`steward dev`, `steward start`): the worker, the API and the
 * scorer share the stack's process (which owns the embedded database), and the
 * deployment activities drive the scorer through its admin HTTP API like any other scorer. On start
 * it restores what should serve: a running deployment's last routing, else each model's
 * `production` version, so routing survives a restart. Its address goes to .steward/scorer.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/client.js';
import { ConfigError } from '../errors.js';
import type { StewardConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { firstFreePort } from '../platform/ports.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { servingIntent } from './deployments.js';
import { ScorerMetrics } from './metrics.js';
import { ModelHost } from './model-host.js';
import { registrySource } from './model-source.js';
import { PredictionLog, databaseSink } from './prediction-log.js';
import { httpScorerAdmin, type ScorerAdmin } from './scorer-client.js';
import { createScorerServer } from './server.js';

export interface HostedScorer {
  url: string;
  host: ModelHost;
  app: FastifyInstance;
  /** What was restored at start, and what could not be. */
  restored: Array<{ model: string; source: string; ok: boolean; error?: string }>;
  close(): Promise<void>;
}

export function scorerStateFile(config: StewardConfig): string {
  return path.join(config.home, 'scorer.json');
}

export async function startHostedScorer(config: StewardConfig, db: Database, artifacts: ArtifactStore, logger: Logger): Promise<HostedScorer> {
  const metrics = new ScorerMetrics();
  const log = new PredictionLog(databaseSink(db), { onError: (e) => logger.warn(`Prediction log write failed: ${(e as Error).message}`) });
  metrics.watchPredictionLog(log);
  const host = new ModelHost({ source: registrySource(db, artifacts), metrics, log, logger });
  const restored = await restoreRouting(host, db, logger);
  const app = createScorerServer({ host, metrics, db, logger });
  const port = await firstFreePort(config.scorer.port, 50, config.api.host);
  if (port === undefined) throw new ConfigError(`Port ${config.scorer.port} (scorer) is in use. Set STEWARD_SCORER_PORT to a free port.`);
  if (port !== config.scorer.port) logger.warn(`Port ${config.scorer.port} (scorer) is in use; using ${port} instead (set STEWARD_SCORER_PORT to choose).`);
  await app.listen({ host: config.api.host, port });
  const url = `http://${config.api.host}:${port}`;
  const stateFile = scorerStateFile(config);
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(stateFile, JSON.stringify({ url, pid: process.pid }));
  return {
    url,
    host,
    app,
    restored,
    close: async () => {
      fs.rmSync(stateFile, { force: true });
      await app.close();
      await host.close();
      await log.close();
    },
  };
}

/** Applies what should serve (servingIntent): a running deployment's routing, else each model's production version. */
export async function restoreRouting(host: ModelHost, db: Database, logger: Pick<Logger, 'warn'>): Promise<HostedScorer['restored']> {
  const restored: HostedScorer['restored'] = [];
  for (const intent of await servingIntent(db)) {
    try {
      await host.setRouting(intent.model, intent.routing);
      restored.push({ model: intent.model, source: intent.source, ok: true });
    } catch (error) {
      restored.push({ model: intent.model, source: intent.source, ok: false, error: (error as Error).message });
      logger.warn(`The scorer could not restore ${intent.model} (${intent.source}): ${(error as Error).message}`);
    }
  }
  return restored;
}

/** Where the scorer is: STEWARD_SCORER_URL, else the one `steward dev` hosts (if alive), else 127.0.0.1:STEWARD_SCORER_PORT. */
export function scorerUrlOf(config: StewardConfig): string {
  if (config.scorer.url) return config.scorer.url.replace(/\/$/, '');
  try {
    const state = JSON.parse(fs.readFileSync(scorerStateFile(config), 'utf8')) as { url: string; pid: number };
    process.kill(state.pid, 0);
    return state.url;
  } catch {
    return `http://${config.api.host}:${config.scorer.port}`;
  }
}

/** The scorer a worker outside the stack (`steward worker`) drives, asked for at each use. */
export function configuredScorer(config: StewardConfig): () => ScorerAdmin {
  return () => httpScorerAdmin(scorerUrlOf(config));
}
