/**
 * The reviewer's side of an approval gate, shared by the HTTP API, the reviewer web page and the
 * CLI: what an approval looks like now (the database record joined with the workflow's live state)
 * and submitting a decision for an authenticated principal.
 *
 * Submitting issues a single-use decision code for the principal and sends it with the decision as
 * the workflow Update `decide`, whose validator answers at once. Refusals the validator makes never
 * reach history, so they are recorded in the audit trail here.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Database } from '../db/client.js';
import type { ApprovalRow, Principal } from '../db/schema.js';
import { ConflictError, StewardError, ValidationError } from '../errors.js';
import { checkComment, issueDecisionCode, recordRefusal, requireApproval } from './approvals.js';
import { PermissionDeniedError } from './identity.js';

/** A gate's state as the workflow's `approvals` query returns it (workflows/approval.ts GateState). */
export interface LiveGate {
  gate: string;
  status: string;
  approvalId?: string;
  required?: Record<string, number>;
  received?: Array<{ principal: string; role: string; decision: string; comment?: string; at: string; via: string }>;
  missing?: Record<string, number>;
  authors?: string[];
  conditions?: Array<{ role: string; quorum: number; because: string }>;
  refusals: Array<{ input: unknown; reason: string; at: string }>;
  deadline: string;
}

export interface ApprovalView extends ApprovalRow {
  /** The workflow's live state; null when the run is closed or no worker answered. */
  live: LiveGate | null;
  received: NonNullable<LiveGate['received']>;
  missing: Record<string, number>;
}

export async function liveGate(client: Client, approval: ApprovalRow): Promise<LiveGate | null> {
  try {
    const gates = await client.workflow.getHandle(approval.workflowId).query<LiveGate[]>('approvals');
    return gates.find((g) => g.approvalId === approval.id || g.gate === approval.gate) ?? null;
  } catch {
    return null;
  }
}

export async function approvalView(db: Database, client: Client | undefined, approvalId: string): Promise<ApprovalView> {
  const approval = await requireApproval(db, approvalId);
  const live = approval.status === 'waiting' && client ? await liveGate(client, approval) : null;
  const outcome = approval.outcome as { decisions?: ApprovalView['received'] } | null;
  const received = live?.received ?? outcome?.decisions ?? [];
  const missing = live?.missing ?? (approval.status === 'approved' ? {} : approval.required);
  return { ...approval, live, received, missing };
}

export interface DecisionRequest {
  approvalId: string;
  principal: Principal;
  role: string;
  decision: 'approve' | 'reject';
  comment?: string;
}

export interface DecisionResult {
  /** The gate's answer, e.g. "accepted: 1 of 2 technical approvals; still missing 1 technical". */
  message: string;
  status: string;
  missing: Record<string, number>;
}

/** A decision the gate refused; the message is the gate's reason. */
export class DecisionRefusedError extends StewardError {
  readonly code = 'DECISION_REFUSED';
  readonly status = 409;
}

export async function submitDecision(db: Database, client: Client, request: DecisionRequest): Promise<DecisionResult> {
  if (request.decision !== 'approve' && request.decision !== 'reject') throw new ValidationError(`A decision is "approve" or "reject", not "${String(request.decision)}".`);
  if (request.decision === 'reject' && !request.comment?.trim()) throw new ValidationError('A rejection needs a reason: pass --reason (or fill in the comment).');
  const approval = await requireApproval(db, request.approvalId);
  try {
    checkComment(request.comment);
  } catch (error) {
    await recordRefusal(db, { approvalId: approval.id, actor: request.principal.name, reason: (error as Error).message, input: { role: request.role, decision: request.decision } });
    throw error;
  }
  const { code } = await issueDecisionCode(db, { approvalId: approval.id, principal: request.principal.name, role: request.role });
  const handle = client.workflow.getHandle(approval.workflowId);
  const send = () =>
    handle.executeUpdate<{ status: string; message?: string; missing?: Record<string, number> }, [unknown]>('decide', {
      args: [{ gate: approval.gate, principal: request.principal.name, role: request.role, decision: request.decision, comment: request.comment, code }],
    });
  try {
    let state: Awaited<ReturnType<typeof send>> | undefined;
    // The record commits a moment before the workflow has it: a gate still opening refuses in its
    // validator (the code is not consumed), so wait for it rather than bounce the reviewer.
    for (let attempt = 0; !state; attempt++) {
      try {
        state = await send();
      } catch (error) {
        const opening = /still opening/.test((error as { cause?: { message?: string } }).cause?.message ?? '');
        if (!opening || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return { message: state.message ?? `accepted: ${request.decision}`, status: state.status, missing: state.missing ?? {} };
  } catch (error) {
    const cause = (error as { cause?: { message?: string; type?: string } }).cause;
    if (error instanceof WorkflowUpdateFailedError || cause?.message) {
      const message = cause?.message ?? (error as Error).message;
      // The workflow recorded refusals its activity made (DecisionRefused); the validator's never reach history.
      if (cause?.type !== 'DecisionRefused') {
        await recordRefusal(db, { approvalId: approval.id, actor: request.principal.name, reason: message.replace(/^rejected: /, ''), input: { role: request.role, decision: request.decision, via: 'update' } });
      }
      if (/is not a .* reviewer/.test(message)) throw new PermissionDeniedError(capitalize(message));
      throw new DecisionRefusedError(capitalize(message));
    }
    const text = error instanceof Error ? error.message : String(error);
    if (/not found|already completed|workflow execution already/i.test(text)) {
      await recordRefusal(db, { approvalId: approval.id, actor: request.principal.name, reason: `the run ${approval.workflowId} is no longer running`, input: { role: request.role, decision: request.decision } });
      throw new ConflictError(`The run ${approval.workflowId} that opened approval ${approval.id} is no longer running; the decision was not applied.`);
    }
    throw error;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
