/**
 * The audit trail: an append-only, hash-chained log of every decision, refusal, expiry, status change
 * and deployment. Each entry's hash is sha256 over the previous entry's hash and the entry's own
 * content in canonical JSON, so changing, inserting or removing any row breaks the chain from there
 * on. The database refuses UPDATE and DELETE (a trigger); `verifyAuditChain` catches whoever got
 * around it.
 *
 * Appends are serialized by a transaction-scoped advisory lock, so the chain stays linear with any
 * number of writers, and an idempotency key makes a retried activity's append a no-op.
 */
import { createHash } from 'node:crypto';
import { asc, desc, eq, like, or, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { auditLog, type AuditEntry } from '../db/schema.js';

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

export function entryHash(prevHash: string, entry: Pick<AuditEntry, 'seq' | 'at' | 'actor' | 'action' | 'subject' | 'details'>): string {
  const content = canonicalJson({
    seq: entry.seq,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    details: entry.details,
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
  const row = { seq, at, actor: event.actor, action: event.action, subject: event.subject, details };
  const hash = entryHash(prevHash, row);
  const [inserted] = await tx
    .insert(auditLog)
    .values({ ...row, prevHash, hash, idempotencyKey: event.idempotencyKey ?? null })
    .returning();
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
}

/**
 * Recomputes the chain from the first entry, streaming in pages so any length fits in memory.
 * Reports the first entry that was edited (its hash no longer matches its content), re-linked or
 * removed (its previous hash is not the hash before it, or a sequence number is missing).
 */
export async function verifyAuditChain(db: Database, options: { pageSize?: number } = {}): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 5_000;
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
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
      prevHash = entry.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (page.length < pageSize) return { ok: true, entries };
  }
}

/** The trail for one subject (exact) or a subject prefix such as `model:flight-delay` (all its versions). */
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
