/**
 * Small pipelines and step implementations that exercise the executor's semantics. The worker in
 * the test process runs them, so the steps record what happened in memory for the tests to read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { approvalGate, childPipeline, definePipeline, defineStep, fanOut, item, output, param } from '../../src/pipeline/definition.js';
import type { StepImplementations } from '../../src/pipeline/step-runtime.js';

export interface StepLog {
  calls: Map<string, number>;
  spans: Map<string, { start: number; end?: number; cancelled?: boolean }>;
}

export function createTestSteps(log: StepLog): StepImplementations {
  const count = (key: string) => log.calls.set(key, (log.calls.get(key) ?? 0) + 1).get(key)!;
  return {
    echo: { run: async (input: { value: unknown }, ctx) => (count(ctx.idempotencyKey), { value: input.value }) },
    nap: {
      run: async (input: { ms: number; label: string }, ctx) => {
        count(ctx.idempotencyKey);
        const span: { start: number; end?: number; cancelled?: boolean } = { start: Date.now() };
        log.spans.set(input.label, span);
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
    },
    refuse: {
      run: async (input: { reason: string }) => {
        throw new ValidationError(input.reason);
      },
    },
    flaky: {
      run: async (input: { failures: number }, ctx) => {
        const calls = count(ctx.idempotencyKey);
        if (calls <= input.failures) throw new Error(`transient fault ${calls}`);
        return { calls };
      },
    },
    range: { run: async (input: { n: number }) => ({ items: Array.from({ length: input.n }, (_, i) => ({ x: i })) }) },
    square: { run: async (input: { x: number }, ctx) => (count(`square:${input.x}`), void ctx, { y: input.x * input.x }) },
    sum: { run: async (input: { results: Array<{ y: number }> }) => ({ total: input.results.reduce((n, r) => n + r.y, 0) }) },
  };
}

const echo = defineStep({ uses: 'echo', outputs: ['value'], startToCloseTimeout: '30 seconds' });
const nap = defineStep({ uses: 'nap', outputs: ['label'], startToCloseTimeout: '1 minute', heartbeatTimeout: '10 seconds' });
const refuse = defineStep({ uses: 'refuse', outputs: [] });
const flaky = defineStep({ uses: 'flaky', outputs: ['calls'], retry: { maximumAttempts: 4, initialInterval: '100 milliseconds', backoffCoefficient: 1 } });
const range = defineStep({ uses: 'range', outputs: ['items'] });
const square = defineStep({ uses: 'square', outputs: ['y'] });
const sum = defineStep({ uses: 'sum', outputs: ['total'] });
const none = z.object({});

export const testPipelines = [
  definePipeline({
    name: 'diamond',
    params: z.object({ value: z.string().default('v') }),
    steps: [
      echo.step('start', { value: param('value') }),
      nap.step('left', { ms: 600, label: 'left' }, { after: ['start'], cache: false }),
      nap.step('right', { ms: 600, label: 'right' }, { after: ['start'], cache: false }),
      echo.step('join', { value: [output('start', 'value'), output('left', 'label'), output('right', 'label')] }, { after: ['left', 'right'] }),
    ],
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
    steps: [
      range.step('items', { n: param('n') }),
      fanOut('squares', { items: output('items', 'items'), each: square.each({ x: item('x') }), concurrency: 3, batchSize: 4 }),
      sum.step('total', { results: output('squares', 'results') }),
    ],
  }),
  definePipeline({
    name: 'parent',
    params: none,
    steps: [childPipeline('child', 'diamond', { value: 'from-parent' }, { outputs: ['join'] }), echo.step('after', { value: output('child', 'join') })],
  }),
  definePipeline({
    name: 'gated',
    params: none,
    steps: [
      echo.step('candidate', { value: 'model-7' }, { cache: false }),
      approvalGate('signoff', { subject: { model: output('candidate', 'value') }, timeout: '1 hour' }),
      echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
    ],
  }),
  definePipeline({
    name: 'governed',
    params: z.object({ piiFeatures: z.array(z.string()).default([]) }),
    steps: [
      echo.step('candidate', { value: 'model-7' }, { cache: false }),
      approvalGate('signoff', {
        subject: { candidate: output('candidate', 'value'), piiFeatures: param('piiFeatures') },
        policy: { roles: { technical: 2 }, deadline: '1 hour', conditions: [{ role: 'compliance', when: { piiFeatures: true } }] },
      }),
      echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
    ],
  }),
  definePipeline({
    name: 'governed-short',
    params: none,
    steps: [
      echo.step('candidate', { value: 'model-8' }, { cache: false }),
      approvalGate('signoff', { subject: { candidate: output('candidate', 'value') }, policy: { roles: { technical: 1 }, deadline: '4 seconds', remindBefore: ['2 seconds'], escalateTo: ['lead'] } }),
      echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
    ],
  }),
  definePipeline({ name: 'long', params: none, steps: [nap.step('forever', { ms: 120_000, label: 'forever' }, { cache: false })] }),
  definePipeline({
    name: 'survivor',
    params: none,
    steps: [
      echo.step('before', { value: 'b' }, { cache: false }),
      nap.step('during', { ms: 4_000, label: 'during-restart' }, { after: ['before'], cache: false }),
      echo.step('after', { value: output('during', 'label') }, { cache: false }),
    ],
  }),
];
