/**
 * Approval gates inside a pipeline run. The run waits durably (for days if need be, across worker
 * and server restarts) until reviewers decide or the deadline passes.
 *
 * Decisions arrive as the Update `decide` (its validator answers at once with a specific refusal) or
 * the Signal `decide` (for the plain `temporal workflow signal` CLI; refusals are recorded in the
 * gate and the audit trail, never applied). The Query `approvals` returns each gate's state.
 *
 * A gate with a policy (governed) requires reviewers of given roles with a quorum each, keeps
 * authors from approving their own candidate, sends reminders before its deadline and expires as
 * rejected. Every decision carries a single-use decision code that an activity verifies together
 * with the reviewer's current roles: a signal's claimed identity proves nothing, and no reusable
 * secret ever enters history. Any rejection ends the gate; a repeated decision changes nothing.
 *
 * A gate without a policy is open: any named reviewer may decide (development only; runs started
 * before policies existed replay through this path unchanged).
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  patched,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ApprovalPolicy } from '../src/pipeline/spec.js';

/**
 * A decision. For governed gates `principal`, `role` and `code` are required (`reviewer` is accepted
 * as another name for `principal`); for open gates `reviewer` is enough.
 */
export interface DecisionInput {
  gate: string;
  decision: 'approve' | 'reject';
  reviewer?: string;
  principal?: string;
  role?: string;
  comment?: string;
  /** The single-use decision code from `steward approvals code` (governed gates). */
  code?: string;
}

export interface RecordedDecision {
  principal: string;
  role: string;
  decision: 'approve' | 'reject';
  comment?: string;
  at: string;
  via: 'update' | 'signal';
}

export interface GateState {
  gate: string;
  subject: unknown;
  status: 'opening' | 'waiting' | 'approved' | 'rejected' | 'expired';
  openedAt: string;
  deadline: string;
  reviewer?: string;
  comment?: string;
  decidedAt?: string;
  /** Decisions and signals that were refused, with the reason: recorded, never silently applied. */
  refusals: Array<{ input: unknown; reason: string; at: string }>;
  /** Governed gates only. */
  approvalId?: string;
  required?: Record<string, number>;
  received?: RecordedDecision[];
  missing?: Record<string, number>;
  authors?: string[];
  conditions?: Array<{ role: string; quorum: number; because: string }>;
  /** The answer to the last accepted decision, e.g. "accepted: 1 of 2 technical approvals". */
  message?: string;
}

export const decideUpdate = defineUpdate<GateState, [DecisionInput]>('decide');
export const decideSignal = defineSignal<[DecisionInput]>('decide');
export const approvalsQuery = defineQuery<GateState[]>('approvals');

export interface ApprovalRegistry {
  gates: Map<string, GateState>;
  policies: Map<string, ApprovalPolicy>;
  /**
   * Since the `replayed-decisions-refused` patch, a decision repeated by a reviewer who already
   * decided is refused (and audited) like any other second decision, instead of being accepted as
   * a no-op without its proof being checked. Runs started before the patch replay as they ran.
   */
  refuseRepeats: boolean;
}

const MAX_COMMENT = 4_000;

// Local activities: a gate's bookkeeping is short database work on the worker that runs the
// workflow, and a task-queue round trip per call would be most of a decision's latency.
const governance = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT'] },
});

function gateOf(registry: ApprovalRegistry, input: DecisionInput | undefined): GateState | undefined {
  if (!input || typeof input !== 'object') return undefined;
  return registry.gates.get(input.gate) ?? [...registry.gates.values()].find((g) => g.approvalId !== undefined && g.approvalId === (input as { approvalId?: string }).approvalId);
}

function principalOf(input: DecisionInput): string | undefined {
  const name = input.principal ?? input.reviewer;
  return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
}

/** Why a decision cannot be applied to an open (policy-less) gate, or undefined when it can. */
function openRefusal(gate: GateState, input: DecisionInput): string | undefined {
  if (gate.status !== 'waiting') return `gate "${input.gate}" is already closed (${gate.status})`;
  if (input.decision !== 'approve' && input.decision !== 'reject') return `decision must be "approve" or "reject", got "${String(input.decision)}"`;
  if (typeof input.reviewer !== 'string' || input.reviewer.trim() === '') return 'the reviewer must be named';
  if (input.decision === 'reject' && !input.comment?.trim()) return 'a rejection needs a reason in the comment';
  if ((input.comment?.length ?? 0) > MAX_COMMENT) return `the comment is longer than ${MAX_COMMENT} characters`;
  return undefined;
}

function duplicateOf(gate: GateState, principal: string, input: DecisionInput): RecordedDecision | undefined {
  return gate.received?.find((d) => d.principal === principal && d.role === input.role && d.decision === input.decision);
}

/** The checks a governed gate can make without I/O: shape, state, roles asked for, separation of duties. */
function governedRefusal(registry: ApprovalRegistry, gate: GateState, input: DecisionInput): string | undefined {
  const policy = registry.policies.get(gate.gate)!;
  if (gate.status === 'opening') return `gate "${gate.gate}" is still opening; try again in a moment`;
  if (gate.status !== 'waiting') return `gate "${gate.gate}" is already closed (${gate.status})`;
  if (input.decision !== 'approve' && input.decision !== 'reject') return `decision must be "approve" or "reject", got "${String(input.decision)}"`;
  const principal = principalOf(input);
  if (!principal) return 'the decision must name its principal (the reviewer)';
  if (typeof input.role !== 'string' || !(input.role in gate.required!)) {
    return `this gate asks for ${Object.keys(gate.required!).join(', ')} reviews; the decision's role is ${input.role === undefined ? 'missing' : `"${String(input.role)}"`}`;
  }
  if (input.comment !== undefined && typeof input.comment !== 'string') return 'the comment must be text';
  if ((input.comment?.length ?? 0) > MAX_COMMENT) return `the comment is ${input.comment!.length} characters; the limit is ${MAX_COMMENT}`;
  if (input.decision === 'reject' && !input.comment?.trim()) return 'a rejection needs a reason in the comment';
  if (policy.separationOfDuties !== false && gate.authors!.includes(principal)) return `${principal} authored this candidate and may not review it (separation of duties)`;
  if (!registry.refuseRepeats && duplicateOf(gate, principal, input)) return undefined; // before the patch: accepted, changes nothing
  const earlier = gate.received!.find((d) => d.principal === principal);
  if (earlier) return `${principal} already decided on this gate (${earlier.decision} as ${earlier.role}); each reviewer counts once`;
  if (typeof input.code !== 'string' || input.code === '') return 'the decision carries no decision code: get one with `steward approvals code <approval-id> --role <role>`';
  return undefined;
}

function missingOf(gate: GateState): Record<string, number> {
  const missing: Record<string, number> = {};
  for (const [role, quorum] of Object.entries(gate.required!)) {
    const have = new Set(gate.received!.filter((d) => d.role === role && d.decision === 'approve').map((d) => d.principal)).size;
    if (have < quorum) missing[role] = quorum - have;
  }
  return missing;
}

function progress(gate: GateState, role: string): string {
  const have = new Set(gate.received!.filter((d) => d.role === role && d.decision === 'approve').map((d) => d.principal)).size;
  return `${have} of ${gate.required![role]} ${role} approval${gate.required![role] === 1 ? '' : 's'}`;
}

/** Verifies a governed decision's proof through an activity, then applies it. Throws the refusal. */
async function decideGoverned(registry: ApprovalRegistry, gate: GateState, input: DecisionInput, via: 'update' | 'signal'): Promise<GateState> {
  const principal = principalOf(input)!;
  const repeat = registry.refuseRepeats ? undefined : duplicateOf(gate, principal, input);
  if (repeat) return { ...gate, message: `accepted: ${principal}'s ${repeat.decision} as ${repeat.role} was already recorded; nothing changed` };
  const verdict = await governance.verifyApprovalDecision({
    approvalId: gate.approvalId!,
    principal,
    role: input.role!,
    decision: input.decision,
    comment: input.comment,
    code: input.code!,
    via,
  });
  // The gate may have closed, or this reviewer decided, while the proof was being checked.
  const reason = verdict.ok ? governedRefusal(registry, gate, { ...input, code: input.code }) : verdict.reason;
  if (reason || !verdict.ok) throw ApplicationFailure.create({ type: 'DecisionRefused', nonRetryable: true, message: `rejected: ${reason}` });
  if (!registry.refuseRepeats && duplicateOf(gate, principal, input)) return { ...gate, message: 'accepted: already recorded; nothing changed' };
  const decision: RecordedDecision = { principal, role: input.role!, decision: input.decision, at: new Date().toISOString(), via, ...(input.comment ? { comment: input.comment } : {}) };
  gate.received!.push(decision);
  gate.missing = missingOf(gate);
  if (input.decision === 'reject') {
    gate.status = 'rejected';
    gate.message = `accepted: rejected by ${principal} (${input.role}): ${input.comment}`;
  } else if (Object.keys(gate.missing).length === 0) {
    gate.status = 'approved';
    gate.message = `accepted: ${progress(gate, input.role!)}; every required review is in, the gate is approved`;
  } else {
    gate.message = `accepted: ${progress(gate, input.role!)}; still missing ${Object.entries(gate.missing).map(([r, n]) => `${n} ${r}`).join(', ')}`;
  }
  if (gate.status !== 'waiting') {
    gate.decidedAt = decision.at;
    gate.reviewer = [...new Set(gate.received!.map((d) => d.principal))].join(', ');
    gate.comment = gate.received!.map((d) => d.comment).filter(Boolean).join(' | ') || undefined;
  }
  return { ...gate };
}

export function registerApprovalHandlers(): ApprovalRegistry {
  const registry: ApprovalRegistry = { gates: new Map(), policies: new Map(), refuseRepeats: patched('replayed-decisions-refused') };
  const { gates } = registry;
  let refusalCount = 0;
  setHandler(approvalsQuery, () => [...gates.values()]);
  setHandler(
    decideUpdate,
    async (input) => {
      const gate = gateOf(registry, input)!;
      if (!registry.policies.has(gate.gate)) {
        applyOpen(gate, input);
        return gate;
      }
      return decideGoverned(registry, gate, input, 'update');
    },
    {
      validator: (input) => {
        const gate = gateOf(registry, input);
        if (!input || typeof input !== 'object') throw new Error('rejected: the decision must be an object {gate, decision, principal, role, comment, code}');
        if (!gate) throw new Error(`rejected: no approval gate named "${String(input.gate)}" is open in this run`);
        const reason = registry.policies.has(gate.gate) ? governedRefusal(registry, gate, input) : openRefusal(gate, input);
        if (reason) throw new Error(`rejected: ${reason}`);
      },
    },
  );
  setHandler(decideSignal, async (input) => {
    const gate = gateOf(registry, input);
    const governed = gate !== undefined && registry.policies.has(gate.gate);
    let reason: string | undefined;
    if (!input || typeof input !== 'object') reason = 'the decision must be an object {gate, decision, principal, role, comment, code}';
    else if (!gate) reason = `no approval gate named "${String(input.gate)}" is open in this run`;
    else reason = governed ? governedRefusal(registry, gate, input) : openRefusal(gate, input);
    if (!reason && gate && governed) {
      try {
        await decideGoverned(registry, gate, input, 'signal');
        return;
      } catch (error) {
        reason = error instanceof ApplicationFailure ? error.message.replace(/^rejected: /, '') : String(error);
        // verifyApprovalDecision already recorded this refusal in the audit trail.
        record(gate, input, reason);
        return;
      }
    }
    if (reason) {
      record(gate, input, reason);
      if (governed || [...gates.keys()].some((g) => registry.policies.has(g))) {
        const n = ++refusalCount;
        // A signal proves nobody: the name it claims is evidence, not the actor.
        const claimed = input && typeof input === 'object' ? principalOf(input) : undefined;
        await governance.recordApprovalRefusal({
          approvalId: gate?.approvalId ?? [...gates.values()].find((g) => g.approvalId)?.approvalId,
          ...(registry.refuseRepeats ? { input: { claimedPrincipal: claimed ?? null, decision: redactCode(input) } } : { actor: claimed, input: redactCode(input) }),
          reason,
          key: `refusal:${workflowInfo().workflowId}:${workflowInfo().runId}:${n}`,
        });
      }
      return;
    }
    applyOpen(gate!, input);
  });

  function record(gate: GateState | undefined, input: unknown, reason: string): void {
    const entry = { input: redactCode(input), reason, at: new Date().toISOString() };
    if (gate) gate.refusals.push(entry);
    else for (const open of gates.values()) open.refusals.push(entry);
  }
  return registry;
}

/** A used or refused code is worthless, but the query has no business showing it either. */
function redactCode(input: unknown): unknown {
  if (!input || typeof input !== 'object' || !('code' in input)) return input;
  return { ...(input as Record<string, unknown>), code: '(redacted)' };
}

function applyOpen(gate: GateState, input: DecisionInput): void {
  gate.status = input.decision === 'approve' ? 'approved' : 'rejected';
  gate.reviewer = input.reviewer;
  gate.comment = input.comment;
  gate.decidedAt = new Date().toISOString();
}

export interface ApprovalOutcome {
  decision: 'approved';
  reviewer: string;
  comment?: string;
  decidedAt: string;
  approvalId?: string;
  decisions?: Array<Omit<RecordedDecision, 'via'>>;
}

export async function awaitApproval(
  registry: ApprovalRegistry,
  name: string,
  subject: unknown,
  timeout: string,
  governed?: { policy: ApprovalPolicy; pipeline: string; startedBy?: string },
): Promise<ApprovalOutcome> {
  const opened = new Date();
  const deadline = new Date(opened.getTime() + msToNumber(timeout as Duration)).toISOString();
  const gate: GateState = { gate: name, subject, status: governed ? 'opening' : 'waiting', openedAt: opened.toISOString(), deadline, refusals: [] };
  registry.gates.set(name, gate);
  if (governed) return awaitGoverned(registry, gate, governed);

  const decided = await condition(() => gate.status !== 'waiting', timeout as Duration);
  if (!decided) {
    gate.status = 'expired';
    throw ApplicationFailure.create({ type: 'ApprovalExpired', nonRetryable: true, message: `Approval "${name}" expired after ${timeout} without a decision.` });
  }
  if (gate.status === 'rejected') {
    throw ApplicationFailure.create({
      type: 'ApprovalRejected',
      nonRetryable: true,
      message: `Approval "${name}" was rejected by ${gate.reviewer}: ${gate.comment}`,
    });
  }
  return { decision: 'approved', reviewer: gate.reviewer!, comment: gate.comment, decidedAt: gate.decidedAt! };
}

async function awaitGoverned(registry: ApprovalRegistry, gate: GateState, governed: { policy: ApprovalPolicy; pipeline: string; startedBy?: string }): Promise<ApprovalOutcome> {
  const info = workflowInfo();
  const { policy } = governed;
  registry.policies.set(gate.gate, policy);
  const opened = await governance.openApproval({
    workflowId: info.workflowId,
    runId: info.runId,
    gate: gate.gate,
    pipeline: governed.pipeline,
    subject: gate.subject,
    policy,
    openedAt: gate.openedAt,
    deadline: gate.deadline,
    ...(governed.startedBy ? { startedBy: governed.startedBy } : {}),
  });
  Object.assign(gate, { approvalId: opened.approvalId, required: opened.required, authors: opened.authors, conditions: opened.conditions, received: [], status: 'waiting' });
  gate.missing = missingOf(gate);
  log.info('Approval gate waiting', { gate: gate.gate, approvalId: opened.approvalId, required: opened.required });

  const closed = () => gate.status !== 'waiting';
  const deadlineMs = Date.parse(gate.deadline);
  const reminders = (policy.remindBefore ?? [])
    .map((before) => deadlineMs - msToNumber(before as Duration))
    .filter((at) => at > Date.now())
    .sort((a, b) => a - b);
  for (const [index, at] of reminders.entries()) {
    if (await condition(closed, Math.max(1, at - Date.now()))) break;
    await governance.remindApproval({
      approvalId: opened.approvalId,
      missing: gate.missing,
      escalateTo: index === reminders.length - 1 ? (policy.escalateTo ?? []) : [],
      deadline: gate.deadline,
      index,
    });
  }
  if (!closed()) {
    const remaining = deadlineMs - Date.now();
    if (remaining <= 0 || !(await condition(closed, remaining))) gate.status = 'expired';
  }
  // Decisions still being verified finish before the gate's outcome is recorded.
  await condition(allHandlersFinished);

  const decisions = gate.received!.map(({ principal, role, decision, comment, at }) => ({ principal, role, decision, at, ...(comment ? { comment } : {}) }));
  const status = gate.status as 'approved' | 'rejected' | 'expired';
  const reason =
    status === 'expired'
      ? `No decision before the deadline ${gate.deadline}; missing ${Object.entries(gate.missing!).map(([r, n]) => `${n} ${r}`).join(', ')}`
      : status === 'rejected'
        ? `Rejected by ${gate.received!.find((d) => d.decision === 'reject')!.principal}: ${gate.received!.find((d) => d.decision === 'reject')!.comment}`
        : `Approved by ${decisions.map((d) => `${d.principal} (${d.role})`).join(', ')}`;
  await governance.closeApproval({ approvalId: opened.approvalId, status, decisions, reason, workflowId: info.workflowId });

  if (status === 'expired') {
    throw ApplicationFailure.create({ type: 'ApprovalExpired', nonRetryable: true, message: `Approval "${gate.gate}" (${opened.approvalId}) expired as rejected: ${reason}.` });
  }
  if (status === 'rejected') {
    throw ApplicationFailure.create({ type: 'ApprovalRejected', nonRetryable: true, message: `Approval "${gate.gate}" (${opened.approvalId}) was rejected. ${reason}` });
  }
  return { decision: 'approved', reviewer: gate.reviewer!, comment: gate.comment, decidedAt: gate.decidedAt!, approvalId: opened.approvalId, decisions };
}
