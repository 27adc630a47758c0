/**
 * Where the process that holds the embedded database serves it to the others (see shared-server.ts),
 * and how they find it. Next to the lock (`<pglite dir>/steward.lock`, the owner's pid) the owner
 * keeps `steward-endpoint.json` (mode 0600): its pid, the Unix socket it listens on, and its state:
 * `starting` from the moment it holds the lock, `ready` once the database is open, migrated and
 * served, `closing` while it shuts down (a process arriving at either end waits instead of failing;
 * a lock without a record is an older Steward, which does not serve the database). The socket lives
 * in `<pglite dir>/steward-socket/`, a directory only the user may enter (0700), or, when that path
 * is too long for a Unix socket, in a private temporary directory the record names. Nothing listens
 * on the network: only the user's own processes (and root) can connect.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveEmbeddedDatabase, type ServedPglite, type SharedServer } from './shared-server.js';

export interface EndpointRecord {
  /** The owner: the process holding the lock. */
  pid: number;
  /** The Unix socket it serves the database on (undefined until it listens). */
  socket?: string;
  /** The directory made for the socket, removed with it. */
  socketDir?: string;
  state: 'starting' | 'ready' | 'closing';
}

/** Unix socket paths are limited to 108 bytes on Linux (104 on macOS), the terminating NUL included. */
const MAX_SOCKET_PATH = 100;
const TEMP_SOCKET_PREFIX = 'steward-db-';

export function endpointRecordPath(dir: string): string {
  return path.join(dir, 'steward-endpoint.json');
}

/** The record, or undefined when there is none or it cannot be read. */
export function readEndpoint(dir: string): EndpointRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(endpointRecordPath(dir), 'utf8')) as Partial<EndpointRecord>;
    if (typeof record.pid !== 'number' || !['starting', 'ready', 'closing'].includes(record.state as string)) return undefined;
    if (record.state === 'ready' && typeof record.socket !== 'string') return undefined;
    return record as EndpointRecord;
  } catch {
    return undefined;
  }
}

/** Written whole (a reader never sees half a record), readable by the user only. */
function writeEndpoint(dir: string, record: EndpointRecord): void {
  const file = endpointRecordPath(dir);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
}

/** Removes a record left by a process that is gone, and its temporary socket directory. */
function removeStaleEndpoint(dir: string): void {
  const stale = readEndpoint(dir);
  if (stale?.socketDir && path.basename(stale.socketDir).startsWith(TEMP_SOCKET_PREFIX) && path.dirname(stale.socketDir) === os.tmpdir()) {
    fs.rmSync(stale.socketDir, { recursive: true, force: true });
  }
  fs.rmSync(endpointRecordPath(dir), { force: true });
}

interface SocketLocation {
  socket: string;
  socketDir: string;
  temporary: boolean;
}

/** `<dir>/steward-socket/db.sock`, in a directory only this user may enter; undefined when the path is too long for a socket. */
function socketInDatabaseDir(dir: string): SocketLocation | undefined {
  const socketDir = path.join(dir, 'steward-socket');
  const socket = path.join(socketDir, 'db.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) return undefined;
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(socketDir);
  if (!stat.isDirectory() || (typeof process.getuid === 'function' && stat.uid !== process.getuid())) {
    throw new Error(`${socketDir} is not a directory of this user`);
  }
  fs.chmodSync(socketDir, 0o700);
  return { socket, socketDir, temporary: false };
}

/** A fresh private directory (0700) under the system's temporary directory. */
function socketInTemporaryDir(): SocketLocation {
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), TEMP_SOCKET_PREFIX));
  fs.chmodSync(socketDir, 0o700);
  return { socket: path.join(socketDir, 'db.sock'), socketDir, temporary: true };
}

function removeSocket(location: SocketLocation): void {
  if (location.temporary) {
    fs.rmSync(location.socketDir, { recursive: true, force: true });
    return;
  }
  fs.rmSync(location.socket, { force: true });
  try {
    fs.rmdirSync(location.socketDir);
  } catch {
    // Not empty (something else put a file there): left as it is.
  }
}

export interface OwnerEndpoint {
  /** Starts serving `pg` and marks the record ready. */
  serve(pg: ServedPglite, options?: { onError?: (error: Error) => void }): Promise<SharedServer>;
  /** Marks the record closing, stops serving (rolling back what clients left open), removes the socket. */
  stop(): Promise<void>;
  /** Removes the record: the last step before the lock is released. */
  remove(): void;
}

/**
 * Called by the owner right after it takes the lock: records that it is opening the database, so
 * others wait for it; `serve` then makes it reachable.
 */
export function announceOwner(dir: string): OwnerEndpoint {
  removeStaleEndpoint(dir);
  writeEndpoint(dir, { pid: process.pid, state: 'starting' });
  let server: SharedServer | undefined;
  let location: SocketLocation | undefined;
  let stopped = false;
  return {
    serve: async (pg, options = {}) => {
      const listen = async (where: SocketLocation) => {
        location = where;
        return { where, served: await serveEmbeddedDatabase(pg, { socketPath: where.socket, onError: options.onError }) };
      };
      const preferred = socketInDatabaseDir(dir);
      let listening: Awaited<ReturnType<typeof listen>>;
      try {
        listening = await listen(preferred ?? socketInTemporaryDir());
      } catch (error) {
        // A file system without sockets (some network and host-mounted ones): a private temporary directory instead.
        if (!preferred) throw error;
        removeSocket(preferred);
        listening = await listen(socketInTemporaryDir());
      }
      const { where, served } = listening;
      server = served;
      if (stopped) {
        await served.close();
        throw new Error('The database was closed while it was being shared.');
      }
      writeEndpoint(dir, { pid: process.pid, socket: where.socket, socketDir: where.socketDir, state: 'ready' });
      return served;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // A process arriving from now on waits for the lock to be released, then opens the database itself.
      if (readEndpoint(dir)?.pid === process.pid) writeEndpoint(dir, { pid: process.pid, state: 'closing' });
      await server?.close();
      if (location) removeSocket(location);
    },
    remove: () => {
      if (readEndpoint(dir)?.pid === process.pid) fs.rmSync(endpointRecordPath(dir), { force: true });
    },
  };
}
