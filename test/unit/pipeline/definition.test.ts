import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { approvalGate, childPipeline, definePipeline, fanOut, item, output, param } from '../../../src/pipeline/definition.js';
import { validateCatalog } from '../../../src/pipeline/catalog.js';
import { defineStep } from '../../../src/pipeline/step.js';

const load = defineStep({
  name: 'load',
  input: z.object({ rows: z.number().optional() }),
  output: z.object({ datasetId: z.string(), rows: z.array(z.object({ name: z.string() })) }),
  run: async () => ({ datasetId: 'd', rows: [] }),
});
const train = defineStep({
  name: 'train',
  input: z.object({ datasetId: z.string().optional(), segment: z.string().optional() }),
  output: z.object({ modelId: z.string(), auc: z.number() }),
  run: async () => ({ modelId: 'm', auc: 0.5 }),
});
const params = z.object({ rows: z.number().default(10) });

// The refusals below write references by hand (output(...), param(...)): typed references cannot
// name a step, an output or a parameter that does not exist, but a spec is plain data and is checked
// as such whatever made it.

describe('definePipeline', () => {
  it('infers dependencies from consumed outputs and keeps declared ones', () => {
    const pipeline = definePipeline({
      name: 'p',
      params,
      steps: (p) => {
        const loaded = load.step('load', { rows: p.rows });
        return [loaded, load.step('reference', {}), train.step('train', { datasetId: loaded.output.datasetId }, { after: ['reference'] })];
      },
    });
    expect(pipeline.spec.steps.map((s) => [s.name, s.after])).toEqual([
      ['load', []],
      ['reference', []],
      ['train', ['reference', 'load']],
    ]);
  });

  it('names the pipeline and the cycle', () => {
    expect(() =>
      definePipeline({
        name: 'loop',
        params,
        steps: [load.step('a', {}, { after: ['c'] }), load.step('b', {}, { after: ['a'] }), load.step('c', {}, { after: ['b'] })],
      }),
    ).toThrow('Pipeline "loop": steps form a cycle: a -> b -> c -> a.');
  });

  it('names an unknown dependency', () => {
    expect(() => definePipeline({ name: 'p', params, steps: [load.step('a', {}, { after: ['ghost'] })] })).toThrow(
      'Pipeline "p": step "a" depends on unknown step "ghost".',
    );
  });

  it('names a step that consumes the output of a step that does not exist', () => {
    expect(() => definePipeline({ name: 'p', params, steps: [train.step('train', { datasetId: output('ghost', 'datasetId') })] })).toThrow(
      'Pipeline "p": step "train" depends on unknown step "ghost".',
    );
  });

  it('refuses duplicate step names', () => {
    expect(() => definePipeline({ name: 'p', params, steps: [load.step('a', {}), train.step('a', {})] })).toThrow('Pipeline "p": duplicate step name "a".');
  });

  it('refuses a step that depends on itself', () => {
    expect(() => definePipeline({ name: 'p', params, steps: [load.step('a', {}, { after: ['a'] })] })).toThrow('Pipeline "p": step "a" depends on itself.');
  });

  it('names an output that no upstream step produces, and what it does produce', () => {
    expect(() =>
      definePipeline({ name: 'p', params, steps: [load.step('load', {}), train.step('train', { datasetId: output('load', 'features') })] }),
    ).toThrow('Pipeline "p": step "train" consumes output "features" of step "load", which produces only: datasetId, rows.');
  });

  it('names a parameter the pipeline does not have', () => {
    expect(() => definePipeline({ name: 'p', params, steps: [load.step('load', { rows: param('row') })] })).toThrow(
      'Pipeline "p": step "load" refers to unknown parameter "row" (parameters: rows).',
    );
  });

  it('refuses step names that would break URLs and ids', () => {
    expect(() => definePipeline({ name: 'p', params, steps: [load.step('Load Flights', {})] })).toThrow(
      'Pipeline "p": step name "Load Flights" must start with a lowercase letter and use only letters, digits, - and _.',
    );
  });

  it('accepts fan-outs over an output, child pipelines and approval gates as first-class steps', () => {
    const pipeline = definePipeline({
      name: 'p',
      params,
      steps: () => {
        const loaded = load.step('load', {});
        return [
          loaded,
          fanOut('perSegment', { items: loaded.output.rows, each: train.each({ segment: item('name') }), concurrency: 4 }),
          approvalGate('signoff', { subject: { models: output('perSegment', 'results') }, timeout: '2 days' }),
          childPipeline('deploy', 'deploy-model', { model: output('perSegment', 'results') }, { after: ['signoff'] }),
        ];
      },
    });
    expect(pipeline.spec.steps.map((s) => [s.name, s.kind, s.after])).toEqual([
      ['load', 'activity', []],
      ['perSegment', 'fanOut', ['load']],
      ['signoff', 'approval', ['perSegment']],
      ['deploy', 'pipeline', ['signoff', 'perSegment']],
    ]);
  });

  it('refuses a fan-out without concurrency', () => {
    expect(() =>
      definePipeline({ name: 'p', params, steps: [load.step('load', {}), fanOut('f', { items: output('load', 'rows'), each: train.each({}), concurrency: 0 })] }),
    ).toThrow('Pipeline "p": fan-out step "f" needs a concurrency of at least 1.');
  });
});

describe('the pipeline catalog', () => {
  it('refuses a child pipeline that does not exist', () => {
    const parent = definePipeline({ name: 'parent', params, steps: [childPipeline('child', 'missing', {})] });
    expect(() => validateCatalog([parent])).toThrow('Pipeline "parent": step "child" runs unknown pipeline "missing".');
  });

  it('refuses pipelines that run each other in a loop', () => {
    const a = definePipeline({ name: 'a', params, steps: [childPipeline('b', 'b', {})] });
    const b = definePipeline({ name: 'b', params, steps: [childPipeline('a', 'a', {})] });
    expect(() => validateCatalog([a, b])).toThrow('Pipelines run each other in a cycle: a -> b -> a.');
  });
});
