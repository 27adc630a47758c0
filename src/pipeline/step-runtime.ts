/**
 * Running one pipeline step: find its implementation, reuse a cached result when the key matches,
 * otherwise run it and record the result. The `runStep` activity is a thin adapter over this.
 */
import type { Database } from '../db/client.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { stepEventKey, stepRunEvent, type StepLineage, type StepRunIdentity } from '../lineage/step-events.js';
import type { LineageSink } from '../lineage/store.js';
import type { OnceOptions } from '../db/idempotency.js';
import type { Definition } from '../features/definitions.js';
import type { ExpectationSuite } from '../governance/expectations.js';
import type { CpuPool } from '../platform/cpu-pool.js';
import type { Logger } from '../platform/logger.js';
import type { ArtifactStore } from '../artifacts/index.js';
import { cacheKey, lookupCachedStep, recordCachedStep } from './step-cache.js';

/**
 * What the worker gives every step: the stores and the process's shared resources. Steps reach
 * them through their context instead of closing over globals, so one module holds a step whole.
 */
export interface StepServices {
  db: Database;
  /** Where training sets and models are kept (content-addressed). */
  artifacts: ArtifactStore;
  logger?: Logger;
  /** The pool CPU-heavy work runs in (undefined: the process's default pool). */
  cpuPool?: CpuPool;
  /** Options for exactly-once writes (tests inject faults after commits). */
  writeOptions: OnceOptions;
  /** The project's feature definitions (Steward's and the team's), for steps that read the store. */
  features?: readonly Definition[];
  /** The project's data-quality expectation suites, for steps that check a dataset. */
  expectations?: readonly ExpectationSuite[];
  /** The project's folder (where its steward.config.ts is): relative data file paths resolve against it. */
  projectRoot?: string;
  /** Anything else a deployment wires for its own steps (e.g. the scorer's admin API). */
  extras?: Record<string, unknown>;
}

export interface StepContext {
  runId: string;
  /** The pipeline the step belongs to, when known. */
  pipeline?: string;
  step: string;
  /** Stable across retries of this step in this run: the key for idempotent writes. */
  idempotencyKey: string;
  /** The Temporal run id of the workflow executing the step, when it runs under Temporal. */
  workflowRunId?: string;
  attempt: number;
  /** The principal who started the pipeline run, when known (access checks, lineage). */
  startedBy?: string;
  heartbeat(details?: unknown): void;
  signal: AbortSignal;
  /** The worker's stores and shared resources (absent only in bare unit tests of the runtime). */
  services?: StepServices;
}

export interface StepImplementation<I = never, O extends object = Record<string, unknown>> {
  run(input: I, context: StepContext): Promise<O>;
  /** Content hashes of what the step reads beyond its input (e.g. a file), for the cache key. */
  fingerprint?(input: I, services?: StepServices): Promise<string>;
  /**
   * The datasets the step reads and writes, for its OpenLineage run events: called before the
   * step runs (no output yet), after it completes (with its output) and when it fails (with the
   * error, whose details may carry facets such as a data-quality report).
   */
  lineage?(input: I, result: { output?: O; error?: unknown }, services?: StepServices): StepLineage | Promise<StepLineage>;
  /** What the run's principal needs to run this step (e.g. train-on a feature view), checked before it runs. */
  access?(input: I, services?: StepServices): StepAccess[] | Promise<StepAccess[]>;
}

export interface StepAccess {
  permission: 'read' | 'write' | 'train-on' | 'deploy' | 'approve';
  /** `kind:name`, e.g. `feature_view:customer_profile`. */
  resource: string;
  sensitivity?: string;
}

/** Checks one requirement for a principal; throws (a 403) when it is not allowed. */
export type StepAuthorizer = (principal: string, requirement: StepAccess, context: string) => Promise<void>;

// Implementations take different inputs; the registry erases them and runStep checks names.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StepImplementations = Record<string, StepImplementation<any, any>>;

export interface RunStepRequest {
  runId: string;
  /** The pipeline the step belongs to (the lineage job is `<pipeline>.<step>`). */
  pipeline?: string;
  /** The principal who started the run. */
  startedBy?: string;
  step: string;
  uses: string;
  version: string;
  input: unknown;
  cache: boolean;
}

export interface RunStepResult {
  output: Record<string, unknown>;
  cached: boolean;
  cacheKey: string;
  attempt: number;
}

export async function runStepWithCache(
  db: Database,
  implementations: StepImplementations,
  request: RunStepRequest,
  context: Omit<StepContext, 'runId' | 'step' | 'idempotencyKey'>,
  lineage?: LineageSink,
  authorize?: StepAuthorizer,
): Promise<RunStepResult> {
  const implementation = implementations[request.uses];
  if (!implementation) {
    throw new NotFoundError(
      `Step "${request.step}" uses unknown implementation "${request.uses}". Known: ${Object.keys(implementations).sort().join(', ')}.`,
      { step: request.step, uses: request.uses },
    );
  }
  const identity: StepRunIdentity = {
    pipeline: request.pipeline ?? request.runId,
    step: request.step,
    uses: request.uses,
    version: request.version,
    workflowId: request.runId,
    workflowRunId: context.workflowRunId,
    attempt: context.attempt,
    startedBy: request.startedBy,
  };
  const emit = async (type: 'START' | 'COMPLETE' | 'FAIL', datasets: StepLineage | Error, extra: { cached?: boolean; error?: unknown } = {}) => {
    if (!lineage) return;
    // A declaration that cannot describe this run must not fail the step: the event says why it has no datasets.
    const described = datasets instanceof Error ? { datasets: {}, declarationError: datasets.message } : { datasets };
    await lineage.emit(await stepRunEvent(identity, type, described.datasets, { ...extra, declarationError: described.declarationError }), stepEventKey(identity, type));
  };
  const declared = async (result: { output?: Record<string, unknown>; error?: unknown }): Promise<StepLineage | Error> => {
    if (!implementation.lineage || !lineage) return {};
    try {
      return await implementation.lineage(request.input as never, result as never, context.services);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };

  try {
    await emit('START', await declared({}));
    // The run's principal, carried by the workflow, must be allowed what the step does.
    if (authorize && request.startedBy && implementation.access) {
      for (const requirement of await implementation.access(request.input as never, context.services)) {
        await authorize(request.startedBy, requirement, `${identity.pipeline}.${request.step}`);
      }
    }
    const fingerprint = implementation.fingerprint ? await implementation.fingerprint(request.input as never, context.services) : '';
    const key = cacheKey(request.uses, request.version, request.input, fingerprint);
    if (request.cache) {
      const hit = await lookupCachedStep(db, key);
      if (hit) {
        await emit('COMPLETE', await declared({ output: hit }), { cached: true });
        return { output: hit, cached: true, cacheKey: key, attempt: context.attempt };
      }
    }
    const output = await implementation.run(request.input as never, {
      ...context,
      runId: request.runId,
      ...(request.pipeline ? { pipeline: request.pipeline } : {}),
      step: request.step,
      idempotencyKey: `${request.runId}/${request.step}`,
      ...(request.startedBy ? { startedBy: request.startedBy } : {}),
    });
    if (output === null || typeof output !== 'object' || Array.isArray(output)) {
      throw new ValidationError(`Step "${request.step}" (${request.uses}) must return an object of named outputs.`, { step: request.step });
    }
    if (request.cache) {
      await recordCachedStep(db, { key, uses: request.uses, version: request.version, output: output as Record<string, unknown>, runId: request.runId, step: request.step });
    }
    await emit('COMPLETE', await declared({ output: output as Record<string, unknown> }), { cached: false });
    return { output: output as Record<string, unknown>, cached: false, cacheKey: key, attempt: context.attempt };
  } catch (error) {
    // The FAIL event must not hide the step's own error.
    await emit('FAIL', await declared({ error }), { error }).catch(() => undefined);
    throw error;
  }
}
