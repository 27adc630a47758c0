/**
 * `steward run --wait` through an outage of Temporal: the wait says Temporal is unreachable and
 * that the run goes on, retries with backoff, resumes when Temporal answers, and exits with the
 * run's own outcome (0 completed, 3 failed, 4 cancelled/terminated/timed out), never 1 for the outage.
 */
import { ServiceError, type Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { RunState } from '../../../src/contracts.js';
import { RUN_EXIT_CODES, RUN_EXIT_HELP, runExitCode, temporalUnreachable, waitForRun } from '../../../src/cli/run-wait.js';

/** What Temporal's client throws when the server is down: a ServiceError caused by a gRPC error. */
function grpcError(code: number, details: string): Error {
  const cause = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return new ServiceError('Failed to describe workflow', { cause });
}
const unreachable = () => grpcError(14, 'UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7233');

type Step = 'down' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | Error;

const state: RunState = {
  pipeline: 'demo',
  status: 'running',
  steps: [{ name: 'ingest', status: 'running', after: [], attempts: 1 }],
} as unknown as RunState;

/** A client whose describe() answers from a script, one entry per call (the last one repeats). */
function scriptedClient(script: Step[]) {
  let call = 0;
  const next = () => script[Math.min(call++, script.length - 1)]!;
  let closed: Step = 'RUNNING';
  const description = (name: string) => ({
    status: { name },
    memo: { runState: { ...state, status: name === 'COMPLETED' ? 'completed' : 'failed' } },
    typedSearchAttributes: { get: () => 'demo' },
    startTime: new Date(0),
    closeTime: name === 'RUNNING' ? undefined : new Date(60_000),
  });
  const handle = {
    describe: async () => {
      const step = next();
      if (step === 'down') throw unreachable();
      if (step instanceof Error) throw step;
      if (step !== 'RUNNING') closed = step;
      return description(step === 'RUNNING' ? 'RUNNING' : (closed as string));
    },
    query: async () => state,
    result: async () => {
      if (closed === 'COMPLETED') return { outputs: { ingest: { rows: 10 } } };
      throw new Error('step "ingest" failed: no such file');
    },
  };
  const client = {
    workflow: { getHandle: () => handle },
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
  } as unknown as Client;
  return { client, calls: () => call };
}

function recorder() {
  const notices: string[] = [];
  const sleeps: number[] = [];
  let clock = 0;
  return {
    notices,
    sleeps,
    options: {
      address: '127.0.0.1:7233',
      notice: (line: string) => notices.push(line),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock += ms;
      },
      now: () => clock,
    },
  };
}

describe('steward run --wait', () => {
  it('keeps waiting through a Temporal outage, says the run goes on, backs off, and resumes when Temporal is back', async () => {
    const { client } = scriptedClient(['RUNNING', 'down', 'down', 'down', 'RUNNING', 'COMPLETED']);
    const r = recorder();
    const states: Array<RunState | undefined> = [];
    const report = await waitForRun(client, 'demo-1a2b3c4d', { ...r.options, onState: (s) => states.push(s) });
    expect(report).toMatchObject({ runId: 'demo-1a2b3c4d', status: 'COMPLETED', pipeline: 'demo', result: { outputs: { ingest: { rows: 10 } } } });
    expect(runExitCode(report.status)).toBe(0);
    expect(r.notices).toEqual([
      'Temporal at 127.0.0.1:7233 is unreachable (unavailable). Run demo-1a2b3c4d goes on: Temporal keeps its state and the worker its steps. Waiting for Temporal to come back, retrying with backoff (Ctrl-C stops waiting, not the run).',
      '  Temporal still unreachable after 1 s; trying again in 2 s.',
      '  Temporal still unreachable after 3 s; trying again in 4 s.',
      'Temporal at 127.0.0.1:7233 answers again (unreachable for 7 s); following run demo-1a2b3c4d.',
    ]);
    // Polls while it runs; 1, 2, 4 s between tries while Temporal is away.
    expect(r.sleeps).toEqual([500, 1000, 2000, 4000, 500]);
    expect(states.length).toBe(2);
  });

  it('caps the backoff and keeps going for as long as the outage lasts', async () => {
    const { client } = scriptedClient([...Array<Step>(12).fill('down'), 'FAILED']);
    const r = recorder();
    const report = await waitForRun(client, 'demo-2', { ...r.options, backoff: { initialMs: 1000, maxMs: 30_000 } });
    expect(r.sleeps).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    expect(r.notices.at(-1)).toBe('Temporal at 127.0.0.1:7233 answers again (unreachable for 4 min 1 s); following run demo-2.');
    // Only the run's own failure is a failure: exit 3, with the reason in the report.
    expect(report).toMatchObject({ status: 'FAILED', failure: 'step "ingest" failed: no such file' });
    expect(runExitCode(report.status)).toBe(RUN_EXIT_CODES.failed);
  });

  it('exits with distinct codes for a completed, failed and stopped run, documented in --help', async () => {
    for (const [status, code] of [
      ['COMPLETED', 0],
      ['FAILED', 3],
      ['CANCELLED', 4],
      ['TERMINATED', 4],
      ['TIMED_OUT', 4],
    ] as const) {
      expect([status, runExitCode(status)]).toEqual([status, code]);
    }
    const { client } = scriptedClient(['TERMINATED']);
    expect((await waitForRun(client, 'demo-3', recorder().options)).status).toBe('TERMINATED');
    for (const line of ['0    the run completed', '3    the run failed', '4    the run was cancelled, terminated or timed out', '130  you stopped waiting with Ctrl-C; the run goes on']) {
      expect(RUN_EXIT_HELP).toContain(line);
    }
    expect(RUN_EXIT_HELP).toMatch(/an outage of Temporal does not end the command/);
  });

  it('tells an unreachable Temporal from an answer that refuses, which still ends the wait', async () => {
    expect(temporalUnreachable(unreachable())).toBe('unavailable');
    expect(temporalUnreachable(grpcError(4, 'DEADLINE_EXCEEDED: Deadline exceeded'))).toBe('no answer in time');
    expect(temporalUnreachable(grpcError(7, 'PERMISSION_DENIED: no'))).toBeUndefined();
    expect(temporalUnreachable(new Error('boom'))).toBeUndefined();
    const denied = grpcError(7, 'PERMISSION_DENIED: Request unauthorized.');
    const { client } = scriptedClient(['RUNNING', denied]);
    await expect(waitForRun(client, 'demo-4', recorder().options)).rejects.toBe(denied);
    const gone = Object.assign(new Error('Workflow not found'), { name: 'WorkflowNotFoundError' });
    await expect(waitForRun(scriptedClient([gone]).client, 'demo-5', recorder().options)).rejects.toThrow('Temporal at 127.0.0.1:7233 no longer knows run demo-5');
  });
});
