/**
 * The CPU pool: tasks run in worker threads (loaded through tsx, under vitest as under
 * bin/steward.js) or inline with 0 threads, with the same results; errors keep their StewardError
 * kind; progress reaches the caller; a cancelled task's thread is terminated; the pool never runs
 * more threads than it is given.
 */
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { isStewardError, UnavailableError, ValidationError } from '../../../src/errors.js';
import { CpuPool, cpuThreadsSetting, ownBuffer } from '../../../src/platform/cpu-pool.js';
import { exitThread, fail, notATask, spin, sumBytes } from '../../support/cpu-tasks.js';

const pools: CpuPool[] = [];
const pool = (threads: number, idleMs?: number) => {
  const made = new CpuPool({ threads, idleMs });
  pools.push(made);
  return made;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('CpuPool', () => {
  it('runs a task in a worker thread, moving transferred bytes, with the result an inline run gives', async () => {
    const threaded = pool(1);
    const progress: unknown[] = [];
    const bytes = Uint8Array.from({ length: 5_000 }, (_, i) => i % 251);
    const result = await threaded.run(sumBytes, { bytes }, { transfer: [bytes.buffer], onProgress: (p) => progress.push(p) });
    expect(result.threadId).not.toBe(threadId);
    // Moved, not copied: the caller's buffer is detached.
    expect(bytes.byteLength).toBe(0);
    expect(progress).toEqual([1, 2, 3, 4, 5].map((k) => ({ done: k * 1000 })));

    const inline = await pool(0).run(sumBytes, { bytes: Uint8Array.from({ length: 5_000 }, (_, i) => i % 251) });
    expect(inline.threadId).toBe(threadId);
    expect({ ...result, threadId: 0 }).toEqual({ ...inline, threadId: 0 });
    expect(result.echo).toEqual(Uint8Array.of(0, 1, 2, 3));
  });

  it('reuses its threads and runs at most `threads` tasks at a time', async () => {
    const two = pool(2);
    const runs = await Promise.all(Array.from({ length: 5 }, () => two.run(spin, { ms: 50 })));
    expect(new Set(runs.map((r) => r.threadId)).size).toBe(2);
    expect(two.started).toBe(2);
  });

  it('brings StewardErrors back as the same kind, so the activity boundary maps them the same way', async () => {
    for (const threads of [1, 0]) {
      const p = pool(threads);
      const validation = await p.run(fail, { kind: 'validation' }).catch((e: unknown) => e);
      expect(validation).toBeInstanceOf(ValidationError);
      expect(validation).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false, message: 'bad input', details: { field: 'x' } });

      const unavailable = await p.run(fail, { kind: 'unavailable' }).catch((e: unknown) => e);
      expect(unavailable).toBeInstanceOf(UnavailableError);
      expect(unavailable).toMatchObject({ retryable: true });

      // A kind the pool has no class for: still a StewardError with its code, status and retryability.
      const custom = await p.run(fail, { kind: 'custom' }).catch((e: unknown) => e);
      expect(isStewardError(custom)).toBe(true);
      expect(custom).toMatchObject({ code: 'FORBIDDEN_TEST', status: 403, retryable: false, name: 'ForbiddenError', details: { who: 'alice' } });

      const plain = await p.run(fail, { kind: 'plain' }).catch((e: unknown) => e);
      expect(isStewardError(plain)).toBe(false);
      expect(plain).toMatchObject({ name: 'TypeError', message: 'a bug' });
      if (threads > 0) expect((plain as Error).stack).toContain('cpu-tasks.ts');
    }
    const thrown = await pool(1).run(fail, { kind: 'string' }).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ message: 'just a string' });
  });

  it('terminates the thread of a cancelled task, rejects with the reason, and carries on with a fresh thread', async () => {
    const one = pool(1);
    const controller = new AbortController();
    const started = new Promise<void>((resolve) => {
      void one
        .run(spin, { ms: 60_000 }, { signal: controller.signal, onProgress: () => resolve() })
        .catch((e: unknown) => e)
        .then((e) => (cancelled = e));
    });
    let cancelled: unknown;
    // A task queued behind it runs once the thread is freed.
    const queued = one.run(spin, { ms: 10 });
    await started;
    const first = one.started;
    controller.abort(new Error('stop it'));
    await expect(queued).resolves.toMatchObject({ n: true });
    expect(cancelled).toMatchObject({ message: 'stop it' });
    expect(first).toBe(1);
    expect(one.started).toBe(1);

    const gone = new AbortController();
    gone.abort(new Error('before it started'));
    await expect(one.run(spin, { ms: 10 }, { signal: gone.signal })).rejects.toThrow('before it started');
  }, 30_000);

  it('fails a task whose thread dies as a plain (retryable) error and replaces the thread', async () => {
    const one = pool(1);
    const error = await one.run(exitThread, {}).catch((e: unknown) => e);
    expect(isStewardError(error)).toBe(false);
    expect((error as Error).message).toMatch(/exitThread.*worker thread stopped.*code 3/);
    await expect(one.run(spin, { ms: 1 })).resolves.toMatchObject({ n: true });
  });

  it('names a module export that is not a task', async () => {
    await expect(pool(1).run(notATask, {})).rejects.toThrow(/has no CPU task "missing"/);
  });

  it('ends idle threads', async () => {
    const quick = pool(1, 50);
    await quick.run(spin, { ms: 1 });
    expect(quick.started).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(quick.started).toBe(0);
  });

  it('refuses work once closed', async () => {
    const closing = pool(1);
    await closing.close();
    await expect(closing.run(spin, { ms: 1 })).rejects.toThrow(/closed/);
  });
});

describe('cpuThreadsSetting (STEWARD_CPU_THREADS)', () => {
  it('defaults to the cores, at least 1; 0 means inline; anything else is refused', () => {
    expect(cpuThreadsSetting(undefined, 6)).toBe(6);
    expect(cpuThreadsSetting('', 0)).toBe(1);
    expect(cpuThreadsSetting('0', 6)).toBe(0);
    expect(cpuThreadsSetting('3', 6)).toBe(3);
    expect(() => cpuThreadsSetting('-1', 6)).toThrow(/STEWARD_CPU_THREADS=-1/);
    expect(() => cpuThreadsSetting('two', 6)).toThrow(/STEWARD_CPU_THREADS=two/);
  });
});

describe('ownBuffer', () => {
  it('keeps an array that spans its buffer and copies one that shares it', () => {
    const whole = new Uint8Array(8);
    expect(ownBuffer(whole)).toBe(whole);
    const part = new Uint8Array(whole.buffer, 2, 4);
    const own = ownBuffer(part);
    expect(own).not.toBe(part);
    expect(own.buffer.byteLength).toBe(4);
  });

  it("runs a task of a module loaded through tsx's tsImport (a project's config beside a compiled CLI)", async () => {
    const { tsImport } = await import('tsx/esm/api');
    const loaded = (await tsImport(new URL('../../support/cpu-tasks.ts', import.meta.url).href, import.meta.url)) as typeof import('../../support/cpu-tasks.js');
    // The namespaced URL only its own loader transforms; the task names the plain file.
    expect(loaded.sumBytes.module).not.toContain('tsx-namespace');
    const result = await pool(1).run(loaded.sumBytes, { bytes: Uint8Array.of(1, 2, 3) });
    expect(result.threadId).not.toBe(threadId);
    expect(result.sum).toBe(6);
  });
});
