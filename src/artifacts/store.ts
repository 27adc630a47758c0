/**
 * Content-addressed artifacts (training sets, models): stored under their sha256, verified on every
 * read, so an artifact URI names exactly one byte sequence. The local store keeps files under
 * .steward/artifacts; another backend (an S3-compatible store) implements the same interface.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError, ValidationError } from '../errors.js';

export interface Artifact {
  /** `artifact://sha256/<hex>` */
  uri: string;
  sha256: string;
  bytes: number;
}

export interface ArtifactStore {
  put(data: Uint8Array): Promise<Artifact>;
  get(uri: string): Promise<Uint8Array>;
}

const URI = /^artifact:\/\/sha256\/([0-9a-f]{64})$/;

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Bytes hashed between turns of the event loop: a few milliseconds' worth. */
const HASH_SLICE = 4 * 1024 * 1024;

/**
 * sha256Hex a slice at a time, giving the event loop a turn between slices: hashing a training set
 * of hundreds of megabytes in one call would hold the worker's main thread (heartbeats, queries,
 * workflow tasks) for as long.
 */
async function sha256HexYielding(data: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < data.byteLength; at += HASH_SLICE) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    hash.update(data.subarray(at, at + HASH_SLICE));
  }
  return hash.digest('hex');
}

/** A temporary file older than this is swept whoever wrote it: no put takes a day. */
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalArtifactStore implements ArtifactStore {
  private swept = false;

  constructor(private readonly dir: string) {}

  /** Where puts write before the rename: outside sha256/, so a listing of it holds only artifacts. */
  private get incoming(): string {
    return path.join(this.dir, 'incoming');
  }

  /**
   * Removes what a put killed mid-write (SIGKILL, power loss) left in incoming/: files whose writer
   * on this host is gone, or that are older than a day (a store shared between hosts). Runs once per
   * store, before its first write; returns the names removed.
   */
  sweepIncoming(now = Date.now()): string[] {
    this.swept = true;
    let names: string[];
    try {
      names = fs.readdirSync(this.incoming);
    } catch {
      return [];
    }
    const host = os.hostname();
    const removed: string[] = [];
    for (const name of names) {
      const match = /^(.+)\.(\d+)\.[0-9a-f-]{36}\.tmp$/.exec(name);
      const file = path.join(this.incoming, name);
      let stale: boolean;
      try {
        const sameHostDead = !!match && match[1] === host && !processIsAlive(Number(match[2]));
        stale = sameHostDead || now - fs.statSync(file).mtimeMs > STALE_TMP_MS;
      } catch {
        continue; // gone already: another process swept or renamed it
      }
      if (!stale) continue;
      try {
        fs.rmSync(file, { force: true });
        removed.push(name);
      } catch {
        // another sweeper's; it will go next time
      }
    }
    return removed;
  }

  private pathOf(hash: string): string {
    return path.join(this.dir, 'sha256', hash.slice(0, 2), hash);
  }

  async put(data: Uint8Array): Promise<Artifact> {
    const hash = await sha256HexYielding(data);
    const file = this.pathOf(hash);
    if (!fs.existsSync(file)) {
      if (!this.swept) this.sweepIncoming();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.mkdirSync(this.incoming, { recursive: true });
      // Write then rename: a crash never leaves a partial file under a valid name. The temporary name
      // is unique, so concurrent puts of the same bytes never write one file; it names its host and
      // process so a later sweep can tell a dead writer's leftovers from a live one's.
      const tmp = path.join(this.incoming, `${os.hostname()}.${process.pid}.${randomUUID()}.tmp`);
      try {
        await fs.promises.writeFile(tmp, data);
        fs.renameSync(tmp, file);
      } catch (error) {
        fs.rmSync(tmp, { force: true }); // a full disk, say: leave nothing half written behind
        throw error;
      }
    }
    return { uri: `artifact://sha256/${hash}`, sha256: hash, bytes: data.byteLength };
  }

  async get(uri: string): Promise<Uint8Array> {
    const match = URI.exec(uri);
    if (!match) throw new ValidationError(`"${uri}" is not an artifact URI (artifact://sha256/<64 hex digits>).`, { uri });
    const hash = match[1]!;
    const file = this.pathOf(hash);
    if (!fs.existsSync(file)) throw new NotFoundError(`Artifact ${uri} is not in the store at ${this.dir}.`, { uri });
    // Read asynchronously and hashed in slices; the bytes are the file buffer's own (no copy).
    const read = await fs.promises.readFile(file);
    const data = new Uint8Array(read.buffer, read.byteOffset, read.byteLength);
    const actual = await sha256HexYielding(data);
    if (actual !== hash) {
      throw new ValidationError(`Artifact ${uri} is corrupt: its content hashes to ${actual}. Restore it or retrain.`, { uri, actual });
    }
    return data;
  }
}
