/**
 * The contract between Steward's clients, workflows and activities: names, search attributes, and
 * one input and one result type per workflow and activity. Workflows import values only from here,
 * so this module stays pure (no I/O, no Node built-ins). Adding an optional field is safe for runs
 * already running; renaming or removing one is not.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes that let the Temporal UI and `temporal workflow list` filter Steward runs. */
export const searchAttributes = {
  pipeline: defineSearchAttributeKey('StewardPipeline', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('StewardStatus', SearchAttributeType.KEYWORD),
  model: defineSearchAttributeKey('StewardModel', SearchAttributeType.KEYWORD),
} as const;

export const allSearchAttributes = Object.values(searchAttributes);

/** Set by Temporal on a workflow a Schedule started: the nominal time of its tick (also when backfilled). */
export const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** ApplicationFailure types that workflows branch on (never on `instanceof`). */
export const failureTypes = {
  validation: 'VALIDATION_FAILED',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  config: 'CONFIG_INVALID',
  unavailable: 'UNAVAILABLE',
} as const;

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface StepState {
  name: string;
  kind: 'activity' | 'fanOut' | 'pipeline' | 'approval' | 'deployment';
  status: StepStatus;
  after: string[];
  startedAt?: string;
  finishedAt?: string;
  /** The attempt that produced the result (1 unless the step was retried). */
  attempts?: number;
  /** True when the result was reused from an earlier run with the same code version and inputs. */
  cached?: boolean;
  /** Fan-out progress. */
  items?: { total: number; done: number; cached: number };
  /** A small summary of the step's result: large data moves by reference, never through history. */
  output?: Record<string, unknown>;
  error?: string;
  errorType?: string;
  /** Why a skipped step did not run, when a condition (`when`) decided it. */
  skipReason?: string;
}

/** What `steward status` and the `runState` query show. */
export interface RunState {
  pipeline: string;
  status: RunStatus;
  steps: StepState[];
  /** The step that failed the run, if one did. */
  failedStep?: string;
}

// --- the pipeline executor -------------------------------------------------------------------

export interface RunPipelineInput {
  pipeline: string;
  /** Raw parameters; the pipeline's schema validates them when the run starts. */
  params: Record<string, unknown>;
  /** Reuse cached step results (default true). */
  cache?: boolean;
  /** The principal who started the run: an author of what it produces (separation of duties). */
  startedBy?: string;
}

export interface RunPipelineResult {
  pipeline: string;
  runId: string;
  params: Record<string, unknown>;
  /** Each step's outputs, by step name. */
  outputs: Record<string, Record<string, unknown>>;
  steps: StepState[];
}

/** Why a run failed: the failure's details carry the whole report. */
export const PIPELINE_STEP_FAILED = 'PipelineStepFailed';

