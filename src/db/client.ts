/**
 * The one place that knows which database driver is in use: PGlite (embedded, file-backed) by
 * default, postgres.js against a real PostgreSQL when DATABASE_URL is set. Everything else sees a
 * `Database`, the driver-neutral drizzle type, and runs the same queries on both. The embedded
 * database is opened by one process and reached by the others through it (see `openEmbedded`).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { ConfigError, UnavailableError } from '../errors.js';
import { yieldBetweenQueries } from '../platform/event-loop.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { registerPostgresTarget } from './availability.js';
import * as schema from './schema.js';
import { announceOwner, readEndpoint } from './shared-endpoint.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** The `tx` handed to a `db.transaction` callback. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  driver: 'pglite' | 'postgres';
  /** Where the data lives, for messages: a directory (with the process serving it, when another does) or a URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when undefined, the embedded PGlite database at `pgliteDir` is used. */
  url: string | undefined;
  pgliteDir: string;
  /**
   * Apply pending migrations before returning (default true). On the embedded database only the
   * process holding it migrates; another one checks that the holder's schema is this version's.
   */
  migrate?: boolean;
  /** Where a PostgreSQL outage and recovery (or an embedded database changing hands) are reported (default: stderr). */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

/**
 * drizzle/ at the package's root (drizzle-kit's folder, `npm run db:generate` writes it): two levels
 * up from src/db in a checkout, and from dist/src/db in a build, which copies it to dist/drizzle.
 */
export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.logger ?? createLogger('info');
  if (!options.url) return openEmbedded(options, logger);
  const handle = await openPostgres(options.url, logger);
  if (options.migrate !== false) {
    try {
      await applyMigrations(handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
  return handle;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** Pool settings: connect_timeout keeps an unreachable server from hanging a query; notices are chatter. */
const POOL_OPTIONS = { connect_timeout: 5, max: 10, onnotice: () => {} };
/** How long a replaced pool's running queries may take before its connections are destroyed. */
const RETIRED_POOL_GRACE_S = 10;

/**
 * PostgreSQL through postgres.js. The handle's `db` stays the same object for the handle's life,
 * but the connection pool under it can be replaced (src/db/availability.ts): after a fault the old
 * pool ends and queries go to a fresh one, so connections the driver left broken are never reused.
 */
async function openPostgres(url: string, logger: Pick<Logger, 'warn' | 'info'>): Promise<DatabaseHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const where = redactUrl(url);
  type Client = ReturnType<typeof postgres>;
  const connect = (): { client: Client; db: Database } => {
    const client = postgres(url, POOL_OPTIONS);
    return { client, db: drizzle(client, { schema }) as unknown as Database };
  };
  let current: { client: Client; db: Database };
  try {
    current = connect();
  } catch (error) {
    throw new ConfigError(`DATABASE_URL is not a valid PostgreSQL URL (${where}): ${(error as Error).message}`);
  }
  try {
    await current.client`select 1`;
  } catch (error) {
    await current.client.end({ timeout: 1 }).catch(() => {});
    const reason = (error as Error).message;
    throw new UnavailableError(
      `Cannot connect to PostgreSQL at ${where}: ${reason}. Check that the server is running and that the ` +
        `user, password and database in DATABASE_URL are right, or unset DATABASE_URL to use the embedded PGlite database.`,
      { url: where },
    );
  }
  const retiring = new Set<Promise<unknown>>();
  let closed = false;
  const unregister = registerPostgresTarget({
    where,
    logger,
    probe: async () => {
      const probe = postgres(url, { ...POOL_OPTIONS, max: 1, connect_timeout: 2 });
      try {
        await probe`select 1`;
      } finally {
        await probe.end({ timeout: 0 }).catch(() => {});
      }
    },
    recycle: () => {
      if (closed) return;
      const old = current;
      current = connect();
      const ending = old.client.end({ timeout: RETIRED_POOL_GRACE_S }).catch(() => {});
      retiring.add(ending);
      void ending.finally(() => retiring.delete(ending));
    },
  });
  const db = following(current.db, () => current.db);
  return {
    db,
    driver: 'postgres',
    location: where,
    close: async () => {
      closed = true;
      unregister();
      await Promise.all([current.client.end({ timeout: 5 }), ...retiring]);
    },
  };
}

/**
 * The embedded database. PGlite is one session inside one process: the process that takes the lock
 * (the owner) opens it, migrates it and serves it on a private Unix socket (shared-endpoint.ts,
 * shared-server.ts); any other Steward process finds the owner there and works through it, one
 * whole transaction at a time. Callers get a `Database` either way.
 */
async function openEmbedded(options: DatabaseOptions, logger: Pick<Logger, 'warn' | 'info'>): Promise<DatabaseHandle> {
  const dir = options.pgliteDir;
  fs.mkdirSync(dir, { recursive: true });
  const first = await resolveEmbedded(dir, options, logger, NO_ENDPOINT_GRACE_MS);
  if (first.kind === 'owner') return { db: first.db, driver: 'pglite', location: dir, close: () => first.close() };
  return sharedHandle(dir, first, options, logger);
}

/** How long an opening owner may take (initdb, migrations) before it serves the database. */
const OWNER_STARTING_WAIT_MS = 120_000;
/** A lock with no endpoint record for this long belongs to a Steward that does not share (the two are written together). */
const NO_ENDPOINT_GRACE_MS = 1_000;
/** After losing its owner, how long a process waits for the old owner to let go of the lock. */
const HANDOVER_GRACE_MS = 30_000;

/** The database as one process holds it: opened here (owner) or reached through the owner (remote). */
interface Backend {
  kind: 'owner' | 'remote';
  db: Database;
  /** The process holding the lock. */
  ownerPid: number;
  /** Remote only: settles when the owner stops serving (it closed the database or exited). */
  lost?: Promise<void>;
  close(): Promise<void>;
}

/**
 * Takes the lock and opens the database, or finds the owner and connects through it, waiting while
 * the owner is starting or closing. `graceMs`: how long a live owner without an endpoint record is
 * waited for before it is taken for an older Steward that does not share.
 */
async function resolveEmbedded(dir: string, options: DatabaseOptions, logger: Pick<Logger, 'warn' | 'info'>, graceMs: number): Promise<Backend> {
  const deadline = Date.now() + OWNER_STARTING_WAIT_MS;
  let withoutRecordSince: number | undefined;
  for (;;) {
    const claim = claimLock(dir);
    if ('release' in claim) return openOwner(dir, claim.release, options, logger);
    const record = readEndpoint(dir);
    if (!record || record.pid !== claim.owner) {
      withoutRecordSince ??= Date.now();
      if (Date.now() - withoutRecordSince >= graceMs) throw inUseError(dir, claim.owner);
      await sleep(50);
      continue;
    }
    withoutRecordSince = undefined;
    if (record.state !== 'ready') {
      if (Date.now() > deadline) {
        throw new UnavailableError(
          `The embedded database at ${dir} is held by another Steward process (pid ${claim.owner}) that has been ${record.state === 'starting' ? 'opening' : 'closing'} it for ${Math.round(OWNER_STARTING_WAIT_MS / 1000)} s. Try again when it is up (or stopped).`,
          { pid: claim.owner, dir },
        );
      }
      await sleep(100);
      continue;
    }
    try {
      return await openRemote(dir, claim.owner, record.socket!, options);
    } catch (error) {
      // The owner went away between reading its record and connecting: the lock is free again.
      const now = readEndpoint(dir);
      if (isAlive(claim.owner) && now?.pid === claim.owner && now.state === 'ready') throw error;
      await sleep(50);
    }
  }
}

async function openOwner(dir: string, releaseLock: () => void, options: DatabaseOptions, logger: Pick<Logger, 'warn' | 'info'>): Promise<Backend> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const endpoint = announceOwner(dir);
  let client: InstanceType<typeof PGlite> | undefined;
  const closeAll = async () => {
    await endpoint.stop().catch(() => {});
    try {
      await client?.close();
    } finally {
      endpoint.remove();
      releaseLock();
    }
  };
  try {
    client = await PGlite.create(dir);
    // PGlite runs on this thread: let timers, heartbeats and workflow tasks in between its statements.
    yieldBetweenQueries(client);
    const db = drizzle(client, { schema }) as unknown as Database;
    if (options.migrate !== false) {
      const { migrate } = await import('drizzle-orm/pglite/migrator');
      await migrate(db as never, { migrationsFolder });
    }
    try {
      await endpoint.serve(client, { onError: (error) => logger.warn(`Serving the embedded database to another process failed: ${error.message}`) });
    } catch (error) {
      // Unshared, this process still works; others get the error an older Steward gives them.
      logger.warn(`The embedded database at ${dir} cannot be shared with other Steward processes: ${(error as Error).message}`);
      await endpoint.stop().catch(() => {});
      endpoint.remove();
    }
    return { kind: 'owner', db, ownerPid: process.pid, close: closeAll };
  } catch (error) {
    await closeAll().catch(() => {});
    throw error;
  }
}

/**
 * The embedded database through the process that holds it: postgres.js on its Unix socket, with
 * unnamed statements only (every connection shares the owner's one PGlite session). Migrations are
 * the owner's; an owner running an older Steward, whose schema lacks this version's migrations,
 * is refused.
 */
async function openRemote(dir: string, ownerPid: number, socket: string, options: DatabaseOptions): Promise<Backend> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  // connect_timeout covers the wait for the session, which the owner may hold for a long transaction.
  const client = postgres({ path: socket, max: 4, prepare: false, connect_timeout: 60, onnotice: () => {}, username: 'steward', database: 'steward' });
  const db = drizzle(client, { schema }) as unknown as Database;
  try {
    await client`select 1`;
    if (options.migrate !== false) await checkOwnerSchema(dir, ownerPid, async () => (await client`select max(created_at)::text as at from drizzle.__drizzle_migrations`)[0]?.at);
  } catch (error) {
    await client.end({ timeout: 0 }).catch(() => {});
    if (error instanceof ConfigError) throw error;
    throw new UnavailableError(`Cannot reach the embedded database at ${dir} through the Steward process holding it (pid ${ownerPid}, ${socket}): ${(error as Error).message}`, {
      pid: ownerPid,
      dir,
    });
  }
  const watcher = watchOwner(socket);
  return {
    kind: 'remote',
    db,
    ownerPid,
    lost: watcher.lost,
    close: async () => {
      watcher.stop();
      await client.end({ timeout: 5 });
    },
  };
}

/** Refuses an owner whose database lacks migrations this version has (it runs an older Steward). */
async function checkOwnerSchema(dir: string, ownerPid: number, latestApplied: () => Promise<string | null | undefined>): Promise<void> {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number }> };
  const latest = Math.max(0, ...journal.entries.map((entry) => entry.when));
  const applied = Number((await latestApplied().catch(() => undefined)) ?? 0);
  if (applied < latest) {
    throw new ConfigError(
      `The embedded database at ${dir} is held by another Steward process (pid ${ownerPid}) whose database lacks this version's migrations. ` +
        'Stop that process and start it again with this version of Steward.',
      { pid: ownerPid, dir },
    );
  }
}

/**
 * A connection that never sends anything, only to learn when the owner stops serving: the owner
 * closes every connection when it closes the database, and the system closes them when it exits.
 */
function watchOwner(socket: string): { lost: Promise<void>; stop(): void } {
  let stopped = false;
  const connection = net.createConnection(socket);
  connection.unref();
  const lost = new Promise<void>((resolve) => {
    connection.on('error', () => {});
    connection.on('close', () => {
      if (!stopped) resolve();
    });
  });
  return {
    lost,
    stop: () => {
      stopped = true;
      connection.destroy();
    },
  };
}

/**
 * A handle on the database through its owner that outlives the owner: when the owner stops
 * serving (or a database fault is reported, src/db/availability.ts), this process resolves the
 * database again, opening it itself when the lock is free or reaching the new owner. Queries still
 * running at that moment fail (a transaction cut off never commits); later ones go to the new backend.
 */
function sharedHandle(dir: string, first: Backend, options: DatabaseOptions, logger: Pick<Logger, 'warn' | 'info'>): DatabaseHandle {
  let current = first;
  let switching: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  const where = () => `${dir} (${current.kind === 'owner' ? 'opened by this process' : `served by pid ${current.ownerPid}`})`;

  const resolveAgain = (reason: string): Promise<void> =>
    (switching ??= (async () => {
      const old = current;
      await old.close().catch(() => {});
      try {
        const next = await resolveEmbedded(dir, { ...options, migrate: true }, logger, HANDOVER_GRACE_MS);
        if (closed) {
          await next.close().catch(() => {});
          return;
        }
        current = next;
        watch(next);
        logger.info(
          `The embedded database at ${dir}: ${reason}; ${next.kind === 'owner' ? 'this process holds it now' : `the Steward process with pid ${next.ownerPid} serves it now`}.`,
        );
      } catch (error) {
        logger.warn(`The embedded database at ${dir} could not be reached again (${(error as Error).message}); retrying in a second.`);
        if (!closed) retry = setTimeout(() => void resolveAgain(reason), 1_000);
        retry?.unref();
      }
    })().finally(() => (switching = undefined)));

  const watch = (backend: Backend) => {
    void backend.lost?.then(() => {
      if (!closed && current === backend) void resolveAgain(`the Steward process serving it (pid ${backend.ownerPid}) stopped`);
    });
  };
  watch(first);

  // Registered like a PostgreSQL server: postgres.js's crash on a closed connection is contained, and
  // a reported fault makes this handle connect afresh (or take the database over).
  const unregister = registerPostgresTarget({
    where: `the embedded database at ${dir}`,
    logger,
    probe: async () => {
      await switching;
      await current.db.execute(sql`select 1`);
    },
    recycle: (reason) => {
      if (!closed && current.kind === 'remote') void resolveAgain(`connecting afresh after ${reason}`);
    },
  });

  const db = following(first.db, () => current.db);
  return {
    db,
    driver: 'pglite',
    get location() {
      return where();
    },
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      await switching;
      unregister();
      await current.close();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function inUseError(dir: string, owner: number): ConfigError {
  return new ConfigError(
    `The embedded database at ${dir} is in use by another Steward process (pid ${owner}). Stop that ` +
      `process, run this command through it (e.g. its HTTP API), or set DATABASE_URL to use PostgreSQL, ` +
      `which many processes can share.`,
    { pid: owner, dir },
  );
}

/**
 * PGlite is an embedded database: two processes opening the same directory would corrupt it. A
 * lock file with the owner's pid decides which process opens it (the others go through that one);
 * a stale lock (its process is gone) is taken over.
 */
function claimLock(dir: string): { release: () => void } | { owner: number } {
  const lockPath = path.join(dir, 'steward.lock');
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return { release: () => fs.rmSync(lockPath, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const content = readLock(lockPath);
    if (content === undefined) continue;
    const owner = Number(content.trim());
    if (owner === process.pid) {
      throw new ConfigError(`The embedded database at ${dir} is already open in this process; share that handle instead of opening it twice.`, { dir });
    }
    if (owner && isAlive(owner)) return { owner };
    // An empty lock may be one being written this instant: taken for stale only when it stays empty.
    if (!owner && attempt < 20) {
      sleepSync(5);
      continue;
    }
    removeStaleLock(lockPath, content);
  }
  throw new ConfigError(`Could not lock the embedded database at ${dir}.`);
}

function readLock(lockPath: string): string | undefined {
  try {
    return fs.readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes a stale lock, unless it changed since it was read. Several processes may find the same
 * stale lock at once (the clients of an owner that died): a takeover file lets one at a time check
 * and remove it, so none removes the lock another has just taken.
 */
function removeStaleLock(lockPath: string, stale: string): void {
  const takeover = `${lockPath}.takeover`;
  try {
    fs.writeFileSync(takeover, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process is taking over; a takeover file older than a few seconds was left by a crash.
    try {
      if (Date.now() - fs.statSync(takeover).mtimeMs > 5_000) fs.rmSync(takeover, { force: true });
    } catch {
      // Gone already.
    }
    sleepSync(10);
    return;
  }
  try {
    if (readLock(lockPath) === stale) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(takeover, { force: true });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function applyMigrations(handle: DatabaseHandle): Promise<void> {
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  await migrate(handle.db as never, { migrationsFolder });
}

/**
 * Rows of a raw SQL query, whichever driver ran it (postgres.js returns an array, PGlite an object
 * with `rows`). For queries the query builder cannot express, such as window functions.
 */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * A stable `handle.db` over a connection that may be swapped (a new pool after an outage, a new
 * owner of the embedded database): every property is read from `current()`'s drizzle instance,
 * while `instanceof` sees the first one's class.
 */
function following(first: Database, current: () => Database): Database {
  return new Proxy(first, {
    get: (_target, property) => Reflect.get(current(), property),
    set: (_target, property, value) => Reflect.set(current(), property, value),
    has: (_target, property) => Reflect.has(current(), property),
  });
}
