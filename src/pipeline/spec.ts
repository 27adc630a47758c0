/**
 * The serializable form of a pipeline: what `definePipeline` compiles to and what the executor
 * workflow runs. Pure data and pure functions only (no I/O): workflows import this module.
 */

/** A value in a step's input template: a literal, or a reference resolved when the step runs. */
export type Template =
  | null
  | boolean
  | number
  | string
  | Template[]
  | { [key: string]: Template }
  | Ref;

export type Ref =
  | { $param: string }
  | { $output: { step: string; path: string[] } }
  | { $item: string[] }
  /** About the run: `scheduledAt` is the nominal time of the Schedule tick that started it ('' otherwise). */
  | { $run: 'id' | 'pipeline' | 'startedAt' | 'scheduledAt' };

export interface RetrySpec {
  maximumAttempts?: number;
  initialInterval?: string;
  backoffCoefficient?: number;
  nonRetryableErrorTypes?: string[];
}

interface StepBase {
  name: string;
  /** Steps that must complete first: declared with `after`, plus every step an input refers to. */
  after: string[];
  description?: string;
  /**
   * Run the step only when this holds (evaluated once its dependencies completed); otherwise it is
   * `skipped`, with the condition as the reason, and so are the steps that depend on it.
   */
  when?: Condition;
}

/**
 * A condition on parameters, run fields or upstream outputs: pure data, evaluated by the executor.
 *
 * @example
 * { ref: { $output: { step: 'policy', path: ['decision'] } }, op: 'eq', value: 'retrain' }
 */
export type Condition =
  | { ref: Ref; op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in'; value: Template }
  | { ref: Ref; op: 'truthy' | 'falsy' }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const CONDITION_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'truthy', 'falsy']);

/** Every reference a condition reads. */
export function conditionRefs(condition: Condition): Ref[] {
  if ('all' in condition) return condition.all.flatMap(conditionRefs);
  if ('any' in condition) return condition.any.flatMap(conditionRefs);
  if ('not' in condition) return conditionRefs(condition.not);
  return [condition.ref];
}

function describeRef(ref: Ref): string {
  if ('$param' in ref) return `param ${ref.$param}`;
  if ('$output' in ref) return [ref.$output.step, ...ref.$output.path].join('.');
  if ('$item' in ref) return ['item', ...ref.$item].join('.');
  return `run.${ref.$run}`;
}

const OP_WORDS: Record<string, string> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=', in: 'in' };

/** A condition as people read it, e.g. `policy.decision == "retrain"`. */
export function describeCondition(condition: Condition): string {
  if ('all' in condition) return condition.all.map((c) => `(${describeCondition(c)})`).join(' and ');
  if ('any' in condition) return condition.any.map((c) => `(${describeCondition(c)})`).join(' or ');
  if ('not' in condition) return `not (${describeCondition(condition.not)})`;
  if (condition.op === 'truthy' || condition.op === 'falsy') return `${describeRef(condition.ref)} is ${condition.op === 'truthy' ? 'set' : 'not set'}`;
  return `${describeRef(condition.ref)} ${OP_WORDS[condition.op]} ${JSON.stringify((condition as { value: Template }).value)}`;
}

/** Whether a condition holds; a reference that resolves to nothing throws (with `where`). */
export function evaluateCondition(condition: Condition, ctx: ResolveContext, where: string): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluateCondition(c, ctx, where));
  if ('any' in condition) return condition.any.some((c) => evaluateCondition(c, ctx, where));
  if ('not' in condition) return !evaluateCondition(condition.not, ctx, where);
  const value = resolveTemplate(condition.ref, ctx, where);
  switch (condition.op) {
    case 'truthy':
      return Boolean(value);
    case 'falsy':
      return !value;
    case 'eq':
      return JSON.stringify(value) === JSON.stringify(condition.value);
    case 'ne':
      return JSON.stringify(value) !== JSON.stringify(condition.value);
    case 'in': {
      const values = condition.value;
      return Array.isArray(values) && values.some((v) => JSON.stringify(v) === JSON.stringify(value));
    }
    default: {
      const target = (condition as { value: Template }).value;
      if (typeof value !== 'number' || typeof target !== 'number') return false;
      return condition.op === 'gt' ? value > target : condition.op === 'gte' ? value >= target : condition.op === 'lt' ? value < target : value <= target;
    }
  }
}

export interface ActivityStepSpec extends StepBase {
  kind: 'activity';
  /** The name of the typed step (defineStep) the worker registered: it runs this step. */
  uses: string;
  /** Bump when the step's behaviour changes, so cached results of the old code are not reused. */
  version: string;
  input: Template;
  outputs: string[];
  cache: boolean;
  startToCloseTimeout: string;
  heartbeatTimeout?: string;
  retry?: RetrySpec;
}

export interface FanOutStepSpec extends StepBase {
  kind: 'fanOut';
  /** A reference to the list to map over (a step output or a parameter). */
  items: Ref;
  /** The step run once per item; `$item` references read from the item. */
  each: Omit<ActivityStepSpec, 'after' | 'kind' | 'name'>;
  /** How many items run at once across the whole fan-out. */
  concurrency: number;
  /** Items per child workflow: bounds each history whatever the item count. */
  batchSize: number;
  outputs: string[];
}

export interface PipelineStepSpec extends StepBase {
  kind: 'pipeline';
  pipeline: string;
  params: Template;
  outputs: string[];
}

export interface ApprovalStepSpec extends StepBase {
  kind: 'approval';
  /** What the reviewers are asked to approve. */
  subject: Template;
  /** How long the gate waits before it expires as rejected. */
  timeout: string;
  /**
   * Who must sign off. Without a policy the gate is open: any named reviewer may decide, with no
   * proof of identity (for development only; kept so runs started before policies replay).
   */
  policy?: ApprovalPolicy;
  outputs: string[];
}

/**
 * Who must approve a gate, by when, and under which rules. Pure data, so it travels in the spec and
 * the workflow enforces it deterministically; identity and roles are checked by activities.
 *
 * @example
 * { roles: { technical: 2 }, deadline: '3 days', remindBefore: ['1 day'],
 *   conditions: [{ role: 'compliance', when: { piiFeatures: true } },
 *                { role: 'ethics', when: { fairnessGapAbove: 0.1 } }] }
 */
export interface ApprovalPolicy {
  /** Required roles and how many distinct reviewers of each must approve. */
  roles: Record<string, number>;
  /** How long the gate waits (a Temporal duration such as '7 days'). Defaults to the step's timeout. */
  deadline?: string;
  /** Reminders this long before the deadline (each recorded in the audit trail and logged). */
  remindBefore?: string[];
  /** Roles told at the last reminder that the gate is about to lapse. */
  escalateTo?: string[];
  /** What the deadline does: 'reject' (the default: the gate expires as rejected). */
  onDeadline?: 'reject';
  /** Whoever started the run or authored the candidate may not approve it (default true). */
  separationOfDuties?: boolean;
  /** Extra requirements that apply only when the subject shows a condition. */
  conditions?: ApprovalCondition[];
}

export interface ApprovalCondition {
  role: string;
  /** Reviewers needed when the condition holds (default 1). */
  quorum?: number;
  when: { piiFeatures: true } | { fairnessGapAbove: number };
}

/**
 * A deployment of a model version to the scorer (workflows/deployment.ts) as a child workflow: its
 * input resolves to the deployment's settings (model, version, strategy, steps, thresholds, ...).
 * A rollback or a failed deployment fails the step with the reason.
 */
export interface DeploymentStepSpec extends StepBase {
  kind: 'deployment';
  input: Template;
  outputs: string[];
}

export type StepSpec = ActivityStepSpec | FanOutStepSpec | PipelineStepSpec | ApprovalStepSpec | DeploymentStepSpec;

export interface PipelineSpec {
  name: string;
  description: string;
  steps: StepSpec[];
}

export const isRef = (value: unknown): value is Ref =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && ['$param', '$output', '$item', '$run'].includes(Object.keys(value)[0]!);

/** Every `$output` reference in a template (to infer dependencies and check them). */
export function outputRefs(template: Template | Ref): Array<{ step: string; path: string[] }> {
  if (isRef(template)) return '$output' in template ? [template.$output] : [];
  if (Array.isArray(template)) return template.flatMap(outputRefs);
  if (template && typeof template === 'object') return Object.values(template).flatMap(outputRefs);
  return [];
}

export interface ResolveContext {
  params: Record<string, unknown>;
  outputs: Record<string, Record<string, unknown>>;
  item?: unknown;
  run: { id: string; pipeline: string; startedAt: string; scheduledAt: string };
}

/**
 * Replaces references with values. Throws (with the step's name) when a reference finds nothing.
 * With `keepItems`, `$item` references stay in place for a fan-out's children to resolve.
 */
export function resolveTemplate(template: Template, ctx: ResolveContext, where: string, options: { keepItems?: boolean } = {}): unknown {
  if (isRef(template)) {
    if ('$param' in template) return ctx.params[template.$param];
    if ('$run' in template) return ctx.run[template.$run];
    if ('$item' in template) return options.keepItems ? template : pick(ctx.item, template.$item, `${where}: item`);
    const source = ctx.outputs[template.$output.step];
    if (source === undefined) throw new Error(`${where}: step "${template.$output.step}" has no output yet`);
    return pick(source, template.$output.path, `${where}: output of "${template.$output.step}"`);
  }
  if (Array.isArray(template)) return template.map((t) => resolveTemplate(t, ctx, where, options));
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, resolveTemplate(v, ctx, where, options)]));
  }
  return template;
}

function pick(value: unknown, path: string[], where: string): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in current)) {
      throw new Error(`${where} has no field "${path.join('.')}"`);
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
