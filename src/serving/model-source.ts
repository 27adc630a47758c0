/**
 * Where the scorer gets model versions from: the registry (model_versions, model_aliases) and the
 * content-addressed artifact store, which verifies every artifact's sha256 as it reads it. The
 * scorer touches the database only here, when it loads or polls, never while it scores.
 */
import type { Database } from '../db/client.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { resolveVersion } from '../registry/lookup.js';

export interface SourceVersion {
  model: string;
  version: number;
  artifactUri: string;
  /** As registered: `{ inputs, outputs, score? }`. */
  signature: unknown;
  /** The version's card metadata when the registry has it; features tagged pii are hashed in the prediction log. */
  metadata?: unknown;
}

export interface ModelSource {
  /** The version a selector names: a version number or an alias (`champion`). */
  resolve(model: string, selector: string | number): Promise<SourceVersion>;
  /** The artifact's bytes, verified. */
  read(version: SourceVersion): Promise<Uint8Array>;
}

export function registrySource(db: Database, artifacts: ArtifactStore): ModelSource {
  return {
    async resolve(model, selector) {
      const row = await resolveVersion(db, model, selector);
      return {
        model: row.modelName,
        version: row.version,
        artifactUri: row.artifactUri,
        signature: row.signature,
        metadata: (row as { metadata?: unknown }).metadata,
      };
    },
    read: (version) => artifacts.get(version.artifactUri),
  };
}

/** Feature names a version's metadata tags as pii (`features: [{ name, sensitivity: 'pii' }]` or a `pii` tag). */
export function piiFeaturesOf(metadata: unknown): string[] {
  const features = (metadata as { features?: unknown } | null | undefined)?.features;
  if (!Array.isArray(features)) return [];
  return features
    .filter((f: unknown) => {
      const feature = (f ?? {}) as { sensitivity?: unknown; tags?: unknown };
      return feature.sensitivity === 'pii' || (Array.isArray(feature.tags) && feature.tags.includes('pii'));
    })
    .map((f: unknown) => String((f as { name?: unknown }).name ?? ''))
    .filter((name) => name !== '');
}
