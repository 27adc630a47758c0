/**
 * A small pool of worker threads for CPU-bound step work (training, ONNX export and verification,
 * evaluation), so that the worker's main thread stays free for what must answer promptly: workflow
 * tasks, queries, heartbeats and the database (PGlite lives on the main thread and stays there).
 *
 * A task is a named export of a module, declared beside it with `cpuTask(import.meta.url, name, fn)`;
 * the pool runs it in a thread that imports the module (through tsx, see cpu-pool-entry.mjs), or
 * calls `fn` on the calling thread when the pool has 0 threads (useful for debugging and profiling).
 * Either way the task sees the same input and gives the same result. Inputs and results cross by
 * structured clone: pass big data as bytes in `transfer` (the caller's buffers are then detached),
 * and hand big results back with `withTransfer`. Progress a task reports reaches `onProgress` on the
 * calling thread. An error thrown in a thread comes back as the same StewardError kind (code,
 * retryable, details), so the activity boundary (activities/failures.ts) maps it as it would have
 * inline; other errors come back as plain, retryable Errors with the thread's stack. Aborting the
 * `signal` rejects with its reason and terminates the thread running the task (a fresh one replaces it).
 *
 * Threads start on first use, are reused, and end after a while idle; idle threads never keep the
 * process alive. STEWARD_CPU_THREADS sizes the default pool (default: the machine's cores; 0 runs
 * tasks inline).
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, ConflictError, NotFoundError, StewardError, UnavailableError, ValidationError } from '../errors.js';
import { envKeys } from './config.js';

export interface CpuTaskContext {
  /** Reports progress to the caller's `onProgress` (e.g. a step's heartbeat details). */
  progress(details: unknown): void;
}

export type CpuTaskFunction<I, O> = (input: I, context: CpuTaskContext) => O | Promise<O>;

export interface CpuTask<I, O> {
  /** The module's URL (`import.meta.url` of the module that exports the task). */
  readonly module: string;
  /** The export's name. */
  readonly name: string;
  readonly fn: CpuTaskFunction<I, O>;
}

/** Declares the export `name` of the module at `module` as a task the pool can run. */
export function cpuTask<I, O>(module: string, name: string, fn: CpuTaskFunction<I, O>): CpuTask<I, O> {
  return { module: threadModuleUrl(module), name, fn };
}

/**
 * The URL a pool thread imports. A module a project's config loaded through tsx's tsImport (a
 * steward.config.ts beside a compiled CLI) has `?tsx-namespace=<id>` in its import.meta.url, which
 * only that namespace's loader transforms: the thread, which registers tsx globally, would read the
 * file as plain JavaScript. The file itself is the same module to the thread.
 */
export function threadModuleUrl(module: string): string {
  if (!module.includes('tsx-namespace=')) return module;
  const url = new URL(module);
  url.searchParams.delete('tsx-namespace');
  return url.href;
}

const TRANSFER = Symbol.for('steward.cpu-pool.transfer');

/** A task's result whose buffers move to the caller instead of being copied. */
export interface Transferred<T> {
  readonly [TRANSFER]: true;
  readonly value: T;
  readonly transfer: ArrayBuffer[];
}

export function withTransfer<T>(value: T, transfer: ArrayBuffer[]): Transferred<T> {
  return { [TRANSFER]: true, value, transfer };
}

function isTransferred(value: unknown): value is Transferred<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TRANSFER] === true;
}

/** What a task's promise resolves to: its value, unwrapped from `withTransfer`. */
export type CpuResult<O> = O extends Transferred<infer T> ? T : O;

/**
 * `bytes` in a buffer of their own, so it can be transferred without taking anything else along: the
 * same array when it spans its whole (non-shared) buffer, otherwise a copy.
 */
export function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const buffer = bytes.buffer;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return bytes as Uint8Array<ArrayBuffer>;
  return bytes.slice();
}

export interface CpuRunOptions {
  /** Buffers to move into the thread rather than copy (they are detached on the calling side). */
  transfer?: ArrayBuffer[];
  /** Aborting rejects the run with the signal's reason and terminates its thread. */
  signal?: AbortSignal;
  onProgress?: (details: unknown) => void;
}

export interface CpuPoolOptions {
  /** Worker threads at most; 0 runs every task inline on the calling thread. */
  threads: number;
  /** A thread idle this long ends (default 60 s); the next task starts a fresh one. */
  idleMs?: number;
}

/** The error a thread sends back: enough to rebuild a StewardError of the same kind. */
interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  status?: number;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

type FromThread =
  | { id: number; type: 'progress'; details: unknown }
  | { id: number; type: 'done'; value: unknown }
  | { id: number; type: 'error'; error: SerializedError };

interface Job {
  id: number;
  task: CpuTask<unknown, unknown>;
  input: unknown;
  options: CpuRunOptions;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Detaches the abort listener. */
  settle(): void;
}

interface Thread {
  worker: Worker;
  job: Job | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

const ENTRY = new URL('./cpu-pool-entry.mjs', import.meta.url);

export class CpuPool {
  readonly threads: number;
  private readonly idleMs: number;
  private readonly idle: Thread[] = [];
  private readonly busy = new Set<Thread>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: CpuPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 0) throw new ConfigError(`A CPU pool needs a whole number of threads (0 or more), got ${options.threads}.`);
    this.threads = options.threads;
    this.idleMs = options.idleMs ?? 60_000;
  }

  /** Runs `task` on `input` in a thread (inline with 0 threads). */
  run<I, O>(task: CpuTask<I, O>, input: I, options: CpuRunOptions = {}): Promise<CpuResult<O>> {
    if (this.closed) return Promise.reject(new Error('The CPU pool is closed.'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.threads === 0) return runInline(task, input, options) as Promise<CpuResult<O>>;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.abort(job, abortReason(signal!));
      const job: Job = {
        id: this.nextId++,
        task: task as CpuTask<unknown, unknown>,
        input,
        options,
        resolve: resolve as (value: unknown) => void,
        reject,
        settle: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Ends every thread; queued and running tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('The CPU pool was closed.');
    for (const job of this.queue.splice(0)) finish(job, error);
    const threads = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(
      threads.map(async (thread) => {
        clearTimeout(thread.idleTimer);
        if (thread.job) finish(thread.job, error);
        thread.job = undefined;
        await thread.worker.terminate();
      }),
    );
  }

  /** Threads now running (busy or idle), for tests and diagnostics. */
  get started(): number {
    return this.idle.length + this.busy.size;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread = this.idle.pop();
      if (!thread) {
        if (this.busy.size >= this.threads) return;
        thread = this.spawn();
      }
      clearTimeout(thread.idleTimer);
      thread.idleTimer = undefined;
      const job = this.queue.shift()!;
      thread.job = job;
      this.busy.add(thread);
      thread.worker.ref();
      try {
        thread.worker.postMessage({ id: job.id, module: job.task.module, name: job.task.name, input: job.input }, job.options.transfer ?? []);
      } catch (error) {
        // The input could not be cloned: the thread never saw it and stays usable.
        thread.job = undefined;
        this.release(thread);
        finish(job, error);
      }
    }
  }

  private spawn(): Thread {
    const worker = new Worker(ENTRY, {
      // Not the process's options: a worker given those of `node -e script` or of vitest runs them
      // instead of its entry; the entry loads TypeScript through tsx itself.
      execArgv: [],
    });
    const thread: Thread = { worker, job: undefined, idleTimer: undefined };
    worker.on('message', (message: FromThread) => this.onMessage(thread, message));
    worker.on('error', (error) => this.onExit(thread, error));
    worker.on('exit', (code) => this.onExit(thread, new Error(`A CPU worker thread exited (code ${code}).`)));
    return thread;
  }

  private onMessage(thread: Thread, message: FromThread): void {
    const job = thread.job;
    if (!job || message.id !== job.id) return;
    if (message.type === 'progress') {
      job.options.onProgress?.(message.details);
      return;
    }
    thread.job = undefined;
    this.release(thread);
    if (message.type === 'done') finish(job, undefined, message.value);
    else finish(job, rebuildError(message.error, job.task.name));
    this.dispatch();
  }

  /** A thread that failed outside a task or ended: its task (if any) fails retryably, and it is dropped. */
  private onExit(thread: Thread, error: Error): void {
    const known = this.busy.delete(thread) || removeFrom(this.idle, thread);
    clearTimeout(thread.idleTimer);
    const job = thread.job;
    thread.job = undefined;
    if (job) {
      const failure = new Error(`CPU task "${job.task.name}" failed: its worker thread stopped (${error.message}).`);
      failure.stack = `${failure.message}\n${error.stack ?? ''}`;
      finish(job, failure);
    }
    if (known) {
      void thread.worker.terminate();
      this.dispatch();
    }
  }

  private release(thread: Thread): void {
    this.busy.delete(thread);
    if (this.closed) {
      void thread.worker.terminate();
      return;
    }
    thread.worker.unref();
    thread.idleTimer = setTimeout(() => {
      if (removeFrom(this.idle, thread)) void thread.worker.terminate();
    }, this.idleMs);
    thread.idleTimer.unref();
    this.idle.push(thread);
  }

  private abort(job: Job, reason: unknown): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      finish(job, reason);
      return;
    }
    for (const thread of this.busy) {
      if (thread.job !== job) continue;
      // Whatever the thread is computing is abandoned with it; a fresh thread takes the next task.
      thread.job = undefined;
      this.busy.delete(thread);
      void thread.worker.terminate();
      finish(job, reason);
      this.dispatch();
      return;
    }
  }
}

function finish(job: Job, error: unknown, value?: unknown): void {
  job.settle();
  if (error !== undefined) job.reject(error);
  else job.resolve(value);
}

function removeFrom<T>(list: T[], item: T): boolean {
  const index = list.indexOf(item);
  if (index < 0) return false;
  list.splice(index, 1);
  return true;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('The CPU task was cancelled.');
}

async function runInline<I, O>(task: CpuTask<I, O>, input: I, options: CpuRunOptions): Promise<unknown> {
  const result = await task.fn(input, { progress: (details) => options.onProgress?.(details) });
  return isTransferred(result) ? result.value : result;
}

const STEWARD_ERRORS: Record<string, new (message: string, details?: Record<string, unknown>) => StewardError> = {
  CONFIG_INVALID: ConfigError,
  VALIDATION_FAILED: ValidationError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  UNAVAILABLE: UnavailableError,
};

/** A StewardError of a kind this module does not know by class, rebuilt with the same code, status and retryability. */
class ThreadStewardError extends StewardError {
  constructor(
    readonly code: string,
    readonly status: number,
    override readonly retryable: boolean,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message, details);
  }
}

/** The thread's error as the calling thread's: the same StewardError kind, with the thread's stack. */
export function rebuildError(error: SerializedError, task: string): Error {
  let rebuilt: Error;
  if (typeof error.code === 'string' && typeof error.retryable === 'boolean' && typeof error.status === 'number') {
    const Known = STEWARD_ERRORS[error.code];
    const candidate = Known ? new Known(error.message, error.details) : undefined;
    rebuilt =
      candidate && candidate.retryable === error.retryable && candidate.status === error.status
        ? candidate
        : new ThreadStewardError(error.code, error.status, error.retryable, error.message, error.details);
  } else {
    rebuilt = new Error(error.message);
  }
  rebuilt.name = error.name;
  rebuilt.stack = `${error.stack ?? `${error.name}: ${error.message}`}\n    at <CPU worker thread, task ${task}>`;
  return rebuilt;
}

/** STEWARD_CPU_THREADS as a thread count: unset or empty means the machine's cores (at least 1). */
export function cpuThreadsSetting(raw: string | undefined, cores: number = os.availableParallelism()): number {
  if (raw === undefined || raw.trim() === '') return Math.max(1, cores);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`STEWARD_CPU_THREADS=${raw} is not a number of threads: use 0 (run CPU-heavy steps inline) or more.`);
  }
  return value;
}

let shared: CpuPool | undefined;

/** The process's pool, sized by STEWARD_CPU_THREADS when first used. */
export function defaultCpuPool(): CpuPool {
  shared ??= new CpuPool({ threads: cpuThreadsSetting(process.env[envKeys.cpuThreads]) });
  return shared;
}
