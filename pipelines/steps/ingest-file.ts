/**
 * Loads a file into a feature view's offline table (src/features/files.ts): the file the view
 * declares (`source: { kind: 'file', ... }`), or `path`, relative to the project's folder; CSV,
 * JSON, JSON Lines, Parquet or Arrow IPC, streamed in batches with progress. Idempotent by content:
 * the same bytes ingested again (a retry, a rerun) are the same ingestion and write nothing
 * (`skipped`). Its cache key holds the file's sha256, so a changed file is read again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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

/**
 * A `path` given as a run's input, resolved: a vega-datasets file, or a file inside the project's
 * folder (the worker's working folder when it serves no project). Whoever may start a run could
 * otherwise have the worker load any file it can read (its credentials, another team's data) into a
 * feature view and read it back. Symbolic links are followed before the check, so a link inside
 * the folder cannot point out of it. A file the project declares in its code is trusted as is.
 */
export function overridePath(given: string, root: string | undefined): string {
  if (given.startsWith('vega:')) return resolveFilePath(given);
  const folder = path.resolve(root ?? process.cwd());
  const resolved = resolveFilePath(given, folder);
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p; // missing: the ingestion names it as missing; the check below still applies to the path as written
    }
  };
  const relative = path.relative(real(folder), real(resolved));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new ValidationError(
      `path "${given}" is outside the project's folder ${folder}: a run may read only files inside it, or vega: datasets. Copy the file into the project, or declare it as the view's source in code.`,
      { path: given, folder },
    );
  }
  return resolved;
}

/** The path the step reads: the one given (inside the project's folder), else the view's declared file. */
function filePath(view: FeatureView, override: string | undefined, root: string | undefined): string | undefined {
  if (override !== undefined) return overridePath(override, root);
  const declared = view.source.kind === 'file' || view.source.kind === 'parquet' || view.source.kind === 'arrow' ? view.source.path : undefined;
  return declared === undefined ? undefined : resolveFilePath(declared, root);
}

export const ingestFile = defineStep({
  name: 'ingestFile',
  version: '1',
  description: "Load a file (CSV, JSON, Parquet, Arrow) into a feature view's offline store.",
  input: z.object({
    view: z.string().min(1),
    /** Read this file instead of the view's declared one: inside the project's folder (relative to it), or a vega: dataset. */
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
      ...(input.path ? { path: overridePath(input.path, ctx.projectRoot) } : {}),
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
