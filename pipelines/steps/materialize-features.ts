/**
 * Copies the latest feature values from the offline to the online store. Never cached: what it
 * copies depends on what was ingested since, not on its input.
 */
import { z } from 'zod';
import { materialize } from '../../src/features/materialize.js';
import { defineStep } from '../../src/pipeline/step.js';

export const materializeFeatures = defineStep({
  name: 'materializeFeatures',
  version: '1',
  description: 'Materialize feature views to the online store.',
  input: z.object({
    /** Views to materialize (default: every registered view with `online: true`). */
    views: z.array(z.string()).optional(),
    /** Only what was ingested since the last materialization. */
    incremental: z.boolean().optional(),
  }),
  output: z.object({
    materializations: z.array(
      z.object({
        view: z.string(),
        materializationId: z.number(),
        mode: z.enum(['full', 'incremental']),
        fromSeq: z.number(),
        toSeq: z.number(),
        rowsRead: z.number(),
        entitiesWritten: z.number(),
      }),
    ),
  }),
  run: async (input, ctx) => ({
    materializations: await materialize(ctx.db, { views: input.views, incremental: input.incremental ?? false, onProgress: (p) => ctx.progress(p) }),
  }),
  cache: false,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
});
