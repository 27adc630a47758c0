/**
 * The prediction log: every prediction (request id, model, version, arm, inputs, scores, latency)
 * written to the database in batches, off the request path. `record` only appends to a bounded
 * in-memory queue; a flush (when a batch is full, on a timer, and on close) turns queued entries
 * into rows (hashing pii features, printing numbers) and inserts them in one statement. When the
 * queue is full, new entries are dropped and counted rather than slowing or failing requests; a
 * failed insert puts its rows back while there is room and is retried at the next flush.
 *
 * @example
 * ```ts
 * const log = new PredictionLog(databaseSink(db), { piiFeatures: ['passengerName'] });
 * const host = new ModelHost({ source, log });
 * // ...
 * await log.close(); // flushes what is queued
 * ```
 */
import { createHash } from 'node:crypto';
import type { Database } from '../db/client.js';
import { predictionLog, type NewPredictionLogRow } from '../db/schema.js';
import type { ServingSignature } from './signature.js';
import { recordsOf, type Batch } from './validation.js';

export interface PredictionEntry {
  requestId: string;
  model: string;
  version: number;
  arm: string;
  shadow: boolean;
  /** The request's rows as the caller sent them, or the decoded batch (turned into rows at flush time). */
  records: readonly Record<string, unknown>[] | undefined;
  batch: { signature: ServingSignature; batch: Batch } | undefined;
  rows: number;
  scores: Float64Array | undefined;
  error: string | undefined;
  latencyMs: number;
  /** Milliseconds since the epoch. */
  at: number;
  /** Features of this version tagged pii, hashed on top of the log's own list. */
  pii: readonly string[];
}

/** `sha256:<hex>` of a string's UTF-8 bytes, or of any other value's JSON text. */
export function piiHash(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export type PredictionSink = (rows: NewPredictionLogRow[]) => Promise<void>;

export function databaseSink(db: Database): PredictionSink {
  return async (rows) => {
    await db.insert(predictionLog).values(rows);
  };
}

export interface PredictionLogOptions {
  /** Entries held at most before new ones are dropped (default 10,000). */
  capacity?: number;
  /** Entries per insert; a full batch triggers a flush (default 500). */
  batchSize?: number;
  /** Flush at least this often (default 1,000 ms). */
  flushIntervalMs?: number;
  /** Feature names whose values are logged as `sha256:<hex>` for every model. */
  piiFeatures?: Iterable<string>;
  /** Told about failed inserts (the scorer logs them); the log itself never throws at a request. */
  onError?: (error: unknown) => void;
}

export class PredictionLog {
  private queue: PredictionEntry[] = [];
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly pii: ReadonlySet<string>;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  /** The flush that follows the running one, shared by the calls made meanwhile. */
  private next: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private counters = { written: 0, dropped: 0, failed: 0 };
  lastError: string | undefined;

  constructor(
    private readonly sink: PredictionSink,
    private readonly options: PredictionLogOptions = {},
  ) {
    this.capacity = options.capacity ?? 10_000;
    this.batchSize = options.batchSize ?? 500;
    this.pii = new Set(options.piiFeatures ?? []);
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  get queued(): number {
    return this.queue.length;
  }
  get written(): number {
    return this.counters.written;
  }
  get dropped(): number {
    return this.counters.dropped;
  }
  get failed(): number {
    return this.counters.failed;
  }

  /** Queues an entry; false when it was dropped (queue full, or the log closed). Never blocks, never throws. */
  record(entry: PredictionEntry): boolean {
    if (this.closed || this.queue.length >= this.capacity) {
      this.counters.dropped++;
      return false;
    }
    this.queue.push(entry);
    if (this.queue.length >= this.batchSize && !this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return true;
  }

  /**
   * Writes everything queued now (in batches); resolves when done. Entries recorded while it runs
   * wait for the next flush, so a flush ends under any load. A call during a flush runs once that
   * one ends (calls meanwhile share it), so it also covers what was queued when it was called.
   */
  flush(): Promise<void> {
    if (this.flushing) {
      this.next ??= this.flushing.then(() => {
        this.next = undefined;
        return this.flush();
      });
      return this.next;
    }
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    for (let remaining = this.queue.length; remaining > 0 && this.queue.length > 0; ) {
      const entries = this.queue.splice(0, Math.min(this.batchSize, remaining));
      remaining -= entries.length;
      let rows: NewPredictionLogRow[];
      try {
        rows = entries.map((e) => this.toRow(e));
      } catch (error) {
        this.counters.failed += entries.length;
        this.report(error);
        continue;
      }
      try {
        await this.sink(rows);
        this.counters.written += entries.length;
      } catch (error) {
        this.report(error);
        // Keep what fits for the next flush; stop now rather than hammer a database that is down.
        const room = Math.max(0, this.capacity - this.queue.length);
        this.queue.unshift(...entries.slice(0, room));
        this.counters.failed += entries.length - Math.min(room, entries.length);
        return;
      }
    }
  }

  private report(error: unknown): void {
    this.lastError = error instanceof Error ? error.message : String(error);
    this.options.onError?.(error);
  }

  private toRow(e: PredictionEntry): NewPredictionLogRow {
    const records = e.records ?? (e.batch ? recordsOf(e.batch.signature, e.batch.batch) : []);
    const hashed = this.pii.size > 0 || e.pii.length > 0 ? records.map((r) => this.hashPii(r, e.pii)) : records;
    return {
      requestId: e.requestId,
      modelName: e.model,
      version: e.version,
      arm: e.arm,
      shadow: e.shadow,
      rows: e.rows,
      inputs: hashed as Record<string, unknown>[],
      outputs: e.scores ? Array.from(e.scores) : null,
      error: e.error ?? null,
      latencyMs: e.latencyMs,
      at: new Date(e.at),
    };
  }

  private hashPii(record: Record<string, unknown>, extra: readonly string[]): Record<string, unknown> {
    const out = { ...record };
    for (const name of Object.keys(out)) {
      if (this.pii.has(name) || extra.includes(name)) out[name] = piiHash(out[name]);
    }
    return out;
  }

  /** Flushes what is queued and stops; later entries are dropped (and counted). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    // A flush that failed left rows queued; one more attempt, then they are counted as lost.
    if (this.queue.length > 0) await this.flush();
    this.counters.failed += this.queue.length;
    this.queue = [];
  }
}
