/**
 * Registering model versions. Idempotent: registering the same artifact under the same model name
 * again (a retried activity, a rerun) returns the version it already has, unchanged (a description
 * or metadata given the second time is not applied). Everything is checked before the transaction:
 * the name, the metrics, the metadata, and (given an artifact store) the artifact itself.
 */
import { and, eq, max } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { modelVersions, type ModelVersion } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { appendHistory } from './history.js';
import { lockModel } from './lookup.js';
import { checkArtifactReference, verifyModelArtifact } from './model-artifact.js';
import { checkModelName } from './names.js';
import { checkVersionMetadata, type VersionMetadata } from './version-metadata.js';

export interface RegisterInput {
  modelName: string;
  artifactUri: string;
  artifactSha256: string;
  trainingSetUri: string;
  metrics: Record<string, number>;
  signature: unknown;
  runId: string;
  algorithm?: string;
  /** What this version is, e.g. which candidate it beat and by how much. */
  description?: string;
  /** What the model card shows beyond the columns (version-metadata.ts). */
  metadata?: VersionMetadata;
}

export interface RegisterOptions {
  /** When given, the artifact is read (hash verified) and its ONNX signature compared with the declared one. */
  artifacts?: ArtifactStore;
  /** Who registers the version and why, for the history and the audit trail; by default `steward`, "Registered by run <runId>". */
  registeredBy?: { actor: string; reason: string };
}

export async function registerModelVersion(
  db: Database,
  input: RegisterInput,
  options: RegisterOptions = {},
): Promise<{ version: ModelVersion; created: boolean }> {
  checkModelName(input.modelName);
  for (const [metric, value] of Object.entries(input.metrics)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(`Metric ${metric} is ${value}; a registered model's metrics must be finite numbers.`, { metric });
    }
  }
  const metadata = checkVersionMetadata(input.metadata ?? {});
  if (input.description !== undefined && input.description.length > 10_000) {
    throw new ValidationError(`The description of ${input.modelName} is ${input.description.length} characters; keep it under 10,000 and put the rest in the metadata.`);
  }
  if (options.artifacts) await verifyModelArtifact(options.artifacts, input);
  else checkArtifactReference(input.modelName, input.artifactUri, input.artifactSha256);
  return db.transaction(async (tx) => {
    // One registration per model name at a time: version numbers are assigned without gaps or clashes.
    await lockModel(tx, input.modelName);
    const byArtifact = and(eq(modelVersions.modelName, input.modelName), eq(modelVersions.artifactSha256, input.artifactSha256));
    const [existing] = await tx.select().from(modelVersions).where(byArtifact);
    if (existing) return { version: existing, created: false };
    const [{ latest } = { latest: 0 }] = await tx.select({ latest: max(modelVersions.version) }).from(modelVersions).where(eq(modelVersions.modelName, input.modelName));
    const [version] = await tx
      .insert(modelVersions)
      .values({ ...input, signature: input.signature as object, metadata, version: (latest ?? 0) + 1 })
      .returning();
    await appendHistory(tx, {
      modelName: input.modelName,
      version: version!.version,
      kind: 'registered',
      to: version!.status,
      actor: options.registeredBy?.actor ?? 'steward',
      reason: options.registeredBy?.reason ?? `Registered by run ${input.runId}`,
      workflowId: input.runId,
    });
    return { version: version!, created: true };
  });
}
