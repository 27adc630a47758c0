import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refusalLine, sdkLogFunction } from '../../../src/platform/sdk-log.js';

const at = 1_795_000_000_000n * 1_000_000n;

describe('the SDK’s log lines on the console', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints a step’s non-retryable refusal as one line with the run, the step, the reason and its type', () => {
    const error = ApplicationFailure.create({ type: 'VALIDATION_FAILED', nonRetryable: true, message: 'Challenger v3 is not better by the margin.' });
    const entry = { level: 'WARN' as const, message: 'Activity failed', timestampNanos: at, meta: { workflowId: 'run-1-challenge', activityId: 'compare', error } };
    expect(refusalLine(entry)).toBe(
      `${new Date(1_795_000_000_000).toISOString()} [WARN] Activity failed (run-1-challenge compare): Challenger v3 is not better by the margin. [VALIDATION_FAILED, not retried]\n`,
    );
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    sdkLogFunction(entry);
    expect(written).toEqual([refusalLine(entry)]);
    expect(written[0]).not.toContain('    at ');
  });

  it('leaves retryable failures, other errors and plain lines to the SDK’s own format', () => {
    const retryable = ApplicationFailure.create({ type: 'UNAVAILABLE', message: 'the database did not answer' });
    expect(refusalLine({ level: 'WARN', message: 'Activity failed', timestampNanos: at, meta: { error: retryable } })).toBeNull();
    expect(refusalLine({ level: 'WARN', message: 'Activity failed', timestampNanos: at, meta: { error: new Error('boom') } })).toBeNull();
    expect(refusalLine({ level: 'INFO', message: 'Worker started', timestampNanos: at })).toBeNull();
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    sdkLogFunction({ level: 'WARN', message: 'Activity failed', timestampNanos: at, meta: { error: retryable } });
    expect(written.join('')).toMatch(/\[WARN\] Activity failed .*the database did not answer/s);
  });
});
