/**
 * The activities an approval gate calls: open the gate's record (evaluating its policy's conditions
 * against the subject), verify each decision's proof and the reviewer's current roles, record
 * refusals and reminders, and close the record with the outcome. All are idempotent, so Temporal's
 * retries never double-count a decision or an audit entry.
 */
import { Context } from '@temporalio/activity';
import type { Database } from '../src/db/client.js';
import {
  closeApproval,
  openApproval,
  recordRefusal,
  remindApproval,
  verifyDecision,
  type CloseApprovalInput,
  type DecisionProof,
  type OpenApprovalInput,
  type OpenedApproval,
  type Verification,
} from '../src/governance/approvals.js';

export function createApprovalActivities(db: Database) {
  return {
    async openApproval(input: OpenApprovalInput): Promise<OpenedApproval> {
      const opened = await openApproval(db, input);
      Context.current().log.info('Approval opened', { approvalId: opened.approvalId, required: opened.required });
      return opened;
    },

    async verifyApprovalDecision(proof: DecisionProof): Promise<Verification> {
      // One delivery of a decision: the same across Temporal's retries of this verification, and
      // different for every other signal or update that shows the same code (a replay).
      const { workflowExecution: run, activityId } = Context.current().info;
      if (!run) throw new Error('verifyApprovalDecision runs only inside an approval gate of a pipeline run.');
      return verifyDecision(db, proof, `${run.workflowId}/${run.runId}/${activityId}`);
    },

    async recordApprovalRefusal(input: { approvalId?: string; actor?: string; reason: string; input?: unknown; key: string }): Promise<void> {
      await recordRefusal(db, input);
    },

    async remindApproval(input: { approvalId: string; missing: Record<string, number>; escalateTo: string[]; deadline: string; index: number }): Promise<string[]> {
      const notified = await remindApproval(db, input);
      Context.current().log.warn('Approval still waiting', { approvalId: input.approvalId, missing: input.missing, deadline: input.deadline, notified });
      return notified;
    },

    async closeApproval(input: CloseApprovalInput): Promise<void> {
      await closeApproval(db, input);
    },
  };
}
