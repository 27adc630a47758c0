/**
 * Another Steward process on the embedded database, for test/contracts/shared-embedded-db.test.ts:
 * opens the database at argv[2] with `openDatabase` (so it holds it when it comes first) and runs
 * the commands it reads from stdin, one JSON object a line, answering each on stdout. Started with
 * `node --import tsx`.
 */
import readline from 'node:readline';
import { count, eq } from 'drizzle-orm';
import { openDatabase } from '../../src/db/client.js';
import { auditLog } from '../../src/db/schema.js';
import { appendAudit, appendAuditTx, verifyAuditChain } from '../../src/audit/index.js';

export type SharedDbCommand =
  | { id: number; op: 'append'; actor: string; n: number }
  | { id: number; op: 'count'; actor?: string }
  | { id: number; op: 'hold'; actor: string; subject: string }
  | { id: number; op: 'release'; hold: number; commit: boolean }
  | { id: number; op: 'verify' }
  | { id: number; op: 'close' };

const handle = await openDatabase({ url: undefined, pgliteDir: process.argv[2]! });
const answer = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`);
answer({ ready: true, pid: process.pid, location: handle.location });

const held = new Map<number, (commit: boolean) => void>();
const rollback = new Error('rolled back on purpose');

async function run(command: SharedDbCommand): Promise<void> {
  const db = handle.db;
  switch (command.op) {
    case 'append':
      for (let i = 0; i < command.n; i++) await appendAudit(db, { actor: command.actor, action: 'test.shared', subject: `${command.actor}:${i}` });
      answer({ id: command.id, at: Date.now() });
      return;
    case 'count': {
      const [row] = await db.select({ n: count() }).from(auditLog).where(command.actor ? eq(auditLog.actor, command.actor) : undefined);
      answer({ id: command.id, count: row!.n, at: Date.now() });
      return;
    }
    case 'hold': {
      // A transaction kept open until `release`: it appends one entry, then waits.
      const outcome = db
        .transaction(async (tx) => {
          await appendAuditTx(tx, { actor: command.actor, action: 'test.held', subject: command.subject });
          answer({ id: command.id, holding: true, at: Date.now() });
          const commit = await new Promise<boolean>((resolve) => held.set(command.id, resolve));
          if (!commit) throw rollback;
        })
        .then(
          () => 'committed',
          (error: unknown) => (error === rollback ? 'rolled back' : `failed: ${(error as Error).message}`),
        );
      void outcome.then((result) => answer({ id: command.id, released: result, at: Date.now() }));
      return;
    }
    case 'release':
      held.get(command.hold)?.(command.commit);
      held.delete(command.hold);
      answer({ id: command.id, at: Date.now() });
      return;
    case 'verify':
      answer({ id: command.id, verification: await verifyAuditChain(db) });
      return;
    case 'close':
      await handle.close();
      answer({ id: command.id, closed: true });
      process.exit(0);
  }
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const command = JSON.parse(line) as SharedDbCommand;
  run(command).catch((error: unknown) => answer({ id: command.id, error: (error as Error).message }));
}
await handle.close();
