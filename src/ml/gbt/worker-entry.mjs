// A worker thread of team.ts. Worker threads start as plain Node, so this entry point is JavaScript.
// Compiled (dist/, where the build copies this file beside worker.js) it imports worker.js; run from
// the sources it loads worker.ts through tsx, whatever runs the calling thread (tsx, vitest,
// bin/steward.js).
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

try {
  const compiled = new URL('./worker.js', import.meta.url);
  const { serve } = existsSync(compiled)
    ? await import(compiled.href)
    : await (await import('tsx/esm/api')).tsImport('./worker.ts', import.meta.url);
  serve(workerData);
} catch (error) {
  const { control, port, failedSlot } = workerData;
  port.postMessage(error instanceof Error ? error.stack : String(error));
  Atomics.store(control, failedSlot, 1);
  for (let slot = 0; slot < control.length; slot++) Atomics.notify(control, slot);
}
