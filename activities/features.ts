/**
 * The feature store's step implementations (used by pipelines/features/steps.ts): register the
 * definitions, run the flight feature pipeline into the offline store, ingest a file into a view,
 * materialize to the online store, and build the flight-delay training set through the store. Each
 * write is idempotent (apply and ingestion by content, materialization by its guarded upserts), so
 * a retried activity does no harm; long ones heartbeat their progress.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../src/db/client.js';
import { resolveSource } from '../src/datasets/flights.js';
import { canonicalJson, specOf, type Definition } from '../src/features/definitions.js';
import { ingest, type NonFinitePolicy } from '../src/features/ingestion.js';
import { materialize } from '../src/features/materialize.js';
import { apply } from '../src/features/registry.js';
import { arrowSource, parquetSource, sha256File } from '../src/features/sources.js';
import { ValidationError } from '../src/errors.js';
import type { StepImplementations } from '../src/pipeline/step-runtime.js';
import type { ArtifactStore } from '../src/registry/artifacts.js';
import { featureDefinitions } from '../pipelines/features/index.js';
import { buildFlightTrainingSetFromStore } from '../pipelines/features/flight-training-set.js';
import { FLIGHT_FEATURES_VERSION, computeFlightFeatures } from '../pipelines/features/flights.js';

/** The definitions' content: a step's cached result holds only while they are unchanged. */
function definitionsFingerprint(definitions: readonly Definition[]): string {
  return createHash('sha256')
    .update(canonicalJson(definitions.map(specOf)))
    .digest('hex');
}

export function createFeatureStepImplementations(
  db: Database,
  artifacts: ArtifactStore,
  definitions: readonly Definition[] = featureDefinitions,
): StepImplementations {
  const fingerprint = async () => definitionsFingerprint(definitions);
  return {
    applyFeatures: {
      run: async () => {
        const result = await apply(db, definitions);
        const tally = (action: string) => result.items.filter((i) => i.action === action).map((i) => `${i.kind}:${i.name}`);
        return { created: tally('create'), changed: tally('change'), unchanged: tally('unchanged').length };
      },
      fingerprint,
    },
    computeFlightFeatures: {
      run: async (input: { ingestionId: string }, ctx) => {
        const result = await computeFlightFeatures(db, input.ingestionId, { onProgress: (view, rowsWritten) => ctx.heartbeat({ view, rowsWritten }) });
        return {
          flights: result.flights,
          views: result.views.map((v) => ({ view: v.view, ingestionId: v.ingestionId, rows: v.rows, reused: v.reused })),
        };
      },
      fingerprint: async () => `${definitionsFingerprint(definitions)}:v${FLIGHT_FEATURES_VERSION}`,
    },
    ingestFeatures: {
      run: async (input: { view: string; source: string; nonFinite?: NonFinitePolicy; batchRows?: number }, ctx) => {
        const file = resolveSource(input.source);
        const source = file.endsWith('.parquet') ? await parquetSource(file) : await arrowSource(file);
        if (input.nonFinite !== undefined && input.nonFinite !== 'refuse' && input.nonFinite !== 'null') {
          throw new ValidationError(`nonFinite must be "refuse" or "null", got ${JSON.stringify(input.nonFinite)}.`);
        }
        return ingest(db, input.view, source, { nonFinite: input.nonFinite, batchRows: input.batchRows, onProgress: (p) => ctx.heartbeat(p) });
      },
      fingerprint: async (input: { source: string }) => sha256File(resolveSource(input.source)),
    },
    materializeFeatures: {
      run: async (input: { views?: string[]; incremental?: boolean }, ctx) => ({
        materializations: await materialize(db, { views: input.views, incremental: input.incremental ?? false, onProgress: (p) => ctx.heartbeat(p) }),
      }),
    },
    buildTrainingSetFromStore: {
      run: (input: { ingestionId: string; delayThresholdMinutes: number }) =>
        buildFlightTrainingSetFromStore(db, artifacts, input.ingestionId, { delayThresholdMinutes: input.delayThresholdMinutes }),
      fingerprint: async () => `${definitionsFingerprint(definitions)}:v${FLIGHT_FEATURES_VERSION}`,
    },
  };
}
