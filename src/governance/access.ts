/**
 * Access control on data and models: permissions (read, write, train-on, deploy, approve) on
 * resources (`dataset:<name>`, `feature_view:<name>`, `model:<name>`, `pipeline:<name>`,
 * `approval:<id>`) granted to roles. The rule:
 *
 * - a resource classified `pii` or `confidential` is used only under a grant to one of the
 *   principal's roles (an unknown or disabled principal has none); every such decision, allow or
 *   deny, is appended to the audit trail;
 * - `public`, `internal` and unclassified resources are open for read, write, train-on and deploy;
 *   approve always needs a grant (approval gates additionally check reviewer roles).
 *
 * A denial is a PermissionDeniedError (403) naming the principal, the permission and the resource,
 * and the grant that would allow it.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { accessGrants, principals, type AccessGrantRow } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { appendAudit } from '../audit/index.js';
import { checkRoles, describeRoles, PermissionDeniedError } from './identity.js';

export const PERMISSIONS = ['read', 'write', 'train-on', 'deploy', 'approve'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const RESOURCE_KINDS = ['dataset', 'feature_view', 'model', 'pipeline', 'approval'] as const;
export const SENSITIVITIES = ['public', 'internal', 'confidential', 'pii'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

const SENSITIVE = new Set(['pii', 'confidential']);
const OPEN_PERMISSIONS = new Set<Permission>(['read', 'write', 'train-on', 'deploy']);

export interface AccessRequest {
  principal: string;
  permission: Permission;
  /** `kind:name`, e.g. `feature_view:customer_profile`. */
  resource: string;
  /** The resource's classification, when known (unclassified counts as not sensitive). */
  sensitivity?: string;
  /** What the principal was doing, for the audit entry (e.g. `train-rain-tomorrow.trainingSet`). */
  context?: string;
}

export interface AccessDecision {
  allowed: boolean;
  /** The grant that allowed it, or why it was open or denied. */
  reason: string;
  audited: boolean;
}

export function isSensitive(sensitivity: string | undefined): boolean {
  return sensitivity !== undefined && SENSITIVE.has(sensitivity);
}

function checkResource(resource: string, allowWildcard: boolean): void {
  const [kind, ...rest] = resource.split(':');
  const name = rest.join(':');
  if (resource === '*' && allowWildcard) return;
  if (!(RESOURCE_KINDS as readonly string[]).includes(kind ?? '') || !name || (name === '*' && !allowWildcard)) {
    throw new ValidationError(`"${resource}" is not a resource: use <kind>:<name>${allowWildcard ? ' (or <kind>:* / *)' : ''} with kind one of ${RESOURCE_KINDS.join(', ')}.`, { resource });
  }
}

function checkPermission(permission: string, allowWildcard: boolean): asserts permission is Permission {
  if (!(PERMISSIONS as readonly string[]).includes(permission) && !(allowWildcard && permission === '*')) {
    throw new ValidationError(`"${permission}" is not a permission: use one of ${PERMISSIONS.join(', ')}${allowWildcard ? ' or *' : ''}.`, { permission });
  }
}

const matches = (pattern: string, resource: string) => pattern === '*' || pattern === resource || (pattern.endsWith(':*') && resource.startsWith(pattern.slice(0, -1)));

export async function grantAccess(db: Database, input: { role: string; permission: string; resource: string; actor: string }): Promise<AccessGrantRow> {
  checkRoles([input.role]);
  checkPermission(input.permission, true);
  checkResource(input.resource, true);
  const [row] = await db
    .insert(accessGrants)
    .values({ role: input.role, permission: input.permission, resource: input.resource, grantedBy: input.actor })
    .onConflictDoNothing()
    .returning();
  await appendAudit(db, { actor: input.actor, action: 'access.granted', subject: input.resource, details: { role: input.role, permission: input.permission } });
  return row ?? (await db.select().from(accessGrants).where(and(eq(accessGrants.role, input.role), eq(accessGrants.permission, input.permission), eq(accessGrants.resource, input.resource))))[0]!;
}

export async function revokeAccess(db: Database, input: { role: string; permission: string; resource: string; actor: string }): Promise<boolean> {
  const removed = await db
    .delete(accessGrants)
    .where(and(eq(accessGrants.role, input.role), eq(accessGrants.permission, input.permission), eq(accessGrants.resource, input.resource)))
    .returning();
  if (removed.length) await appendAudit(db, { actor: input.actor, action: 'access.revoked', subject: input.resource, details: { role: input.role, permission: input.permission } });
  return removed.length > 0;
}

export async function listGrants(db: Database): Promise<AccessGrantRow[]> {
  return db.select().from(accessGrants).orderBy(accessGrants.resource, accessGrants.role, accessGrants.permission);
}

/** Decides a request without throwing; sensitive resources' decisions are audited. */
export async function decideAccess(db: Database, request: AccessRequest): Promise<AccessDecision> {
  checkPermission(request.permission, false);
  checkResource(request.resource, false);
  const sensitive = isSensitive(request.sensitivity);
  let decision: Omit<AccessDecision, 'audited'>;
  const [principal] = await db.select().from(principals).where(eq(principals.name, request.principal));
  if (!principal || principal.disabled) {
    decision = { allowed: false, reason: principal ? `${request.principal} is disabled` : `${request.principal} is not a known principal` };
  } else {
    const grants = await db.select().from(accessGrants);
    const grant = grants.find(
      (g) => (g.role === '*' || principal.roles.includes(g.role)) && (g.permission === '*' || g.permission === request.permission) && matches(g.resource, request.resource),
    );
    if (grant) decision = { allowed: true, reason: `granted to role ${grant.role}: ${grant.permission} on ${grant.resource}` };
    else if (!sensitive && OPEN_PERMISSIONS.has(request.permission)) decision = { allowed: true, reason: `${request.resource} is not sensitive` };
    else decision = { allowed: false, reason: `no grant to ${describeRoles(principal.roles)} allows ${request.permission} on ${request.resource}` };
  }
  if (!principal && !sensitive && OPEN_PERMISSIONS.has(request.permission)) decision = { allowed: true, reason: `${request.resource} is not sensitive` };
  if (sensitive) {
    await appendAudit(db, {
      actor: request.principal,
      action: decision.allowed ? 'access.allowed' : 'access.denied',
      subject: request.resource,
      details: { permission: request.permission, sensitivity: request.sensitivity, reason: decision.reason, ...(request.context ? { context: request.context } : {}) },
    });
  }
  return { ...decision, audited: sensitive };
}

/** Allows or throws a 403 naming the permission and the resource. */
export async function authorize(db: Database, request: AccessRequest): Promise<AccessDecision> {
  const decision = await decideAccess(db, request);
  if (!decision.allowed) {
    const what = request.sensitivity ? `${request.resource} (${request.sensitivity})` : request.resource;
    throw new PermissionDeniedError(
      `Permission denied: ${request.principal} may not ${request.permission} ${what}: ${decision.reason}. An operator can allow it with \`steward access grant <role> ${request.permission} ${request.resource}\`.`,
      { principal: request.principal, permission: request.permission, resource: request.resource, sensitivity: request.sensitivity ?? null },
    );
  }
  return decision;
}
