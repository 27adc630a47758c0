/**
 * Reviewer page sessions on both drivers: the cookie value is never stored, sessions expire, end
 * at sign-out and stop working when their principal is disabled.
 */
import { expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { webSessions } from '../../src/db/schema.js';
import { auditTrail } from '../../src/audit/index.js';
import { createPrincipal, setDisabled, sha256 } from '../../src/governance/identity.js';
import { createSession, endSession, sessionPrincipal, SESSION_TTL_MS } from '../../src/governance/sessions.js';
import { NotFoundError } from '../../src/errors.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

describeEachDriver('reviewer sessions', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;

  it('opens a session that names its principal, storing only the hash of the cookie value', async () => {
    await createPrincipal(db(), { name: 'rita', roles: ['technical'], actor: 'admin' });
    const before = Date.now();
    const session = await createSession(db(), 'rita');
    expect(session.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.expiresAt.getTime() - before).toBeGreaterThanOrEqual(SESSION_TTL_MS - 1_000);
    expect(session.expiresAt.getTime() - before).toBeLessThanOrEqual(SESSION_TTL_MS + 1_000);

    const rows = await db().select().from(webSessions).where(eq(webSessions.principal, 'rita'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.idHash).toBe(sha256(session.value));
    expect(JSON.stringify(rows)).not.toContain(session.value);

    const principal = await sessionPrincipal(db(), session.value);
    expect(principal).toMatchObject({ name: 'rita', roles: ['technical'] });
    const trail = await auditTrail(db(), { subject: 'principal:rita' });
    expect(trail.map((e) => e.action)).toContain('session.started');
  });

  it('refuses unknown, malformed, expired and ended sessions', async () => {
    await createPrincipal(db(), { name: 'sam', roles: ['technical'], actor: 'admin' });
    expect(await sessionPrincipal(db(), 'A'.repeat(43))).toBeUndefined();
    expect(await sessionPrincipal(db(), "x' or '1'='1")).toBeUndefined();

    const expired = await createSession(db(), 'sam', { ttlMs: -1 });
    expect(await sessionPrincipal(db(), expired.value)).toBeUndefined();

    const live = await createSession(db(), 'sam');
    expect((await sessionPrincipal(db(), live.value))?.name).toBe('sam');
    expect(await endSession(db(), live.value)).toBe(true);
    expect(await sessionPrincipal(db(), live.value)).toBeUndefined();
    expect(await endSession(db(), live.value)).toBe(false);
    const trail = await auditTrail(db(), { subject: 'principal:sam' });
    expect(trail.filter((e) => e.action === 'session.ended')).toHaveLength(1);
  });

  it('clears expired sessions when a new one opens', async () => {
    await createPrincipal(db(), { name: 'tess', roles: [], actor: 'admin' });
    await createSession(db(), 'tess', { ttlMs: -1 });
    await createSession(db(), 'tess');
    const rows = await db().select().from(webSessions).where(eq(webSessions.principal, 'tess'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('stops honouring a session once its principal is disabled, and refuses unknown principals', async () => {
    await createPrincipal(db(), { name: 'uma', roles: ['technical'], actor: 'admin' });
    const session = await createSession(db(), 'uma');
    await setDisabled(db(), { name: 'uma', disabled: true, actor: 'admin' });
    expect(await sessionPrincipal(db(), session.value)).toBeUndefined();
    await expect(createSession(db(), 'nobody')).rejects.toBeInstanceOf(NotFoundError);
  });
});
