/**
 * Database faults are retryable faults. This module knows which errors mean "the PostgreSQL server
 * did not answer" (whichever layer wrapped them), keeps the process's view of an outage (reported
 * by whoever meets a fault, ended by a prober that finds every server answering again), and
 * contains postgres.js 3.x's crash on a closed connection.
 *
 * The crash (postgres.js 3.4.9 and 3.4.10, porsager/postgres#1066, #1154, #1208): when a
 * connection closes while a transaction is open, `sql.begin` rejects but the transaction callback
 * keeps running; its next query (or the driver's own ROLLBACK) goes straight to the closed
 * connection, whose small writes are deferred with `setImmediate(nextWrite)`, and `nextWrite`
 * calls `socket.write` on the socket `closed()` has set to null. The TypeError is thrown from the
 * Immediate, so no caller can catch it and the process dies. The connection is left with its
 * deferred-write state set, so it cannot reconnect cleanly either: the connection pools are
 * replaced (`PostgresTarget.recycle`) when a fault is reported and again once the server answers.
 */
import type { Logger } from '../platform/logger.js';

/** A PostgreSQL server this process uses (one per open handle, see client.ts). */
export interface PostgresTarget {
  /** The server, for messages (a URL without its password). */
  where: string;
  /** Resolves when a fresh connection runs a query; rejects when the server does not answer. */
  probe(): Promise<void>;
  /** Replaces the connection pool with a fresh one; the old pool ends (its running queries get a short grace). */
  recycle(reason: string): void;
  logger: Pick<Logger, 'warn' | 'info'>;
}

/** postgres.js's own connection errors (`write CONNECTION_CLOSED host:port`). */
const DRIVER_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
/** Node's socket errors: a database fault when the driver delivered them to a query. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception),
 * 57P01 admin_shutdown (a stop), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
 * shutting down) and 53300 too_many_connections.
 */
function unavailableSqlState(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

const NULL_SOCKET_WRITE = "Cannot read properties of null (reading 'write')";
const POSTGRES_CONNECTION_FRAME = /[\\/]postgres[\\/](?:cjs[\\/])?src[\\/]connection\.js:\d+:\d+\)?$/;

/** The postgres.js write on a closed connection (see the top of this file), by its exact message and frame. */
export function isPostgresClosedSocketWrite(error: unknown): boolean {
  if (!(error instanceof TypeError) || error.message !== NULL_SOCKET_WRITE) return false;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  const top = frames[0] ?? '';
  return /^\s+at (?:Immediate\.)?nextWrite \(/.test(top) && POSTGRES_CONNECTION_FRAME.test(top.trim());
}

/**
 * When `error` (or an error it wraps: drizzle's `cause`, an AggregateError's `errors`) means the
 * database did not answer, a short description of the fault ("ECONNREFUSED: connect ECONNREFUSED
 * 127.0.0.1:5432"); otherwise undefined. Query text and parameters are left out. A socket error
 * counts only when a query carried it (postgres.js and drizzle attach `query` to the errors they
 * reject queries with), so a refused HTTP connection elsewhere is not taken for the database.
 */
export function databaseFaultOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number, fromQuery: boolean): string | undefined => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 8) return undefined;
    seen.add(e);
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    const text = typeof message === 'string' ? message.slice(0, 300) : '';
    const query = fromQuery || 'query' in e;
    if (typeof code === 'string') {
      const driver = DRIVER_CODES.has(code) && text.startsWith(`write ${code}`);
      const socket = query && SOCKET_CODES.has(code);
      const server = name === 'PostgresError' && unavailableSqlState(code);
      if (driver || socket || server) return `${code}: ${text}`;
    }
    if (isPostgresClosedSocketWrite(e)) return `CONNECTION_CLOSED: ${text}`;
    const nested = [(e as { cause?: unknown }).cause, ...(Array.isArray((e as { errors?: unknown }).errors) ? (e as { errors: unknown[] }).errors : [])];
    for (const inner of nested) {
      const found = visit(inner, depth + 1, query);
      if (found) return found;
    }
    return undefined;
  };
  return visit(error, 0, false);
}

export function isDatabaseFault(error: unknown): boolean {
  return databaseFaultOf(error) !== undefined;
}

const targets = new Set<PostgresTarget>();
const PROBE_EVERY_MS = 1_000;

interface Outage {
  since: number;
  failedProbes: number;
  recovered: Promise<void>;
  resolve: () => void;
  timer?: NodeJS.Timeout;
}
let outage: Outage | undefined;

/** Adds a server to watch; the returned function removes it (when its handle closes). */
export function registerPostgresTarget(target: PostgresTarget): () => void {
  targets.add(target);
  installClosedSocketGuard();
  return () => {
    targets.delete(target);
    if (targets.size > 0) return;
    uninstallClosedSocketGuard();
    if (outage) endOutage();
  };
}

/** Whether a database fault was reported and the servers have not all answered since. */
export function databaseOutage(): { since: number } | undefined {
  return outage ? { since: outage.since } : undefined;
}

/**
 * Someone met a database fault (an activity's query failed, the guard caught the crash). The
 * first report starts an outage: the pools are replaced, so a transaction cut off by the fault can
 * never carry on in a new session, and a prober waits for every server to answer again.
 */
export function reportDatabaseFault(error: unknown): void {
  if (outage || targets.size === 0) return;
  const fault = databaseFaultOf(error) ?? (error instanceof Error ? error.message : String(error));
  let resolve!: () => void;
  const recovered = new Promise<void>((r) => (resolve = r));
  outage = { since: Date.now(), failedProbes: 0, recovered, resolve };
  for (const target of targets) {
    target.logger.warn(`PostgreSQL at ${target.where} did not answer (${fault}). Database work fails and is retried until it answers again.`);
    target.recycle('a database fault');
  }
  scheduleProbe(0);
}

function scheduleProbe(delayMs: number): void {
  if (!outage) return;
  outage.timer = setTimeout(() => void probeAll(), delayMs);
  // The prober never keeps a process alive on its own.
  outage.timer.unref();
}

async function probeAll(): Promise<void> {
  const current = outage;
  if (!current) return;
  try {
    await Promise.all([...targets].map((target) => target.probe()));
  } catch {
    current.failedProbes++;
    if (outage === current) scheduleProbe(PROBE_EVERY_MS);
    return;
  }
  if (outage !== current) return;
  const seconds = ((Date.now() - current.since) / 1000).toFixed(1);
  for (const target of targets) {
    // Connections made while the server was down carry the driver's reconnect back-off: start afresh.
    if (current.failedProbes > 0) target.recycle('the database answering again');
    target.logger.info(`PostgreSQL at ${target.where} answers again (${seconds} s after the fault).`);
  }
  endOutage();
}

function endOutage(): void {
  const ended = outage;
  if (!ended) return;
  outage = undefined;
  if (ended.timer) clearTimeout(ended.timer);
  ended.resolve();
}

/**
 * Waits until no outage is known (true), `timeoutMs` passes (false) or `signal` aborts (rejects
 * with its reason); `tick` is called every second meanwhile (to heartbeat).
 */
export async function waitForDatabase(options: { timeoutMs: number; signal?: AbortSignal; tick?: () => void }): Promise<boolean> {
  const current = outage;
  if (!current) return true;
  options.signal?.throwIfAborted();
  return new Promise<boolean>((resolve, reject) => {
    const deadline = setTimeout(() => finish(() => resolve(false)), Math.max(0, options.timeoutMs));
    const ticker = options.tick ? setInterval(options.tick, 1_000) : undefined;
    const onAbort = () => finish(() => reject(options.signal?.reason));
    const finish = (settle: () => void) => {
      clearTimeout(deadline);
      if (ticker) clearInterval(ticker);
      options.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void current.recovered.then(() => finish(() => resolve(true)));
  });
}

let guardInstalled = false;

function installClosedSocketGuard(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  process.on('uncaughtException', onUncaughtException);
}

function uninstallClosedSocketGuard(): void {
  if (!guardInstalled) return;
  guardInstalled = false;
  process.removeListener('uncaughtException', onUncaughtException);
}

/**
 * Only postgres.js's write on a closed connection is contained: the query it belonged to has
 * already failed with CONNECTION_CLOSED (or will, when its connection is torn down), so the
 * process carries on and the fault is reported. Any other uncaught exception is left to the other
 * listeners, or, when there are none, crashes the process exactly as it would without this one.
 */
function onUncaughtException(error: unknown, origin: NodeJS.UncaughtExceptionOrigin): void {
  if (origin === 'uncaughtException' && isPostgresClosedSocketWrite(error)) {
    const [target] = targets;
    target?.logger.warn('postgres.js wrote to a connection that had closed (porsager/postgres#1154); contained, the connection pool is replaced.');
    reportDatabaseFault(Object.assign(new Error('write CONNECTION_CLOSED (postgres.js wrote to a closed connection)'), { code: 'CONNECTION_CLOSED' }));
    return;
  }
  if (process.listenerCount('uncaughtException') > 1) return;
  uninstallClosedSocketGuard();
  process.nextTick(() => {
    throw error;
  });
}
