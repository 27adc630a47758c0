/**
 * Keeping the worker's event loop turning while the database works on the main thread.
 *
 * PGlite runs each statement synchronously in WebAssembly on the calling thread and settles its
 * promises without ever giving the event loop a turn: a run of queries is one long chain of
 * microtasks, during which no timer, socket or Temporal callback runs (2,000 queries in a row let a
 * 1 ms interval fire 0 times). A step made of many statements (an ingestion, a quality check, the
 * feature store's training set) then starves heartbeats, queries and workflow tasks for its whole
 * length. `yieldBetweenQueries` makes a PGlite instance give the loop a turn once its statements have
 * held the thread for `sliceMs`, so the longest stall is one statement rather than the whole step.
 */
import type { PGlite } from '@electric-sql/pglite';

/** One turn of the event loop: due timers and I/O callbacks run before this resolves. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Makes `client` yield to the event loop after each wire-protocol exchange once `sliceMs` have passed
 * since it last did (every query, inside transactions too, goes through `execProtocolRaw`). Results
 * and their order are unchanged: PGlite runs one query at a time, and others wait for it as before.
 */
export function yieldBetweenQueries(client: Pick<PGlite, 'execProtocolRaw'>, sliceMs = 20): void {
  const execProtocolRaw = client.execProtocolRaw.bind(client);
  let since = performance.now();
  client.execProtocolRaw = async (message, options) => {
    const result = await execProtocolRaw(message, options);
    if (performance.now() - since >= sliceMs) {
      await yieldToEventLoop();
      since = performance.now();
    }
    return result;
  };
}
