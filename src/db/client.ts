/**
 * The one place that knows which database driver is in use: PGlite (embedded, file-backed) by
 * default, postgres.js against a real PostgreSQL when DATABASE_URL is set. Everything else sees a
 * `Database`, the driver-neutral drizzle type, and runs the same queries on both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { ConfigError, UnavailableError } from '../errors.js';
import { yieldBetweenQueries } from '../platform/event-loop.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { registerPostgresTarget } from './availability.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** The `tx` handed to a `db.transaction` callback. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  driver: 'pglite' | 'postgres';
  /** Where the data lives, for messages: a directory or a URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when undefined, the embedded PGlite database at `pgliteDir` is used. */
  url: string | undefined;
  pgliteDir: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Where a PostgreSQL outage and recovery are reported (default: stderr). */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const handle = options.url ? await openPostgres(options.url, options.logger ?? createLogger('info')) : await openPglite(options.pgliteDir);
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
/** How long a replaced pool's in-flight queries may take before its connections are destroyed. */
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
  // Every property is read from the current pool's drizzle instance; `instanceof` sees the first's class.
  const db = new Proxy(current.db, {
    get: (_target, property) => Reflect.get(current.db, property),
    set: (_target, property, value) => Reflect.set(current.db, property, value),
    has: (_target, property) => Reflect.has(current.db, property),
  });
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

async function openPglite(dir: string): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  fs.mkdirSync(dir, { recursive: true });
  const releaseLock = acquireLock(dir);
  try {
    const client = await PGlite.create(dir);
    // PGlite runs on this thread: let timers, heartbeats and workflow tasks in between its statements.
    yieldBetweenQueries(client);
    const db = drizzle(client, { schema }) as unknown as Database;
    return {
      db,
      driver: 'pglite',
      location: dir,
      close: async () => {
        await client.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * PGlite is an embedded database: two processes opening the same directory would corrupt it. A
 * lock file with the owner's pid turns that into a clear error; a stale lock (its process is gone)
 * is taken over.
 */
function acquireLock(dir: string): () => void {
  const lockPath = path.join(dir, 'steward.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (owner === process.pid) {
        throw new ConfigError(`The embedded database at ${dir} is already open in this process; share that handle instead of opening it twice.`, { dir });
      }
      if (owner && isAlive(owner)) {
        throw new ConfigError(
          `The embedded database at ${dir} is in use by another Steward process (pid ${owner}). Stop that ` +
            `process, run this command through it (e.g. its HTTP API), or set DATABASE_URL to use PostgreSQL, ` +
            `which many processes can share.`,
          { pid: owner, dir },
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new ConfigError(`Could not lock the embedded database at ${dir}.`);
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
  if (handle.driver === 'pglite') {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(handle.db as never, { migrationsFolder });
  } else {
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    await migrate(handle.db as never, { migrationsFolder });
  }
}

/**
 * Rows of a raw SQL query, whichever driver ran it (postgres.js returns an array, PGlite an object
 * with `rows`). For queries the query builder cannot express, such as window functions.
 */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
