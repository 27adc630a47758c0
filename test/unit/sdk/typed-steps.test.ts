import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { at, defineStep, eq, gt, type TypedRef } from '../../../src/pipeline/step.js';
import { approvalGate, definePipeline, fanOut, item } from '../../../src/pipeline/definition.js';

const load = defineStep({
  name: 'test.load',
  input: z.object({ source: z.string(), rows: z.number().int().positive() }),
  output: z.object({ ingestionId: z.string(), rows: z.number(), meta: z.object({ hash: z.string() }) }),
  run: async (input) => ({ ingestionId: `i-${input.source}`, rows: input.rows, meta: { hash: 'h' } }),
});

const train = defineStep({
  name: 'test.train',
  input: z.object({ ingestionId: z.string(), epochs: z.number(), hash: z.string().optional() }),
  output: z.object({ modelUri: z.string(), auc: z.number(), passed: z.boolean() }),
  run: async (input) => ({ modelUri: `m-${input.ingestionId}`, auc: 0.7, passed: true }),
});

describe('typed composition', () => {
  it('types outputs and parameters, and the compiler refuses what does not fit', () => {
    const pipeline = definePipeline({
      name: 'typed',
      params: z.object({ rows: z.coerce.number().default(10), source: z.string().default('a.csv') }),
      steps: (p) => {
        expectTypeOf(p.rows).toEqualTypeOf<TypedRef<number>>();
        const l = load.step('load', { source: p.source, rows: p.rows });
        expectTypeOf(l.output.rows).toEqualTypeOf<TypedRef<number>>();
        expectTypeOf(at(l.output.meta, 'hash')).toEqualTypeOf<TypedRef<string>>();
        // @ts-expect-error a misspelled output is a compile error
        void l.output.ingestionID;
        // @ts-expect-error a string where a number is expected is a compile error
        void load.step('bad', { source: p.source, rows: p.source });
        // @ts-expect-error a literal of the wrong type too
        void train.step('bad2', { ingestionId: l.output.ingestionId, epochs: '3' });
        const t = train.step('train', { ingestionId: l.output.ingestionId, epochs: 3, hash: at(l.output.meta, 'hash') });
        // @ts-expect-error a condition compares like with like
        void eq(t.output.passed, 'yes');
        return [l, t, load.step('again', { source: 'b.csv', rows: 5 }, { when: gt(t.output.auc, 0.6) })];
      },
    });
    expect(pipeline.spec.steps.map((s) => s.name)).toEqual(['load', 'train', 'again']);
    expect(pipeline.spec.steps[1]!.after).toEqual(['load']);
    expect(pipeline.spec.steps[2]!.after).toEqual(['train']);
    expect(pipeline.steps.map((s) => s.name).sort()).toEqual(['test.load', 'test.train']);
  });

  it('types the outputs of fan-outs, gates and whole results', () => {
    const l = load.step('load', { source: 'a', rows: 1 });
    expectTypeOf(l.result).toEqualTypeOf<TypedRef<{ ingestionId: string; rows: number; meta: { hash: string } }>>();
    const gate = approvalGate('signoff', { subject: { id: l.output.ingestionId } });
    expectTypeOf(gate.output.decision).toEqualTypeOf<TypedRef<'approved' | 'rejected'>>();
    expect(gate.output.reviewer).toEqual({ $output: { step: 'signoff', path: ['reviewer'] } });
    const fan = fanOut<{ modelUri: string }>('fit', { items: l.output.meta, each: train.each({ ingestionId: item('id'), epochs: 1 }) });
    expectTypeOf(fan.output.results).toEqualTypeOf<TypedRef<Array<{ modelUri: string }>>>();
    expect(JSON.parse(JSON.stringify(gate))).not.toHaveProperty('output');
  });

  it('keeps the spec plain data: typed refs and step links do not serialize', () => {
    const pipeline = definePipeline({
      name: 'plain',
      params: z.object({ rows: z.coerce.number().default(10) }),
      steps: (p) => [load.step('load', { source: 'a.csv', rows: p.rows })],
    });
    const json = JSON.parse(JSON.stringify(pipeline.spec));
    expect(json.steps[0]).toEqual({
      kind: 'activity',
      name: 'load',
      after: [],
      uses: 'test.load',
      version: '1',
      input: { source: 'a.csv', rows: { $param: 'rows' } },
      outputs: ['ingestionId', 'rows', 'meta'],
      cache: true,
      startToCloseTimeout: '10 minutes',
    });
  });

  it('refuses a condition on an output no upstream step produces', () => {
    expect(() =>
      definePipeline({
        name: 'bad-when',
        params: z.object({}),
        steps: [load.step('load', { source: 'a', rows: 1 }), load.step('next', { source: 'b', rows: 1 }, { when: { ref: { $output: { step: 'load', path: ['nope'] } }, op: 'truthy' } })],
      }),
    ).toThrow(/consumes output "nope" of step "load"/);
    expect(() =>
      definePipeline({
        name: 'bad-op',
        params: z.object({}),
        steps: [load.step('load', { source: 'a', rows: 1 }, { when: { ref: { $param: 'x' }, op: 'matches' } as never })],
      }),
    ).toThrow(/unknown operator "matches"/);
  });
});

describe('run-time validation', () => {
  const services = { db: {} as never, artifacts: {} as never, writeOptions: {} };
  const ctx = { runId: 'r', pipeline: 'p', step: 's', idempotencyKey: 'r/s', attempt: 1, heartbeat: () => undefined, signal: new AbortController().signal, services };

  it('names the pipeline, the step and the field of refused input', async () => {
    await expect(load.implementation.run({ source: 'a', rows: -1 }, ctx)).rejects.toThrow(/Pipeline "p", step "s" \(test\.load\): its input is refused: field "rows"/);
  });

  it('refuses output the schema refuses, naming the field', async () => {
    const broken = defineStep({
      name: 'test.broken',
      input: z.object({}),
      output: z.object({ uri: z.string() }),
      run: async () => ({ uri: 42 }) as never,
    });
    await expect(broken.implementation.run({}, ctx)).rejects.toThrow(/returned an output its schema refuses: field "uri"/);
  });

  it('passes parsed input and the worker services to run', async () => {
    expect(await load.implementation.run({ source: 'x', rows: 2 }, ctx)).toEqual({ ingestionId: 'i-x', rows: 2, meta: { hash: 'h' } });
  });
});
