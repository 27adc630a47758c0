/**
 * The embedded database served to Steward's other processes. PGlite is one PostgreSQL session that
 * only the process holding its directory can open; that process (the owner: `steward dev`, the demo,
 * a worker, or any command that opened the database first) listens on a Unix socket in a private
 * directory and runs the PostgreSQL wire protocol that other processes send there (with postgres.js)
 * on its own PGlite instance.
 *
 * Isolation. Every connection shares the one session, so a connection takes the whole session from
 * its first message until the session is idle again: until a Sync or simple Query leaves no
 * transaction open. While it holds the session, other connections' messages and the owner's own
 * queries and transactions wait; the session is taken through PGlite's transaction mutex, the one
 * its `query`, `exec` and `transaction` hold, so a socket client's transaction never interleaves
 * with the owner's (or another client's), and advisory locks, row locks and `select ... for update`
 * keep their meaning: at most one transaction is ever open. A connection that holds the session and
 * goes quiet for `idleInTransactionMs` is rolled back and closed, as is one that disconnects: a
 * client stuck in a transaction holds up the owner's work for that long at most.
 *
 * Session state is shared too: clients must not prepare named statements (postgres.js with
 * `prepare: false`) or change settings outside a transaction. COPY FROM STDIN is not supported
 * (Steward's PostgreSQL path never uses it); COPY TO STDOUT is.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/** What the server needs of a PGlite instance. */
export type ServedPglite = Pick<PGlite, 'execProtocolRaw' | 'isInTransaction' | 'runExclusive' | '_runExclusiveTransaction'>;

export interface SharedServerOptions {
  /** The Unix socket to listen on; its directory should be private to the user (0700). */
  socketPath: string;
  /** How long a connection may hold the session without sending anything (default 60 s). */
  idleInTransactionMs?: number;
  /** Where unexpected failures are reported. */
  onError?: (error: Error) => void;
}

export interface SharedServer {
  socketPath: string;
  /** Connections open now. */
  connections(): number;
  /** Stops listening, rolls back and closes every connection, removes the socket. */
  close(): Promise<void>;
}

const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Larger messages are refused: nothing Steward sends comes near it, and a bad length would buffer forever. */
const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

/** Messages run in one go, and whether they end an exchange (a Sync, a simple Query, the startup message). */
interface Batch {
  messages: Buffer;
  endsExchange: boolean;
}

const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** A simple Query message. */
function queryMessage(text: string): Buffer {
  const body = Buffer.from(`${text}\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('Q', 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** An ErrorResponse with the given severity, SQLSTATE and message. */
function errorResponse(severity: 'ERROR' | 'FATAL', code: string, message: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0, 'latin1');
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

/**
 * The session, taken whole: resolves with the function that gives it back. Holding PGlite's
 * transaction mutex keeps its `query`, `exec` and `transaction` (the owner's drizzle) waiting.
 */
function takeSession(pg: ServedPglite): Promise<() => void> {
  return new Promise((resolve, reject) => {
    pg._runExclusiveTransaction(() => new Promise<void>((release) => resolve(release))).catch(reject);
  });
}

export async function serveEmbeddedDatabase(pg: ServedPglite, options: SharedServerOptions): Promise<SharedServer> {
  const idleMs = options.idleInTransactionMs ?? 60_000;
  const report = options.onError ?? (() => {});
  const open = new Set<Connection>();
  let closing = false;

  class Connection {
    /** Received bytes, starting at a message boundary. */
    private buffer: Buffer = Buffer.alloc(0);
    /** Chunks received since, joined to `buffer` once its first message can be complete (a large one is copied once). */
    private pending: Buffer[] = [];
    private pendingBytes = 0;
    private started = false;
    private busy = false;
    private closed = false;
    private release: (() => void) | undefined;
    private idleTimer: NodeJS.Timeout | undefined;
    /** Settles when the connection has given the session back for good. */
    readonly done: Promise<void>;
    private finish!: () => void;

    constructor(private readonly socket: net.Socket) {
      this.done = new Promise((resolve) => (this.finish = resolve));
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        if (this.absorb()) void this.pump();
      });
      socket.on('error', () => this.end());
      socket.on('close', () => this.end());
    }

    /** Runs the complete messages buffered so far, one batch at a time, in order. */
    private async pump(): Promise<void> {
      if (this.busy || this.closed) return;
      this.busy = true;
      try {
        while (!this.closed) {
          const batch = this.started ? this.nextBatch() : this.startup();
          if (batch === undefined) {
            if (this.absorb()) continue;
            break;
          }
          if (batch === 'terminate') {
            this.end();
            break;
          }
          if (batch.messages.length === 0) continue;
          this.clearIdle();
          if (!this.release) {
            const release = await takeSession(pg);
            if (this.closed) {
              release();
              break;
            }
            this.release = release;
          }
          const reply = await pg.runExclusive(() => pg.execProtocolRaw(batch.messages, { syncToFs: true }));
          // PGlite reuses its output buffer: copy before the next statement overwrites it.
          if (reply.length > 0 && !this.closed) this.socket.write(Buffer.from(reply));
          this.started = true;
          if (batch.endsExchange && !pg.isInTransaction()) this.giveBack();
        }
      } catch (error) {
        report(error as Error);
        this.socket.destroy();
        this.end();
      } finally {
        this.busy = false;
        if (this.closed) await this.abandon();
        else if (this.release) this.armIdle();
      }
    }

    /** Joins the pending chunks to `buffer` when that completes its first message; whether it did. */
    private absorb(): boolean {
      if (this.pendingBytes === 0) return false;
      const total = this.buffer.length + this.pendingBytes;
      if (total < this.firstMessageBytes()) return false;
      this.buffer = Buffer.concat([this.buffer, ...this.pending], total);
      this.pending = [];
      this.pendingBytes = 0;
      return true;
    }

    /** How many bytes the first message in `buffer` needs (as far as its header is known). */
    private firstMessageBytes(): number {
      if (!this.started) return this.buffer.length >= 4 ? this.buffer.readInt32BE(0) : 8;
      return this.buffer.length >= 5 ? 1 + this.buffer.readInt32BE(1) : 5;
    }

    /** The startup exchange: SSL and GSS encryption are declined, cancels ignored, the startup message run. */
    private startup(): Batch | 'terminate' | undefined {
      if (this.buffer.length < 8) return undefined;
      const length = this.buffer.readInt32BE(0);
      if (length < 8 || length > 10_000) return 'terminate';
      if (this.buffer.length < length) return undefined;
      const message = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      const code = message.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        this.socket.write('N');
        return { messages: Buffer.alloc(0), endsExchange: false };
      }
      if (code === CANCEL_REQUEST) return 'terminate';
      if (code !== PROTOCOL_3) {
        this.socket.end(errorResponse('FATAL', '0A000', `Unsupported frontend protocol ${code >> 16}.${code & 0xffff}`));
        return 'terminate';
      }
      // The exchange is one message; the session is given back right after it.
      return { messages: Buffer.from(message), endsExchange: true };
    }

    /**
     * The buffered messages up to and including the next Sync or simple Query (what ends an
     * exchange), or all complete ones when neither has arrived yet. Terminate ends the connection.
     */
    private nextBatch(): Batch | 'terminate' | undefined {
      let offset = 0;
      let endsExchange = false;
      let terminate = false;
      while (this.buffer.length - offset >= 5) {
        const type = this.buffer[offset]!;
        const length = this.buffer.readInt32BE(offset + 1);
        if (length < 4 || length > MAX_MESSAGE_BYTES) {
          this.socket.end(errorResponse('FATAL', '08P01', `Invalid message length ${length}`));
          return 'terminate';
        }
        if (this.buffer.length - offset < 1 + length) break;
        if (type === 0x58 /* X: Terminate */) {
          terminate = true;
          break;
        }
        if (type === 0x64 || type === 0x63 || type === 0x66 /* CopyData, CopyDone, CopyFail */) {
          this.socket.end(errorResponse('FATAL', '0A000', 'COPY FROM STDIN is not supported by the shared embedded database'));
          return 'terminate';
        }
        offset += 1 + length;
        if (type === 0x53 /* S: Sync */ || type === 0x51 /* Q: Query */) {
          endsExchange = true;
          break;
        }
      }
      if (offset === 0) return terminate ? 'terminate' : undefined;
      const messages = Buffer.from(this.buffer.subarray(0, offset));
      this.buffer = this.buffer.subarray(offset);
      return { messages, endsExchange };
    }

    private giveBack(): void {
      this.clearIdle();
      const release = this.release;
      this.release = undefined;
      release?.();
    }

    private armIdle(): void {
      this.clearIdle();
      this.idleTimer = setTimeout(() => {
        if (!this.release || this.busy) return;
        this.socket.end(
          errorResponse('FATAL', '25P03', `terminating connection: it held the shared embedded database idle in a transaction for ${Math.round(idleMs / 1000)} s`),
        );
        this.end();
      }, idleMs);
      this.idleTimer.unref();
    }

    private clearIdle(): void {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }

    /** The connection is over: whatever it left open is rolled back once its last batch is done. */
    end(): void {
      if (this.closed) return;
      this.closed = true;
      this.clearIdle();
      if (!this.socket.destroyed) this.socket.end();
      if (!this.busy) void this.abandon();
    }

    private async abandon(): Promise<void> {
      const release = this.release;
      this.release = undefined;
      try {
        if (release) {
          // Out of an unfinished extended-protocol exchange, then out of any transaction.
          await pg.runExclusive(async () => {
            await pg.execProtocolRaw(SYNC, { syncToFs: false });
            if (pg.isInTransaction()) await pg.execProtocolRaw(queryMessage('ROLLBACK'), { syncToFs: true });
          });
        }
      } catch (error) {
        report(error as Error);
      } finally {
        release?.();
        open.delete(this);
        this.finish();
      }
    }

    kill(): void {
      if (!this.socket.destroyed) this.socket.destroy();
      this.end();
    }
  }

  fs.rmSync(options.socketPath, { force: true });
  const server = net.createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    open.add(new Connection(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Only the user may connect (the directory is private too; this covers a socket moved elsewhere).
  fs.chmodSync(options.socketPath, 0o600);
  server.on('error', (error) => report(error));

  return {
    socketPath: options.socketPath,
    connections: () => open.size,
    close: async () => {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const connections = [...open];
      for (const connection of connections) connection.kill();
      await Promise.all(connections.map((c) => c.done));
      await stopped;
      fs.rmSync(options.socketPath, { force: true });
    },
  };
}
