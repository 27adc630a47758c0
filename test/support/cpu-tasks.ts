/**
 * Tasks for the CPU pool's tests (test/unit/platform/cpu-pool.test.ts): each says which thread ran
 * it, and some fail the ways real tasks can.
 */
import { threadId } from 'node:worker_threads';
import { StewardError, UnavailableError, ValidationError } from '../../src/errors.js';
import { cpuTask, withTransfer, type CpuTaskContext } from '../../src/platform/cpu-pool.js';

/** Sums the bytes it is given and hands back a buffer of its own. */
export const sumBytes = cpuTask(import.meta.url, 'sumBytes', (input: { bytes: Uint8Array }, context: CpuTaskContext) => {
  let sum = 0;
  for (let i = 0; i < input.bytes.length; i++) {
    sum += input.bytes[i]!;
    if (i % 1000 === 999) context.progress({ done: i + 1 });
  }
  const echo = input.bytes.slice(0, 4);
  return withTransfer({ sum, threadId, echo }, [echo.buffer]);
});

/** Spins for `ms` milliseconds of the thread's own time, then says which thread it was. */
export const spin = cpuTask(import.meta.url, 'spin', async (input: { ms: number }, context: CpuTaskContext) => {
  context.progress({ started: true });
  const until = performance.now() + input.ms;
  let n = 0;
  while (performance.now() < until) n++;
  return { threadId, n: n > 0 };
});

export class ForbiddenError extends StewardError {
  readonly code = 'FORBIDDEN_TEST';
  readonly status = 403;
}

export const fail = cpuTask(import.meta.url, 'fail', (input: { kind: 'validation' | 'unavailable' | 'custom' | 'plain' | 'string' }) => {
  switch (input.kind) {
    case 'validation':
      throw new ValidationError('bad input', { field: 'x' });
    case 'unavailable':
      throw new UnavailableError('try later');
    case 'custom':
      throw new ForbiddenError('not yours', { who: 'alice' });
    case 'plain':
      throw new TypeError('a bug');
    case 'string':
      throw 'just a string';
  }
});

export const exitThread = cpuTask(import.meta.url, 'exitThread', () => {
  process.exit(3);
});

/** Not declared as a task (no cpuTask), to check the pool's message. */
export const notATask = { module: import.meta.url, name: 'missing', fn: () => 1 };
