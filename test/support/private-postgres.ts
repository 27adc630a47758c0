/**
 * A PostgreSQL cluster of a test's own: initdb in a temp folder, listening on a free port of
 * 127.0.0.1 and a socket in that folder, so a test may stop and restart it (an outage) without
 * touching the shared server on 5432. Built from the server binaries on this machine
 * (`postgresBinDir()`); PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isExecutable } from '../../src/platform/temporal-cli.js';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { firstFreePort } from '../../src/platform/ports.js';

const run = promisify(execFile);

export interface PrivatePostgres {
  port: number;
  /** The cluster's folder (data directory, socket and log inside). */
  dir: string;
  /** A URL for database `name` (default `postgres`), as the superuser `postgres`. */
  url(name?: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Starts the server (again) on the same port and data; resolves when it accepts connections. */
  start(): Promise<void>;
  /** A fast shutdown, as `pg_ctl stop` / `systemctl stop postgresql` do: sessions are ended (57P01). */
  stop(): Promise<void>;
  running(): boolean;
  /** The server's log so far, for failure messages. */
  log(): string;
  /** Stops the server if running and removes its folder. */
  destroy(): Promise<void>;
}

/**
 * Where initdb, pg_ctl and postgres are: STEWARD_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin
 * (Debian), else `pg_config --bindir`; undefined when none holds the three.
 */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.STEWARD_PG_BIN) candidates.push(process.env.STEWARD_PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debian, v, 'bin')));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  return candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((bin) => isExecutable(path.join(dir, bin))));
}


/** initdb, settings for a throwaway cluster, and the first start. */
export async function startPrivatePostgres(options: { preferredPort?: number } = {}): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; set STEWARD_PG_BIN to their folder.');
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-private-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (asRoot) {
    // initdb and postgres refuse root: the folder becomes the postgres user's and they run as it.
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error('Running as root, but there is no "postgres" user to run the private PostgreSQL cluster as.');
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    fs.chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  fs.chmodSync(dir, 0o700);
  const exec = (binary: string, args: string[]) => {
    const file = path.join(bin, binary);
    return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  };

  let running = false;
  const port = await firstFreePort(options.preferredPort ?? 25432 + Math.floor(Math.random() * 2000), 200);
  if (port === undefined) throw new Error('No free port for a private PostgreSQL cluster.');
  try {
    await exec('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    // A test cluster: nothing here must survive a machine crash, so no fsync; small memory.
    fs.appendFileSync(
      path.join(dataDir, 'postgresql.conf'),
      [
        '',
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        'max_connections = 50',
        'shared_buffers = 32MB',
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'logging_collector = off',
        '',
      ].join('\n'),
    );
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const cluster: PrivatePostgres = {
    port,
    dir,
    url: (name = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${name}`,
    async createDatabase(name) {
      const admin = postgres(cluster.url(), { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`create database ${name}`);
      } finally {
        await admin.end({ timeout: 1 });
      }
      return cluster.url(name);
    },
    async start() {
      // -w: returns once the server accepts connections.
      await exec('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile]);
      running = true;
    },
    async stop() {
      await exec('pg_ctl', ['stop', '-w', '-t', '60', '-m', 'fast', '-D', dataDir]);
      running = false;
    },
    running: () => running,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    async destroy() {
      if (running) await exec('pg_ctl', ['stop', '-w', '-t', '30', '-m', 'immediate', '-D', dataDir]).catch(() => undefined);
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    const log = cluster.log();
    await cluster.destroy();
    throw new Error(`The private PostgreSQL cluster did not start: ${(error as Error).message}\n${log}`);
  }
  return cluster;
}
