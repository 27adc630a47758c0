/**
 * Registering an ONNX model made outside Steward as a version of a model: what
 * `steward models import <file.onnx> --name <model>` and `POST /api/models/:name/versions` share.
 *
 * In two phases, so nothing is written for a file that will be refused:
 *
 * 1. `prepareModelImport` checks the model name, the description and the size, then hands the
 *    bytes to `importOnnxModel` (src/ml/onnx-import.ts): parsed, checked against what
 *    onnxruntime-node runs, loaded and smoke-tested. Its refusals name the fault and what to do.
 *    No database or artifact store is touched (the CLI runs it before opening the database).
 * 2. `registerModelImport` stores the bytes as a content-addressed artifact and registers a version
 *    whose signature is the one the model declares, through `registerModelVersion` (which reads the
 *    artifact back, checks its hash and signature, and registers in one transaction). Registration
 *    is idempotent per (model, artifact): importing the same file again returns the version it
 *    already has, unchanged.
 *
 * An imported version has no training set (`trainingSetUri` is `unrecorded`, as lineage says for
 * a version without a recorded run), no metrics, and `runId` `import-<first 12 hex of its sha256>`.
 */
import type { Database } from '../db/client.js';
import type { ModelVersion } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { importOnnxModel, type OnnxSignature, type OnnxSmokeResult } from '../ml/onnx-import.js';
import { sha256Hex, type ArtifactStore } from '../artifacts/index.js';
import { registerModelVersion } from './models.js';
import { checkModelName } from './names.js';

/**
 * The largest ONNX file imported: the scorer holds every served model in memory, and protobuf
 * caps one file at 2 GiB anyway (bigger models keep their weights in external files, which an
 * import of one file cannot carry).
 */
export const MAX_ONNX_IMPORT_BYTES = 256 * 1024 * 1024;

/** registerModelVersion's limit, checked before anything is written. */
const MAX_DESCRIPTION = 10_000;

export const UNRECORDED_TRAINING_SET = 'unrecorded';

export interface ModelImportRequest {
  modelName: string;
  /** What messages call the bytes: the file name, or "the uploaded file". */
  source: string;
  /** The history's reason; default "Imported from <source>". */
  reason?: string;
  description?: string;
}

export interface PreparedModelImport extends ModelImportRequest {
  bytes: Uint8Array;
  sha256: string;
  signature: OnnxSignature;
  smoke: OnnxSmokeResult;
}

export interface ModelImportResult {
  modelName: string;
  version: number;
  status: string;
  /** False when this file was already registered under this name: that version, unchanged. */
  created: boolean;
  artifactUri: string;
  artifactSha256: string;
  bytes: number;
  /** What the version was registered with: the model's declared inputs and outputs. */
  signature: RegisteredImportSignature;
  smoke: OnnxSmokeResult;
  description: string | null;
}

/** The registered signature: inputs and outputs as importOnnxModel reads them (what serving checks requests against), and the ONNX facts. */
export interface RegisteredImportSignature {
  inputs: OnnxSignature['inputs'];
  outputs: OnnxSignature['outputs'];
  onnx: { irVersion: number; producerName: string; producerVersion: string; opsets: OnnxSignature['opsets']; domains: string[] };
}

/** 300.0 MiB, 12.5 KiB, 900 bytes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** Checks what can be checked before the bytes are read: the name, the description and the size. */
export function checkModelImportRequest(request: ModelImportRequest, size: number, maxBytes = MAX_ONNX_IMPORT_BYTES): void {
  checkModelName(request.modelName);
  if (request.description !== undefined && request.description.length > MAX_DESCRIPTION) {
    throw new ValidationError(`The description is ${request.description.length} characters; keep it under ${MAX_DESCRIPTION.toLocaleString('en-US')}.`);
  }
  if (size > maxBytes) {
    throw new ValidationError(
      `Cannot import ${request.source}: it is ${formatBytes(size)} (${size} bytes), and Steward imports ONNX models up to ${formatBytes(maxBytes)}, since the scorer holds every served model in memory. Make the model smaller (quantize its weights, e.g. with onnxruntime.quantization.quantize_dynamic) or serve it outside Steward.`,
      { bytes: size, maxBytes },
    );
  }
}

/** Phase 1: every check, the smoke inference included; writes nothing. Refusals say which file they are about. */
export async function prepareModelImport(request: ModelImportRequest, bytes: Uint8Array, options: { maxBytes?: number } = {}): Promise<PreparedModelImport> {
  checkModelImportRequest(request, bytes.byteLength, options.maxBytes);
  try {
    const { signature, smoke } = await importOnnxModel(bytes);
    return { ...request, bytes, sha256: sha256Hex(bytes), signature, smoke };
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(`Cannot import ${request.source}: ${error.message}`, { ...error.details, source: request.source });
    throw error;
  }
}

/** Phase 2: stores the artifact and registers the version (or finds the one this file already is). */
export async function registerModelImport(db: Database, artifacts: ArtifactStore, prepared: PreparedModelImport, by: { actor: string }): Promise<ModelImportResult> {
  const { signature } = prepared;
  const registered: RegisteredImportSignature = {
    inputs: signature.inputs,
    outputs: signature.outputs,
    onnx: { irVersion: signature.irVersion, producerName: signature.producerName, producerVersion: signature.producerVersion, opsets: signature.opsets, domains: signature.domains },
  };
  const producer = [signature.producerName, signature.producerVersion].filter(Boolean).join(' ');
  const stored = await artifacts.put(prepared.bytes);
  const { version, created } = await registerModelVersion(
    db,
    {
      modelName: prepared.modelName,
      artifactUri: stored.uri,
      artifactSha256: stored.sha256,
      trainingSetUri: UNRECORDED_TRAINING_SET,
      metrics: {},
      signature: registered,
      runId: `import-${stored.sha256.slice(0, 12)}`,
      algorithm: `imported ONNX${producer ? ` (${producer})` : ''}`,
      ...(prepared.description !== undefined ? { description: prepared.description } : {}),
    },
    { artifacts, registeredBy: { actor: by.actor, reason: prepared.reason ?? `Imported from ${prepared.source}` } },
  );
  return resultOf(version, created, stored.bytes, prepared.smoke);
}

function resultOf(version: ModelVersion, created: boolean, bytes: number, smoke: OnnxSmokeResult): ModelImportResult {
  return {
    modelName: version.modelName,
    version: version.version,
    status: version.status,
    created,
    artifactUri: version.artifactUri,
    artifactSha256: version.artifactSha256,
    bytes,
    // An existing version keeps what it was registered with.
    signature: version.signature as RegisteredImportSignature,
    smoke,
    description: version.description ?? null,
  };
}
