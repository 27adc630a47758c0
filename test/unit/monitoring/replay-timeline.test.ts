import { describe, expect, it } from 'vitest';
import { failedChallengeOutcome, replayTimelineHtml, type ReplayWeek } from '../../../examples/flight-delay/demo/drift.js';
import type { RunState, StepState } from '../../../src/contracts.js';

const week = (n: number, over: Partial<ReplayWeek> = {}): ReplayWeek => ({
  week: n,
  runId: `drift-replay-m-2001-03-${n}`,
  from: `2001-03-${String(n * 7 - 6).padStart(2, '0')}`,
  to: `2001-03-${String(n * 7 + 1).padStart(2, '0')}`,
  champion: 1,
  rows: 2000,
  datasetDrift: false,
  predictionDrift: false,
  driftedColumns: [],
  driftShare: 0,
  seasonalColumns: ['month'],
  rocAuc: 0.7,
  validationRocAuc: 0.72,
  decayed: false,
  decision: 'hold',
  reasons: ['No trigger fired.'],
  challenge: null,
  ...over,
});

describe('the drift replay’s timeline', () => {
  it('draws ROC AUC and drifted share per week, marks drift, decay and challenges, and lists every week', () => {
    const html = replayTimelineHtml('flight-delay-replay', [
      week(1),
      week(2, { datasetDrift: true, driftedColumns: ['month', 'hour', 'distance', 'originDelay7d'], driftShare: 0.5, decayed: true, rocAuc: 0.6, decision: 'retrain', challenge: { runId: 'r-challenge', outcome: 'promoted', version: 2, detail: 'v2 promoted to champion', traffic: { sent: 4_000, failed: 0 } } }),
      week(3, { champion: 2, rocAuc: null, decayed: null, challenge: { runId: 'x', outcome: 'stopped', version: null, detail: 'Challenger <b>v3</b> is not better', traffic: null } }),
      week(4, { champion: 2, challenge: { runId: 'y', outcome: 'rolled_back', version: null, detail: 'Deployment y--deploy of m v4 was rolled back: analysis failed', traffic: { sent: 900, failed: 0 } } }),
    ]);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)).toHaveLength(1);
    expect(html.match(/<polyline /g)).toHaveLength(3);
    expect(html).toContain('<circle ');
    expect(html).toContain('stroke="#54a24b"');
    expect(html).toContain('stroke="#9d755d"');
    expect(html).toContain('stroke="#b279a2"');
    expect(html).toContain('Challenger &lt;b&gt;v3&lt;/b&gt; is not better');
    expect(html).not.toMatch(/<script|<b>/);
    expect(html.match(/<tr><td>/g)).toHaveLength(4);
    expect(html).toContain('<td>month (seasonal), hour, distance, originDelay7d (dataset drift)</td>');
    // The orange line is the counted share: 0 in week 1, 0.5 in week 2 (y = 24 + 180 - v * 180).
    expect(html).toMatch(/stroke="#f58518" stroke-width="2" points="46\.0,204\.0 278\.7,114\.0 /);
  });
});

describe('how the replay reads a challenge run that failed', () => {
  const step = (name: string, kind: StepState['kind'], status: StepState['status'], output?: Record<string, unknown>): StepState => ({ name, kind, status, after: [], ...(output ? { output } : {}) });
  const run = (...steps: StepState[]): RunState => ({ pipeline: 'challenge-flight-delay', status: 'failed', steps });

  it('calls it rolled back only when its deployment step says so, from the run state the failure carries', () => {
    expect(failedChallengeOutcome(run(step('compare', 'activity', 'completed'), step('deploy', 'deployment', 'failed', { status: 'rolled_back', outcome: 'analysis failed' })))).toBe('rolled_back');
    expect(failedChallengeOutcome(run(step('deploy', 'deployment', 'failed', { status: 'failed' })))).toBe('stopped');
    // Stopped at the comparison: the deployment never ran, whatever the message says.
    expect(failedChallengeOutcome(run(step('compare', 'activity', 'failed'), step('deploy', 'deployment', 'skipped')))).toBe('stopped');
    expect(failedChallengeOutcome(null)).toBe('stopped');
  });
});
