/**
 * A project's steward.config.ts loaded through tsx beside the compiled CLI (or a second copy of the
 * package in its node_modules) has its own copy of src/errors.ts. Its bad input must still cross
 * the activity boundary as a non-retryable failure, not as a bug Temporal retries.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../../activities/failures.js';
import * as ours from '../../../src/errors.js';

describe('Steward errors from another copy of the module', () => {
  it('are Steward errors, and fail without retries', async () => {
    // The query makes Vite load the file again as a separate module: another StewardError class.
    const specifier = '../../../src/errors.ts?another-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof ours;
    const theirs = new copy.ValidationError('rows must be positive, got -1.', { rows: -1 });
    expect(theirs instanceof ours.StewardError).toBe(false);
    expect(ours.isStewardError(theirs)).toBe(true);
    const failure = toFailure(theirs);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'VALIDATION_FAILED', nonRetryable: true, message: 'rows must be positive, got -1.', details: [{ rows: -1 }] });
    // A transient fault from the copy stays retryable.
    expect(toFailure(new copy.UnavailableError('database down'))).toMatchObject({ type: 'UNAVAILABLE', nonRetryable: false });
    // A plain error is not mistaken for one.
    expect(ours.isStewardError(new Error('bug'))).toBe(false);
    expect(ours.isStewardError({ code: 'VALIDATION_FAILED' })).toBe(false);
  });
});
