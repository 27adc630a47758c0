/**
 * The scorer's HTTP front door (fastify): the Open Inference Protocol v2 endpoints KServe and
 * Triton clients speak, a simple JSON `/predict` with named features, Prometheus `/metrics`, and
 * the admin API a deployment workflow drives (routing, reload, live statistics).
 *
 *   GET  /v2/health/live | /v2/health/ready            server liveness and readiness
 *   GET  /v2/models/{name}[/versions/{v}][/ready]      model metadata and readiness
 *   POST /v2/models/{name}[/versions/{v}]/infer        OIP v2 inference (tensors in, tensors out)
 *   POST /predict/{name} | /predict                    { feature: value, ... } or an array of them
 *                                                      (with `entities` per row where enrichment is on)
 *   POST /predictions/{requestId}/ground-truth         { value } | { values: [...] }
 *   GET  /metrics                                      Prometheus text format
 *   GET  /admin/models[/{name}]                        what is loaded and how it is routed
 *   PUT  /admin/models/{name}/routing                  set a routing policy (loads what it needs first)
 *   POST /admin/models/{name}/reload                   { ref? }: re-resolve the followed alias
 *   GET  /admin/models/{name}/stats?windowSeconds=     live per-version statistics
 *   GET  /admin/models/{name}/versions/{v}             a version's registry status (needs the database)
 *
 * Every answer to a scoring request carries the request id (body and `x-request-id`) and the
 * version that answered; every error is `{ "error": "..." }` with a 4xx status for the caller's
 * mistakes (413 for a body over the limit; 400 for a request id over MAX_REQUEST_ID_LENGTH, in a
 * header, a body or a path alike) and 5xx only for the server's own.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Database } from '../db/client.js';
import { isStewardError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../platform/logger.js';
import { requireVersion } from '../registry/lookup.js';
import type { Enricher } from './enrichment.js';
import { attachGroundTruth, parseGroundTruth } from './ground-truth.js';
import type { ScorerMetrics } from './metrics.js';
import type { ModelHost, ScoreResult } from './model-host.js';
import { checkRequestId, MAX_REQUEST_ID_LENGTH } from './request-id.js';
import type { ServingSignature } from './signature.js';
import { batchFromOip, decodeOip, decodeRecords, type Batch } from './validation.js';
import { stewardPackageVersion } from '../platform/package-info.js';

export interface ScorerServerOptions {
  host: ModelHost;
  metrics?: ScorerMetrics;
  /** Where ground truth is attached; without it that route answers 501. */
  db?: Database;
  /** Largest request body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimit?: number;
  /** When set, /admin requires `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** Whether /predict bodies are kept for the prediction log as sent (default true; false logs decoded values). */
  logRequestBodies?: boolean;
  logger?: Pick<Logger, 'error'>;
  /**
   * Per model name, the Enricher for /predict rows that carry `entities` (enrichment.ts). Such a
   * request is logged as scored, with the store's values, rather than as sent; requests without
   * `entities` are untouched.
   */
  enrich?: Readonly<Record<string, Enricher>>;
}

const STEWARD_VERSION = stewardPackageVersion();

interface ModelParams {
  name: string;
}
interface VersionParams extends ModelParams {
  version: string;
}

export function createScorerServer(options: ScorerServerOptions): FastifyInstance {
  const { host } = options;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const app = Fastify({
    logger: false,
    bodyLimit,
    return503OnClosing: true,
    // No path segment (model name, version, request id) may be longer than a request id, even
    // percent-encoded (at most 12 characters per character): a longer one is refused here, before
    // routing, in the scorer's own error shape rather than fastify's 414. Shorter ones reach the
    // route, which checks the decoded request id against the limit itself.
    routerOptions: { maxParamLength: MAX_REQUEST_ID_LENGTH * 12 },
    frameworkErrors: (error, request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      const groundTruth = /^\/predictions\/([^/]*)\/ground-truth\/?$/.exec(path);
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? groundTruth
            ? `The request id in the path has ${decodedLength(groundTruth[1]!)} characters; request ids are at most ${MAX_REQUEST_ID_LENGTH}.`
            : `A path segment of ${request.method} ${path.slice(0, 60)}... is too long: model names, versions and request ids are at most ${MAX_REQUEST_ID_LENGTH} characters.`
          : `Bad request: ${error.message}`;
      void (reply as FastifyReply).status(400).send({ error: message });
    },
  });
  // The scorer speaks JSON only: anything else is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  // Fastify's own JSON parser reports every fault as "Body is not valid JSON": this one says where
  // (the parser's message has the position) and names a key refused against prototype poisoning.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(new ValidationError('The request body is not valid JSON: it is empty; send a row object, an array of rows, or an infer request.'), undefined);
    try {
      done(null, parseJsonBody(text));
    } catch (error) {
      done(new ValidationError(`The request body is not valid JSON: ${(error as Error).message}.`), undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    let status: number;
    let message: string;
    if (isStewardError(error)) {
      status = error.status;
      message = error.message;
    } else {
      const e = error as { statusCode?: number; code?: string; message?: string; name?: string };
      status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `The request body is larger than the limit of ${bodyLimit} bytes; send fewer rows per request.`;
      else if (status === 400 && (e.name === 'SyntaxError' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')) message = `The request body is not valid JSON: ${e.message}`;
      else if (status < 500) message = e.message ?? 'Bad request.';
      else message = 'The scorer failed on this request; see its log.';
    }
    if (status >= 500) options.logger?.error(`${request.method} ${request.url} failed: ${(error as Error).message}`);
    return reply.status(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `No route ${request.method} ${request.url.split('?')[0]}; the scorer serves /v2/..., /predict/{model}, /metrics and /admin/models.` }),
  );

  // --- Open Inference Protocol v2 -------------------------------------------------------------

  app.get('/v2', async () => ({ name: 'steward-scorer', version: STEWARD_VERSION, extensions: [] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  // OIP: readiness is the status code, 200 for true and 4xx for false.
  app.get('/v2/health/ready', async (_request, reply) => reply.status(host.ready() ? 200 : 400).send({ ready: host.ready() }));

  app.get<{ Params: ModelParams }>('/v2/models/:name', async (request) => metadata(host, request.params.name));
  app.get<{ Params: VersionParams }>('/v2/models/:name/versions/:version', async (request) => metadata(host, request.params.name, versionOf(request.params)));
  app.get<{ Params: ModelParams }>('/v2/models/:name/ready', async (request, reply) => modelReady(host, request.params.name, undefined, reply));
  app.get<{ Params: VersionParams }>('/v2/models/:name/versions/:version/ready', async (request, reply) =>
    modelReady(host, request.params.name, versionOf(request.params), reply),
  );
  app.post<{ Params: ModelParams }>('/v2/models/:name/infer', async (request, reply) => infer(host, request, reply, request.params.name, undefined));
  app.post<{ Params: VersionParams }>('/v2/models/:name/versions/:version/infer', async (request, reply) =>
    infer(host, request, reply, request.params.name, versionOf(request.params)),
  );

  // --- Simple JSON ----------------------------------------------------------------------------

  const keepBodies = options.logRequestBodies !== false;
  const predict = async (model: string, request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    const single = !Array.isArray(body);
    const records = (single ? [body] : body) as Record<string, unknown>[];
    const requestId = requestIdOf(request);
    const enricher = options.enrich && Object.hasOwn(options.enrich, model) ? options.enrich[model] : undefined;
    const enriched = enricher ? await enricher.decoder(records, single) : undefined;
    const result = await host.score(model, {
      requestId,
      routingKey: routingKeyOf(request),
      decode: enriched ?? decodeRecords(records, single),
      records: keepBodies && !enriched ? records : undefined,
    });
    reply.header('x-request-id', requestId);
    return single
      ? { requestId, model, version: result.version, arm: result.arm, score: result.scores[0] }
      : { requestId, model, version: result.version, arm: result.arm, scores: Array.from(result.scores) };
  };
  app.post<{ Params: ModelParams }>('/predict/:name', async (request, reply) => predict(request.params.name, request, reply));
  app.post('/predict', async (request, reply) => {
    const served = host.modelNames();
    if (served.length !== 1) throw new ValidationError(`This scorer serves ${served.length} models (${served.join(', ')}); name one: POST /predict/{model}.`);
    return predict(served[0]!, request, reply);
  });

  app.post<{ Params: { requestId: string } }>('/predictions/:requestId/ground-truth', async (request, reply) => {
    checkRequestId(request.params.requestId, 'the path');
    if (!options.db) return reply.status(501).send({ error: 'This scorer has no database to attach ground truth to; start it with one.' });
    await attachGroundTruth(options.db, request.params.requestId, parseGroundTruth(request.body));
    return reply.status(204).send();
  });

  app.get('/metrics', async (_request, reply) => {
    if (!options.metrics) return reply.status(404).send({ error: 'Metrics are not enabled on this scorer.' });
    const { contentType, body } = await options.metrics.render();
    return reply.header('content-type', contentType).send(body);
  });

  // --- Admin ----------------------------------------------------------------------------------

  app.register(async (admin) => {
    if (options.adminToken) {
      const expected = Buffer.from(`Bearer ${options.adminToken}`);
      admin.addHook('onRequest', async (request, reply) => {
        const given = Buffer.from(request.headers.authorization ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return reply.status(401).send({ error: 'The admin API needs Authorization: Bearer <token>.' });
        }
      });
    }
    admin.get('/admin/models', async () => ({ models: host.list() }));
    admin.get<{ Params: ModelParams }>('/admin/models/:name', async (request) => host.status(request.params.name));
    admin.get<{ Params: ModelParams }>('/admin/models/:name/routing', async (request) => {
      const routing = host.routing(request.params.name);
      if (!routing) throw new NotFoundError(`Model "${request.params.name}" is not served here.`);
      return routing;
    });
    admin.put<{ Params: ModelParams }>('/admin/models/:name/routing', async (request) => host.setRouting(request.params.name, request.body));
    admin.post<{ Params: ModelParams; Body: { ref?: unknown } | undefined }>('/admin/models/:name/reload', async (request) => {
      const ref = request.body?.ref;
      if (ref !== undefined && typeof ref !== 'string') throw new ValidationError(`"ref" must be a string such as "champion", "4" or "${request.params.name}@champion".`);
      return host.reload(request.params.name, ref);
    });
    // A version's registry status: what `steward deploy start` checks before it starts a deployment.
    admin.get<{ Params: VersionParams }>('/admin/models/:name/versions/:version', async (request, reply) => {
      if (!options.db) return reply.status(501).send({ error: 'This scorer has no registry database to read versions from.' });
      const row = await requireVersion(options.db, request.params.name, versionOf(request.params));
      return { model: row.modelName, version: row.version, status: row.status };
    });
    admin.get<{ Params: ModelParams; Querystring: { windowSeconds?: string } }>('/admin/models/:name/stats', async (request) => {
      const raw = request.query.windowSeconds;
      const seconds = raw === undefined ? undefined : Number(raw);
      if (seconds !== undefined && !(seconds > 0)) throw new ValidationError(`windowSeconds must be a positive number, got "${raw}".`);
      return host.stats(request.params.name, seconds === undefined ? undefined : seconds * 1000);
    });
  });

  return app;
}

function versionOf(params: VersionParams): number {
  if (!/^[0-9]{1,9}$/.test(params.version)) throw new NotFoundError(`Model "${params.name}" has no version "${params.version}"; versions are numbers.`);
  return Number(params.version);
}

/** The caller's request id (the OIP body's `id`, else `x-request-id`), checked against the one limit; else a new UUID. */
function requestIdOf(request: FastifyRequest, bodyId?: unknown): string {
  if (typeof bodyId === 'string' && bodyId.length > 0) return checkRequestId(bodyId, 'the body\'s "id"');
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && header.length > 0 ? checkRequestId(header, 'the x-request-id header') : randomUUID();
}

function decodedLength(segment: string): number {
  try {
    return decodeURIComponent(segment).length;
  } catch {
    return segment.length;
  }
}

function routingKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['x-routing-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

function metadata(host: ModelHost, name: string, version?: number) {
  const { version: v, signature, versions } = host.signature(name, version);
  return {
    name,
    versions: versions.map(String),
    platform: 'onnxruntime_onnx',
    ...(version !== undefined ? { version: String(v) } : {}),
    inputs: signature.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape })),
    outputs: signature.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
  };
}

function modelReady(host: ModelHost, name: string, version: number | undefined, reply: FastifyReply) {
  if (!host.has(name)) throw new NotFoundError(`Model "${name}" is not served here.`);
  let ready = host.isReady(name);
  if (ready && version !== undefined) {
    try {
      host.signature(name, version);
    } catch {
      ready = false;
    }
  }
  return reply.status(ready ? 200 : 400).send({ name, ...(version !== undefined ? { version: String(version) } : {}), ready });
}

interface InferBody {
  id?: unknown;
  inputs?: unknown;
  outputs?: unknown;
}

async function infer(host: ModelHost, request: FastifyRequest, reply: FastifyReply, name: string, version: number | undefined) {
  const body = request.body as InferBody | null | undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('An infer request is a JSON object: { "inputs": [{ "name", "shape", "datatype", "data" }], "outputs"?: [{ "name" }] }.');
  const requestId = requestIdOf(request, body.id);
  const wanted = requestedOutputs(body.outputs);
  const result = await host.score(name, {
    requestId,
    routingKey: routingKeyOf(request),
    version,
    decode: wanted ? decodeOipFor(wanted, body.inputs) : decodeOip(body.inputs),
    allOutputs: true,
  });
  reply.header('x-request-id', requestId);
  return {
    model_name: name,
    model_version: String(result.version),
    id: requestId,
    parameters: { arm: result.arm },
    outputs: outputsOf(result, wanted),
  };
}

function requestedOutputs(outputs: unknown): string[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs) || !outputs.every((o) => typeof o === 'object' && o !== null && typeof (o as { name?: unknown }).name === 'string')) {
    throw new ValidationError('"outputs" must be an array of { "name": "<output>" }.');
  }
  return outputs.map((o) => (o as { name: string }).name);
}

function decodeOipFor(wanted: readonly string[], inputs: unknown): (signature: ServingSignature) => Batch {
  return (signature) => {
    checkOutputs(signature, wanted);
    return batchFromOip(signature, inputs);
  };
}

function checkOutputs(signature: ServingSignature, wanted: readonly string[]): void {
  const known = new Set(signature.outputs.map((o) => o.name));
  const unknown = wanted.filter((w) => !known.has(w));
  if (unknown.length > 0) throw new ValidationError(`Unknown output(s) ${unknown.map((u) => `"${u}"`).join(', ')}; the model has ${[...known].map((k) => `"${k}"`).join(', ')}.`);
}

function outputsOf(result: ScoreResult, wanted: readonly string[] | undefined) {
  const specs = wanted ? result.signature.outputs.filter((o) => wanted.includes(o.name)) : result.signature.outputs;
  return specs.map((spec) => {
    const tensor = result.outputs![spec.name]!;
    const data = tensor.data as ArrayLike<number | bigint | string | boolean>;
    const values = new Array<unknown>(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      values[i] = typeof v === 'bigint' ? Number(v) : spec.type === 'bool' ? Boolean(v) : v;
    }
    return { name: spec.name, shape: [...tensor.dims], datatype: spec.datatype, data: values };
  });
}

/** JSON.parse that refuses `__proto__` and `constructor.prototype` keys, as fastify's parser does. */
export function parseJsonBody(text: string): unknown {
  return JSON.parse(text, function (key, value: unknown) {
    if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'prototype'))) {
      throw new SyntaxError(`the key "${key}${key === 'constructor' ? '.prototype' : ''}" is not allowed (prototype poisoning)`);
    }
    return value;
  });
}
