// A thread of the CPU pool (cpu-pool.ts). Worker threads start as plain Node, which neither vitest's
// transforms nor tsx's hooks registered by bin/steward.js reach, so this entry point is JavaScript:
// it registers tsx for this thread, then runs each task it is sent, one at a time, by importing the
// task's module (once; later tasks reuse it) and calling the named export.
import { parentPort } from 'node:worker_threads';

const TRANSFER = Symbol.for('steward.cpu-pool.transfer');
const { register } = await import('tsx/esm/api');
register();

/** Enough of an error to rebuild it on the calling thread as the same kind (cpu-pool.ts#rebuildError). */
function serialize(error) {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: String(error) };
  const { name, message, stack, code, status, retryable, details } = error;
  const out = { name: typeof name === 'string' ? name : 'Error', message: typeof message === 'string' ? message : String(error), stack };
  if (typeof code === 'string' && typeof status === 'number' && typeof retryable === 'boolean') Object.assign(out, { code, status, retryable });
  if (details && typeof details === 'object') out.details = details;
  return out;
}

function post(message, transfer) {
  try {
    parentPort.postMessage(message, transfer);
  } catch (error) {
    // A detail or a result that cannot be cloned: say so rather than leave the task hanging.
    const details = message.error?.details ? JSON.parse(JSON.stringify(message.error.details)) : undefined;
    parentPort.postMessage({ id: message.id, type: 'error', error: message.type === 'error' ? { ...message.error, details } : serialize(error) });
  }
}

parentPort.on('message', async ({ id, module, name, input }) => {
  try {
    const exports = await import(module);
    const task = exports[name];
    if (typeof task?.fn !== 'function') throw new Error(`${module} has no CPU task "${name}" (declare it with cpuTask(import.meta.url, '${name}', fn)).`);
    const result = await task.fn(input, { progress: (details) => parentPort.postMessage({ id, type: 'progress', details }) });
    if (typeof result === 'object' && result !== null && result[TRANSFER] === true) post({ id, type: 'done', value: result.value }, result.transfer);
    else post({ id, type: 'done', value: result });
  } catch (error) {
    post({ id, type: 'error', error: serialize(error) });
  }
});
