/**
 * Governance steps: record the purpose an approved purpose request granted (pipelines/approve-purpose.ts).
 * Idempotent: a retry finds the purpose recorded.
 */
import type { Database } from '../src/db/client.js';
import { recordApprovedPurpose } from '../src/governance/purposes.js';
import type { StepImplementations } from '../src/pipeline/step-runtime.js';

export function createGovernanceSteps(db: Database): StepImplementations {
  return {
    recordPurpose: {
      run: async (input: { approvalId: string }) => {
        const row = await recordApprovedPurpose(db, input.approvalId);
        return { approvalId: row.approvalId, model: row.modelName, purpose: row.purpose, features: row.features, approvedBy: row.approvedBy };
      },
    },
  };
}
