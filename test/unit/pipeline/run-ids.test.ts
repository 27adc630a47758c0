/**
 * Run ids (workflow ids) a person or client gives are checked in one place, src/pipeline/runs.ts,
 * before anything reaches Temporal: `steward run --run-id`, `steward status <id>`, and startRun /
 * getRunReport (the HTTP API's POST /api/runs and GET /api/runs/:id) all refuse a 3,000-character
 * or malformed id with a ValidationError (400 at the API) naming the limit, not a 500.
 */
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { pipelines } from '../../support/projects.js';
import { ValidationError } from '../../../src/errors.js';
import { findPipeline } from '../../../src/pipeline/catalog.js';
import { checkRunId, getRunReport, MAX_RUN_ID_LENGTH, startRun } from '../../../src/pipeline/runs.js';

/** A client that fails the test if it is ever called: the refusals come first. */
const untouchable = new Proxy({} as Client, {
  get: (_target, property) => {
    throw new Error(`the Temporal client was used (${String(property)}) for an id that should have been refused`);
  },
});

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).status).toBe(400);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
};

describe('run ids', () => {
  it('accepts the ids Steward makes and ids people choose', () => {
    for (const id of ['flight-delay-summary-1a2b3c4d', 'nightly-2026-11-01T03:00:00Z', 'release-flight-delay-0f3e2d1c--deploy', 'run_42.retry@team', 'x'.repeat(MAX_RUN_ID_LENGTH)]) {
      expect(() => checkRunId(id), id).not.toThrow();
    }
  });

  it('refuses a long id with a message naming the limit, and odd characters by name', () => {
    expect(MAX_RUN_ID_LENGTH).toBe(200);
    expect(refusal(() => checkRunId('a'.repeat(3000)))).toBe('A run id is at most 200 characters; this one has 3,000 ("aaaaaaaaaaaaaaaaaaaaaaaa...").');
    expect(refusal(() => checkRunId('a'.repeat(201)))).toMatch(/^A run id is at most 200 characters; this one has 201 /);
    expect(refusal(() => checkRunId('my run/1'))).toBe('Run id "my run/1" has characters a run id may not have (" ", "/"): use letters, digits and . _ : @ - (at most 200), starting with a letter or a digit.');
    expect(refusal(() => checkRunId('-flag'))).toBe('Run id "-flag" must start with a letter or a digit: use letters, digits and . _ : @ - (at most 200), starting with a letter or a digit.');
    expect(refusal(() => checkRunId(''))).toBe('A run id must be a non-empty string, e.g. train-rain-tomorrow-1a2b3c4d.');
    expect(refusal(() => checkRunId('tab\there'))).toMatch(/"\\t"/);
  });

  it('is checked by startRun and getRunReport before Temporal is called (the API answers 400)', async () => {
    const pipeline = findPipeline(pipelines, 'flight-delay-summary');
    const long = 'r'.repeat(3000);
    await expect(startRun(untouchable, 'steward', pipeline, {}, { runId: long })).rejects.toThrow(ValidationError);
    await expect(startRun(untouchable, 'steward', pipeline, {}, { runId: long })).rejects.toThrow('A run id is at most 200 characters; this one has 3,000');
    await expect(startRun(untouchable, 'steward', pipeline, {}, { runId: '' })).rejects.toThrow(ValidationError);
    await expect(getRunReport(untouchable, long)).rejects.toThrow('A run id is at most 200 characters; this one has 3,000');
    await expect(getRunReport(untouchable, 'a;b')).rejects.toThrow('Run id "a;b" has characters a run id may not have (";")');
  });
});
