/**
 * The determinism guard: histories of representative runs (test/fixtures/histories, recorded by
 * `npm run fixtures:histories`) are replayed against the current workflow code. A change that would
 * break runs already in flight fails here; such a change goes behind patched().
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/logger.js';
import { installRuntime, workflowBundleFor } from '../../../src/app/worker.js';

// One folder per generation of workflow code; every generation must keep replaying.
const dir = new URL('../../fixtures/histories/', import.meta.url);
const fixtures = fs
  .readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.binpb'))
  .sort();

describe('replay of recorded histories', () => {
  it('has fixtures for every pipeline and step kind in the newest generation', () => {
    const generations = [...new Set(fixtures.map((f) => path.dirname(f)))].sort((a, b) => Number(a.slice(1).split('-')[0]) - Number(b.slice(1).split('-')[0]));
    const newest = fixtures.filter((f) => path.dirname(f) === generations.at(-1)).map((f) => path.basename(f));
    expect(newest).toEqual(
      expect.arrayContaining([
        'fixture-flight-delay-summary.binpb',
        'fixture-train-flight-delay.binpb',
        'fixture-fan-out--squares--0.binpb',
        'fixture-parent--child.binpb',
        'fixture-gated-approved.binpb',
        'fixture-long-cancelled.binpb',
        'fixture-conditional-stayed.binpb',
      ]),
    );
  });

  it('replays every recorded history without nondeterminism', async () => {
    installRuntime('warn');
    const workflowBundle = await workflowBundleFor(path.join(os.tmpdir(), 'steward-test-bundles'), createLogger('warn'));
    const histories = fixtures.map((file) => ({
      workflowId: path.basename(file, '.binpb'),
      history: proto.temporal.api.history.v1.History.decode(fs.readFileSync(new URL(file, dir))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'steward-replay' }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(fixtures.length);
  }, 60_000);
});
