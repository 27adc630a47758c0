/**
 * Approval gates as the database sees them. The workflow owns the live state (who decided what so
 * far); these functions, called by its activities and by the reviewer front doors, keep the record:
 *
 * - `openApproval`: the gate opened; the policy's conditional requirements are evaluated against the
 *   subject (a model version's pii features and fairness gap), the authors are fixed for separation
 *   of duties, and the model version moves to `pending_approval`.
 * - `issueDecisionCode`: an authenticated reviewer gets a single-use code bound to one approval and
 *   role. Decisions carry the code, never a token, so no reusable secret enters workflow history.
 * - `verifyDecision`: the workflow checks a decision's proof and the reviewer's current roles.
 * - `closeApproval`: the gate ended; the row, the model's status and the audit trail agree.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { approvals, decisionCodes, modelVersions, principals, type ApprovalRow } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { ApprovalPolicy } from '../pipeline/spec.js';
import { transitionModelVersion } from '../registry/lifecycle.js';
import { appendAuditTx } from '../audit/index.js';
import { describeRoles, PermissionDeniedError, requirePrincipal } from './identity.js';

export const DECISION_CODE_TTL_MS = 60 * 60 * 1000;

export interface OpenApprovalInput {
  workflowId: string;
  runId: string;
  gate: string;
  pipeline: string;
  subject: unknown;
  policy: ApprovalPolicy;
  openedAt: string;
  deadline: string;
  /** The principal who started the run, when known: an author for separation of duties. */
  startedBy?: string;
}

export interface OpenedApproval {
  approvalId: string;
  required: Record<string, number>;
  authors: string[];
  /** Why each conditional requirement applied (empty when none did). */
  conditions: Array<{ role: string; quorum: number; because: string }>;
  model?: { name: string; version: number };
}

export function approvalIdFor(workflowId: string, gate: string): string {
  return `apr-${createHash('sha256').update(`${workflowId}\n${gate}`).digest('hex').slice(0, 12)}`;
}

/** What a gate's subject says about the candidate: read from the subject and, for a model, the registry. */
export interface SubjectFacts {
  model?: { name: string; version: number };
  piiFeatures: string[];
  fairnessGap?: number;
  authors: string[];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

/** pii features and the largest fairness gap recorded with a model version (see src/registry/version-metadata.ts). */
export function factsFromMetadata(metadata: Record<string, unknown>): { piiFeatures: string[]; fairnessGap?: number } {
  const features = Array.isArray(metadata.features) ? metadata.features : [];
  const piiFeatures = features
    .map(asRecord)
    .filter((f): f is Record<string, unknown> => !!f && (f.sensitivity === 'pii' || strings(f.tags).includes('pii')))
    .map((f) => String(f.name));
  const fairness = asRecord(metadata.fairness);
  const gaps = [fairness?.maxEqualOpportunityGap, fairness?.maxGap].filter((g): g is number => typeof g === 'number' && Number.isFinite(g));
  return { piiFeatures, ...(gaps.length ? { fairnessGap: Math.max(...gaps) } : {}) };
}

export async function subjectFacts(db: Database | Transaction, subject: unknown): Promise<SubjectFacts> {
  const s = asRecord(subject) ?? {};
  const name = typeof s.model === 'string' ? s.model : typeof s.modelName === 'string' ? s.modelName : undefined;
  const version = typeof s.version === 'number' ? s.version : undefined;
  const facts: SubjectFacts = { piiFeatures: strings(s.piiFeatures), authors: strings(s.authors) };
  if (typeof s.fairnessGap === 'number') facts.fairnessGap = s.fairnessGap;
  if (name !== undefined && version !== undefined) {
    const [row] = await db
      .select({ metadata: modelVersions.metadata })
      .from(modelVersions)
      .where(and(eq(modelVersions.modelName, name), eq(modelVersions.version, version)));
    if (!row) throw new NotFoundError(`The approval's subject names ${name} v${version}, which is not registered.`);
    facts.model = { name, version };
    const recorded = factsFromMetadata(row.metadata);
    facts.piiFeatures = [...new Set([...facts.piiFeatures, ...recorded.piiFeatures])];
    if (recorded.fairnessGap !== undefined) facts.fairnessGap = Math.max(recorded.fairnessGap, facts.fairnessGap ?? -Infinity);
    const trainer = asRecord(row.metadata.trainedBy);
    facts.authors.push(...strings(row.metadata.authors), ...strings(trainer?.principal));
  }
  return facts;
}

/** The roles a gate requires once its policy's conditions are evaluated against the facts. */
export function requiredRoles(policy: ApprovalPolicy, facts: Pick<SubjectFacts, 'piiFeatures' | 'fairnessGap'>): Pick<OpenedApproval, 'required' | 'conditions'> {
  const required = { ...policy.roles };
  const conditions: OpenedApproval['conditions'] = [];
  for (const condition of policy.conditions ?? []) {
    const quorum = condition.quorum ?? 1;
    let because: string | undefined;
    if ('piiFeatures' in condition.when && facts.piiFeatures.length > 0) because = `the model uses pii features (${facts.piiFeatures.join(', ')})`;
    if ('fairnessGapAbove' in condition.when && facts.fairnessGap !== undefined && facts.fairnessGap > condition.when.fairnessGapAbove) {
      because = `the fairness gap ${facts.fairnessGap.toFixed(3)} exceeds ${condition.when.fairnessGapAbove}`;
    }
    if (because) {
      required[condition.role] = Math.max(required[condition.role] ?? 0, quorum);
      conditions.push({ role: condition.role, quorum, because });
    }
  }
  return { required, conditions };
}

export async function openApproval(db: Database, input: OpenApprovalInput): Promise<OpenedApproval> {
  const approvalId = approvalIdFor(input.workflowId, input.gate);
  const facts = await subjectFacts(db, input.subject);
  const { required, conditions } = requiredRoles(input.policy, facts);
  const authors = [...new Set([...facts.authors, ...(input.startedBy ? [input.startedBy] : [])])].sort();
  const result: OpenedApproval = { approvalId, required, authors, conditions, ...(facts.model ? { model: facts.model } : {}) };
  const record = async (tx: Transaction) => {
    const [existing] = await tx.select().from(approvals).where(eq(approvals.id, approvalId));
    if (existing) return false;
    await tx.insert(approvals).values({
      id: approvalId,
      workflowId: input.workflowId,
      runId: input.runId,
      gate: input.gate,
      pipeline: input.pipeline,
      subject: input.subject ?? null,
      policy: input.policy,
      required,
      authors,
      modelName: facts.model?.name ?? null,
      modelVersion: facts.model?.version ?? null,
      status: 'waiting',
      openedAt: new Date(input.openedAt),
      deadline: new Date(input.deadline),
    });
    await appendAuditTx(tx, {
      actor: 'steward',
      action: 'approval.opened',
      subject: `approval:${approvalId}`,
      details: { gate: input.gate, workflowId: input.workflowId, pipeline: input.pipeline, required, conditions, authors, deadline: input.deadline, model: facts.model?.name ?? null, version: facts.model?.version ?? null },
      idempotencyKey: `approval.opened:${approvalId}`,
    });
    return true;
  };
  const [existing] = await db.select({ id: approvals.id }).from(approvals).where(eq(approvals.id, approvalId));
  if (existing) return result;
  const status = facts.model ? await currentStatus(db, facts.model) : undefined;
  if (facts.model && status === 'validated') {
    await transitionModelVersion(
      db,
      { modelName: facts.model.name, version: facts.model.version, to: 'pending_approval', actor: 'steward', reason: `Approval gate "${input.gate}" opened (${approvalId})`, workflowId: input.workflowId },
      async (tx) => void (await record(tx)),
    );
  } else {
    await db.transaction(record);
  }
  return result;
}

async function currentStatus(db: Database, model: { name: string; version: number }): Promise<string | undefined> {
  const [row] = await db.select({ status: modelVersions.status }).from(modelVersions).where(and(eq(modelVersions.modelName, model.name), eq(modelVersions.version, model.version)));
  return row?.status;
}

export async function requireApproval(db: Database | Transaction, approvalId: string): Promise<ApprovalRow> {
  const [row] = await db.select().from(approvals).where(eq(approvals.id, approvalId));
  if (!row) throw new NotFoundError(`No approval with id "${approvalId}"; \`steward approvals list\` shows the open ones.`, { approvalId });
  return row;
}

export async function listApprovals(db: Database, filter: { status?: ApprovalRow['status'] | 'all' } = {}): Promise<ApprovalRow[]> {
  const status = filter.status ?? 'waiting';
  return db
    .select()
    .from(approvals)
    .where(status === 'all' ? undefined : eq(approvals.status, status))
    .orderBy(desc(approvals.openedAt));
}

/** Why `principal` may not decide on `approval` as `role`, or undefined when it may. */
export function decisionRefusal(approval: ApprovalRow, principal: { name: string; roles: string[]; disabled?: boolean }, role: string): string | undefined {
  if (approval.status !== 'waiting') return `approval ${approval.id} is already closed (${approval.status})`;
  if (approval.deadline.getTime() <= Date.now()) return `approval ${approval.id} passed its deadline (${approval.deadline.toISOString()})`;
  if (principal.disabled) return `${principal.name} is disabled`;
  if (!(role in approval.required)) return `this approval does not ask for a "${role}" review; it needs ${Object.keys(approval.required).join(', ')}`;
  if (!principal.roles.includes(role)) return `${principal.name} is not a ${role} reviewer (${principal.name} has ${describeRoles(principal.roles)})`;
  const policy = approval.policy as ApprovalPolicy;
  if (policy.separationOfDuties !== false && approval.authors.includes(principal.name)) return `${principal.name} authored this candidate and may not review it (separation of duties)`;
  return undefined;
}

export interface IssuedCode {
  code: string;
  approvalId: string;
  principal: string;
  role: string;
  expiresAt: string;
}

/**
 * A single-use code that proves, to the workflow, that `principal` (already authenticated by the
 * caller) decides on this approval in this role. Refuses up front what the gate would refuse.
 */
export async function issueDecisionCode(db: Database, input: { approvalId: string; principal: string; role: string; ttlMs?: number }): Promise<IssuedCode> {
  const approval = await requireApproval(db, input.approvalId);
  const principal = await requirePrincipal(db, input.principal);
  const reason = decisionRefusal(approval, principal, input.role);
  if (reason) {
    await db.transaction((tx) =>
      appendAuditTx(tx, { actor: principal.name, action: 'approval.refused', subject: `approval:${approval.id}`, details: { role: input.role, reason, stage: 'code', model: approval.modelName } }),
    );
    throw (reason.includes('is not a') ? new PermissionDeniedError(`Refused: ${reason}.`) : new ConflictError(`Refused: ${reason}.`));
  }
  const code = `dc_${randomBytes(15).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + (input.ttlMs ?? DECISION_CODE_TTL_MS));
  await db.insert(decisionCodes).values({ codeHash: sha256(code), approvalId: approval.id, principal: principal.name, role: input.role, expiresAt });
  return { code, approvalId: approval.id, principal: principal.name, role: input.role, expiresAt: expiresAt.toISOString() };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface DecisionProof {
  approvalId: string;
  principal: string;
  role: string;
  decision: 'approve' | 'reject';
  comment?: string;
  code: string;
  /** How the decision arrived, for the trail: 'update' or 'signal'. */
  via: 'update' | 'signal';
}

export type Verification = { ok: true } | { ok: false; reason: string; replay?: boolean };

/**
 * Checks a decision's proof and consumes it, all in one transaction with its audit entry:
 * - the code exists, belongs to this approval and was issued to exactly this principal and role
 *   (a code is bound to one principal, one role and one gate);
 * - the code is unused, or was used by this very delivery (`delivery`: the workflow, run and
 *   activity that verify it, the same across Temporal's retries of one verification). Any other
 *   use, under any name, is a replay: refused and audited as `approval.replay`;
 * - the principal exists, is enabled, holds the role now and is no author of the candidate.
 * A retried verification after a commit finds its own consumption and succeeds again, changing
 * nothing. Refusals are audited with the verified principal as actor when the code proves one,
 * and otherwise as `unverified`, with the claimed name only in the details.
 */
export async function verifyDecision(db: Database, proof: DecisionProof, delivery: string): Promise<Verification> {
  const codeHash = typeof proof.code === 'string' && proof.code !== '' ? sha256(proof.code) : '';
  let verifiedActor: string | undefined;
  const outcome = await db.transaction(async (tx): Promise<Verification> => {
    const approval = await requireApproval(tx, proof.approvalId);
    if (!codeHash) return { ok: false, reason: 'the decision carries no decision code; get one with `steward approvals code`' };
    const [code] = await tx.select().from(decisionCodes).where(eq(decisionCodes.codeHash, codeHash));
    if (!code || code.approvalId !== approval.id) return { ok: false, reason: 'the decision code is not valid for this approval' };
    // From here the code names who it was issued to: that principal is the one the trail blames.
    verifiedActor = code.principal;
    if (code.usedAt) {
      if (code.usedBy === delivery && code.principal === proof.principal && code.role === proof.role) return { ok: true };
      return {
        ok: false,
        replay: true,
        reason: `the decision code was already used (by ${code.principal} as ${code.role}, at ${code.usedAt.toISOString()}); each code proves one decision, and a second use under any name is a replay`,
      };
    }
    if (code.principal !== proof.principal || code.role !== proof.role) {
      return { ok: false, reason: `the decision code was issued to ${code.principal} as ${code.role}, not to ${proof.principal} as ${proof.role}` };
    }
    if (code.expiresAt.getTime() <= Date.now()) return { ok: false, reason: `the decision code expired at ${code.expiresAt.toISOString()}; get a new one` };
    const [principal] = await tx.select().from(principals).where(eq(principals.name, code.principal));
    if (!principal) return { ok: false, reason: `no principal named "${code.principal}"` };
    const refusal = decisionRefusal(approval, principal, code.role);
    if (refusal) return { ok: false, reason: refusal };
    // Consumed only if still unused: two deliveries racing with one code cannot both win.
    const consumed = await tx
      .update(decisionCodes)
      .set({ usedAt: new Date(), usedBy: delivery })
      .where(and(eq(decisionCodes.codeHash, codeHash), isNull(decisionCodes.usedAt)))
      .returning({ codeHash: decisionCodes.codeHash });
    if (consumed.length === 0) return { ok: false, replay: true, reason: 'the decision code was already used; each code proves one decision' };
    await appendAuditTx(tx, {
      actor: principal.name,
      action: 'approval.decision',
      subject: `approval:${approval.id}`,
      details: { role: code.role, decision: proof.decision, comment: proof.comment ?? null, via: proof.via, model: approval.modelName, version: approval.modelVersion },
      idempotencyKey: `approval.decision:${approval.id}:${codeHash}`,
    });
    return { ok: true };
  });
  if (!outcome.ok) {
    await recordRefusal(db, {
      approvalId: proof.approvalId,
      actor: verifiedActor ?? UNVERIFIED,
      reason: outcome.reason,
      input: { claimedPrincipal: typeof proof.principal === 'string' ? proof.principal.slice(0, 100) : null, role: proof.role, decision: proof.decision, via: proof.via },
      ...(outcome.replay ? { action: 'approval.replay' } : {}),
      key: `approval.refused:${delivery}`,
    });
  }
  return outcome;
}

/** The actor of a refusal whose sender proved nobody: the claimed name goes in the details only. */
export const UNVERIFIED = 'unverified';

/**
 * A refused decision goes to the audit trail with its reason; nothing else changes. `actor` must be
 * a principal the caller verified (a token, a session, a decision code); a name a signal merely
 * claims belongs in `input`, with UNVERIFIED as the actor.
 */
export async function recordRefusal(
  db: Database,
  input: { approvalId?: string; actor?: string; reason: string; input?: unknown; key?: string; action?: 'approval.refused' | 'approval.replay' },
): Promise<void> {
  await db.transaction((tx) =>
    appendAuditTx(tx, {
      actor: typeof input.actor === 'string' && input.actor ? input.actor.slice(0, 100) : UNVERIFIED,
      action: input.action ?? 'approval.refused',
      subject: `approval:${input.approvalId ?? 'unknown'}`,
      details: { reason: input.reason, input: input.input ?? null },
      ...(input.key ? { idempotencyKey: input.key } : {}),
    }),
  );
}

export async function remindApproval(db: Database, input: { approvalId: string; missing: Record<string, number>; escalateTo: string[]; deadline: string; index: number }): Promise<string[]> {
  const reviewers = await db.select({ name: principals.name, roles: principals.roles }).from(principals).where(eq(principals.disabled, false));
  const roles = [...Object.keys(input.missing), ...input.escalateTo];
  const notified = reviewers.filter((r) => r.roles.some((role) => roles.includes(role))).map((r) => r.name);
  await db.transaction((tx) =>
    appendAuditTx(tx, {
      actor: 'steward',
      action: input.escalateTo.length ? 'approval.escalated' : 'approval.reminder',
      subject: `approval:${input.approvalId}`,
      details: { missing: input.missing, escalateTo: input.escalateTo, deadline: input.deadline, notified },
      idempotencyKey: `approval.reminder:${input.approvalId}:${input.index}`,
    }),
  );
  return notified;
}

export interface CloseApprovalInput {
  approvalId: string;
  status: 'approved' | 'rejected' | 'expired';
  decisions: Array<{ principal: string; role: string; decision: string; comment?: string; at: string }>;
  reason: string;
  workflowId: string;
}

export async function closeApproval(db: Database, input: CloseApprovalInput): Promise<void> {
  const approval = await requireApproval(db, input.approvalId);
  if (approval.status !== 'waiting') {
    if (approval.status === input.status) return; // a retried activity
    throw new ConflictError(`Approval ${approval.id} is already ${approval.status}; it cannot become ${input.status}.`);
  }
  const reviewers = [...new Set(input.decisions.map((d) => d.principal))];
  const record = async (tx: Transaction) => {
    await tx
      .update(approvals)
      .set({ status: input.status, closedAt: new Date(), outcome: { reason: input.reason, decisions: input.decisions } })
      .where(and(eq(approvals.id, approval.id), eq(approvals.status, 'waiting')));
    await appendAuditTx(tx, {
      actor: input.status === 'expired' ? 'steward' : reviewers.join(',') || 'steward',
      action: `approval.${input.status}`,
      subject: `approval:${approval.id}`,
      details: { reason: input.reason, decisions: input.decisions, model: approval.modelName, version: approval.modelVersion },
      idempotencyKey: `approval.closed:${approval.id}`,
    });
  };
  const model = approval.modelName && approval.modelVersion !== null ? { name: approval.modelName, version: approval.modelVersion } : undefined;
  if (model && (await currentStatus(db, model)) === 'pending_approval') {
    await transitionModelVersion(
      db,
      {
        modelName: model.name,
        version: model.version,
        to: input.status === 'approved' ? 'approved' : 'rejected',
        actor: input.status === 'expired' ? 'steward' : reviewers.join(', '),
        reason: input.reason,
        workflowId: input.workflowId,
      },
      record,
    );
  } else {
    await db.transaction(record);
  }
}

/** Approvals that named these model versions, for cards and audits. */
export async function approvalsForModel(db: Database, modelName: string, versions?: number[]): Promise<ApprovalRow[]> {
  return db
    .select()
    .from(approvals)
    .where(and(eq(approvals.modelName, modelName), versions ? inArray(approvals.modelVersion, versions) : undefined))
    .orderBy(desc(approvals.openedAt));
}

export function checkComment(comment: string | undefined, limit = 4_000): void {
  if ((comment?.length ?? 0) > limit) throw new ValidationError(`The comment is ${comment!.length} characters; the limit is ${limit}.`);
}
