/**
 * The authoring API: pipelines are DAGs of steps, written in TypeScript and compiled to a
 * `PipelineSpec` that the executor workflow runs.
 *
 * @example
 * const refresh = definePipeline({
 *   name: 'refresh-daily-weather',
 *   params: z.object({ path: z.string().default('vega:seattle-weather.csv') }),
 *   steps: (p) => {
 *     const load = ingestFile.step('load', { view: 'daily_weather', path: p.path });
 *     const quality = checkExpectations.step('quality', { dataset: 'feature_view:daily_weather', ingestionId: load.output.ingestionId });
 *     return [load, quality];
 *   },
 * });
 *
 * Steps are declared with `defineStep` (./step.ts); references to parameters and outputs are typed
 * there. `param()` and `output()` here are the untyped forms, for paths no type describes (a child
 * pipeline's outputs by step name).
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { stepOf, type OutputRefs, type Step, type TypedRef } from './step.js';
import {
  outputRefs,
  type ActivityStepSpec,
  isRef,
  CONDITION_OPS,
  conditionRefs,
  type ApprovalCondition,
  type ApprovalPolicy,
  type ApprovalStepSpec,
  type Condition,
  type DeploymentStepSpec,
  type FanOutStepSpec,
  type PipelineSpec,
  type PipelineStepSpec,
  type Ref,
  type RetrySpec,
  type StepSpec,
  type Template,
} from './spec.js';

export const param = (name: string): Ref => ({ $param: name });
export const output = (step: string, ...path: string[]): Ref => ({ $output: { step, path } });
export const item = (...path: string[]): Ref => ({ $item: path });
export const runId: TypedRef<string> = { $run: 'id' };
/**
 * The nominal time of the Temporal Schedule tick that started the run, as ISO 8601, or '' when no
 * schedule started it. A backfilled or late tick keeps its own time, so a scheduled window is the
 * one the tick stands for, not the one the run happened to start in.
 */
export const scheduledAt: TypedRef<string> = { $run: 'scheduledAt' };

/** Typed references to a non-activity step's outputs (hidden: the spec stays plain data). */
function withOutputs<S extends StepSpec, O>(spec: S): S & { readonly output: OutputRefs<O> } {
  Object.defineProperty(spec, 'output', {
    value: Object.fromEntries(spec.outputs.map((field) => [field, { $output: { step: spec.name, path: [field] } }])),
    enumerable: false,
  });
  return spec as S & { readonly output: OutputRefs<O> };
}

export function fanOut<R = unknown>(
  name: string,
  options: { items: Ref; each: FanOutStepSpec['each']; concurrency?: number; batchSize?: number; after?: string[]; when?: Condition },
): FanOutStepSpec & { readonly output: OutputRefs<{ count: number; results: R[] }> } {
  return withOutputs({
    ...(options.when ? { when: options.when } : {}),
    kind: 'fanOut',
    name,
    after: options.after ?? [],
    items: options.items,
    each: options.each,
    concurrency: options.concurrency ?? 10,
    batchSize: options.batchSize ?? 200,
    outputs: ['count', 'results'],
  });
}

/** Runs another pipeline as a child workflow; its outputs are the child's step outputs, by step name. */
export function childPipeline<O extends Record<string, Record<string, unknown>> = Record<string, Record<string, unknown>>>(
  name: string,
  pipeline: string,
  params: Template,
  options: { after?: string[]; outputs?: string[]; when?: Condition } = {},
): PipelineStepSpec & { readonly output: OutputRefs<O> } {
  return withOutputs({ kind: 'pipeline', name, pipeline, params, after: options.after ?? [], outputs: options.outputs ?? [], ...(options.when ? { when: options.when } : {}) });
}

/** What an approval gate outputs (a governed gate adds approvalId and the decisions). */
export interface ApprovalOutput {
  decision: 'approved' | 'rejected';
  reviewer: string;
  comment: string;
  decidedAt: string;
  approvalId: string;
  decisions: unknown[];
}

/** A human sign-off: the run waits (for days if need be) until a reviewer approves or rejects. */
export function approvalGate(
  name: string,
  options: { subject: Template; timeout?: string; after?: string[]; policy?: ApprovalPolicy; when?: Condition },
): ApprovalStepSpec & { readonly output: OutputRefs<ApprovalOutput> } {
  const policy = options.policy && checkPolicy(name, options.policy);
  return withOutputs({
    ...(options.when ? { when: options.when } : {}),
    kind: 'approval',
    name,
    subject: options.subject,
    timeout: policy?.deadline ?? options.timeout ?? '7 days',
    after: options.after ?? [],
    ...(policy ? { policy } : {}),
    outputs: policy ? ['decision', 'reviewer', 'comment', 'decidedAt', 'approvalId', 'decisions'] : ['decision', 'reviewer', 'comment', 'decidedAt'],
  });
}

/**
 * Deploys a model version to the scorer (canary, blue-green, shadow or A/B, with analysis and
 * automatic rollback) as a child workflow. `input` names at least `model`, `version` and
 * `strategy`; the run's starter is recorded as the deployer. A rollback fails the step.
 */
export function deployModel(
  name: string,
  input: Template,
  options: { after?: string[]; when?: Condition } = {},
): DeploymentStepSpec & { readonly output: OutputRefs<{ deploymentId: string; status: string; outcome: string; model: string; candidate: number; stable: number | null }> } {
  return withOutputs({ kind: 'deployment', name, input, after: options.after ?? [], outputs: ['deploymentId', 'status', 'outcome', 'model', 'candidate', 'stable'], ...(options.when ? { when: options.when } : {}) });
}

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/**
 * A duration as Temporal takes it (the `ms` format): a positive number and a unit, e.g. '30 seconds',
 * '10 minutes', '2 hours', '7 days'. Anything else would fail only when the run reaches the step.
 */
const DURATION = /^\d+(\.\d+)?\s*(ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i;

function isDuration(value: unknown): boolean {
  return typeof value === 'string' && DURATION.test(value.trim()) && Number.parseFloat(value) > 0;
}

/** A value as messages show it: strings quoted and escaped (control characters stay visible), long ones cut. */
function shown(value: unknown): string {
  if (typeof value === 'string') {
    const text = value.length > 60 ? `${value.slice(0, 60)}...` : value;
    // JSON escapes C0 controls; C1 controls, zero-widths, bidi overrides and BOMs would print invisibly or reorder the message.
    const escaped = JSON.stringify(text).replace(/[\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return value.length > 60 ? `${escaped} (${value.length} characters)` : escaped;
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array (${value.length} entries)`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function checkPolicy(gate: string, policy: ApprovalPolicy, prefix = ''): ApprovalPolicy {
  const where = `${prefix}Approval gate ${shown(gate)}`;
  const fail = (message: string): never => {
    throw new ValidationError(`${where}: ${message}`, { step: gate });
  };
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) fail(`the policy is ${shown(policy)}; write e.g. policy: { roles: { technical: 1 }, deadline: '3 days' }.`);
  const rolesGiven = policy.roles as unknown;
  if (typeof rolesGiven !== 'object' || rolesGiven === null || Array.isArray(rolesGiven)) fail(`roles is ${shown(rolesGiven)}; name each role and its quorum, e.g. roles: { technical: 1 }.`);
  const roles = Object.entries(policy.roles ?? {});
  if (roles.length === 0) fail('the policy requires no role; name at least one, e.g. roles: { technical: 1 }.');
  const conditions = (policy.conditions ?? []) as unknown;
  if (!Array.isArray(conditions)) fail(`conditions is ${shown(conditions)}; give a list, e.g. conditions: [{ role: 'compliance', when: { piiFeatures: true } }].`);
  for (const [i, condition] of (conditions as unknown[]).entries()) {
    if (typeof condition !== 'object' || condition === null) fail(`condition ${i + 1} is ${shown(condition)}; write { role, when: { piiFeatures: true } } or { role, when: { fairnessGapAbove: 0.1 } }.`);
    const when = (condition as ApprovalCondition).when as unknown;
    const keys = typeof when === 'object' && when !== null ? Object.keys(when) : [];
    const valid =
      keys.length === 1 &&
      ((keys[0] === 'piiFeatures' && (when as { piiFeatures: unknown }).piiFeatures === true) ||
        (keys[0] === 'fairnessGapAbove' && typeof (when as { fairnessGapAbove: unknown }).fairnessGapAbove === 'number' && (when as { fairnessGapAbove: number }).fairnessGapAbove >= 0 && (when as { fairnessGapAbove: number }).fairnessGapAbove < 1));
    if (!valid) {
      fail(`condition ${i + 1} (role ${shown((condition as ApprovalCondition).role)}) has an unknown condition ${JSON.stringify(when) ?? 'undefined'}; a condition is when: { piiFeatures: true } or when: { fairnessGapAbove: <a number from 0 to 1> }.`);
    }
  }
  for (const [role, quorum] of [...roles, ...(conditions as ApprovalCondition[]).map((c) => [c.role, c.quorum ?? 1] as const)]) {
    if (typeof role !== 'string' || !ROLE_NAME.test(role)) fail(`role ${shown(role)} must be lowercase letters, digits, - or _ (at most 40).`);
    if (!Number.isInteger(quorum) || (quorum as number) < 1) fail(`role ${shown(role)} needs a quorum of at least 1, got ${String(quorum)}.`);
  }
  const remindBefore = (policy.remindBefore ?? []) as unknown;
  if (!Array.isArray(remindBefore)) fail(`remindBefore is ${shown(remindBefore)}; give a list of durations, e.g. remindBefore: ['1 day'].`);
  for (const duration of [policy.deadline, ...(remindBefore as string[])]) {
    if (duration !== undefined && !isDuration(duration)) fail(`${shown(duration)} is not a duration; write e.g. '3 days', '12 hours' or '30 minutes'.`);
  }
  for (const role of (policy.escalateTo ?? []) as unknown[]) {
    if (typeof role !== 'string' || !ROLE_NAME.test(role)) fail(`escalateTo names role ${shown(role)}, which must be lowercase letters, digits, - or _ (at most 40).`);
  }
  if (policy.onDeadline !== undefined && policy.onDeadline !== 'reject') fail(`onDeadline can only be 'reject'.`);
  if (policy.separationOfDuties !== undefined && typeof policy.separationOfDuties !== 'boolean') fail(`separationOfDuties must be true or false, got ${shown(policy.separationOfDuties)}.`);
  return { separationOfDuties: true, onDeadline: 'reject', ...policy };
}

export interface Pipeline<P extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  params: P;
  spec: PipelineSpec;
  /** The typed steps its activity and fan-out steps were made from, for the worker to register. */
  steps: readonly Step[];
}

/** Typed references to a pipeline's parameters, one per field of its params schema. */
export type ParamRefs<P extends z.ZodObject> = { readonly [K in keyof z.output<P>]-?: TypedRef<z.output<P>[K]> };

export function definePipeline<P extends z.ZodObject>(definition: {
  name: string;
  description?: string;
  params: P;
  /** The steps, or a function of typed parameter references that returns them. */
  steps: StepSpec[] | ((params: ParamRefs<P>) => StepSpec[]);
}): Pipeline<P> {
  const prefix = `Pipeline ${shown(definition.name)}: `;
  if (!(definition.params instanceof z.ZodObject)) {
    throw new ValidationError(`${prefix}params is ${shown(definition.params)}, not a schema; declare the parameters with zod, e.g. params: z.object({ rows: z.coerce.number().default(1000) }), or z.object({}) for none.`, { pipeline: definition.name });
  }
  checkDefaults(prefix, definition.params);
  const steps =
    typeof definition.steps === 'function'
      ? definition.steps(Object.fromEntries(Object.keys(definition.params.shape).map((name) => [name, param(name)])) as ParamRefs<P>)
      : definition.steps;
  checkShape(definition.name, steps);
  const spec: PipelineSpec = {
    name: definition.name,
    description: definition.description ?? '',
    steps: steps.map(withInferredDependencies),
  };
  validateSpec(spec, Object.keys(definition.params.shape));
  return { name: definition.name, description: spec.description, params: definition.params, spec, steps: stepsOf(definition.name, steps) };
}

/** The distinct typed steps behind a pipeline's activity and fan-out steps; two different ones under one name are refused. */
function stepsOf(pipeline: string, steps: StepSpec[]): Step[] {
  const found = new Map<string, Step>();
  for (const spec of steps) {
    const made = spec.kind === 'activity' ? stepOf(spec) : spec.kind === 'fanOut' ? stepOf(spec.each) : undefined;
    if (!made) continue;
    const seen = found.get(made.name);
    if (seen && seen !== made) {
      throw new ValidationError(`Pipeline ${shown(pipeline)}: two different steps are named "${made.name}" (step "${spec.name}" uses the second); step names must be unique: rename one.`, { pipeline, step: spec.name });
    }
    found.set(made.name, made);
  }
  return [...found.values()];
}

/** A default the parameter's own schema refuses would only be noticed by the runs that use it. */
function checkDefaults(prefix: string, params: z.ZodObject): void {
  for (const [name, schema] of Object.entries(params.shape)) {
    if (!(schema instanceof z.ZodDefault)) continue;
    const value: unknown = schema.def.defaultValue;
    const parsed = (schema.unwrap() as z.ZodType).safeParse(value);
    if (!parsed.success) {
      throw new ValidationError(
        `${prefix}the default of parameter "${name}" is ${shown(value)}, which its own schema refuses (${parsed.error.issues.map((i) => i.message).join('; ')}); change the default or the schema.`,
        { param: name },
      );
    }
  }
}

const STEP_KINDS: ReadonlySet<string> = new Set(['activity', 'fanOut', 'pipeline', 'approval', 'deployment']);

/** What the steps must be before anything reads them: a list of step objects, each with a kind and a list of dependencies. */
function checkShape(pipeline: string, steps: unknown): void {
  const fail = (message: string): never => {
    throw new ValidationError(`Pipeline ${shown(pipeline)}: ${message}`, { pipeline });
  };
  if (!Array.isArray(steps)) fail(`steps is ${shown(steps)}; give a list of steps, e.g. steps: [load.step('load', {...}), ...].`);
  (steps as unknown[]).forEach((step, i) => {
    const kind = typeof step === 'object' && step !== null ? (step as { kind?: unknown }).kind : undefined;
    const name = typeof step === 'object' && step !== null ? (step as { name?: unknown }).name : undefined;
    if (!STEP_KINDS.has(kind as string)) {
      fail(
        `step ${i + 1} of ${(steps as unknown[]).length}${typeof name === 'string' ? ` (${shown(name)})` : ''} is ${kind === undefined ? shown(step) : `of unknown kind ${shown(kind)}`}, not a step; ` +
          'make steps with defineStep(...).step(...), fanOut(...), childPipeline(...), approvalGate(...) or deployModel(...), and leave out conditional ones (cond && step leaves false in the list).',
      );
    }
    const after = (step as { after?: unknown }).after;
    if (!Array.isArray(after) || !after.every((a) => typeof a === 'string')) {
      fail(`step ${shown(name)} has after: ${shown(after)}; after is a list of step names, e.g. after: ['load'].`);
    }
    const when = (step as { when?: unknown }).when;
    if (when !== undefined) checkCondition(fail, `step ${shown(name)}`, when);
  });
}

function templatesOf(step: StepSpec): Template[] {
  const when: Template[] = step.when ? conditionRefs(step.when) : [];
  switch (step.kind) {
    case 'activity':
      return [step.input, ...when];
    case 'fanOut':
      return [step.items, step.each.input, ...when];
    case 'pipeline':
      return [step.params, ...when];
    case 'approval':
      return [step.subject, ...when];
    case 'deployment':
      return [step.input, ...when];
  }
}

/** A condition's shape, checked before its references are (they are checked with the inputs'). */
function checkCondition(fail: (message: string) => never, where: string, condition: unknown): void {
  const example = "e.g. when: eq(policy.output.decision, 'retrain')";
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) fail(`${where} has when: ${shown(condition)}; write a condition, ${example}.`);
  const c = condition as Record<string, unknown>;
  if ('all' in c || 'any' in c) {
    const list = c.all ?? c.any;
    if (!Array.isArray(list) || list.length === 0) fail(`${where} has a condition whose ${'all' in c ? 'all' : 'any'} is ${shown(list)}; give a non-empty list of conditions.`);
    for (const inner of list as unknown[]) checkCondition(fail, where, inner);
    return;
  }
  if ('not' in c) return checkCondition(fail, where, c.not);
  if (!isRef(c.ref)) fail(`${where} has a condition on ${shown(c.ref)}, not a reference; compare a param(...) or a step's output, ${example}.`);
  if (typeof c.op !== 'string' || !CONDITION_OPS.has(c.op)) fail(`${where} has a condition with unknown operator ${shown(c.op)}; use one of ${[...CONDITION_OPS].join(', ')}.`);
  if (c.op !== 'truthy' && c.op !== 'falsy' && !('value' in c)) fail(`${where} has a condition "${String(c.op)}" with nothing to compare to; give a value.`);
  if (c.op === 'in' && !Array.isArray(c.value)) fail(`${where} has a condition "in" on ${shown(c.value)}; give a list of values.`);
}

function withInferredDependencies(step: StepSpec): StepSpec {
  const consumed = templatesOf(step).flatMap(outputRefs).map((r) => r.step);
  return { ...step, after: [...new Set([...step.after, ...consumed])] };
}

function paramRefs(template: Template): string[] {
  if (template && typeof template === 'object' && !Array.isArray(template)) {
    if ('$param' in template && typeof template.$param === 'string') return [template.$param];
    return Object.values(template).flatMap((v) => paramRefs(v as Template));
  }
  return Array.isArray(template) ? template.flatMap(paramRefs) : [];
}

/** Why a pipeline or step name is refused, or undefined when it is fine. */
function nameProblem(name: unknown, what: 'step' | 'pipeline'): string | undefined {
  if (typeof name !== 'string') return `is not a string; name every ${what}`;
  if (name.length === 0) return `is empty; name every ${what}, e.g. "${what === 'step' ? 'train' : 'train-model'}"`;
  if (name.length > MAX_NAME_LENGTH) return `has ${name.length} characters; ${what} names are at most ${MAX_NAME_LENGTH} (they become part of workflow ids)`;
  if (!NAME.test(name)) return 'must start with a lowercase letter and use only letters, digits, - and _';
  if (RESERVED_NAMES.has(name)) return `is reserved (every JavaScript object has a property of that name, so it cannot key outputs and parameters); choose another name`;
  if (what === 'step' && name.includes('--')) return 'must not contain "--" (the executor joins run, step and batch with it in child workflow ids, where two steps could collide)';
  return undefined;
}

const NAME = /^[a-z][a-zA-Z0-9_-]*$/;
/** Names are part of workflow ids (`<run>--<step>--<batch>`), which Temporal limits. */
export const MAX_NAME_LENGTH = 64;
const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));
const RUN_FIELDS: ReadonlySet<string> = new Set(['id', 'pipeline', 'startedAt', 'scheduledAt']);

/** Every reference in a template, with whether it sits inside another (refs are leaves). */
function refsOf(template: unknown): Ref[] {
  if (isRef(template)) return [template];
  if (Array.isArray(template)) return template.flatMap(refsOf);
  if (template && typeof template === 'object') return Object.values(template).flatMap(refsOf);
  return [];
}

/** Checks a spec's structure; every error names the pipeline and the step. */
export function validateSpec(spec: PipelineSpec, paramNames: string[]): void {
  const fail = (message: string): never => {
    throw new ValidationError(`Pipeline ${shown(spec.name)}: ${message}`, { pipeline: spec.name });
  };
  const pipelineName = nameProblem(spec.name, 'pipeline');
  if (pipelineName) fail(`the pipeline name ${pipelineName}.`);
  checkShape(spec.name, spec.steps);
  if (spec.steps.length === 0) fail('has no steps.');
  const byName = new Map<string, StepSpec>();
  for (const step of spec.steps) {
    const problem = nameProblem(step.name, 'step');
    if (problem) fail(`step name ${shown(step.name)} ${problem}.`);
    if (byName.has(step.name)) fail(`duplicate step name "${step.name}". Step names are unique within a pipeline: rename one.`);
    byName.set(step.name, step);
  }
  const known = () => [...byName.keys()].join(', ');
  for (const step of spec.steps) {
    const where = `step "${step.name}"`;
    if (step.when !== undefined) checkCondition(fail, where, step.when);
    for (const dependency of step.after) {
      if (dependency === step.name) fail(`step "${step.name}" depends on itself. Remove "${step.name}" from its after list and any output('${step.name}', ...) in its own input.`);
      if (!byName.has(dependency)) fail(`step "${step.name}" depends on unknown step ${shown(dependency)}. Steps of this pipeline: ${known()}.`);
    }
    for (const ref of templatesOf(step).flatMap(outputRefs)) {
      const producer = byName.get(ref.step)!;
      const field = ref.path[0];
      if (field !== undefined && producer.outputs.length > 0 && !producer.outputs.includes(field)) {
        fail(`step "${step.name}" consumes output ${shown(field)} of step "${ref.step}", which produces only: ${producer.outputs.join(', ')}.`);
      }
    }
    for (const name of templatesOf(step).flatMap(paramRefs)) {
      if (!paramNames.includes(name)) fail(`step "${step.name}" refers to unknown parameter ${shown(name)} (parameters: ${paramNames.join(', ') || 'none'}). Add it to params or fix the name.`);
    }
    const perItem = step.kind === 'fanOut' ? [step.each.input] : [];
    for (const template of templatesOf(step)) {
      for (const ref of refsOf(template)) {
        if ('$run' in ref && !RUN_FIELDS.has(ref.$run)) fail(`${where} refers to run field ${shown(ref.$run)}; use runId or scheduledAt (or { $run: 'pipeline' | 'startedAt' }).`);
        if ('$item' in ref && !perItem.includes(template)) {
          fail(`${where} uses item(${ref.$item.map((p) => JSON.stringify(p)).join(', ')}) outside a fan-out's per-item input; item() only works in fanOut(name, { items, each: step.each({ ... }) }).`);
        }
      }
    }
    switch (step.kind) {
      case 'activity':
        checkActivity(fail, where, step);
        break;
      case 'fanOut':
        if (!isRef(step.items) || !('$output' in step.items || '$param' in step.items)) {
          fail(`fan-out ${where} takes its items from ${shown(step.items)}; items is output('<step>', '<field>') or param('<name>') holding a list.`);
        }
        if (!Number.isInteger(step.concurrency) || step.concurrency < 1) {
          fail(`fan-out step "${step.name}" needs a concurrency of at least 1. Got ${shown(step.concurrency)}: give a whole number such as 10.`);
        }
        if (!Number.isInteger(step.batchSize) || step.batchSize < 1) {
          fail(`fan-out ${where} needs a batchSize (items per child workflow) of at least 1, got ${shown(step.batchSize)}; give a whole number such as 200.`);
        }
        checkActivity(fail, `${where}'s per-item step`, step.each);
        break;
      case 'pipeline':
        if (typeof step.pipeline !== 'string' || step.pipeline.length === 0) fail(`${where} runs pipeline ${shown(step.pipeline)}; name the child pipeline.`);
        break;
      case 'approval':
        if (!isDuration(step.timeout)) fail(`approval gate "${step.name}" waits ${shown(step.timeout)}, which is not a duration; write e.g. timeout: '7 days'.`);
        if (step.policy !== undefined) checkPolicy(step.name, step.policy, `Pipeline ${shown(spec.name)}: `);
        break;
      case 'deployment':
        break;
    }
  }
  const cycle = findCycle(spec.steps);
  if (cycle) fail(`steps form a cycle: ${cycle.join(' -> ')}. Remove one of these dependencies (an after entry or an output(...) reference).`);
}

/** The options of an activity step (or a fan-out's per-item step) that Temporal would refuse only when the step is reached. */
function checkActivity(fail: (message: string) => never, where: string, step: Omit<ActivityStepSpec, 'after' | 'kind' | 'name'>): void {
  if (typeof step.uses !== 'string' || step.uses.length === 0) fail(`${where} uses implementation ${shown(step.uses)}; name a step declared with defineStep.`);
  if (typeof step.version !== 'string' || step.version.length === 0) fail(`${where} has version ${shown(step.version)}; a version is a non-empty string such as '1'.`);
  if (!Array.isArray(step.outputs) || !step.outputs.every((o) => typeof o === 'string' && o.length > 0)) fail(`${where} declares outputs ${shown(step.outputs)}; outputs is a list of names.`);
  if (typeof step.cache !== 'boolean') fail(`${where} has cache: ${shown(step.cache)}; cache is true or false.`);
  if (!isDuration(step.startToCloseTimeout)) fail(`${where} has startToCloseTimeout ${shown(step.startToCloseTimeout)}, which is not a duration; write e.g. '10 minutes'.`);
  if (step.heartbeatTimeout !== undefined && !isDuration(step.heartbeatTimeout)) fail(`${where} has heartbeatTimeout ${shown(step.heartbeatTimeout)}, which is not a duration; write e.g. '30 seconds'.`);
  const retry = step.retry as unknown;
  if (retry === undefined) return;
  if (typeof retry !== 'object' || retry === null || Array.isArray(retry)) fail(`${where} has retry: ${shown(retry)}; write e.g. retry: { maximumAttempts: 3 }.`);
  const { maximumAttempts, initialInterval, backoffCoefficient, nonRetryableErrorTypes } = retry as RetrySpec;
  const known = new Set(['maximumAttempts', 'initialInterval', 'backoffCoefficient', 'nonRetryableErrorTypes']);
  const unknown = Object.keys(retry as object).filter((k) => !known.has(k));
  if (unknown.length > 0) fail(`${where} has unknown retry option(s) ${unknown.map((k) => shown(k)).join(', ')}; retry takes maximumAttempts, initialInterval, backoffCoefficient and nonRetryableErrorTypes.`);
  if (maximumAttempts !== undefined && (!Number.isInteger(maximumAttempts) || maximumAttempts < 1)) {
    fail(`${where} has retry.maximumAttempts ${shown(maximumAttempts)}; give a whole number of at least 1 (1 means no retry; Temporal would read 0 as unlimited).`);
  }
  if (initialInterval !== undefined && !isDuration(initialInterval)) fail(`${where} has retry.initialInterval ${shown(initialInterval)}, which is not a duration; write e.g. '1 second'.`);
  if (backoffCoefficient !== undefined && !(typeof backoffCoefficient === 'number' && Number.isFinite(backoffCoefficient) && backoffCoefficient >= 1)) {
    fail(`${where} has retry.backoffCoefficient ${shown(backoffCoefficient)}; it is a number of at least 1 (1 waits the same each time, 2 doubles the wait).`);
  }
  if (nonRetryableErrorTypes !== undefined && !(Array.isArray(nonRetryableErrorTypes) && nonRetryableErrorTypes.every((t) => typeof t === 'string'))) {
    fail(`${where} has retry.nonRetryableErrorTypes ${shown(nonRetryableErrorTypes)}; it is a list of error type names such as ['VALIDATION_FAILED'].`);
  }
}

/** A dependency cycle as step names (first name repeated at the end), or undefined. */
function findCycle(steps: StepSpec[]): string[] | undefined {
  const after = new Map(steps.map((s) => [s.name, s.after]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dependency of after.get(name) ?? []) {
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.name);
    // Reported in execution order: each step runs after the one before it.
    if (cycle) return cycle.reverse();
  }
  return undefined;
}
