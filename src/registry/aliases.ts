/**
 * Aliases: movable named pointers to a model version (`champion`, `challenger`). Serving and
 * comparison follow an alias, so promoting a model is moving a pointer, recorded with who and why.
 *
 * Protected aliases (`champion`, `production`, and any a project adds with
 * STEWARD_PROTECTED_ALIASES) decide what serves, so they move only onto a version approved through
 * a sign-off (`approved`, or `deployed` since), and only for a principal allowed to `deploy` the
 * model (src/governance/access.ts). A refusal changes nothing and is audited (`model.alias_refused`)
 * like the moves themselves.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { modelAliases, type ModelVersion } from '../db/schema.js';
import { isStewardError, NotFoundError, StewardError } from '../errors.js';
import { authorize } from '../governance/access.js';
import { factsFromMetadata } from '../governance/approvals.js';
import { appendAudit } from '../audit/index.js';
import { appendHistory, checkChange, type ChangeContext } from './history.js';
import { lockModel, requireModel, requireVersion } from './lookup.js';
import { checkAliasName, checkModelName } from './names.js';

/** Aliases every project protects; STEWARD_PROTECTED_ALIASES adds more. */
export const DEFAULT_PROTECTED_ALIASES: readonly string[] = ['champion', 'production'];

/** The statuses of a version approved through a sign-off: approved, and deployed after it. */
export const APPROVED_STATUSES: readonly string[] = ['approved', 'deployed'];

export function isProtectedAlias(alias: string, extra: readonly string[] = []): boolean {
  return DEFAULT_PROTECTED_ALIASES.includes(alias) || extra.includes(alias);
}

/** What to do about a version that is not approved, by its status. */
export function approvalHint(status: string): string {
  switch (status) {
    case 'pending_approval':
      return 'Its sign-off is open: reviewers find it with `steward approvals list` and decide with `steward approvals approve <id> --role <role>`; try again once it is approved.';
    case 'rejected':
      return 'It was rejected and cannot be approved any more: release a new version through a sign-off.';
    case 'archived':
      return 'It is archived and cannot be approved any more: release a new version through a sign-off.';
    default:
      return (
        'A version is approved through the sign-off of a release pipeline (e.g. `steward run release-<model>`), ' +
        'where reviewers decide with `steward approvals list` and `steward approvals approve <id> --role <role>`.'
      );
  }
}

/** "<model> v<n> is <status>, not approved: only a version approved through a sign-off <can what>. <hint>" */
export function notApprovedMessage(model: string, version: number, status: string, what: string): string {
  return `${model} v${version} is ${status}, not approved: only a version approved through a sign-off ${what}. ${approvalHint(status)}`;
}

/** A protected alias that may not move: the version is not approved. */
export class AliasRefusedError extends StewardError {
  readonly code = 'ALIAS_PROTECTED';
  readonly status = 409;
}

export interface SetAliasInput extends ChangeContext {
  modelName: string;
  alias: string;
  version: number;
  /** Aliases this project protects besides champion and production (config: STEWARD_PROTECTED_ALIASES). */
  protectedAliases?: readonly string[];
  /**
   * Whose `deploy` permission on the model a protected alias needs: the actor unless given. A
   * workflow step moving it after the sign-off it waited for passes null: the sign-off is the
   * decision, and the step runtime checked the run's principal before the step ran. The version
   * must be approved either way.
   */
  principal?: string | null;
}

export interface AliasChange {
  modelName: string;
  alias: string;
  /** Where the alias points now; null once unset. */
  version: number | null;
  /** Where it pointed before; null when it is new. */
  previous: number | null;
  /** False when the alias already pointed there, so nothing was written. */
  changed: boolean;
}

/** A model is as sensitive as the features it was trained on: pii when any was. */
function sensitivityOf(version: ModelVersion): string {
  return factsFromMetadata(version.metadata as Record<string, unknown>).piiFeatures.length > 0 ? 'pii' : 'internal';
}

export async function setAlias(db: Database, input: SetAliasInput): Promise<AliasChange> {
  checkChange(input);
  checkModelName(input.modelName);
  checkAliasName(input.alias);
  const guarded = isProtectedAlias(input.alias, input.protectedAliases);
  try {
    if (guarded) {
      const principal = input.principal === undefined ? input.actor : input.principal;
      // Outside the transaction: the decision is audited (for a sensitive model) whatever follows.
      if (principal !== null) {
        const version = await requireVersion(db, input.modelName, input.version);
        await authorize(db, { principal, permission: 'deploy', resource: `model:${input.modelName}`, sensitivity: sensitivityOf(version), context: `alias ${input.alias}` });
      }
    }
    return await db.transaction(async (tx) => {
      await lockModel(tx, input.modelName);
      const version = await requireVersion(tx, input.modelName, input.version);
      if (guarded && !APPROVED_STATUSES.includes(version.status)) {
        throw new AliasRefusedError(notApprovedMessage(input.modelName, input.version, version.status, `can be ${input.alias} (a protected alias)`), {
          model: input.modelName,
          version: input.version,
          alias: input.alias,
          status: version.status,
        });
      }
      const key = and(eq(modelAliases.modelName, input.modelName), eq(modelAliases.alias, input.alias));
      const [existing] = await tx.select().from(modelAliases).where(key);
      const previous = existing?.version ?? null;
      const result = { modelName: input.modelName, alias: input.alias, version: input.version, previous };
      // Setting an alias where it already points is a retry or a no-op, not a move worth recording.
      if (previous === input.version) return { ...result, changed: false };
      if (existing) await tx.update(modelAliases).set({ version: input.version, updatedAt: new Date() }).where(key);
      else await tx.insert(modelAliases).values({ modelName: input.modelName, alias: input.alias, version: input.version });
      await appendHistory(tx, {
        modelName: input.modelName,
        version: input.version,
        kind: 'alias_set',
        alias: input.alias,
        from: previous === null ? null : String(previous),
        to: String(input.version),
        actor: input.actor,
        reason: input.reason,
        workflowId: input.workflowId,
      });
      return { ...result, changed: true };
    });
  } catch (error) {
    // A protected alias refused (not approved, or not allowed): the attempt is in the audit trail too.
    if (guarded && isStewardError(error) && (error instanceof AliasRefusedError || error.code === 'PERMISSION_DENIED')) {
      await appendAudit(db, {
        actor: input.actor,
        action: 'model.alias_refused',
        subject: `model:${input.modelName}@${input.version}`,
        details: { model: input.modelName, version: input.version, alias: input.alias, reason: input.reason, refusal: error.message, workflowId: input.workflowId ?? null },
      });
    }
    throw error;
  }
}

export interface UnsetAliasInput extends ChangeContext {
  modelName: string;
  alias: string;
}

export async function unsetAlias(db: Database, input: UnsetAliasInput): Promise<AliasChange> {
  checkChange(input);
  checkModelName(input.modelName);
  checkAliasName(input.alias);
  return db.transaction(async (tx) => {
    await lockModel(tx, input.modelName);
    await requireModel(tx, input.modelName);
    const key = and(eq(modelAliases.modelName, input.modelName), eq(modelAliases.alias, input.alias));
    const [removed] = await tx.delete(modelAliases).where(key).returning();
    if (!removed) throw new NotFoundError(`Model "${input.modelName}" has no alias "${input.alias}" to unset.`, { model: input.modelName, alias: input.alias });
    await appendHistory(tx, {
      modelName: input.modelName,
      version: removed.version,
      kind: 'alias_unset',
      alias: input.alias,
      from: String(removed.version),
      to: null,
      actor: input.actor,
      reason: input.reason,
      workflowId: input.workflowId,
    });
    return { modelName: input.modelName, alias: input.alias, version: null, previous: removed.version, changed: true };
  });
}
