/**
 * The model registry's write door in Steward's HTTP API: importing an ONNX model made outside
 * Steward as a new version of a model, as `steward models import` does from the command line.
 *
 *   POST /api/models/:name/versions?description=<text>
 *     Authorization: Bearer <token>
 *     Content-Type: application/octet-stream
 *     body: the .onnx file's bytes, as they are (at most 256 MiB)
 *
 *   curl -X POST --data-binary @fraud.onnx -H 'Content-Type: application/octet-stream' \
 *        -H "Authorization: Bearer $STEWARD_TOKEN" "$STEWARD_API_URL/api/models/fraud-scorer/versions"
 *
 * 201 with the new version ({modelName, version, status, created: true, artifactUri,
 * artifactSha256, bytes, signature, smoke, description}); 200 with the same shape and
 * `created: false` when this file is already a version of the model (imports are idempotent).
 * Refusals are `{error: {code, message, details}}`: 401 without a valid token, 400 for a bad model
 * name or a file that cannot be served (the message names the fault and what to do), 403 without
 * `write` on `model:<name>`, 413 over the size limit, 415 for a body that is not
 * application/octet-stream. A refused request writes nothing: no artifact, no version.
 *
 * The principal is checked before the body is read, so an unauthenticated upload is not buffered.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../db/client.js';
import type { Principal } from '../db/schema.js';
import { isStewardError, StewardError, ValidationError } from '../errors.js';
import { authorize } from '../governance/access.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { formatBytes, MAX_ONNX_IMPORT_BYTES, prepareModelImport, registerModelImport } from '../registry/model-import.js';
import { checkModelName } from '../registry/names.js';
import { authenticateRequest } from './approvals.js';

export const IMPORT_ROUTE = '/api/models/:name/versions';
const CONTEXT = `POST ${IMPORT_ROUTE}`;
const QUERY_KEYS = ['description'];

export interface ModelRouteOptions {
  db: Database;
  /** Where imported models are stored: the stack's artifact store. */
  artifacts: ArtifactStore;
  /** The largest body accepted; default MAX_ONNX_IMPORT_BYTES (256 MiB). */
  maxBytes?: number;
}

class PayloadTooLargeError extends StewardError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
}

class UnsupportedMediaTypeError extends StewardError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

const HOW_TO_SEND = "send the .onnx file's bytes as the body with Content-Type: application/octet-stream (curl --data-binary @model.onnx -H 'Content-Type: application/octet-stream' ...)";

export function registerModelRoutes(app: FastifyInstance, options: ModelRouteOptions): void {
  const { db } = options;
  const maxBytes = options.maxBytes ?? MAX_ONNX_IMPORT_BYTES;
  const { artifacts } = options;
  const principals = new WeakMap<FastifyRequest, Principal>();

  // Encapsulated: the octet-stream parser, the body limit and the error messages apply to these routes only.
  void app.register(async (models) => {
    models.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));

    models.setErrorHandler(async (error: FastifyError, request, reply) => {
      const refusal = translate(error, request, maxBytes);
      if (isStewardError(refusal)) {
        return reply.status(refusal.status).send({ error: { code: refusal.code, message: refusal.message, details: refusal.details } });
      }
      const status = (refusal as { statusCode?: number }).statusCode ?? 500;
      return reply.status(status).send({ error: { code: status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message: (refusal as Error).message } });
    });

    // Who, which model and whether they may, before the body is read.
    models.addHook<{ Params: { name: string } }>('onRequest', async (request) => {
      const principal = await authenticateRequest(db, request);
      checkModelName(request.params.name);
      await authorize(db, { principal: principal.name, permission: 'write', resource: `model:${request.params.name}`, context: CONTEXT });
      principals.set(request, principal);
    });

    models.post<{ Params: { name: string }; Querystring: Record<string, unknown> }>(IMPORT_ROUTE, { bodyLimit: maxBytes }, async (request, reply) => {
      const principal = principals.get(request)!;
      const description = descriptionOf(request.query);
      const bytes = bodyBytes(request);
      const prepared = await prepareModelImport(
        {
          modelName: request.params.name,
          source: 'the uploaded file',
          reason: `Imported through POST /api/models/${request.params.name}/versions`,
          ...(description !== undefined ? { description } : {}),
        },
        bytes,
        { maxBytes },
      );
      const result = await registerModelImport(db, artifacts, prepared, { actor: principal.name });
      return reply.status(result.created ? 201 : 200).send(result);
    });
  });
}

function descriptionOf(query: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(query).filter((k) => !QUERY_KEYS.includes(k));
  if (unknown.length) throw new ValidationError(`Unknown query parameter(s) ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}; this route takes only description.`);
  const description = query.description;
  if (description === undefined) return undefined;
  if (typeof description !== 'string') throw new ValidationError('Give description once, as text (?description=...).');
  return description;
}

/** The body as the octet-stream parser left it; anything else was parsed by another content type's parser. */
function bodyBytes(request: FastifyRequest): Uint8Array {
  const body = request.body;
  if (body === undefined || body === null) {
    if (request.headers['content-type'] === undefined && Number(request.headers['content-length'] ?? 0) === 0) {
      throw new ValidationError(`The request has no body: ${HOW_TO_SEND}.`);
    }
    return new Uint8Array(0);
  }
  if (Buffer.isBuffer(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new UnsupportedMediaTypeError(`The body is ${request.headers['content-type'] ?? 'of no declared type'}, not an ONNX file: ${HOW_TO_SEND}.`, {
    contentType: request.headers['content-type'] ?? null,
  });
}

/** Fastify's own refusals (body too large, unknown content type) in the words of this route. */
function translate(error: FastifyError, request: FastifyRequest, maxBytes: number): unknown {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const declared = Number(request.headers['content-length']);
    const size = Number.isFinite(declared) && declared > 0 ? `${formatBytes(declared)} (${declared} bytes)` : `over ${formatBytes(maxBytes)}`;
    return new PayloadTooLargeError(
      `The ONNX model is ${size}, and Steward imports ONNX models up to ${formatBytes(maxBytes)}, since the scorer holds every served model in memory. Make the model smaller (quantize its weights, e.g. with onnxruntime.quantization.quantize_dynamic) or serve it outside Steward.`,
      { maxBytes, ...(Number.isFinite(declared) ? { bytes: declared } : {}) },
    );
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new UnsupportedMediaTypeError(`The body is ${request.headers['content-type'] ?? 'of no declared type'}, not an ONNX file: ${HOW_TO_SEND}.`, {
      contentType: request.headers['content-type'] ?? null,
    });
  }
  return error;
}
