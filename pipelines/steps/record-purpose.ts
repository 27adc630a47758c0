/**
 * Records the purpose an approved purpose request granted (pipelines/approve-purpose.ts): from then
 * on getHistoricalFeatures serves the request's pii features for training its model. Idempotent: a
 * retry finds the purpose recorded.
 */
import { z } from 'zod';
import { recordApprovedPurpose } from '../../src/governance/purposes.js';
import { defineStep } from '../../src/pipeline/step.js';

export const recordPurpose = defineStep({
  name: 'recordPurpose',
  version: '1',
  description: 'Record the purpose an approved purpose request granted',
  input: z.object({ approvalId: z.string().min(1) }),
  output: z.object({
    approvalId: z.string(),
    model: z.string(),
    purpose: z.string(),
    /** Feature output names (`view__feature`) the purpose covers. */
    features: z.array(z.string()),
    approvedBy: z.array(z.string()),
  }),
  async run(input, ctx) {
    const row = await recordApprovedPurpose(ctx.db, input.approvalId);
    return { approvalId: row.approvalId, model: row.modelName, purpose: row.purpose, features: row.features, approvedBy: row.approvedBy };
  },
});
