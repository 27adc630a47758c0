/**
 * The registry's audit trail: one append-only `model_history` table. Every change writes its event
 * in the transaction that makes the change, so the trail and the state never disagree.
 */
import { and, asc, eq, or } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { modelHistory, type ModelHistoryEvent } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { appendAuditTx } from '../audit/index.js';

/** Who asks for a change and why; both are required so the trail can answer an auditor. */
export interface ChangeContext {
  actor: string;
  reason: string;
  /** The workflow that drove the change (an approval gate, a deployment), when there is one. */
  workflowId?: string;
}

export type HistoryKind = ModelHistoryEvent['kind'];
export type NewHistoryEvent = typeof modelHistory.$inferInsert;

export function checkChange(change: ChangeContext): void {
  if (!change.actor?.trim()) throw new ValidationError('Every registry change needs an actor: who is making it.');
  if (!change.reason?.trim()) throw new ValidationError('Every registry change needs a reason: why it is being made.');
}

/** Appends to the model's history and, in the same transaction, to the hash-chained audit trail. */
export async function appendHistory(tx: Transaction, event: NewHistoryEvent): Promise<void> {
  await tx.insert(modelHistory).values(event);
  const { modelName: model, version, kind, alias, from, to, reason, workflowId } = event;
  await appendAuditTx(tx, {
    actor: event.actor,
    action: `model.${kind}`,
    subject: `model:${model}@${version}`,
    details: { model, version, alias: alias ?? null, from: from ?? null, to: to ?? null, reason, workflowId: workflowId ?? null },
  });
}

/** A model's events, oldest first. */
export async function modelHistoryOf(db: Database, modelName: string): Promise<ModelHistoryEvent[]> {
  return db.select().from(modelHistory).where(eq(modelHistory.modelName, modelName)).orderBy(asc(modelHistory.id));
}

/** The events about one version, including aliases that moved away from it. */
export async function versionHistoryOf(db: Database, modelName: string, version: number): Promise<ModelHistoryEvent[]> {
  const movedAway = and(eq(modelHistory.kind, 'alias_set'), eq(modelHistory.from, String(version)));
  return db
    .select()
    .from(modelHistory)
    .where(and(eq(modelHistory.modelName, modelName), or(eq(modelHistory.version, version), movedAway)))
    .orderBy(asc(modelHistory.id));
}
