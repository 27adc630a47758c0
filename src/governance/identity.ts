/**
 * Who is acting: principals with roles, and API tokens that authenticate them. A token is shown
 * once when it is created and stored only as its sha256, so a leaked database reveals no usable
 * secret. Every change to a principal or token is recorded in the audit trail.
 *
 * Tokens look like `stw_<id>_<secret>`: the id names the token in lists and revocations, the secret
 * is 32 random bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiTokens, principals, webSessions, type ApiToken, type Principal } from '../db/schema.js';
import { NotFoundError, StewardError, ValidationError } from '../errors.js';
import { appendAuditTx } from '../audit/index.js';

/** The caller could not be identified: no token, or one that is unknown, revoked or malformed. */
export class AuthenticationError extends StewardError {
  readonly code = 'UNAUTHENTICATED';
  readonly status = 401;
}

/** The caller is known but lacks the permission; the message names it. */
export class PermissionDeniedError extends StewardError {
  readonly code = 'PERMISSION_DENIED';
  readonly status = 403;
}

const PRINCIPAL_NAME = /^[a-z][a-z0-9._-]{0,62}$/;
const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function checkPrincipalName(name: string): void {
  if (!PRINCIPAL_NAME.test(name)) {
    throw new ValidationError(`Principal name "${name}" is not allowed: use lowercase letters, digits, '.', '_' or '-', starting with a letter (at most 63).`);
  }
}

export function checkRoles(roles: readonly string[]): string[] {
  for (const role of roles) {
    if (!ROLE_NAME.test(role)) throw new ValidationError(`Role "${role}" is not allowed: use lowercase letters, digits, '_' or '-', starting with a letter (at most 40).`);
  }
  return [...new Set(roles)].sort();
}

export interface PrincipalInput {
  name: string;
  roles: string[];
  displayName?: string;
  /** Who made the change (for the audit trail). */
  actor: string;
}

export async function createPrincipal(db: Database, input: PrincipalInput): Promise<Principal> {
  checkPrincipalName(input.name);
  const roles = checkRoles(input.roles);
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(principals).where(eq(principals.name, input.name));
    if (existing) throw new ValidationError(`Principal "${input.name}" already exists; change its roles with \`steward principals roles ${input.name} --set ...\`.`);
    const [created] = await tx.insert(principals).values({ name: input.name, roles, displayName: input.displayName ?? null }).returning();
    await appendAuditTx(tx, { actor: input.actor, action: 'principal.created', subject: `principal:${input.name}`, details: { roles } });
    return created!;
  });
}

export async function setRoles(db: Database, input: { name: string; roles: string[]; actor: string }): Promise<Principal> {
  const roles = checkRoles(input.roles);
  return db.transaction(async (tx) => {
    const before = await requirePrincipalTx(tx, input.name);
    const [updated] = await tx.update(principals).set({ roles }).where(eq(principals.name, input.name)).returning();
    await appendAuditTx(tx, { actor: input.actor, action: 'principal.roles', subject: `principal:${input.name}`, details: { from: before.roles, to: roles } });
    return updated!;
  });
}

export async function setDisabled(db: Database, input: { name: string; disabled: boolean; actor: string }): Promise<Principal> {
  return db.transaction(async (tx) => {
    await requirePrincipalTx(tx, input.name);
    const [updated] = await tx.update(principals).set({ disabled: input.disabled }).where(eq(principals.name, input.name)).returning();
    // Disabling ends every browser session of the principal (a re-enabled one signs in again).
    const ended = input.disabled ? await tx.delete(webSessions).where(eq(webSessions.principal, input.name)).returning({ idHash: webSessions.idHash }) : [];
    await appendAuditTx(tx, {
      actor: input.actor,
      action: input.disabled ? 'principal.disabled' : 'principal.enabled',
      subject: `principal:${input.name}`,
      ...(input.disabled ? { details: { sessionsEnded: ended.length } } : {}),
    });
    return updated!;
  });
}

type Queryable = Pick<Database, 'select'>;

async function requirePrincipalTx(db: Queryable, name: string): Promise<Principal> {
  const [found] = await db.select().from(principals).where(eq(principals.name, name));
  if (!found) throw new NotFoundError(`No principal named "${name}"; create one with \`steward principals add ${name} --roles <role,...>\`.`);
  return found;
}

export function requirePrincipal(db: Database, name: string): Promise<Principal> {
  return requirePrincipalTx(db, name);
}

export async function listPrincipals(db: Database): Promise<Principal[]> {
  return db.select().from(principals).orderBy(asc(principals.name));
}

export interface IssuedToken {
  id: string;
  principal: string;
  /** The secret: shown once, never stored. */
  token: string;
}

export async function issueToken(db: Database, input: { principal: string; label?: string; actor: string }): Promise<IssuedToken> {
  const id = randomBytes(4).toString('hex');
  const token = `stw_${id}_${randomBytes(32).toString('base64url')}`;
  await db.transaction(async (tx) => {
    await requirePrincipalTx(tx, input.principal);
    await tx.insert(apiTokens).values({ id, principal: input.principal, tokenHash: sha256(token), label: input.label ?? null });
    await appendAuditTx(tx, { actor: input.actor, action: 'token.issued', subject: `principal:${input.principal}`, details: { tokenId: id, label: input.label ?? null } });
  });
  return { id, principal: input.principal, token };
}

export async function revokeToken(db: Database, input: { id: string; actor: string }): Promise<ApiToken> {
  return db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.id, input.id), isNull(apiTokens.revokedAt)))
      .returning();
    if (!revoked) throw new NotFoundError(`No active token with id "${input.id}"; \`steward tokens list\` shows them.`);
    // The browser sessions this token opened end with it.
    const ended = await tx.delete(webSessions).where(eq(webSessions.tokenId, input.id)).returning({ idHash: webSessions.idHash });
    await appendAuditTx(tx, { actor: input.actor, action: 'token.revoked', subject: `principal:${revoked.principal}`, details: { tokenId: input.id, sessionsEnded: ended.length } });
    return revoked;
  });
}

export async function listTokens(db: Database, principal?: string): Promise<Omit<ApiToken, 'tokenHash'>[]> {
  const rows = await db.select().from(apiTokens).where(principal ? eq(apiTokens.principal, principal) : undefined).orderBy(asc(apiTokens.createdAt));
  return rows.map(({ tokenHash: _hash, ...rest }) => rest);
}

/** The principal a token belongs to; AuthenticationError (401) for anything else. */
export async function authenticate(db: Database, token: string | undefined): Promise<Principal> {
  return (await authenticateToken(db, token)).principal;
}

/** Like `authenticate`, with the id of the token that proved it (a session remembers it). */
export async function authenticateToken(db: Database, token: string | undefined): Promise<{ principal: Principal; tokenId: string }> {
  if (!token) throw new AuthenticationError('No API token: pass --token, set STEWARD_TOKEN, or send "Authorization: Bearer <token>". `steward tokens create <principal>` issues one.');
  if (!/^stw_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/.test(token)) throw new AuthenticationError('The API token is malformed: Steward tokens look like stw_<8 hex>_<43 characters>.');
  const [row] = await db
    .select({ token: apiTokens, principal: principals })
    .from(apiTokens)
    .innerJoin(principals, eq(principals.name, apiTokens.principal))
    .where(eq(apiTokens.tokenHash, sha256(token)));
  if (!row) throw new AuthenticationError('The API token is not known: it may have been mistyped or belong to another Steward database.');
  if (row.token.revokedAt) throw new AuthenticationError(`The API token ${row.token.id} was revoked on ${row.token.revokedAt.toISOString()}; ask for a new one.`);
  if (row.principal.disabled) throw new AuthenticationError(`Principal "${row.principal.name}" is disabled.`);
  await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.token.id));
  return { principal: row.principal, tokenId: row.token.id };
}

/** Throws a 403-style error naming the role when the principal lacks it. */
export function requireRole(principal: Principal, role: string, doing: string): void {
  if (!principal.roles.includes(role)) {
    throw new PermissionDeniedError(`${principal.name} may not ${doing}: that needs the "${role}" role, and ${principal.name} has ${describeRoles(principal.roles)}.`, {
      principal: principal.name,
      permission: role,
    });
  }
}

export function describeRoles(roles: readonly string[]): string {
  return roles.length === 0 ? 'no roles' : `the role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`;
}
