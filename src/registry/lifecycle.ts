/**
 * The lifecycle of a model version, as an explicit transition table (Feast's
 * _VALID_STATE_TRANSITIONS): a version is validated, goes through approval, and only an approved
 * version may be deployed. Where a version is served from is the aliases' job, not the status'.
 */
import { and, eq } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { modelVersions, type ModelVersion } from '../db/schema.js';
import { ConflictError, ValidationError } from '../errors.js';
import { appendHistory, checkChange, type ChangeContext } from './history.js';
import { lockModel, requireVersion } from './lookup.js';
import { checkModelName } from './names.js';

export const MODEL_STATUSES = ['registered', 'validated', 'pending_approval', 'approved', 'rejected', 'deployed', 'archived'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export const VALID_TRANSITIONS: Readonly<Record<ModelStatus, readonly ModelStatus[]>> = {
  registered: ['validated', 'rejected', 'archived'],
  validated: ['pending_approval', 'rejected', 'archived'],
  pending_approval: ['approved', 'rejected'],
  approved: ['deployed', 'archived'],
  deployed: ['archived'],
  rejected: ['archived'],
  archived: [],
};

export function isModelStatus(value: string): value is ModelStatus {
  return (MODEL_STATUSES as readonly string[]).includes(value);
}

/** Throws a ConflictError naming the move and the moves that are allowed from `from`. */
export function checkTransition(modelName: string, version: number, from: ModelStatus, to: ModelStatus): void {
  const allowed = VALID_TRANSITIONS[from];
  if (allowed.includes(to)) return;
  const options = allowed.length ? `from ${from} it can move to: ${allowed.join(', ')}` : `${from} is final`;
  throw new ConflictError(`Model "${modelName}" version ${version} cannot move from ${from} to ${to}; ${options}.`, {
    model: modelName,
    version,
    from,
    to,
    allowed,
  });
}

export interface TransitionInput extends ChangeContext {
  modelName: string;
  version: number;
  to: string;
}

/**
 * Moves a version to another status, appending to its history and to the audit trail in one
 * transaction. `within` runs in that transaction too, for a caller whose own record must commit
 * with the move (an approval gate closing).
 */
export async function transitionModelVersion(db: Database, input: TransitionInput, within?: (tx: Transaction) => Promise<void>): Promise<ModelVersion> {
  checkChange(input);
  checkModelName(input.modelName);
  const to = input.to;
  if (!isModelStatus(to)) throw new ValidationError(`Unknown status "${to}": use one of ${MODEL_STATUSES.join(', ')}.`, { status: to });
  return db.transaction(async (tx) => {
    await lockModel(tx, input.modelName);
    const current = await requireVersion(tx, input.modelName, input.version);
    const from = current.status as ModelStatus;
    checkTransition(input.modelName, input.version, from, to);
    const [updated] = await tx
      .update(modelVersions)
      .set({ status: to })
      .where(and(eq(modelVersions.modelName, input.modelName), eq(modelVersions.version, input.version)))
      .returning();
    await appendHistory(tx, {
      modelName: input.modelName,
      version: input.version,
      kind: 'transition',
      from,
      to,
      actor: input.actor,
      reason: input.reason,
      workflowId: input.workflowId,
    });
    if (within) await within(tx);
    return updated!;
  });
}
