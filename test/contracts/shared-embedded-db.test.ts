/**
 * The embedded database shared by processes: the process that opens it first holds it and serves
 * it on a private Unix socket; every other `openDatabase` on the same directory goes through that
 * process, one whole transaction at a time. Real PGlite in a real second process (started with
 * tsx), no mocks: writes from both sides all land and the audit chain stays linear, a transaction
 * on one side is never seen half-done (nor interleaved) by the other, what a client leaves open is
 * rolled back, and when the holder stops, the other process takes the database over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { count, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type DatabaseHandle } from '../../src/db/client.js';
import { auditLog } from '../../src/db/schema.js';
import { serveEmbeddedDatabase } from '../../src/db/shared-server.js';
import { appendAudit, appendAuditTx, verifyAuditChain } from '../../src/audit/index.js';
import type { SharedDbCommand } from '../support/shared-db-process.js';

const script = fileURLToPath(new URL('../support/shared-db-process.ts', import.meta.url));

type Message = Record<string, unknown> & { id?: number };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Command = WithoutId<SharedDbCommand>;

/** test/support/shared-db-process.ts as a child: commands in, answers out. */
class DbProcess {
  private readonly messages: Message[] = [];
  private readonly waiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  private nextId = 1;
  private stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        return;
      }
      const waiter = this.waiters.findIndex((w) => w.match(message));
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0]!.resolve(message);
      else this.messages.push(message);
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(dir: string): Promise<DbProcess & { pid: number; location: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const process_ = new DbProcess(child);
    const ready = await Promise.race([
      process_.next((m) => m.ready === true),
      process_.exited.then((code) => {
        throw new Error(`The database process exited (${code}) before it was ready:\n${process_.stderr}`);
      }),
    ]);
    return Object.assign(process_, { pid: ready.pid as number, location: ready.location as string });
  }

  /** The first answer that matches, already received or still to come. */
  next(match: (m: Message) => boolean, timeoutMs = 60_000): Promise<Message> {
    const index = this.messages.findIndex(match);
    if (index >= 0) return Promise.resolve(this.messages.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No answer from the database process in ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Sends a command; resolves with its id. */
  send(command: Command): number {
    const id = this.nextId++;
    this.child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    return id;
  }

  /** Sends a command and waits for its (first) answer, failing on an error answer. */
  async call(command: Command, timeoutMs?: number): Promise<Message> {
    const id = this.send(command);
    const answer = await this.next((m) => m.id === id, timeoutMs);
    if (typeof answer.error === 'string') throw new Error(`The database process failed: ${answer.error}`);
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const code = await Promise.race([this.exited, sleep(20_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') this.child.kill('SIGKILL');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return settled;
}

function freshDir(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-shared-')), 'pglite');
}

async function auditCount(db: DatabaseHandle['db'], actor?: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(auditLog).where(actor ? eq(auditLog.actor, actor) : undefined);
  return row!.n;
}

describe('the embedded database shared by processes', () => {
  const dirs: string[] = [];
  const processes: DbProcess[] = [];
  let dir: string;
  let owner: Awaited<ReturnType<typeof DbProcess.start>>;
  let handle: DatabaseHandle;

  const track = <T extends DbProcess>(p: T): T => (processes.push(p), p);
  const newDir = (name = 'pglite') => {
    const made = path.join(path.dirname(freshDir()), name);
    dirs.push(path.dirname(made));
    return made;
  };

  beforeAll(async () => {
    dir = newDir();
    owner = track(await DbProcess.start(dir));
    handle = await openDatabase({ url: undefined, pgliteDir: dir });
  });

  afterAll(async () => {
    await handle?.close();
    for (const p of processes) await p.stop();
    for (const made of dirs) fs.rmSync(made, { recursive: true, force: true });
  });

  it('opens through the process that holds it, which serves it on a socket only the user can reach', async () => {
    expect(owner.location).toBe(dir);
    expect(handle.driver).toBe('pglite');
    expect(handle.location).toBe(`${dir} (served by pid ${owner.pid})`);

    const recordFile = path.join(dir, 'steward-endpoint.json');
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { pid: number; socket: string; state: string };
    expect(record).toMatchObject({ pid: owner.pid, state: 'ready', socket: path.join(dir, 'steward-socket', 'db.sock') });
    expect(fs.statSync(recordFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(record.socket)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(record.socket).isSocket()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'steward.lock'), 'utf8')).toBe(String(owner.pid));

    // Both sides read the same (migrated) database.
    expect(await auditCount(handle.db)).toBe(0);
    expect((await owner.call({ op: 'count' })).count).toBe(0);
  });

  it('loses no write when both processes append to the audit chain at once', async () => {
    const perSide = 80;
    const ownerDone = owner.call({ op: 'append', actor: 'owner', n: perSide });
    // Two writers in this process too, on two pooled connections.
    const appendAs = async (actor: string, n: number) => {
      for (let i = 0; i < n; i++) await appendAudit(handle.db, { actor, action: 'test.shared', subject: `${actor}:${i}` });
    };
    await Promise.all([ownerDone, appendAs('client-a', perSide / 2), appendAs('client-b', perSide / 2)]);

    expect(await auditCount(handle.db, 'owner')).toBe(perSide);
    expect(await auditCount(handle.db, 'client-a')).toBe(perSide / 2);
    expect(await auditCount(handle.db, 'client-b')).toBe(perSide / 2);
    const here = await verifyAuditChain(handle.db);
    expect(here).toMatchObject({ ok: true, entries: 2 * perSide, head: { seq: 2 * perSide } });
    expect((await owner.call({ op: 'verify' })).verification).toEqual(here);

    // The writes really were concurrent: each side's entries sit between the other's.
    const rows = await handle.db.select({ seq: auditLog.seq, actor: auditLog.actor }).from(auditLog);
    const seqs = (mine: boolean) => rows.filter((r) => (r.actor === 'owner') === mine).map((r) => r.seq);
    expect(Math.min(...seqs(false))).toBeLessThan(Math.max(...seqs(true)));
    expect(Math.min(...seqs(true))).toBeLessThan(Math.max(...seqs(false)));
  });

  it("keeps the holder's transaction whole: this process waits for it and sees it only once committed", async () => {
    const before = await auditCount(handle.db);
    const hold = owner.send({ op: 'hold', actor: 'owner', subject: 'held:1' });
    await owner.next((m) => m.id === hold && m.holding === true);

    const read = auditCount(handle.db);
    const write = appendAudit(handle.db, { actor: 'client', action: 'test.after-held', subject: 'after:1' });
    expect(await settlesWithin(Promise.race([read, write]), 500)).toBe(false);

    await owner.call({ op: 'release', hold, commit: true });
    const released = await owner.next((m) => m.id === hold && m.released !== undefined);
    expect(released.released).toBe('committed');
    // Whichever of the two waiting transactions went first, the read saw committed states only.
    expect([before + 1, before + 2]).toContain(await read);
    // The write waited for the held transaction's advisory lock and chained after its entry.
    const written = await write;
    const [heldEntry] = await handle.db.select().from(auditLog).where(eq(auditLog.subject, 'held:1'));
    expect(written.seq).toBe(heldEntry!.seq + 1);
    expect(written.prevHash).toBe(heldEntry!.hash);
  });

  it("keeps this process's transaction whole: the holder waits for it and never sees it rolled back", async () => {
    const before = await auditCount(handle.db);
    let release!: (commit: boolean) => void;
    const gate = new Promise<boolean>((resolve) => (release = resolve));
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const transaction = handle.db
      .transaction(async (tx) => {
        await appendAuditTx(tx, { actor: 'client', action: 'test.held', subject: 'held:2' });
        expect(await auditCount(tx as unknown as DatabaseHandle['db'])).toBe(before + 1);
        inside();
        if (!(await gate)) tx.rollback();
      })
      .catch((error: Error) => error.message);
    await entered;

    const readId = owner.send({ op: 'count' });
    const writeId = owner.send({ op: 'append', actor: 'owner-late', n: 1 });
    const read = owner.next((m) => m.id === readId);
    expect(await settlesWithin(read, 500)).toBe(false);

    const rolledBackAt = Date.now();
    release(false);
    expect(await transaction).toMatch(/rollback/i);
    const seen = await read;
    expect(seen.count).toBe(before);
    expect(seen.at as number).toBeGreaterThanOrEqual(rolledBackAt);
    await owner.next((m) => m.id === writeId);
    expect(await handle.db.select().from(auditLog).where(eq(auditLog.subject, 'held:2'))).toEqual([]);
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, entries: before + 1 });
  });

  it('rolls back what a client leaves open when it goes away, and the holder carries on', async () => {
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'steward-endpoint.json'), 'utf8')) as { socket: string };
    await handle.db.execute(sql`create table if not exists shared_probe (n int)`);
    const client = postgres({ path: record.socket, max: 1, prepare: false, onnotice: () => {} });
    const reserved = await client.reserve();
    await reserved`begin`;
    await reserved`insert into shared_probe values (1)`;
    await reserved`select pg_advisory_xact_lock(7)`;
    // While it holds the session, the holder waits.
    const read = owner.call({ op: 'count' });
    expect(await settlesWithin(read, 300)).toBe(false);
    await client.end({ timeout: 0 });
    await read;
    const [row] = await queryRows<{ n: number }>(handle.db, sql`select count(*)::int as n from shared_probe`);
    expect(row!.n).toBe(0);
    // The advisory lock went with the transaction: the audit chain's writers are not stuck.
    await owner.call({ op: 'append', actor: 'owner-after', n: 2 });
    await appendAudit(handle.db, { actor: 'client-after', action: 'test.shared', subject: 'after:2' });
    expect((await verifyAuditChain(handle.db)).ok).toBe(true);
  });

  it('takes the database over when the holder stops, and then serves it to the others', async () => {
    const entries = await auditCount(handle.db);
    await owner.call({ op: 'close' });
    await owner.exited;
    const deadline = Date.now() + 30_000;
    while (!handle.location.endsWith('(opened by this process)')) {
      if (Date.now() > deadline) throw new Error(`The handle did not take the database over: ${handle.location}`);
      await sleep(100);
    }
    expect(fs.readFileSync(path.join(dir, 'steward.lock'), 'utf8')).toBe(String(process.pid));
    expect(await auditCount(handle.db)).toBe(entries);

    const next = track(await DbProcess.start(dir));
    expect(next.location).toBe(`${dir} (served by pid ${process.pid})`);
    await Promise.all([next.call({ op: 'append', actor: 'second', n: 20 }), appendAudit(handle.db, { actor: 'holder', action: 'test.shared', subject: 'holder:1' })]);
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, entries: entries + 21 });
    await next.call({ op: 'close' });
  });

  it('keeps the clear error when the holder does not serve the database (an older Steward)', async () => {
    const other = newDir();
    fs.mkdirSync(other, { recursive: true });
    const older = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(other, 'steward.lock'), String(older.pid));
      const error = await openDatabase({ url: undefined, pgliteDir: other }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(
        new RegExp(`^The embedded database at .* is in use by another Steward process \\(pid ${older.pid}\\)\\. Stop that process, run this command through it`),
      );
    } finally {
      older.kill('SIGKILL');
    }
  });

  it('ignores and cleans the record of a holder that died (its socket in a private temporary directory: the path was too long)', async () => {
    // Unix socket paths are limited to about 100 bytes: this directory's socket goes to a private temporary directory.
    const other = newDir(`pglite-${'x'.repeat(100)}`);
    const recordOf = () => JSON.parse(fs.readFileSync(path.join(other, 'steward-endpoint.json'), 'utf8')) as { pid: number; state: string; socket: string; socketDir: string };
    const dead = track(await DbProcess.start(other));
    const deadRecord = recordOf();
    expect(deadRecord).toMatchObject({ pid: dead.pid, state: 'ready' });
    expect(path.dirname(deadRecord.socketDir)).toBe(os.tmpdir());
    expect(fs.statSync(deadRecord.socketDir).mode & 0o777).toBe(0o700);
    dead.child.kill('SIGKILL');
    await dead.exited;
    expect(fs.existsSync(deadRecord.socket)).toBe(true);

    const mine = await openDatabase({ url: undefined, pgliteDir: other });
    let socketDir: string;
    try {
      expect(mine.location).toBe(other);
      expect(recordOf()).toMatchObject({ pid: process.pid, state: 'ready' });
      socketDir = recordOf().socketDir;
      // The dead holder's temporary directory went with its record.
      expect(fs.existsSync(deadRecord.socketDir)).toBe(false);
      expect(await auditCount(mine.db)).toBe(0);
    } finally {
      await mine.close();
    }
    expect(fs.existsSync(path.join(other, 'steward-endpoint.json'))).toBe(false);
    expect(fs.existsSync(path.join(other, 'steward.lock'))).toBe(false);
    expect(fs.existsSync(socketDir)).toBe(false);
  });
});

describe('the wire server in front of one PGlite session', () => {
  let pg: PGlite;
  let socketDir: string;

  beforeAll(async () => {
    pg = await PGlite.create();
    await pg.exec('create table items (id int primary key, label text)');
    socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-wire-'));
  });

  afterAll(async () => {
    await pg?.close();
    fs.rmSync(socketDir, { recursive: true, force: true });
  });

  it('answers every connection its own results while many pipeline queries against in-process ones', async () => {
    const server = await serveEmbeddedDatabase(pg, { socketPath: path.join(socketDir, 'many.sock') });
    const client = postgres({ path: server.socketPath, max: 4, prepare: false, onnotice: () => {} });
    try {
      const remote = Array.from({ length: 200 }, async (_, i) => {
        const [row] = await client`select ${i}::int as i, ${`text ${i}`}::text as t, repeat('x', ${i % 7}) as pad`;
        return row!.i === i && row!.t === `text ${i}` && row!.pad === 'x'.repeat(i % 7);
      });
      const local = Array.from({ length: 50 }, async (_, i) => (await pg.query<{ j: number }>('select $1::int * 2 as j', [i])).rows[0]!.j === i * 2);
      expect((await Promise.all([...remote, ...local])).every(Boolean)).toBe(true);
      // An error in one exchange leaves the others, and the session, as they were.
      const [failed, fine] = await Promise.allSettled([client`select 1/0`, client`select 2 as two`]);
      expect(failed.status).toBe('rejected');
      expect(fine).toMatchObject({ status: 'fulfilled', value: [{ two: 2 }] });
      expect(pg.isInTransaction()).toBe(false);
    } finally {
      await client.end({ timeout: 1 });
      await server.close();
    }
  });

  it('rolls back and closes a connection that holds the session idle in a transaction', async () => {
    const server = await serveEmbeddedDatabase(pg, { socketPath: path.join(socketDir, 'idle.sock'), idleInTransactionMs: 300 });
    const client = postgres({ path: server.socketPath, max: 1, prepare: false, onnotice: () => {} });
    try {
      const reserved = await client.reserve();
      await reserved`begin`;
      await reserved`insert into items values (1, 'never committed')`;
      // The owner's own query waits for the session, then gets it when the idle client is cut off.
      const began = Date.now();
      const rows = await pg.query<{ n: number }>('select count(*)::int as n from items');
      expect(Date.now() - began).toBeGreaterThanOrEqual(250);
      expect(rows.rows[0]!.n).toBe(0);
      await expect(reserved`commit`).rejects.toThrow();
      expect(server.connections()).toBe(0);
    } finally {
      await client.end({ timeout: 1 });
      await server.close();
    }
  });
});
