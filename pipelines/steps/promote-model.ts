/**
 * Promotes an approved model version: moves an alias (`champion`) to it, with the sign-off that
 * approved it as the reason. Idempotent: a retried step finds the alias already there (changed:
 * false). Needs `deploy` on the model, as sensitive as the features it was trained on.
 */
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../src/db/client.js';
import { modelVersions } from '../../src/db/schema.js';
import { factsFromMetadata } from '../../src/governance/approvals.js';
import { deploymentDataset, modelVersionDataset } from '../../src/lineage/datasets.js';
import { defineStep } from '../../src/pipeline/step.js';
import { setAlias } from '../../src/registry/aliases.js';

/** A model is as sensitive as the features it was trained on: pii when any was. */
async function modelSensitivity(db: Database, modelName: string, version: number): Promise<string> {
  const [row] = await db.select({ metadata: modelVersions.metadata }).from(modelVersions).where(and(eq(modelVersions.modelName, modelName), eq(modelVersions.version, version)));
  return row && factsFromMetadata(row.metadata).piiFeatures.length > 0 ? 'pii' : 'internal';
}

export const promoteModel = defineStep({
  name: 'promoteModel',
  version: '1',
  description: 'Move an alias (champion) to an approved model version',
  input: z.object({
    modelName: z.string().min(1),
    version: z.number().int().positive(),
    alias: z.string().min(1),
    /** The sign-off that approved the version, and who approved it (the alias change's reason). */
    approvalId: z.string().min(1),
    reviewers: z.string(),
  }),
  output: z.object({
    modelName: z.string(),
    version: z.number().int(),
    alias: z.string(),
    /** Where the alias pointed before; null when it is new. */
    previous: z.number().int().nullable(),
    /** False when the alias already pointed there (a retry). */
    changed: z.boolean(),
  }),
  cache: false,
  async run(input, ctx) {
    const change = await setAlias(ctx.db, {
      modelName: input.modelName,
      alias: input.alias,
      version: input.version,
      actor: 'steward',
      reason: `Approved through ${input.approvalId} by ${input.reviewers}`,
      workflowId: ctx.runId,
      // After the sign-off: the step runtime checked the run's principal for deploy before this ran.
      principal: null,
    });
    return { modelName: input.modelName, version: input.version, alias: input.alias, previous: change.previous, changed: change.changed };
  },
  lineage: (input) => ({
    inputs: [modelVersionDataset(input.modelName, input.version)],
    outputs: [deploymentDataset(input.modelName, input.alias)],
  }),
  access: async (input, services) => [{ permission: 'deploy', resource: `model:${input.modelName}`, sensitivity: await modelSensitivity(services.db, input.modelName, input.version) }],
});
