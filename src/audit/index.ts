/**
 * The audit trail: an append-only, hash-chained log of every decision, refusal, expiry, status change
 * and deployment. Each entry's hash is sha256 over the previous entry's hash and the entry's own
 * content in canonical JSON (since hash version 2 including its idempotency key), so changing,
 * inserting or removing any row breaks the chain from there on. The database refuses UPDATE and
 * DELETE (a trigger); `verifyAuditChain` catches whoever got around it.
 *
 * The chain's end is anchored twice: the `audit_head` row moves forward in the same transaction as
 * every append (so entries cut from the end leave the head pointing past the chain), and
 * `auditCheckpoint` exports the head, optionally HMAC-signed, to be kept outside the database; a
 * later `verifyAuditChain(db, { checkpoint })` proves the chain still holds that entry unchanged.
 *
 * Appends are serialized by a transaction-scoped advisory lock, so the chain stays linear with any
 * number of writers, and an idempotency key makes a retried activity's append a no-op.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { asc, desc, eq, like, or, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { auditHead, auditLog, type AuditEntry } from '../db/schema.js';

export const GENESIS_HASH = '0'.repeat(64);
/** Arbitrary constant that names the audit chain's advisory lock. */
const AUDIT_LOCK = 0x57a0d17;

export interface AuditEvent {
  /** Who did it: a principal name, or `steward` for the system itself. */
  actor: string;
  /** What happened, dotted: `approval.decision`, `approval.refused`, `model.transition`, ... */
  action: string;
  /** What it happened to: `approval:<id>`, `model:<name>@<version>`, `principal:<name>`. */
  subject: string;
  details?: Record<string, unknown>;
  /** Makes a retried write land once: a second append with the same key returns the first entry. */
  idempotencyKey?: string;
}

/** JSON with object keys sorted at every level: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash version new entries are written with. */
export const AUDIT_HASH_VERSION = 2;

type HashedFields = Pick<AuditEntry, 'seq' | 'at' | 'actor' | 'action' | 'subject' | 'details'> & Partial<Pick<AuditEntry, 'idempotencyKey' | 'hashVersion'>>;

export function entryHash(prevHash: string, entry: HashedFields): string {
  const content = canonicalJson({
    seq: entry.seq,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    details: entry.details,
    // Version 1 entries (written before the key was covered) hash as they always did.
    ...((entry.hashVersion ?? 1) >= 2 ? { idempotencyKey: entry.idempotencyKey ?? null, hashVersion: entry.hashVersion } : {}),
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/** Appends inside the caller's transaction, so the entry commits with the change it records. */
export async function appendAuditTx(tx: Transaction, event: AuditEvent): Promise<AuditEntry> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`);
  if (event.idempotencyKey) {
    const [existing] = await tx.select().from(auditLog).where(eq(auditLog.idempotencyKey, event.idempotencyKey));
    if (existing) return existing;
  }
  const [last] = await tx.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const seq = (last?.seq ?? 0) + 1;
  const prevHash = last?.hash ?? GENESIS_HASH;
  // JSON round trip: what is hashed is exactly what jsonb will give back (no undefined, no Dates).
  const details = JSON.parse(JSON.stringify(event.details ?? {})) as Record<string, unknown>;
  const at = new Date();
  const row = { seq, at, actor: event.actor, action: event.action, subject: event.subject, details, idempotencyKey: event.idempotencyKey ?? null, hashVersion: AUDIT_HASH_VERSION };
  const hash = entryHash(prevHash, row);
  const [inserted] = await tx
    .insert(auditLog)
    .values({ ...row, prevHash, hash })
    .returning();
  await tx
    .insert(auditHead)
    .values({ id: 1, seq, hash, at })
    .onConflictDoUpdate({ target: auditHead.id, set: { seq, hash, at } });
  return inserted!;
}

export async function appendAudit(db: Database, event: AuditEvent): Promise<AuditEntry> {
  return db.transaction((tx) => appendAuditTx(tx, event));
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose hash or link does not match, and why. */
  firstBad?: { seq: number; reason: string };
  /** The anchored head the chain was checked against (undefined on a chain that has no entries yet). */
  head?: { seq: number; hash: string };
  /** Set when a checkpoint was given and the chain still holds its entry unchanged. */
  checkpoint?: { seq: number; hash: string; signed: boolean };
}

/** The chain's head exported to be kept outside the database: `steward audit checkpoint`. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
  /** HMAC-SHA256 of `seq:hash:at` under a key the operator holds (STEWARD_AUDIT_KEY), when given. */
  mac?: string;
}

function checkpointMac(checkpoint: Omit<AuditCheckpoint, 'mac'>, key: string): string {
  return createHmac('sha256', key).update(`${checkpoint.seq}:${checkpoint.hash}:${checkpoint.at}`).digest('hex');
}

/** The head as it stands, signed when a key is given. Undefined while the chain is empty. */
export async function auditCheckpoint(db: Database, options: { key?: string } = {}): Promise<AuditCheckpoint | undefined> {
  const [head] = await db.select().from(auditHead).where(eq(auditHead.id, 1));
  if (!head) return undefined;
  const checkpoint = { seq: head.seq, hash: head.hash, at: head.at.toISOString() };
  return options.key ? { ...checkpoint, mac: checkpointMac(checkpoint, options.key) } : checkpoint;
}

/** Whether a checkpoint's signature holds under `key` (false for an unsigned one). */
export function checkpointSigned(checkpoint: AuditCheckpoint, key: string | undefined): boolean {
  if (!key || typeof checkpoint.mac !== 'string') return false;
  const expected = Buffer.from(checkpointMac(checkpoint, key), 'hex');
  const given = Buffer.from(checkpoint.mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Recomputes the chain from the first entry, streaming in pages so any length fits in memory.
 * Reports the first entry that was edited (its hash no longer matches its content), re-linked or
 * removed (its previous hash is not the hash before it, or a sequence number is missing).
 */
export async function verifyAuditChain(
  db: Database,
  options: { pageSize?: number; checkpoint?: AuditCheckpoint; key?: string } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 5_000;
  const { checkpoint } = options;
  if (checkpoint && options.key && !checkpointSigned(checkpoint, options.key)) {
    return { ok: false, entries: 0, firstBad: { seq: checkpoint.seq, reason: 'the checkpoint\'s signature does not match under STEWARD_AUDIT_KEY: it was altered or signed with another key' } };
  }
  const [head] = await db.select().from(auditHead).where(eq(auditHead.id, 1));
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  let checkpointSeen = false;
  const finish = (): AuditVerification => {
    const anchor = head ? { head: { seq: head.seq, hash: head.hash } } : {};
    if (head && head.seq > entries) {
      return { ok: false, entries, ...anchor, firstBad: { seq: entries + 1, reason: `the chain ends at entry ${entries} but its anchored head is entry ${head.seq}: entries ${entries + 1} to ${head.seq} were removed` } };
    }
    if (head && head.seq === entries && head.hash !== prevHash) {
      return { ok: false, entries, ...anchor, firstBad: { seq: head.seq, reason: `entry ${head.seq} differs from the anchored head (its hash is not the one recorded when it was appended)` } };
    }
    if (checkpoint && !checkpointSeen) {
      return { ok: false, entries, ...anchor, firstBad: { seq: checkpoint.seq, reason: `the chain ends at entry ${entries}, before the checkpoint's entry ${checkpoint.seq}: entries were removed` } };
    }
    return {
      ok: true,
      entries,
      ...anchor,
      ...(checkpoint ? { checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash, signed: checkpointSigned(checkpoint, options.key) } } : {}),
    };
  };
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.seq} >= ${expectedSeq}`)
      .orderBy(asc(auditLog.seq))
      .limit(pageSize);
    for (const entry of page) {
      if (entry.seq !== expectedSeq) {
        return { ok: false, entries, firstBad: { seq: expectedSeq, reason: `entry ${expectedSeq} is missing (the next one is ${entry.seq})` } };
      }
      if (entry.prevHash !== prevHash) {
        return { ok: false, entries, firstBad: { seq: entry.seq, reason: `entry ${entry.seq} does not link to entry ${entry.seq - 1} (its previous hash differs)` } };
      }
      const recomputed = entryHash(prevHash, entry);
      if (recomputed !== entry.hash) {
        return { ok: false, entries, firstBad: { seq: entry.seq, reason: `entry ${entry.seq} was changed after it was written (its content no longer matches its hash)` } };
      }
      if (checkpoint && entry.seq === checkpoint.seq) {
        if (entry.hash !== checkpoint.hash) return { ok: false, entries, firstBad: { seq: entry.seq, reason: `entry ${entry.seq} differs from the checkpoint taken at ${checkpoint.at}: the chain was rewritten from there` } };
        checkpointSeen = true;
      }
      prevHash = entry.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (page.length < pageSize) return finish();
  }
}

/** The trail for one subject (exact) or a subject prefix such as `model:rain-tomorrow` (all its versions). */
export async function auditTrail(db: Database, filter: { subject?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  const query = db.select().from(auditLog);
  const filtered = filter.subject
    ? query.where(or(eq(auditLog.subject, filter.subject), like(auditLog.subject, `${escapeLike(filter.subject)}@%`), like(auditLog.subject, `${escapeLike(filter.subject)}:%`)))
    : query;
  return filtered.orderBy(asc(auditLog.seq)).limit(filter.limit ?? 10_000);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
