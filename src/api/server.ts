/**
 * Steward's HTTP API: health, the pipeline catalog, and starting and inspecting runs. Runs start
 * through the Temporal client, like the CLI; the API never runs pipeline code itself.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { isStewardError, ValidationError } from '../errors.js';
import { findPipeline } from '../pipeline/catalog.js';
import type { Pipeline } from '../pipeline/definition.js';
import { getRunReport, MAX_RUN_ID_LENGTH, startRun } from '../pipeline/runs.js';
import { databaseFaultOf } from '../db/availability.js';
import type { Database } from '../db/client.js';
import { authenticateRequest, registerApprovalRoutes } from './approvals.js';
import { authorize } from '../governance/access.js';
import { registerModelRoutes } from './models.js';
import { registerReviewPages } from './reviews.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { sessionPrincipal } from '../governance/sessions.js';

export interface ApiOptions {
  client: Client;
  taskQueue: string;
  pipelines: readonly Pipeline[];
  /** What /health reports about the database. */
  database: { driver: string };
  /** The database: principals, tokens, grants, approvals and the reviewer page. */
  db: Database;
  /** The artifact store; with it, `POST /api/models/:name/versions` imports ONNX models into the registry. */
  artifacts?: ArtifactStore;
}

const RUN_BODY_KEYS = ['pipeline', 'params', 'runId', 'cache'];

/** The body of `POST /api/runs`, checked field by field so a wrong type is named, never coerced. */
function runRequest(body: unknown): { pipeline: string; params: Record<string, unknown>; runId?: string; cache?: boolean } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('The body must be a JSON object {pipeline, params?, runId?, cache?}.');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !RUN_BODY_KEYS.includes(k));
  if (unknown.length) throw new ValidationError(`Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}; a run takes ${RUN_BODY_KEYS.join(', ')}.`);
  if (typeof b.pipeline !== 'string' || b.pipeline === '') throw new ValidationError('"pipeline" must name a pipeline (GET /api/pipelines lists them).');
  if (b.params !== undefined && (b.params === null || typeof b.params !== 'object' || Array.isArray(b.params))) throw new ValidationError('"params" must be an object of parameter values.');
  if (b.runId !== undefined && typeof b.runId !== 'string') throw new ValidationError('"runId" must be a string.');
  if (b.cache !== undefined && typeof b.cache !== 'boolean') throw new ValidationError(`"cache" must be true or false, not ${JSON.stringify(b.cache).slice(0, 40)}.`);
  return {
    pipeline: b.pipeline,
    params: (b.params as Record<string, unknown> | undefined) ?? {},
    ...(b.runId !== undefined ? { runId: b.runId as string } : {}),
    ...(b.cache !== undefined ? { cache: b.cache as boolean } : {}),
  };
}

/**
 * Every route but /health needs a principal: a Bearer token or the reviewer page's session. Runs
 * always carry the principal that started them, checked against its grants, so their steps are
 * authorized and separation of duties always knows the authors.
 */
export function createApi(options: ApiOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // A run id may be 200 characters (src/pipeline/runs.ts): let such paths reach the route, which
    // names the limit; anything longer is refused here, as a 400 in the API's own shape.
    routerOptions: { maxParamLength: MAX_RUN_ID_LENGTH + 100 },
    frameworkErrors: (error, _request, reply) => {
      const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `A path segment is too long: run ids are at most ${MAX_RUN_ID_LENGTH} characters.` : `Bad request: ${error.message}`;
      void (reply as FastifyReply).status(400).send({ error: { code: 'VALIDATION_FAILED', message } });
    },
  });
  const { db } = options;
  const principalOf = (request: FastifyRequest) => authenticateRequest(db, request, sessionPrincipal);

  app.setErrorHandler((error, _request, reply) => {
    if (isStewardError(error)) {
      return reply.status(error.status).send({ error: { code: error.code, message: error.message, details: error.details } });
    }
    const fault = databaseFaultOf(error);
    if (fault) {
      // The database did not answer: say so, without the query text or its parameters.
      return reply.status(503).header('retry-after', '5').send({ error: { code: 'UNAVAILABLE', message: `The database did not answer (${fault.split(':')[0]}); try again shortly.` } });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.status(status).send({ error: { code: status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message: (error as Error).message } });
  });

  app.get('/health', async () => {
    await options.client.workflowService.getSystemInfo({});
    return { status: 'ok', temporal: options.client.options.namespace, database: options.database.driver };
  });

  app.get('/api/pipelines', async (request) => {
    await principalOf(request);
    return { pipelines: options.pipelines.map((p) => ({ name: p.name, description: p.description })) };
  });

  app.post('/api/runs', async (request, reply) => {
    const principal = await principalOf(request);
    const body = runRequest(request.body);
    const pipeline = findPipeline(options.pipelines, body.pipeline);
    await authorize(db, { principal: principal.name, permission: 'write', resource: `pipeline:${pipeline.name}`, context: 'POST /api/runs' });
    const run = await startRun(options.client, options.taskQueue, pipeline, body.params, { runId: body.runId, cache: body.cache, startedBy: principal.name });
    return reply.status(202).send(run);
  });

  app.get<{ Params: { runId: string } }>('/api/runs/:runId', async (request) => {
    await principalOf(request);
    return getRunReport(options.client, request.params.runId);
  });

  registerApprovalRoutes(app, { db, client: options.client, sessions: sessionPrincipal });
  registerReviewPages(app, { db, client: options.client });
  if (options.artifacts) registerModelRoutes(app, { db, artifacts: options.artifacts });

  return app;
}
