/**
 * Small pipelines and typed steps that exercise the executor's semantics. The worker in the test
 * process runs them (it registers the steps from the pipelines), so the steps record what happened
 * in `stepLog` for the tests to read. Vitest gives each test file its own module graph, so the log
 * is per file; `resetStepLog()` empties it between tests that need a clean one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { approvalGate, childPipeline, definePipeline, fanOut, item, output } from '../../src/pipeline/definition.js';
import { defineStep } from '../../src/pipeline/step.js';

export interface StepSpan {
  start: number;
  end?: number;
  cancelled?: boolean;
}

export interface StepLog {
  /** Calls per key: the step's idempotency key (`<runId>/<step>`), or `square:<x>` for fan-out items. */
  calls: Map<string, number>;
  /** The naps by label: when they started and ended, and whether they were cancelled. */
  spans: Map<string, StepSpan>;
}

/** What the test steps of this module graph did (one per test file). */
export const stepLog: StepLog = { calls: new Map(), spans: new Map() };

export function resetStepLog(): void {
  stepLog.calls.clear();
  stepLog.spans.clear();
}

const count = (key: string) => stepLog.calls.set(key, (stepLog.calls.get(key) ?? 0) + 1).get(key)!;

/** Returns its input's value. */
export const echo = defineStep({
  name: 'echo',
  input: z.object({ value: z.unknown() }),
  output: z.object({ value: z.unknown() }),
  startToCloseTimeout: '30 seconds',
  run: async (input, ctx) => {
    count(ctx.idempotencyKey);
    return { value: input.value };
  },
});

/** Sleeps `ms` (cancellably), recording its span under `label`. */
export const nap = defineStep({
  name: 'nap',
  input: z.object({ ms: z.number(), label: z.string() }),
  output: z.object({ label: z.string() }),
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  run: async (input, ctx) => {
    count(ctx.idempotencyKey);
    const span: StepSpan = { start: Date.now() };
    stepLog.spans.set(input.label, span);
    try {
      await sleep(input.ms, undefined, { signal: ctx.signal });
    } catch (error) {
      span.cancelled = true;
      throw error;
    } finally {
      span.end = Date.now();
    }
    return { label: input.label };
  },
});

/** Always fails, non-retryably, with `reason`. */
export const refuse = defineStep({
  name: 'refuse',
  input: z.object({ reason: z.string() }),
  output: z.object({}),
  run: async (input) => {
    throw new ValidationError(input.reason);
  },
});

/** Fails transiently `failures` times, then succeeds with the number of calls. */
export const flaky = defineStep({
  name: 'flaky',
  input: z.object({ failures: z.number().int() }),
  output: z.object({ calls: z.number().int() }),
  retry: { maximumAttempts: 4, initialInterval: '100 milliseconds', backoffCoefficient: 1 },
  run: async (input, ctx) => {
    const calls = count(ctx.idempotencyKey);
    if (calls <= input.failures) throw new Error(`transient fault ${calls}`);
    return { calls };
  },
});

export const range = defineStep({
  name: 'range',
  input: z.object({ n: z.number().int() }),
  output: z.object({ items: z.array(z.object({ x: z.number() })) }),
  run: async (input) => ({ items: Array.from({ length: input.n }, (_, i) => ({ x: i })) }),
});

export const square = defineStep({
  name: 'square',
  input: z.object({ x: z.number() }),
  output: z.object({ y: z.number() }),
  run: async (input) => {
    count(`square:${input.x}`);
    return { y: input.x * input.x };
  },
});

export const sum = defineStep({
  name: 'sum',
  input: z.object({ results: z.array(z.object({ y: z.number() })) }),
  output: z.object({ total: z.number() }),
  run: async (input) => ({ total: input.results.reduce((n, r) => n + r.y, 0) }),
});

const none = z.object({});

export const testPipelines = [
  definePipeline({
    name: 'diamond',
    params: z.object({ value: z.string().default('v') }),
    steps: (p) => {
      const start = echo.step('start', { value: p.value });
      const left = nap.step('left', { ms: 600, label: 'left' }, { after: ['start'], cache: false });
      const right = nap.step('right', { ms: 600, label: 'right' }, { after: ['start'], cache: false });
      const join = echo.step('join', { value: [start.output.value, left.output.label, right.output.label] }, { after: ['left', 'right'] });
      return [start, left, right, join];
    },
  }),
  definePipeline({
    name: 'fails-fast',
    params: none,
    steps: [
      echo.step('start', { value: 1 }, { cache: false }),
      refuse.step('check', { reason: 'rows 3 and 7 have no timestamp' }, { after: ['start'] }),
      nap.step('slow', { ms: 30_000, label: 'slow-sibling' }, { after: ['start'], cache: false }),
      echo.step('after', { value: 2 }, { after: ['check'] }),
    ],
  }),
  definePipeline({ name: 'flaky', params: none, steps: [flaky.step('wobbly', { failures: 2 }, { cache: false })] }),
  definePipeline({
    name: 'fan-out',
    params: z.object({ n: z.coerce.number().int().default(25) }),
    steps: (p) => {
      const items = range.step('items', { n: p.n });
      const squares = fanOut('squares', { items: items.output.items, each: square.each({ x: item('x') }), concurrency: 3, batchSize: 4 });
      // A fan-out's outputs (count, results) have no typed references: name them.
      const total = sum.step('total', { results: output('squares', 'results') });
      return [items, squares, total];
    },
  }),
  definePipeline({
    name: 'parent',
    params: none,
    steps: [childPipeline('child', 'diamond', { value: 'from-parent' }, { outputs: ['join'] }), echo.step('after', { value: output('child', 'join') })],
  }),
  definePipeline({
    name: 'gated',
    params: none,
    steps: () => {
      const candidate = echo.step('candidate', { value: 'model-7' }, { cache: false });
      return [
        candidate,
        approvalGate('signoff', { subject: { model: candidate.output.value }, timeout: '1 hour' }),
        echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
      ];
    },
  }),
  definePipeline({
    name: 'governed',
    params: z.object({ piiFeatures: z.array(z.string()).default([]) }),
    steps: (p) => {
      const candidate = echo.step('candidate', { value: 'model-7' }, { cache: false });
      return [
        candidate,
        approvalGate('signoff', {
          subject: { candidate: candidate.output.value, piiFeatures: p.piiFeatures },
          policy: { roles: { technical: 2 }, deadline: '1 hour', conditions: [{ role: 'compliance', when: { piiFeatures: true } }] },
        }),
        echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
      ];
    },
  }),
  definePipeline({
    name: 'governed-short',
    params: none,
    steps: () => {
      const candidate = echo.step('candidate', { value: 'model-8' }, { cache: false });
      return [
        candidate,
        approvalGate('signoff', { subject: { candidate: candidate.output.value }, policy: { roles: { technical: 1 }, deadline: '4 seconds', remindBefore: ['2 seconds'], escalateTo: ['lead'] } }),
        echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
      ];
    },
  }),
  definePipeline({ name: 'long', params: none, steps: [nap.step('forever', { ms: 120_000, label: 'forever' }, { cache: false })] }),
  definePipeline({
    name: 'survivor',
    params: none,
    steps: () => {
      const during = nap.step('during', { ms: 4_000, label: 'during-restart' }, { after: ['before'], cache: false });
      return [echo.step('before', { value: 'b' }, { cache: false }), during, echo.step('after', { value: during.output.label }, { cache: false })];
    },
  }),
  definePipeline({
    name: 'conditional',
    params: z.object({ go: z.string().default('go') }),
    steps: (p) => {
      const start = echo.step('start', { value: p.go }, { cache: false });
      const then = echo.step('then', { value: 'went' }, { cache: false, when: { ref: start.output.value, op: 'eq', value: 'go' } });
      return [
        start,
        then,
        echo.step('after', { value: then.output.value }, { cache: false }),
        echo.step('otherwise', { value: 'stayed' }, { cache: false, when: { ref: start.output.value, op: 'ne', value: 'go' } }),
      ];
    },
  }),
];
