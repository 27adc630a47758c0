/**
 * The audit chain's end is anchored, on both drivers: entries cut from the end (by someone who got
 * around the append-only trigger) no longer read as intact; the head itself only moves forward;
 * the idempotency key is covered by the hash; an exported checkpoint, signed with
 * STEWARD_AUDIT_KEY, proves a rewrite or truncation even when the head row was rewritten too.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditHead, auditLog } from '../../src/db/schema.js';
import { appendAudit, auditCheckpoint, checkpointSigned, verifyAuditChain } from '../../src/audit/index.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';

describeEachDriver('audit chain anchor', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;
  const KEY = 'an operator secret';

  async function append(n: number, prefix: string) {
    for (let i = 0; i < n; i++) await appendAudit(db(), { actor: 'steward', action: 'test.event', subject: `test:${prefix}${i}`, details: { i }, idempotencyKey: `${prefix}:${i}` });
  }

  async function asTamperer(statements: string[]) {
    await db().execute(sql.raw('alter table audit_log disable trigger audit_log_append_only'));
    await db().execute(sql.raw('alter table audit_head disable trigger audit_head_forward_only'));
    try {
      for (const statement of statements) await db().execute(sql.raw(statement));
    } finally {
      await db().execute(sql.raw('alter table audit_log enable trigger audit_log_append_only'));
      await db().execute(sql.raw('alter table audit_head enable trigger audit_head_forward_only'));
    }
  }

  it('moves the head with every append, and a retried append moves nothing', async () => {
    await append(5, 'a');
    const [head] = await db().select().from(auditHead);
    const [last] = await db().select().from(auditLog).orderBy(sql`seq desc`).limit(1);
    expect(head).toMatchObject({ seq: last!.seq, hash: last!.hash });
    await appendAudit(db(), { actor: 'steward', action: 'test.event', subject: 'test:a0', details: { i: 0 }, idempotencyKey: 'a:0' });
    expect((await db().select().from(auditHead))[0]).toEqual(head);
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true, entries: 5, head: { seq: 5 } });
  });

  it('refuses to move the head backwards or delete it', async () => {
    await expect(db().execute(sql`update audit_head set seq = 1`)).rejects.toThrow();
    await expect(db().execute(sql`delete from audit_head`)).rejects.toThrow();
  });

  it('covers the idempotency key with the hash', async () => {
    await asTamperer(["update audit_log set idempotency_key = 'forged:0' where seq = 2"]);
    const result = await verifyAuditChain(db());
    expect(result).toMatchObject({ ok: false, firstBad: { seq: 2 } });
    expect(result.firstBad!.reason).toContain('changed after it was written');
    await asTamperer(["update audit_log set idempotency_key = 'a:1' where seq = 2"]);
    expect((await verifyAuditChain(db())).ok).toBe(true);
  });

  it('detects the last entries removed, which a chain check alone reads as intact', async () => {
    const checkpoint = (await auditCheckpoint(db(), { key: KEY }))!;
    expect(checkpoint).toMatchObject({ seq: 5 });
    expect(checkpointSigned(checkpoint, KEY)).toBe(true);
    expect(checkpointSigned({ ...checkpoint, seq: 4 }, KEY)).toBe(false);
    expect(checkpointSigned(checkpoint, 'another key')).toBe(false);

    await asTamperer(['delete from audit_log where seq >= 4']);
    const cut = await verifyAuditChain(db());
    expect(cut).toMatchObject({ ok: false, entries: 3, firstBad: { seq: 4 } });
    expect(cut.firstBad!.reason).toBe('the chain ends at entry 3 but its anchored head is entry 5: entries 4 to 5 were removed');

    // A tamperer who also rolls the head back is caught by the checkpoint kept outside the database.
    await asTamperer(["update audit_head set seq = 3, hash = (select hash from audit_log where seq = 3)"]);
    expect((await verifyAuditChain(db())).ok).toBe(true);
    const against = await verifyAuditChain(db(), { checkpoint, key: KEY });
    expect(against).toMatchObject({ ok: false, firstBad: { seq: 5 } });
    expect(against.firstBad!.reason).toContain('before the checkpoint');
    // A checkpoint edited to match the shortened chain fails its signature.
    const forged = await verifyAuditChain(db(), { checkpoint: { ...checkpoint, seq: 3 }, key: KEY });
    expect(forged.ok).toBe(false);
    expect(forged.firstBad!.reason).toContain('signature does not match');
  });

  it('detects a chain rewritten from a checkpointed entry on, even when it re-links', async () => {
    await append(3, 'b');
    const checkpoint = (await auditCheckpoint(db(), { key: KEY }))!;
    expect((await verifyAuditChain(db(), { checkpoint, key: KEY })).checkpoint).toEqual({ seq: checkpoint.seq, hash: checkpoint.hash, signed: true });
    // Rewrite the checkpointed entry's content and recompute every hash from it (as a tamperer with the code would).
    const { entryHash } = await import('../../src/audit/index.js');
    const rows = await db().select().from(auditLog).orderBy(sql`seq asc`);
    let prev = rows.find((r) => r.seq === checkpoint.seq - 1)!.hash;
    const statements: string[] = [];
    for (const row of rows.filter((r) => r.seq >= checkpoint.seq)) {
      const details = row.seq === checkpoint.seq ? { i: 99 } : row.details;
      const hash = entryHash(prev, { ...row, details });
      statements.push(`update audit_log set details = '${JSON.stringify(details)}', prev_hash = '${prev}', hash = '${hash}' where seq = ${row.seq}`);
      statements.push(`update audit_head set hash = '${hash}' where seq = ${row.seq}`);
      prev = hash;
    }
    await asTamperer(statements);
    expect((await verifyAuditChain(db())).ok).toBe(true);
    const result = await verifyAuditChain(db(), { checkpoint, key: KEY });
    expect(result).toMatchObject({ ok: false, firstBad: { seq: checkpoint.seq } });
    expect(result.firstBad!.reason).toContain('differs from the checkpoint');
  });
});
