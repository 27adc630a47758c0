/**
 * Purpose limitation: a model trains on a feature tagged `pii` only for a purpose approved for that
 * model. A purpose is requested through the approval gate of the `approve-purpose` pipeline (subject
 * `{ purpose, model, features }`, decided under PURPOSE_POLICY: a compliance reviewer who is not the
 * requester); once approved, `recordApprovedPurpose` turns the closed approval into an
 * `approved_purposes` row. `getHistoricalFeatures` calls `requirePurpose` and refuses, naming the
 * feature and the missing approval, when a pii feature has none.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { approvals, approvedPurposes, type ApprovedPurposeRow } from '../db/schema.js';
import { ConflictError, NotFoundError, StewardError, ValidationError } from '../errors.js';
import { outputName, sensitivityOf, type FeatureService } from '../features/definitions.js';
import type { ApprovalPolicy } from '../pipeline/spec.js';
import { appendAuditTx } from '../audit/index.js';

/** Who grants a purpose: one compliance reviewer, never the one who asked. */
export const PURPOSE_POLICY: ApprovalPolicy = { roles: { compliance: 1 }, deadline: '7 days', remindBefore: ['1 day'], separationOfDuties: true };

/** A pii feature asked for without an approved purpose: a 403 naming the feature and the approval to get. */
export class PurposeNotApprovedError extends StewardError {
  readonly code = 'PURPOSE_NOT_APPROVED';
  readonly status = 403;
}

export interface PurposeSubject {
  purpose: string;
  model: string;
  features: string[];
}

export function parsePurposeSubject(subject: unknown): PurposeSubject {
  const s = (subject && typeof subject === 'object' ? subject : {}) as Record<string, unknown>;
  const features = Array.isArray(s.features) ? s.features : typeof s.features === 'string' ? s.features.split(',') : [];
  const parsed = { purpose: typeof s.purpose === 'string' ? s.purpose.trim() : '', model: typeof s.model === 'string' ? s.model.trim() : '', features: features.map((f) => String(f).trim()).filter(Boolean) };
  if (!parsed.purpose || !parsed.model || parsed.features.length === 0) {
    throw new ValidationError('A purpose approval needs a subject { purpose, model, features: ["view__feature", ...] } with all three given.', { subject: s });
  }
  return parsed;
}

/** Records the purpose an approved approval granted (idempotent: a retry finds it recorded). */
export async function recordApprovedPurpose(db: Database, approvalId: string): Promise<ApprovedPurposeRow> {
  return db.transaction(async (tx) => {
    const [approval] = await tx.select().from(approvals).where(eq(approvals.id, approvalId));
    if (!approval) throw new NotFoundError(`Approval ${approvalId} does not exist.`, { approvalId });
    if (approval.status !== 'approved') throw new ConflictError(`Approval ${approvalId} is ${approval.status}, not approved: it grants no purpose.`, { approvalId });
    const subject = parsePurposeSubject(approval.subject);
    const [existing] = await tx.select().from(approvedPurposes).where(eq(approvedPurposes.approvalId, approvalId));
    if (existing) return existing;
    const decisions = ((approval.outcome as { decisions?: Array<{ principal: string; decision: string }> } | null)?.decisions ?? []).filter((d) => d.decision === 'approve');
    const approvedBy = [...new Set(decisions.map((d) => d.principal))].sort();
    const [row] = await tx.insert(approvedPurposes).values({ approvalId, modelName: subject.model, purpose: subject.purpose, features: subject.features, approvedBy }).returning();
    await appendAuditTx(tx, {
      actor: approvedBy.join(',') || 'steward',
      action: 'purpose.approved',
      subject: `model:${subject.model}`,
      details: { approvalId, purpose: subject.purpose, features: subject.features },
      idempotencyKey: `purpose.approved:${approvalId}`,
    });
    return row!;
  });
}

export async function approvedPurposesOf(db: Database, modelName: string): Promise<ApprovedPurposeRow[]> {
  return db.select().from(approvedPurposes).where(eq(approvedPurposes.modelName, modelName));
}

/** The pii features a service reads, by output name, including those behind its on-demand views. */
export function piiFeaturesOf(service: FeatureService): string[] {
  const pii = new Set<string>();
  for (const p of service.projections) {
    for (const f of p.features) if (sensitivityOf(p.view, f) === 'pii') pii.add(outputName(p.view.name, f));
    if (p.view.kind === 'onDemandFeatureView') {
      for (const input of Object.values(p.view.inputs)) if (sensitivityOf(input.view, input.feature) === 'pii') pii.add(outputName(input.view.name, input.feature));
    }
  }
  return [...pii].sort();
}

/**
 * Refuses unless every pii feature the service reads is covered by a purpose approved for `model`.
 * Without a model there is no purpose to check, so pii features are refused outright.
 */
export async function requirePurpose(db: Database, service: FeatureService, model: string | undefined): Promise<void> {
  const pii = piiFeaturesOf(service);
  if (pii.length === 0) return;
  const how = (feature: string, m: string) =>
    `Request one: \`steward run approve-purpose --param model=${m} --param purpose="<why>" --param features=${feature}\`, decided by a compliance reviewer.`;
  if (!model) {
    throw new PurposeNotApprovedError(
      `Feature service "${service.name}" reads pii feature ${pii[0]}; pii features are served only for training a named model with an approved purpose (pass the model being trained). ${how(pii[0]!, '<model>')}`,
      { features: pii, service: service.name },
    );
  }
  const covered = new Set((await approvedPurposesOf(db, model)).flatMap((p) => p.features));
  const missing = pii.filter((f) => !covered.has(f));
  if (missing.length) {
    throw new PurposeNotApprovedError(
      `Model "${model}" may not train on pii feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: no approved purpose for ${model} covers ${missing.length > 1 ? 'them' : 'it'} (missing approval: approve-purpose for model ${model}, features ${missing.join(',')}). ${how(missing.join(','), model)}`,
      { model, features: missing, service: service.name },
    );
  }
}
