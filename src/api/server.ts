/**
 * Steward's HTTP API: health, the pipeline catalog, and starting and inspecting runs. Runs start
 * through the Temporal client, like the CLI; the API never runs pipeline code itself.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { isStewardError } from '../errors.js';
import { findPipeline } from '../pipeline/catalog.js';
import type { Pipeline } from '../pipeline/definition.js';
import { getRunReport, startRun } from '../pipeline/runs.js';
import type { Database } from '../db/client.js';
import { authenticateRequest, registerApprovalRoutes } from './approvals.js';
import { authorize } from '../governance/access.js';
import { registerReviewPages } from './reviews.js';
import { sessionPrincipal } from '../governance/sessions.js';

export interface ApiOptions {
  client: Client;
  taskQueue: string;
  pipelines: readonly Pipeline[];
  /** What /health reports about the database. */
  database: { driver: string };
  /** The database, for approvals and the reviewer page; without it those routes are not served. */
  db?: Database;
}

export function createApi(options: ApiOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  app.setErrorHandler((error, _request, reply) => {
    if (isStewardError(error)) {
      return reply.status(error.status).send({ error: { code: error.code, message: error.message, details: error.details } });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.status(status).send({ error: { code: status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message: (error as Error).message } });
  });

  app.get('/health', async () => {
    await options.client.workflowService.getSystemInfo({});
    return { status: 'ok', temporal: options.client.options.namespace, database: options.database.driver };
  });

  app.get('/api/pipelines', async () => ({
    pipelines: options.pipelines.map((p) => ({ name: p.name, description: p.description })),
  }));

  app.post<{ Body: { pipeline?: string; params?: Record<string, unknown>; runId?: string; cache?: boolean } }>('/api/runs', async (request, reply) => {
    const body = request.body ?? {};
    const pipeline = findPipeline(options.pipelines, String(body.pipeline ?? ''));
    // With a token, the run carries its principal: its steps are checked against that principal's grants.
    let startedBy: string | undefined;
    if (options.db && request.headers.authorization) {
      startedBy = (await authenticateRequest(options.db, request)).name;
      await authorize(options.db, { principal: startedBy, permission: 'write', resource: `pipeline:${pipeline.name}`, context: 'POST /api/runs' });
    }
    const run = await startRun(options.client, options.taskQueue, pipeline, body.params ?? {}, { runId: body.runId, cache: body.cache, ...(startedBy ? { startedBy } : {}) });
    return reply.status(202).send(run);
  });

  app.get<{ Params: { runId: string } }>('/api/runs/:runId', async (request) => getRunReport(options.client, request.params.runId));

  if (options.db) {
    registerApprovalRoutes(app, { db: options.db, client: options.client, sessions: sessionPrincipal });
    registerReviewPages(app, { db: options.db, client: options.client });
  }

  return app;
}
