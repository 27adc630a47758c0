/**
 * Registers the project's feature definitions (those its steward.config.ts declares, with Steward's
 * built-ins) in the feature registry: what `steward apply` does, as a step. Idempotent: an
 * unchanged definition stays.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, specOf, type Definition } from '../../src/features/definitions.js';
import { apply } from '../../src/features/registry.js';
import { defineStep } from '../../src/pipeline/step.js';
import type { StepServices } from '../../src/pipeline/step-runtime.js';

/** The definitions' content: a step's cached result holds only while they are unchanged. */
export function definitionsFingerprint(definitions: readonly Definition[]): string {
  return createHash('sha256')
    .update(canonicalJson(definitions.map(specOf)))
    .digest('hex');
}

export const applyFeatures = defineStep({
  name: 'applyFeatures',
  // v2: the project's definitions (ctx.features), not only the built-in ones.
  version: '2',
  description: "Register the project's feature definitions.",
  input: z.object({}),
  output: z.object({
    /** `kind:name` of each definition created or changed. */
    created: z.array(z.string()),
    changed: z.array(z.string()),
    /** How many were already registered as they are. */
    unchanged: z.number(),
  }),
  run: async (_input, ctx) => {
    const result = await apply(ctx.db, definitionsOf(ctx));
    const tally = (action: string) => result.items.filter((i) => i.action === action).map((i) => `${i.kind}:${i.name}`);
    return { created: tally('create'), changed: tally('change'), unchanged: tally('unchanged').length };
  },
  fingerprint: async (_input, services) => definitionsFingerprint(definitionsOf(services)),
});

function definitionsOf(services: StepServices): readonly Definition[] {
  return services.features ?? [];
}
