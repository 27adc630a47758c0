/**
 * Worker threads that run the passes over the rows together with the calling thread (passes.ts).
 * A team lives for one training call: its workers start loading while the calling thread
 * prepares the data, and close() ends them however training ends. They are unref'd besides, so a
 * team that was never closed cannot keep the process alive.
 *
 * Workers load through worker-entry.mjs: a worker thread starts as plain Node, which neither
 * vitest's transforms nor tsx's hooks registered through its API (as bin/steward.js does) reach,
 * so its entry point is JavaScript: it imports the compiled worker.js beside it when running from
 * dist/ (the build copies it there) and loads worker.ts through tsx itself when running from sources.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CONTROL_SLOTS, COUNTS, DONE, FAILED, MAX_THREADS, SEQUENCE, TeamFailure, waitUntil } from './control.js';
import type { SharedMessage } from './passes.js';

export class Team {
  readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
  private readonly workers: { worker: Worker; port: MessagePort }[] = [];

  /** A team of `threads` threads: the calling one and threads − 1 workers. */
  constructor(readonly threads: number) {
    try {
      for (let thread = 1; thread < threads; thread++) {
        const { port1, port2 } = new MessageChannel();
        port1.unref();
        const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
          workerData: { control: this.control, port: port2, thread, threads, failedSlot: FAILED },
          transferList: [port2],
          // Not the process's options: a worker given those of `node -e script` runs the script
          // instead of its entry point, and tsx's own options are not what the entry loads it by.
          execArgv: [],
        });
        worker.unref();
        this.workers.push({ worker, port: port1 });
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Sends every worker what it needs before the passes that use it; each reads its messages when a pass starts. */
  send(message: SharedMessage): void {
    for (const { port } of this.workers) port.postMessage(message);
  }

  /** Starts the pass set out in the control block, runs the calling thread's share with `work`, and waits for the workers' shares. */
  run(work: () => void): void {
    const control = this.control;
    Atomics.store(control, DONE, 0);
    control.fill(-1, COUNTS, COUNTS + MAX_THREADS);
    Atomics.add(control, SEQUENCE, 1);
    Atomics.notify(control, SEQUENCE);
    try {
      work();
      waitUntil(control, DONE, this.threads - 1);
    } catch (error) {
      if (!(error instanceof TeamFailure)) throw error;
      const reports = this.workers.map(({ port }) => receiveMessageOnPort(port)?.message).filter((report) => report !== undefined);
      throw new Error(`${error.message} ${reports.join('\n')}`.trim());
    }
  }

  close(): void {
    for (const { worker, port } of this.workers) {
      port.close();
      void worker.terminate();
    }
  }
}
