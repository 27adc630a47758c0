/**
 * A step declared once: its name and version, the zod schemas of its input and output, its
 * implementation, and what it reads, writes and needs permission for, in one module.
 *
 * @example
 * export const trainModel = defineStep({
 *   name: 'trainModel',
 *   version: '2',
 *   input: z.object({ trainingSetUri: z.string(), algorithm: z.enum(['logistic', 'gbt']) }),
 *   output: z.object({ modelUri: z.string(), auc: z.number() }),
 *   async run(input, ctx) { ... return { modelUri, auc }; },
 *   lineage: (input, { output }) => ({ inputs: [artifactDataset(input.trainingSetUri)] }),
 * });
 *
 * // In a pipeline: references to outputs and parameters are typed.
 * const train = trainModel.step('train', { trainingSetUri: set.output.uri, algorithm: 'gbt' });
 * train.output.modelUri;   // Ref<string>
 * train.output.modleUri;   // compile error
 *
 * The executor sees only the serializable spec (`uses: 'trainModel'`); the worker registers the
 * implementation, which validates input and output at run time.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { StepLineage } from '../lineage/step-events.js';
import type { Condition, ActivityStepSpec, FanOutStepSpec, Ref, RetrySpec, Template } from './spec.js';
import type { StepAccess, StepContext, StepImplementation, StepServices } from './step-runtime.js';

declare const refType: unique symbol;

/** A reference whose value has type `T` when the step runs (a phantom type: the data is a plain Ref). */
export type TypedRef<T> = Ref & { readonly [refType]?: T };

/**
 * What a step input accepts for a value of type `T`: the value itself, a reference to one, or (for
 * objects and lists) the same shape with references inside.
 */
export type Wired<T> =
  | TypedRef<T>
  | (T extends string | number | boolean | null | undefined
      ? T
      : T extends readonly (infer E)[]
        ? Wired<E>[]
        : T extends object
          ? { [K in keyof T]: Wired<T[K]> }
          : T);

/** The typed references to a step's outputs, one per field of its output schema. */
export type OutputRefs<O> = { readonly [K in keyof O]-?: TypedRef<O[K]> };

/** A reference one level into another: `at(train.output.model, 'modelUri')`. */
export function at<T, K extends keyof NonNullable<T> & string>(ref: TypedRef<T>, key: K): TypedRef<NonNullable<T>[K]> {
  if (!('$output' in ref) && !('$item' in ref)) {
    throw new ValidationError(`at(...) reads into a step's output or a fan-out item; ${JSON.stringify(ref)} is neither.`);
  }
  if ('$output' in ref) return { $output: { step: ref.$output.step, path: [...ref.$output.path, key] } } as TypedRef<NonNullable<T>[K]>;
  return { $item: [...ref.$item, key] } as TypedRef<NonNullable<T>[K]>;
}

/** The context a step's `run` receives: the run's identity, progress, cancellation, and the worker's stores. */
export interface StepRunContext extends Omit<StepContext, 'services'>, StepServices {
  /** Reports progress: it becomes the step's heartbeat details (`steward status`, a retry's resume point). */
  progress(details: unknown): void;
  /** The principal who started the run, when known (equal to `startedBy`). */
  principal?: string;
  /** For CPU-heavy work: run it in the worker's thread pool with this step's cancellation and progress. */
  cpu: { pool: StepServices['cpuPool']; signal: AbortSignal; onProgress: (details: unknown) => void };
}

export interface StepOptions {
  /** Steps that must complete first besides those whose outputs the input reads. */
  after?: string[];
  /** Reuse a recorded result when code version and inputs are unchanged (default: the step's `cache`). */
  cache?: boolean;
  description?: string;
  /** Run only when this holds; otherwise the step (and what depends on it) is skipped with the reason. */
  when?: Condition;
}

export interface StepDeclaration<I extends z.ZodType, O extends z.ZodObject> {
  /** Unique among the steps a worker registers; what the spec's `uses` names. */
  name: string;
  /** Bump when behaviour changes, so cached results of the old code are not reused (default '1'). */
  version?: string;
  description?: string;
  input: I;
  output: O;
  run(input: z.output<I>, ctx: StepRunContext): Promise<z.input<O>>;
  /** The datasets the step reads and writes (OpenLineage): before it runs, when it completes, when it fails. */
  lineage?(input: z.output<I>, result: { output?: z.output<O>; error?: unknown }, services: StepServices): StepLineage | Promise<StepLineage>;
  /** What the run's principal needs to run this step, checked before it runs. */
  access?(input: z.output<I>, services: StepServices): StepAccess[] | Promise<StepAccess[]>;
  /** Content hashes of what the step reads beyond its input (e.g. a file, a model an alias points at), for the cache key. */
  fingerprint?(input: z.output<I>, services: StepServices): Promise<string>;
  /** Whether results may be reused (default true); false for steps that read state that changes. */
  cache?: boolean;
  startToCloseTimeout?: string;
  heartbeatTimeout?: string;
  retry?: RetrySpec;
}

/** A step placed in a pipeline: its spec, plus typed references to its outputs (`output.<field>`) and to all of them at once (`result`). */
export type StepNode<O> = ActivityStepSpec & { readonly output: OutputRefs<O>; readonly result: TypedRef<O> };

export interface Step<I extends z.ZodType = z.ZodType, O extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly version: string;
  readonly declaration: StepDeclaration<I, O>;
  /** The implementation the worker registers under `name`, validating input and output. */
  readonly implementation: StepImplementation<unknown, Record<string, unknown>>;
  /** Places the step in a pipeline under `name` with its input (values or typed references). */
  step(name: string, input: Wired<z.input<I>>, options?: StepOptions): StepNode<z.output<O>>;
  /** The per-item step of a fan-out (`item()` references read from each item). */
  each(input: Wired<z.input<I>>, options?: { cache?: boolean }): FanOutStepSpec['each'];
}

const STEP_NAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$/;

/** The step a spec node or fan-out `each` was made from (not serialized: the property is hidden). */
export function stepOf(node: object): Step | undefined {
  return (node as { [STEP]?: Step })[STEP];
}

const STEP = Symbol.for('steward.step');

function hide(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: false, configurable: false });
}

/** A zod error as one sentence: each problem with its field path. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `field "${issue.path.join('.')}"` : 'the value'}: ${issue.message}`).join('; ');
}

export function defineStep<I extends z.ZodType, O extends z.ZodObject>(declaration: StepDeclaration<I, O>): Step<I, O> {
  const where = `defineStep(${JSON.stringify(declaration?.name)})`;
  if (typeof declaration?.name !== 'string' || !STEP_NAME.test(declaration.name)) {
    throw new ValidationError(`${where}: a step name starts with a letter and uses letters, digits, '.', '-' and '_' (at most 64), e.g. name: 'trainModel'.`);
  }
  if (!(declaration.input instanceof z.ZodType)) throw new ValidationError(`${where}: input is not a zod schema; write e.g. input: z.object({ uri: z.string() }).`, { step: declaration.name });
  if (!(declaration.output instanceof z.ZodObject)) throw new ValidationError(`${where}: output must be a zod object, e.g. output: z.object({ modelUri: z.string() }), so each output has a name.`, { step: declaration.name });
  if (typeof declaration.run !== 'function') throw new ValidationError(`${where}: run is not a function.`, { step: declaration.name });
  const version = declaration.version ?? '1';
  const outputs = Object.keys(declaration.output.shape);

  const parseInput = (raw: unknown, context: { pipeline?: string; step?: string }): z.output<I> => {
    const parsed = declaration.input.safeParse(raw);
    if (!parsed.success) {
      throw new ValidationError(
        `${placeOf(context)} (${declaration.name}): its input is refused: ${describeIssues(parsed.error)}. Check what the pipeline passes to this step.`,
        { pipeline: context.pipeline, step: context.step, uses: declaration.name, problems: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      );
    }
    return parsed.data;
  };
  const implementation: StepImplementation<unknown, Record<string, unknown>> = {
    async run(raw, context) {
      const input = parseInput(raw, context);
      const { services, ...rest } = context;
      if (!services) throw new ValidationError(`${placeOf(context)} (${declaration.name}) ran without the worker's services; run it through the worker or steward/testing's runStep.`);
      const ctx: StepRunContext = {
        ...services,
        ...rest,
        progress: (details) => context.heartbeat(details),
        ...(context.startedBy ? { principal: context.startedBy } : {}),
        cpu: { pool: services.cpuPool, signal: context.signal, onProgress: (details) => context.heartbeat(details) },
      };
      const result = await declaration.run(input, ctx);
      const parsed = declaration.output.safeParse(result);
      if (!parsed.success) {
        throw new ValidationError(
          `${placeOf(context)} (${declaration.name}) returned an output its schema refuses: ${describeIssues(parsed.error)}. This is a bug in the step's run().`,
          { pipeline: context.pipeline, step: context.step, uses: declaration.name, problems: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
        );
      }
      return parsed.data as Record<string, unknown>;
    },
    ...(declaration.fingerprint ? { fingerprint: (raw: unknown, services?: StepServices) => declaration.fingerprint!(parseInput(raw, {}), requireServices(services, declaration.name)) } : {}),
    ...(declaration.lineage
      ? {
          lineage: (raw: unknown, result: { output?: Record<string, unknown>; error?: unknown }, services?: StepServices) =>
            declaration.lineage!(parseInput(raw, {}), result as { output?: z.output<O>; error?: unknown }, requireServices(services, declaration.name)),
        }
      : {}),
    ...(declaration.access ? { access: (raw: unknown, services?: StepServices) => declaration.access!(parseInput(raw, {}), requireServices(services, declaration.name)) } : {}),
  };

  const base = (input: Template, cache: boolean | undefined): FanOutStepSpec['each'] => {
    const each: FanOutStepSpec['each'] = {
      uses: declaration.name,
      version,
      input,
      outputs: [...outputs],
      cache: cache ?? declaration.cache ?? true,
      startToCloseTimeout: declaration.startToCloseTimeout ?? '10 minutes',
      ...(declaration.heartbeatTimeout ? { heartbeatTimeout: declaration.heartbeatTimeout } : {}),
      ...(declaration.retry ? { retry: declaration.retry } : {}),
    };
    hide(each, STEP, step);
    return each;
  };
  const step: Step<I, O> = {
    name: declaration.name,
    version,
    declaration,
    implementation,
    step(name, input, options = {}) {
      const node = {
        kind: 'activity' as const,
        name,
        after: options.after ?? [],
        ...(options.description ? { description: options.description } : {}),
        ...(options.when ? { when: options.when } : {}),
        ...base(input as Template, options.cache),
      };
      hide(node, STEP, step);
      hide(node, 'output', Object.fromEntries(outputs.map((field) => [field, { $output: { step: name, path: [field] } }])));
      hide(node, 'result', { $output: { step: name, path: [] } });
      return node as StepNode<z.output<O>>;
    },
    each: (input, options = {}) => base(input as Template, options.cache),
  };
  return step;
}

function placeOf(context: { pipeline?: string; step?: string }): string {
  return [context.pipeline ? `Pipeline "${context.pipeline}"` : '', context.step ? `step "${context.step}"` : 'a step'].filter(Boolean).join(', ');
}

function requireServices(services: StepServices | undefined, name: string): StepServices {
  if (!services) throw new ValidationError(`Step ${name}'s declarations need the worker's services.`);
  return services;
}

// --- conditions ----------------------------------------------------------------------------------

type Comparable = string | number | boolean | null;

/** The step runs only when `ref` equals `value` (compared as JSON). */
export const eq = <T extends Comparable>(ref: TypedRef<T>, value: NoInfer<T>): Condition => ({ ref, op: 'eq', value });
export const ne = <T extends Comparable>(ref: TypedRef<T>, value: NoInfer<T>): Condition => ({ ref, op: 'ne', value });
export const gt = (ref: TypedRef<number>, value: number): Condition => ({ ref, op: 'gt', value });
export const gte = (ref: TypedRef<number>, value: number): Condition => ({ ref, op: 'gte', value });
export const lt = (ref: TypedRef<number>, value: number): Condition => ({ ref, op: 'lt', value });
export const lte = (ref: TypedRef<number>, value: number): Condition => ({ ref, op: 'lte', value });
export const oneOf = <T extends Comparable>(ref: TypedRef<T>, values: NoInfer<T>[]): Condition => ({ ref, op: 'in', value: values });
export const isTrue = (ref: TypedRef<boolean | undefined | null>): Condition => ({ ref, op: 'truthy' });
export const isFalse = (ref: TypedRef<boolean | undefined | null>): Condition => ({ ref, op: 'falsy' });
export const allOf = (...conditions: Condition[]): Condition => ({ all: conditions });
export const anyOf = (...conditions: Condition[]): Condition => ({ any: conditions });
export const not = (condition: Condition): Condition => ({ not: condition });

/**
 * Steward's built-in steps carry this mark. A project that imports a built-in step through the SDK
 * may hold another instance of the same module (the CLI from dist/, the project through tsx), so
 * combining projects recognizes a built-in step by its mark, name and version, not by identity.
 * `Symbol.for` is shared by every copy of this module in the process.
 */
const BUILTIN = Symbol.for('steward.builtinStep');

export function markBuiltinSteps(steps: readonly Step[]): void {
  for (const step of steps) Object.defineProperty(step, BUILTIN, { value: true, enumerable: false });
}

export function isBuiltinStep(step: Step): boolean {
  return (step as unknown as Record<symbol, unknown>)[BUILTIN] === true;
}

/**
 * Whether two steps are one: the same object, or the same built-in step at the same version loaded
 * through two copies of the SDK (a project that imports `steward/steps` from its own node_modules,
 * or a config loaded through tsx beside the compiled worker). Anything else with one name is a clash.
 */
export function sameStep(a: Step, b: Step): boolean {
  return a === b || (isBuiltinStep(a) && isBuiltinStep(b) && a.version === b.version);
}
