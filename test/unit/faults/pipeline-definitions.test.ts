/**
 * Issue 18, pipeline definitions: malformed pipelines as authors write them (and as raw specs
 * reach validateSpec), each refused when the pipeline is defined or the catalog loads, never when a
 * run reaches the step. Every case asserts a ValidationError (not a TypeError or a stack) whose
 * message names the pipeline and the step (approval policies checked by approvalGate itself name
 * the gate, and step declarations checked by defineStep name the step: the pipeline is not known
 * yet) and says what to do instead.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../../src/errors.js';
import { validateCatalog, validateParams } from '../../../src/pipeline/catalog.js';
import {
  approvalGate,
  childPipeline,
  definePipeline,
  deployModel,
  fanOut,
  item,
  output,
  param,
  runId,
  validateSpec,
  type Pipeline,
} from '../../../src/pipeline/definition.js';
import type { ApprovalPolicy, PipelineSpec, RetrySpec, StepSpec } from '../../../src/pipeline/spec.js';
import { defineStep } from '../../../src/pipeline/step.js';

/**
 * The steps take any input: most cases below write references by hand (output(...), param(...),
 * item(...)) to name steps, outputs and parameters that do not exist or that form a cycle, which
 * typed references cannot express but a spec, being plain data, can still carry.
 */
const anything = z.record(z.string(), z.unknown());
const load = defineStep({ name: 'load', input: anything, output: z.object({ datasetId: z.string(), rows: z.array(z.unknown()) }), run: async () => ({ datasetId: 'd', rows: [] }) });
const train = defineStep({ name: 'train', input: anything, output: z.object({ modelId: z.string(), auc: z.number() }), run: async () => ({ modelId: 'm', auc: 0.5 }) });
/** A step named `load` with these options (what the activity-option cases vary). */
const loadWithOptions = (options: { version?: string; startToCloseTimeout?: string; heartbeatTimeout?: string; retry?: RetrySpec }) =>
  defineStep({ name: 'load', input: anything, output: z.object({}), run: async () => ({}), ...options });
const params = z.object({ rows: z.coerce.number().default(10) });
/** A well-formed load step to place before the steps a case gets wrong. */
const loaded = load.step('load', {});

/** A pipeline named `p` with these steps. */
const pipeline = (...steps: unknown[]) => definePipeline({ name: 'p', params, steps: steps as StepSpec[] });
/** `validateSpec` on a raw spec (what a hand-written or deserialized spec goes through). */
const raw = (steps: unknown[], name = 'p') => validateSpec({ name, description: '', steps } as PipelineSpec, ['rows']);
/** A step built by the helpers, then changed the way a JavaScript caller (or a bad cast) could. */
const loadWith = (name: string, patch: Record<string, unknown>) => ({ ...load.step(name, {}), ...patch });
const gate = (policy: unknown) => pipeline(loaded, approvalGate('signoff', { subject: loaded.output.datasetId, policy: policy as ApprovalPolicy }));

type Case = [what: string, attempt: () => unknown, says: Array<string | RegExp>];

const structure: Case[] = [
  ['no steps at all', () => pipeline(), ['Pipeline "p": has no steps.']],
  ['steps is not a list', () => definePipeline({ name: 'p', params, steps: undefined as never }), ['Pipeline "p": steps is undefined; give a list of steps']],
  [
    'a conditional step left false in the list (cond && step)',
    () => pipeline(load.step('load', {}), false),
    ['Pipeline "p": step 2 of 2 is boolean false, not a step', 'leave out conditional ones'],
  ],
  ['an undefined entry in the steps', () => pipeline(undefined), ['Pipeline "p": step 1 of 1 is undefined, not a step', 'defineStep(...).step(...)']],
  ['a step of an unknown kind', () => pipeline({ kind: 'shell', name: 'run', after: [] }), ['Pipeline "p": step 1 of 1 ("run") is of unknown kind "shell", not a step']],
  ['after given as a string instead of a list', () => pipeline(load.step('a', {}), load.step('b', {}, { after: 'a' as never })), ['Pipeline "p": step "b" has after: "a"; after is a list of step names']],
];

const names: Case[] = [
  ['an empty step name', () => pipeline(load.step('', {})), ['Pipeline "p": step name "" is empty; name every step']],
  ['a step name with spaces', () => pipeline(load.step('load flights', {})), ['Pipeline "p": step name "load flights" must start with a lowercase letter and use only letters, digits, - and _.']],
  [
    'a step name of 10,000 characters',
    () => pipeline(load.step('a'.repeat(10_000), {})),
    [`Pipeline "p": step name "${'a'.repeat(60)}..." (10000 characters) has 10000 characters; step names are at most 64`],
  ],
  ['a step name with a control character (BEL)', () => pipeline(load.step('load\u0007', {})), ['Pipeline "p": step name "load\\u0007" must start with a lowercase letter']],
  ['a step name with a bidi override', () => pipeline(load.step('\u202Eload', {})), ['Pipeline "p": step name "\\u202eload" must start with a lowercase letter']],
  ['a step name with a zero-width space', () => pipeline(load.step('lo\u200Bad', {})), ['step name "lo\\u200bad" must start with a lowercase letter']],
  ['the step name "__proto__"', () => pipeline(load.step('__proto__', {})), ['Pipeline "p": step name "__proto__" must start with a lowercase letter']],
  ['the step name "constructor"', () => pipeline(load.step('constructor', {})), ['Pipeline "p": step name "constructor" is reserved', 'choose another name']],
  ['the step name "toString"', () => pipeline(load.step('toString', {})), ['Pipeline "p": step name "toString" is reserved']],
  ['a step name starting with a capital', () => pipeline(load.step('Load', {})), ['Pipeline "p": step name "Load" must start with a lowercase letter']],
  ['a step name with "--", the child workflow id separator', () => pipeline(load.step('fit--0', {})), ['Pipeline "p": step name "fit--0" must not contain "--"']],
  ['a step name that is not a string (raw spec)', () => raw([loadWith('x', { name: 7 })]), ['Pipeline "p": step name number 7 is not a string; name every step']],
  ['an empty pipeline name', () => definePipeline({ name: '', params, steps: [load.step('load', {})] }), ['Pipeline "": the pipeline name is empty; name every pipeline']],
  ['a pipeline name with spaces', () => definePipeline({ name: 'train model', params, steps: [load.step('load', {})] }), ['Pipeline "train model": the pipeline name must start with a lowercase letter']],
  [
    'a pipeline name of 10,000 characters',
    () => definePipeline({ name: 'p'.repeat(10_000), params, steps: [load.step('load', {})] }),
    [`Pipeline "${'p'.repeat(60)}..." (10000 characters): the pipeline name has 10000 characters; pipeline names are at most 64`],
  ],
  ['a pipeline name with a newline', () => definePipeline({ name: 'train\nmodel', params, steps: [load.step('load', {})] }), ['Pipeline "train\\nmodel": the pipeline name must start']],
  ['the pipeline name "constructor"', () => definePipeline({ name: 'constructor', params, steps: [load.step('load', {})] }), ['Pipeline "constructor": the pipeline name is reserved']],
];

const dependencies: Case[] = [
  ['two steps with one name', () => pipeline(load.step('a', {}), train.step('a', {})), ['Pipeline "p": duplicate step name "a".', 'rename one']],
  ['a gate named like an activity step', () => pipeline(load.step('check', {}), approvalGate('check', { subject: 'x' })), ['Pipeline "p": duplicate step name "check".']],
  ['a step after itself', () => pipeline(load.step('a', {}, { after: ['a'] })), ['Pipeline "p": step "a" depends on itself.', 'Remove "a" from its after list']],
  ['a step consuming its own output', () => pipeline(train.step('train', { previous: output('train', 'modelId') })), ['Pipeline "p": step "train" depends on itself.']],
  ['after names an unknown step', () => pipeline(load.step('a', {}), load.step('b', {}, { after: ['ghost'] })), ['Pipeline "p": step "b" depends on unknown step "ghost". Steps of this pipeline: a, b.']],
  ['an output of a step that does not exist', () => pipeline(train.step('train', { datasetId: output('lod', 'datasetId') })), ['Pipeline "p": step "train" depends on unknown step "lod".']],
  ['a two-step cycle through after', () => pipeline(load.step('a', {}, { after: ['b'] }), load.step('b', {}, { after: ['a'] })), ['Pipeline "p": steps form a cycle: a -> b -> a.', 'Remove one of these dependencies']],
  [
    'a three-step cycle through outputs',
    () => pipeline(train.step('a', { x: output('c', 'auc') }), train.step('b', { x: output('a', 'auc') }), train.step('c', { x: output('b', 'auc') })),
    ['Pipeline "p": steps form a cycle: a -> b -> c -> a.'],
  ],
  [
    'a cycle through a fan-out and a gate',
    () =>
      pipeline(
        load.step('load', { after: output('signoff', 'decision') }),
        fanOut('fit', { items: output('load', 'rows'), each: train.each({ x: item('x') }) }),
        approvalGate('signoff', { subject: output('fit', 'results') }),
      ),
    ['Pipeline "p": steps form a cycle: load -> fit -> signoff -> load.'],
  ],
  ['an output the producer does not declare', () => pipeline(load.step('load', {}), train.step('train', { x: output('load', 'features') })), ['Pipeline "p": step "train" consumes output "features" of step "load", which produces only: datasetId, rows.']],
  [
    'a policy-only output of an open approval gate',
    () => pipeline(approvalGate('signoff', { subject: 'x' }), load.step('after', { id: output('signoff', 'approvalId') })),
    ['Pipeline "p": step "after" consumes output "approvalId" of step "signoff", which produces only: decision, reviewer, comment, decidedAt.'],
  ],
  [
    'an output a fan-out does not have',
    () => pipeline(loaded, fanOut('fit', { items: loaded.output.rows, each: train.each({}) }), train.step('best', { x: output('fit', 'items') })),
    ['Pipeline "p": step "best" consumes output "items" of step "fit", which produces only: count, results.'],
  ],
  [
    'an output a deployment does not have',
    () => pipeline(deployModel('deploy', { model: 'm', version: 1, strategy: 'canary' }), load.step('next', { url: output('deploy', 'url') })),
    ['Pipeline "p": step "next" consumes output "url" of step "deploy", which produces only: deploymentId, status, outcome, model, candidate, stable.'],
  ],
];

const parameters: Case[] = [
  ['an unknown parameter', () => pipeline(load.step('load', { rows: param('row') })), ['Pipeline "p": step "load" refers to unknown parameter "row" (parameters: rows). Add it to params']],
  ['an empty parameter name', () => pipeline(load.step('load', { rows: param('') })), ['Pipeline "p": step "load" refers to unknown parameter ""']],
  [
    'an unknown parameter as fan-out items',
    () => pipeline(fanOut('fit', { items: param('segments'), each: train.each({}) })),
    ['Pipeline "p": step "fit" refers to unknown parameter "segments" (parameters: rows)'],
  ],
  [
    'params that are not a zod schema',
    () => definePipeline({ name: 'p', params: { rows: 10 } as never, steps: [load.step('load', {})] }),
    ['Pipeline "p": params is an object, not a schema; declare the parameters with zod', 'z.object({})'],
  ],
  ['params left out', () => definePipeline({ name: 'p', params: undefined as never, steps: [load.step('load', {})] }), ['Pipeline "p": params is undefined, not a schema']],
  [
    'a default its own schema refuses',
    () => definePipeline({ name: 'p', params: z.object({ rows: z.coerce.number().min(1).default(0) }), steps: [load.step('load', {})] }),
    ['Pipeline "p": the default of parameter "rows" is number 0, which its own schema refuses', 'change the default or the schema'],
  ],
  [
    'a default outside its enum',
    () => definePipeline({ name: 'p', params: z.object({ mode: z.enum(['fast', 'full']).default('quick' as never) }), steps: [load.step('load', {})] }),
    ['Pipeline "p": the default of parameter "mode" is "quick", which its own schema refuses'],
  ],
];

const references: Case[] = [
  ['item() outside a fan-out', () => pipeline(load.step('load', { segment: item('name') })), ['Pipeline "p": step "load" uses item("name") outside a fan-out\'s per-item input']],
  [
    'item() as the fan-out items themselves',
    () => pipeline(fanOut('fit', { items: item('list'), each: train.each({}) })),
    ['Pipeline "p": step "fit" uses item("list") outside a fan-out\'s per-item input'],
  ],
  ['a run field that does not exist (raw spec)', () => raw([loadWith('load', { input: { at: { $run: 'yesterday' } } })]), ['Pipeline "p": step "load" refers to run field "yesterday"; use runId or scheduledAt']],
  [
    'fan-out items given as a literal list (raw spec)',
    () => raw([{ ...fanOut('fit', { items: runId, each: train.each({}) }), items: [1, 2, 3] }]),
    ['Pipeline "p": fan-out step "fit" takes its items from an array (3 entries); items is output(', "or param('<name>')"],
  ],
  [
    'fan-out items from the run id',
    () => pipeline(fanOut('fit', { items: runId, each: train.each({}) })),
    ['Pipeline "p": fan-out step "fit" takes its items from an object; items is output(\'<step>\', \'<field>\')'],
  ],
];

const fanOuts: Case[] = [
  ...([0, -1, 1.5, Number.NaN] as const).map(
    (concurrency): Case => [
      `a fan-out with concurrency ${concurrency}`,
      () => pipeline(loaded, fanOut('fit', { items: loaded.output.rows, each: train.each({}), concurrency })),
      [`Pipeline "p": fan-out step "fit" needs a concurrency of at least 1. Got number ${concurrency}: give a whole number such as 10.`],
    ],
  ),
  ...([0, -5, 2.5, Number.POSITIVE_INFINITY] as const).map(
    (batchSize): Case => [
      `a fan-out with batchSize ${batchSize}`,
      () => pipeline(loaded, fanOut('fit', { items: loaded.output.rows, each: train.each({}), batchSize })),
      [`Pipeline "p": fan-out step "fit" needs a batchSize (items per child workflow) of at least 1, got number ${batchSize}; give a whole number such as 200.`],
    ],
  ),
  [
    "a fan-out's per-item step with a bad timeout",
    () =>
      pipeline(
        loaded,
        fanOut('fit', {
          items: loaded.output.rows,
          each: defineStep({ name: 'fit', input: anything, output: z.object({ y: z.number() }), startToCloseTimeout: 'a while', run: async () => ({ y: 1 }) }).each({}),
        }),
      ),
    ['Pipeline "p": step "fit"\'s per-item step has startToCloseTimeout "a while", which is not a duration'],
  ],
];

const approvals: Case[] = [
  ['a negative quorum', () => gate({ roles: { technical: -1 } }), ['Approval gate "signoff": role "technical" needs a quorum of at least 1, got -1.']],
  ['a quorum of Infinity', () => gate({ roles: { technical: Number.POSITIVE_INFINITY } }), ['Approval gate "signoff": role "technical" needs a quorum of at least 1, got Infinity.']],
  ['no roles', () => gate({ roles: {} }), ['Approval gate "signoff": the policy requires no role; name at least one, e.g. roles: { technical: 1 }.']],
  ['roles given as a list', () => gate({ roles: ['technical'] }), ['Approval gate "signoff": roles is an array (1 entries); name each role and its quorum']],
  ['a policy that is a string', () => gate('strict'), ['Approval gate "signoff": the policy is "strict"; write e.g. policy: { roles: { technical: 1 }']],
  ['a deadline that is not a duration', () => gate({ roles: { technical: 1 }, deadline: 'next week' }), ['Approval gate "signoff": "next week" is not a duration; write e.g. \'3 days\'']],
  ['a deadline of zero', () => gate({ roles: { technical: 1 }, deadline: '0 days' }), ['Approval gate "signoff": "0 days" is not a duration']],
  ['a reminder that is not a duration', () => gate({ roles: { technical: 1 }, remindBefore: ['the day before'] }), ['Approval gate "signoff": "the day before" is not a duration']],
  ['remindBefore as a string', () => gate({ roles: { technical: 1 }, remindBefore: '1 day' }), ['Approval gate "signoff": remindBefore is "1 day"; give a list of durations']],
  [
    'an unknown condition',
    () => gate({ roles: { technical: 1 }, conditions: [{ role: 'finance', when: { gpuHours: 5 } }] }),
    ['Approval gate "signoff": condition 1 (role "finance") has an unknown condition {"gpuHours":5}; a condition is when: { piiFeatures: true } or when: { fairnessGapAbove:'],
  ],
  [
    'a fairness threshold that is not a number',
    () => gate({ roles: { technical: 1 }, conditions: [{ role: 'ethics', when: { fairnessGapAbove: 'high' } }] }),
    ['Approval gate "signoff": condition 1 (role "ethics") has an unknown condition {"fairnessGapAbove":"high"}'],
  ],
  ['piiFeatures: false as a condition', () => gate({ roles: { technical: 1 }, conditions: [{ role: 'compliance', when: { piiFeatures: false } }] }), ['condition 1 (role "compliance") has an unknown condition {"piiFeatures":false}']],
  ['a condition without when', () => gate({ roles: { technical: 1 }, conditions: [{ role: 'compliance' }] }), ['condition 1 (role "compliance") has an unknown condition undefined']],
  ['a role name with a capital and a space', () => gate({ roles: { 'Tech Lead': 1 } }), ['Approval gate "signoff": role "Tech Lead" must be lowercase letters, digits, - or _']],
  ['escalation to a malformed role', () => gate({ roles: { technical: 1 }, escalateTo: ['Compliance Team'] }), ['Approval gate "signoff": escalateTo names role "Compliance Team", which must be lowercase']],
  ['onDeadline other than reject', () => gate({ roles: { technical: 1 }, onDeadline: 'approve' }), ["Approval gate \"signoff\": onDeadline can only be 'reject'."]],
  ['separationOfDuties as a string', () => gate({ roles: { technical: 1 }, separationOfDuties: 'yes' }), ['Approval gate "signoff": separationOfDuties must be true or false, got "yes".']],
  [
    'an open gate waiting "forever"',
    () => pipeline(approvalGate('signoff', { subject: 'x', timeout: 'forever' })),
    ['Pipeline "p": approval gate "signoff" waits "forever", which is not a duration; write e.g. timeout: \'7 days\'.'],
  ],
  [
    'a raw spec whose gate has a bad policy names the pipeline too',
    () => raw([{ kind: 'approval', name: 'signoff', after: [], subject: 'x', timeout: '1 day', outputs: [], policy: { roles: { technical: 0 } } }]),
    ['Pipeline "p": Approval gate "signoff": role "technical" needs a quorum of at least 1, got 0.'],
  ],
];

const activityOptions: Case[] = [
  ['a timeout in words', () => pipeline(loadWithOptions({ startToCloseTimeout: 'ten minutes' }).step('load', {})), ['Pipeline "p": step "load" has startToCloseTimeout "ten minutes", which is not a duration']],
  ['a heartbeat timeout of zero', () => pipeline(loadWithOptions({ heartbeatTimeout: '0 seconds' }).step('load', {})), ['Pipeline "p": step "load" has heartbeatTimeout "0 seconds", which is not a duration']],
  ['maximumAttempts 0 (Temporal: unlimited)', () => pipeline(loadWithOptions({ retry: { maximumAttempts: 0 } }).step('load', {})), ['Pipeline "p": step "load" has retry.maximumAttempts number 0; give a whole number of at least 1 (1 means no retry']],
  ['maximumAttempts -1', () => pipeline(loadWithOptions({ retry: { maximumAttempts: -1 } }).step('load', {})), ['step "load" has retry.maximumAttempts number -1']],
  ['an initial interval that is not a duration', () => pipeline(loadWithOptions({ retry: { initialInterval: 'soon' } }).step('load', {})), ['Pipeline "p": step "load" has retry.initialInterval "soon", which is not a duration']],
  ['a backoff coefficient below 1', () => pipeline(loadWithOptions({ retry: { backoffCoefficient: 0.5 } }).step('load', {})), ['Pipeline "p": step "load" has retry.backoffCoefficient number 0.5; it is a number of at least 1']],
  ['a misspelt retry option', () => pipeline(loadWithOptions({ retry: { maxAttempts: 3 } as never }).step('load', {})), ['Pipeline "p": step "load" has unknown retry option(s) "maxAttempts"; retry takes maximumAttempts']],
  ['non-retryable types as a string', () => pipeline(loadWithOptions({ retry: { nonRetryableErrorTypes: 'VALIDATION_FAILED' as never } }).step('load', {})), ['step "load" has retry.nonRetryableErrorTypes "VALIDATION_FAILED"; it is a list']],
  ['cache: "no"', () => pipeline(load.step('load', {}, { cache: 'no' as never })), ['Pipeline "p": step "load" has cache: "no"; cache is true or false.']],
  // defineStep refuses an empty name itself (see "step declarations"); a raw spec can still carry one.
  ['an empty implementation name (raw spec)', () => raw([loadWith('load', { uses: '' })]), ['Pipeline "p": step "load" uses implementation ""']],
  ['an empty version', () => pipeline(loadWithOptions({ version: '' }).step('load', {})), ['Pipeline "p": step "load" has version ""; a version is a non-empty string']],
];

/** What defineStep refuses before any pipeline uses the step (it names the step; no pipeline is known yet). */
const declare = (declaration: Record<string, unknown>) => defineStep({ name: 'load', input: anything, output: z.object({}), run: async () => ({}), ...declaration } as never);
const stepDeclarations: Case[] = [
  ['an empty step name', () => declare({ name: '' }), ['defineStep(""): a step name starts with a letter and uses letters, digits']],
  ['a step name with a space', () => declare({ name: 'train model' }), ['defineStep("train model"): a step name starts with a letter', "e.g. name: 'trainModel'"]],
  ['a step name that is not a string', () => declare({ name: 7 }), ['defineStep(7): a step name starts with a letter']],
  ['a step name of 65 characters', () => declare({ name: 'a'.repeat(65) }), ['a step name starts with a letter', '(at most 64)']],
  ['an input that is not a zod schema', () => declare({ input: { rows: 'number' } }), ['defineStep("load"): input is not a zod schema; write e.g. input: z.object(']],
  ['an output that is not an object schema', () => declare({ output: z.array(z.string()) }), ['defineStep("load"): output must be a zod object', 'so each output has a name']],
  ['an output given as a list of names (the old outputs option)', () => declare({ output: ['datasetId', 'rows'] }), ['defineStep("load"): output must be a zod object']],
  ['no run function', () => declare({ run: undefined }), ['defineStep("load"): run is not a function.']],
];

const parent = (name: string, childParams: Parameters<typeof childPipeline>[2], child = 'child'): Pipeline => definePipeline({ name, params, steps: [childPipeline('train', child, childParams)] });
const child = definePipeline({ name: 'child', params: z.object({ rows: z.coerce.number().int().positive(), source: z.string().default('vega') }), steps: [load.step('load', {})] });

const catalogs: Case[] = [
  ['a child pipeline that does not exist', () => validateCatalog([parent('parent', {}, 'chlid'), child]), ['Pipeline "parent": step "train" runs unknown pipeline "chlid". Known pipelines: parent, child.']],
  ['a child pipeline with an empty name', () => parent('parent', {}, ''), ['Pipeline "parent": step "train" runs pipeline ""; name the child pipeline.']],
  [
    'a parameter the child does not take',
    () => validateCatalog([parent('parent', { rows: param('rows'), rowz: 5 }), child]),
    ['Pipeline "parent": step "train" runs pipeline "child" with parameter "rowz", which that pipeline does not take (it takes: rows, source).'],
  ],
  [
    'a required child parameter left out',
    () => validateCatalog([parent('parent', { source: 'x' }), child]),
    ['Pipeline "parent": step "train" runs pipeline "child" without parameter "rows", which that pipeline requires; pass it, e.g. rows: param(\'rows\').'],
  ],
  [
    'a literal the child schema refuses',
    () => validateCatalog([parent('parent', { rows: -3 }), child]),
    ['Pipeline "parent": step "train" runs pipeline "child" with rows=-3, which its schema refuses: Too small'],
  ],
  ['child parameters as a string', () => validateCatalog([parent('parent', 'rows=5'), child]), ['Pipeline "parent": step "train" runs pipeline "child" with parameters "rows=5"; pass an object of its parameters']],
  [
    'pipelines that run each other',
    () => validateCatalog([definePipeline({ name: 'a', params, steps: [childPipeline('b', 'b', {})] }), definePipeline({ name: 'b', params, steps: [childPipeline('a', 'a', {})] })]),
    ['Pipelines run each other in a cycle: a -> b -> a.'],
  ],
  ['a pipeline that runs itself', () => validateCatalog([definePipeline({ name: 'a', params, steps: [childPipeline('again', 'a', {})] })]), ['Pipelines run each other in a cycle: a -> a.']],
  ['two pipelines with one name', () => validateCatalog([child, child]), ['Two pipelines are named "child".']],
];

const runParameters: Case[] = [
  ['a parameter of the wrong type', () => validateParams(child, { rows: 'many' }), ['Invalid parameters for pipeline "child": rows: Invalid input: expected number, received NaN.']],
  ['a parameter the pipeline does not have', () => validateParams(child, { rows: '5', rowz: '5' }), ['Invalid parameters for pipeline "child": (params): Unrecognized key: "rowz".']],
  ['a required parameter left out', () => validateParams(child, {}), ['Invalid parameters for pipeline "child": rows: Invalid input: expected number, received NaN.']],
];

function refusal(attempt: () => unknown): ValidationError {
  try {
    attempt();
  } catch (error) {
    // Not a TypeError from reading a malformed definition: a refusal the author can act on.
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('the definition was accepted');
}

describe.each([
  ['structure', structure],
  ['names', names],
  ['dependencies', dependencies],
  ['parameters', parameters],
  ['references', references],
  ['fan-outs', fanOuts],
  ['approval gates', approvals],
  ['activity options', activityOptions],
  ['step declarations', stepDeclarations],
  ['child pipelines and the catalog', catalogs],
  ['run parameters', runParameters],
])('malformed pipeline definitions: %s', (_group, cases) => {
  it.each(cases)('refuses %s', (_what, attempt, says) => {
    const { message } = refusal(attempt);
    for (const part of says) {
      if (typeof part === 'string') expect(message).toContain(part);
      else expect(message).toMatch(part);
    }
    // Readable in a terminal: one line, no raw control characters, long names cut.
    expect(message).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(message.length).toBeLessThan(600);
  });
});

describe('well-formed definitions next to the malformed ones', () => {
  it('still accepts every shape the refusals above are variations of', () => {
    const ok = definePipeline({
      name: 'good-pipeline',
      params: z.object({ rows: z.coerce.number().int().positive().default(10) }),
      steps: (p) => {
        const source = defineStep({
          name: 'load',
          input: z.object({ rows: z.number(), run: z.string() }),
          output: z.object({ rows: z.array(z.object({ x: z.number() })) }),
          run: async ({ rows }) => ({ rows: Array.from({ length: rows }, (_, x) => ({ x })) }),
          startToCloseTimeout: '90 minutes',
          heartbeatTimeout: '30s',
          retry: { maximumAttempts: 1, initialInterval: '100 ms', backoffCoefficient: 1, nonRetryableErrorTypes: ['X'] },
        }).step('load', { rows: p.rows, run: runId });
        return [
          source,
          fanOut('fit', { items: source.output.rows, each: train.each({ x: item('x') }), concurrency: 1, batchSize: 1 }),
          approvalGate('signoff', {
            subject: output('fit', 'results'),
            policy: { roles: { technical: 2 }, deadline: '3 days', remindBefore: ['1 day'], escalateTo: ['lead'], conditions: [{ role: 'ethics', when: { fairnessGapAbove: 0.1 } }, { role: 'compliance', quorum: 2, when: { piiFeatures: true } }] },
          }),
          childPipeline('child', 'child', { rows: p.rows }, { after: ['signoff'] }),
        ];
      },
    });
    expect(() => validateCatalog([ok, child])).not.toThrow();
    expect(ok.spec.steps.map((s) => [s.name, s.after])).toEqual([
      ['load', []],
      ['fit', ['load']],
      ['signoff', ['fit']],
      ['child', ['signoff']],
    ]);
  });
});
