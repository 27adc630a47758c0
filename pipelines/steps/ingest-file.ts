/**
 * Loads a file into a feature view's offline table (src/features/files.ts): the file the view
 * declares (`source: { kind: 'file', ... }`), or `path`, relative to the project's folder; CSV,
 * JSON, JSON Lines, Parquet or Arrow IPC, streamed in batches with progress. Idempotent by content:
 * the same bytes ingested again (a retry, a rerun) are the same ingestion and write nothing
 * (`skipped`). Its cache key holds the file's sha256, so a changed file is read again.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { FILE_FORMATS, featureRepository, specOf, type FeatureView } from '../../src/features/definitions.js';
import { ingestFile as ingestFileIntoView, resolveFilePath } from '../../src/features/files.js';
import { sha256File } from '../../src/features/sources.js';
import { viewSensitivity } from '../../src/governance/catalog.js';
import { featureViewDataset, rowCountFacets, sourceDataset } from '../../src/lineage/datasets.js';
import { datasetVersionFacet } from '../../src/lineage/openlineage.js';
import { defineStep } from '../../src/pipeline/step.js';
import type { StepServices } from '../../src/pipeline/step-runtime.js';

/** A feature view of the project by name, or an error listing those it has. */
export function projectView(services: Pick<StepServices, 'features'>, name: string): FeatureView {
  const views = featureRepository(services.features ?? []).views;
  const view = views.get(name);
  if (!view) {
    throw new ValidationError(`Unknown feature view "${name}". The project's feature views: ${[...views.keys()].sort().join(', ') || 'none (declare them in the project\'s features)'}.`, { view: name });
  }
  return view;
}

/** The path the step reads: the one given, else the view's declared file. */
function filePath(view: FeatureView, override: string | undefined, root: string | undefined): string | undefined {
  const declared = override ?? (view.source.kind === 'file' || view.source.kind === 'parquet' || view.source.kind === 'arrow' ? view.source.path : undefined);
  return declared === undefined ? undefined : resolveFilePath(declared, root);
}

export const ingestFile = defineStep({
  name: 'ingestFile',
  version: '1',
  description: "Load a file (CSV, JSON, Parquet, Arrow) into a feature view's offline store.",
  input: z.object({
    view: z.string().min(1),
    /** Read this file instead of the view's declared one (relative to the project's folder). */
    path: z.string().min(1).optional(),
    format: z.enum(FILE_FORMATS).optional(),
    /** NaN and infinity in numeric features: refuse the file (default) or store null. */
    nonFinite: z.enum(['refuse', 'null']).optional(),
  }),
  output: z.object({
    view: z.string(),
    ingestionId: z.number(),
    rows: z.number(),
    /** Hex sha256 of the file's bytes. */
    sha256: z.string(),
    /** The file read (absolute path). */
    source: z.string(),
    /** True when this content was already ingested into the view: nothing was written. */
    skipped: z.boolean().optional(),
  }),
  run: async (input, ctx) => {
    const view = projectView(ctx, input.view);
    const result = await ingestFileIntoView(ctx.db, view, {
      ...(input.path ? { path: input.path } : {}),
      ...(input.format ? { format: input.format } : {}),
      ...(ctx.projectRoot ? { root: ctx.projectRoot } : {}),
      ...(input.nonFinite ? { nonFinite: input.nonFinite } : {}),
      onProgress: (p) => ctx.progress({ view: view.name, rowsWritten: p.rowsWritten, ...(p.rowsTotal !== undefined ? { rowsTotal: p.rowsTotal } : {}), batches: p.batches }),
    });
    return { view: view.name, ingestionId: result.ingestionId, rows: result.rows, sha256: result.sha256, source: result.path, ...(result.reused ? { skipped: true } : {}) };
  },
  // The file's bytes and the view's definition: a changed file or mapping is ingested again.
  fingerprint: async (input, services) => {
    const view = projectView(services, input.view);
    const file = filePath(view, input.path, services.projectRoot);
    const content = file === undefined ? 'no-file' : await sha256File(file).catch(() => `missing:${file}`);
    return createHash('sha256').update(JSON.stringify([content, specOf(view)])).digest('hex');
  },
  lineage: (input, { output }, services) => {
    const view = featureRepository(services.features ?? []).views.get(input.view);
    const file = output?.source ?? (view ? filePath(view, input.path, services.projectRoot) : input.path);
    const target = featureViewDataset(view ?? input.view);
    return {
      inputs: file === undefined ? [] : [sourceDataset(file)],
      outputs: [
        output
          ? { ...target, facets: { ...target.facets, version: datasetVersionFacet(String(output.ingestionId)) }, outputFacets: rowCountFacets(output.rows) }
          : target,
      ],
    };
  },
  access: (input, services) => {
    const view = featureRepository(services.features ?? []).views.get(input.view);
    return [{ permission: 'write', resource: `feature_view:${input.view}`, ...(view ? { sensitivity: viewSensitivity(view) } : {}) }];
  },
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
});
