/**
 * Browser sessions for the reviewer web page. Signing in exchanges an API token for a session
 * cookie, so the token is typed once and never kept by the browser. The cookie value is 32 random
 * bytes; the database keeps only its sha256 (like API tokens), so reading the table yields no
 * usable session. Sessions last 8 hours, end at sign-out, and die with their principal (cascade),
 * when the principal is disabled, or when the token they were opened with is revoked.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { apiTokens, principals, webSessions, type Principal } from '../db/schema.js';
import { appendAuditTx } from '../audit/index.js';
import { requirePrincipal, sha256 } from './identity.js';

export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** base64url of 32 bytes: anything else cannot be a session this module issued. */
const SESSION_VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  /** The cookie value: shown to the browser once, stored only as its sha256. */
  value: string;
  principal: string;
  expiresAt: Date;
}

/** Opens a session for an already authenticated principal; the sign-in goes to the audit trail. */
export async function createSession(db: Database, principal: string, options: { ttlMs?: number; tokenId?: string } = {}): Promise<Session> {
  const value = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + (options.ttlMs ?? SESSION_TTL_MS));
  await requirePrincipal(db, principal);
  await db.transaction(async (tx) => {
    // Housekeeping on the way in: expired sessions are useless, and this keeps the table small.
    await tx.delete(webSessions).where(lte(webSessions.expiresAt, new Date()));
    await tx.insert(webSessions).values({ idHash: sha256(value), principal, expiresAt, tokenId: options.tokenId ?? null });
    await appendAuditTx(tx, {
      actor: principal,
      action: 'session.started',
      subject: `principal:${principal}`,
      details: { via: 'web', expiresAt: expiresAt.toISOString(), tokenId: options.tokenId ?? null },
    });
  });
  return { value, principal, expiresAt };
}

/** The principal behind a live session cookie, or undefined (unknown, expired, ended, disabled, its token revoked). */
export async function sessionPrincipal(db: Database, value: string): Promise<Principal | undefined> {
  if (!SESSION_VALUE.test(value)) return undefined;
  const [row] = await db
    .select({ principal: principals, tokenRevokedAt: apiTokens.revokedAt })
    .from(webSessions)
    .innerJoin(principals, eq(principals.name, webSessions.principal))
    .leftJoin(apiTokens, eq(apiTokens.id, webSessions.tokenId))
    .where(and(eq(webSessions.idHash, sha256(value)), gt(webSessions.expiresAt, new Date())));
  // Revoking deletes the token's sessions; the check stands for a session opened in the same instant.
  if (!row || row.principal.disabled || row.tokenRevokedAt) return undefined;
  return row.principal;
}

/** Ends a session (sign-out). Returns whether there was one to end. */
export async function endSession(db: Database, value: string): Promise<boolean> {
  if (!SESSION_VALUE.test(value)) return false;
  return db.transaction(async (tx) => {
    const [ended] = await tx.delete(webSessions).where(eq(webSessions.idHash, sha256(value))).returning({ principal: webSessions.principal });
    if (!ended) return false;
    await appendAuditTx(tx, { actor: ended.principal, action: 'session.ended', subject: `principal:${ended.principal}`, details: { via: 'web' } });
    return true;
  });
}
