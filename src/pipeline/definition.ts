/**
 * The authoring API: pipelines are DAGs of steps, written in TypeScript and compiled to a
 * `PipelineSpec` that the executor workflow runs.
 *
 * @example
 * const train = definePipeline({
 *   name: 'train-flight-delay',
 *   params: z.object({ rows: z.coerce.number().default(100_000) }),
 *   steps: [
 *     loadFlights.step('load', { source: 'vega:flights-3m.parquet', rows: param('rows') }),
 *     checkFlights.step('quality', { ingestionId: output('load', 'ingestionId') }),
 *   ],
 * });
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import {
  outputRefs,
  type ActivityStepSpec,
  type ApprovalPolicy,
  type ApprovalStepSpec,
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
export const runId: Ref = { $run: 'id' };
/**
 * The nominal time of the Temporal Schedule tick that started the run, as ISO 8601, or '' when no
 * schedule started it. A backfilled or late tick keeps its own time, so a scheduled window is the
 * one the tick stands for, not the one the run happened to start in.
 */
export const scheduledAt: Ref = { $run: 'scheduledAt' };

export interface StepOptions {
  after?: string[];
  /** Reuse a recorded result when code version and inputs are unchanged (default true). */
  cache?: boolean;
  description?: string;
}

export interface StepDefinition {
  /** The implementation's name in activities/steps.ts. */
  uses: string;
  version?: string;
  outputs: readonly string[];
  startToCloseTimeout?: string;
  heartbeatTimeout?: string;
  retry?: RetrySpec;
  cache?: boolean;
}

export interface ReusableStep {
  readonly definition: StepDefinition;
  /** Places this step in a pipeline under `name`, with its input template. */
  step(name: string, input: Template, options?: StepOptions): ActivityStepSpec;
  /** The per-item template for a fan-out (`item()` references read from each item). */
  each(input: Template, options?: { cache?: boolean }): FanOutStepSpec['each'];
}

/** A step that pipelines can reuse: one implementation, one version, one set of outputs. */
export function defineStep(definition: StepDefinition): ReusableStep {
  const base = (input: Template, cache: boolean | undefined): FanOutStepSpec['each'] => ({
    uses: definition.uses,
    version: definition.version ?? '1',
    input,
    outputs: [...definition.outputs],
    cache: cache ?? definition.cache ?? true,
    startToCloseTimeout: definition.startToCloseTimeout ?? '10 minutes',
    heartbeatTimeout: definition.heartbeatTimeout,
    retry: definition.retry,
  });
  return {
    definition,
    step: (name, input, options = {}) => ({
      kind: 'activity',
      name,
      after: options.after ?? [],
      description: options.description,
      ...base(input, options.cache),
    }),
    each: (input, options = {}) => base(input, options.cache),
  };
}

export function fanOut(
  name: string,
  options: { items: Ref; each: FanOutStepSpec['each']; concurrency?: number; batchSize?: number; after?: string[] },
): FanOutStepSpec {
  return {
    kind: 'fanOut',
    name,
    after: options.after ?? [],
    items: options.items,
    each: options.each,
    concurrency: options.concurrency ?? 10,
    batchSize: options.batchSize ?? 200,
    outputs: ['count', 'results'],
  };
}

/** Runs another pipeline as a child workflow; its outputs are the child's step outputs, by step name. */
export function childPipeline(name: string, pipeline: string, params: Template, options: { after?: string[]; outputs?: string[] } = {}): PipelineStepSpec {
  return { kind: 'pipeline', name, pipeline, params, after: options.after ?? [], outputs: options.outputs ?? [] };
}

/** A human sign-off: the run waits (for days if need be) until a reviewer approves or rejects. */
export function approvalGate(
  name: string,
  options: { subject: Template; timeout?: string; after?: string[]; policy?: ApprovalPolicy },
): ApprovalStepSpec {
  const policy = options.policy && checkPolicy(name, options.policy);
  return {
    kind: 'approval',
    name,
    subject: options.subject,
    timeout: policy?.deadline ?? options.timeout ?? '7 days',
    after: options.after ?? [],
    ...(policy ? { policy } : {}),
    outputs: policy ? ['decision', 'reviewer', 'comment', 'decidedAt', 'approvalId', 'decisions'] : ['decision', 'reviewer', 'comment', 'decidedAt'],
  };
}

/**
 * Deploys a model version to the scorer (canary, blue-green, shadow or A/B, with analysis and
 * automatic rollback) as a child workflow. `input` names at least `model`, `version` and
 * `strategy`; the run's starter is recorded as the deployer. A rollback fails the step.
 */
export function deployModel(name: string, input: Template, options: { after?: string[] } = {}): DeploymentStepSpec {
  return { kind: 'deployment', name, input, after: options.after ?? [], outputs: ['deploymentId', 'status', 'outcome', 'model', 'candidate', 'stable'] };
}

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

function checkPolicy(gate: string, policy: ApprovalPolicy): ApprovalPolicy {
  const where = `Approval gate "${gate}"`;
  const roles = Object.entries(policy.roles ?? {});
  if (roles.length === 0) throw new ValidationError(`${where}: the policy requires no role; name at least one, e.g. roles: { technical: 1 }.`);
  for (const [role, quorum] of [...roles, ...(policy.conditions ?? []).map((c) => [c.role, c.quorum ?? 1] as const)]) {
    if (!ROLE_NAME.test(role)) throw new ValidationError(`${where}: role "${role}" must be lowercase letters, digits, - or _ (at most 40).`);
    if (!Number.isInteger(quorum) || quorum < 1) throw new ValidationError(`${where}: role "${role}" needs a quorum of at least 1, got ${quorum}.`);
  }
  for (const duration of [policy.deadline, ...(policy.remindBefore ?? [])]) {
    if (duration !== undefined && !/^\d+(\.\d+)?\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?|d|days?)$/.test(duration.trim()))
      throw new ValidationError(`${where}: "${duration}" is not a duration; write e.g. '3 days', '12 hours' or '30 minutes'.`);
  }
  if (policy.onDeadline !== undefined && policy.onDeadline !== 'reject') throw new ValidationError(`${where}: onDeadline can only be 'reject'.`);
  return { separationOfDuties: true, onDeadline: 'reject', ...policy };
}

export interface Pipeline<P extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  params: P;
  spec: PipelineSpec;
}

export function definePipeline<P extends z.ZodObject>(definition: {
  name: string;
  description?: string;
  params: P;
  steps: StepSpec[];
}): Pipeline<P> {
  const spec: PipelineSpec = {
    name: definition.name,
    description: definition.description ?? '',
    steps: definition.steps.map(withInferredDependencies),
  };
  validateSpec(spec, Object.keys(definition.params.shape));
  return { name: definition.name, description: spec.description, params: definition.params, spec };
}

function templatesOf(step: StepSpec): Template[] {
  switch (step.kind) {
    case 'activity':
      return [step.input];
    case 'fanOut':
      return [step.items, step.each.input];
    case 'pipeline':
      return [step.params];
    case 'approval':
      return [step.subject];
    case 'deployment':
      return [step.input];
  }
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

/** Checks a spec's structure; every error names the pipeline and the step. */
export function validateSpec(spec: PipelineSpec, paramNames: string[]): void {
  const fail = (message: string): never => {
    throw new ValidationError(`Pipeline "${spec.name}": ${message}`, { pipeline: spec.name });
  };
  if (spec.steps.length === 0) fail('has no steps.');
  const byName = new Map<string, StepSpec>();
  for (const step of spec.steps) {
    if (!/^[a-z][a-zA-Z0-9_-]*$/.test(step.name)) fail(`step name "${step.name}" must start with a lowercase letter and use only letters, digits, - and _.`);
    if (byName.has(step.name)) fail(`duplicate step name "${step.name}".`);
    byName.set(step.name, step);
  }
  for (const step of spec.steps) {
    for (const dependency of step.after) {
      if (dependency === step.name) fail(`step "${step.name}" depends on itself.`);
      if (!byName.has(dependency)) fail(`step "${step.name}" depends on unknown step "${dependency}".`);
    }
    for (const ref of templatesOf(step).flatMap(outputRefs)) {
      const producer = byName.get(ref.step)!;
      const field = ref.path[0];
      if (field !== undefined && producer.outputs.length > 0 && !producer.outputs.includes(field)) {
        fail(`step "${step.name}" consumes output "${field}" of step "${ref.step}", which produces only: ${producer.outputs.join(', ')}.`);
      }
    }
    for (const name of templatesOf(step).flatMap(paramRefs)) {
      if (!paramNames.includes(name)) fail(`step "${step.name}" refers to unknown parameter "${name}" (parameters: ${paramNames.join(', ') || 'none'}).`);
    }
    if (step.kind === 'fanOut' && (!Number.isInteger(step.concurrency) || step.concurrency < 1)) {
      fail(`fan-out step "${step.name}" needs a concurrency of at least 1.`);
    }
  }
  const cycle = findCycle(spec.steps);
  if (cycle) fail(`steps form a cycle: ${cycle.join(' -> ')}.`);
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
