/**
 * The executor's activities: resolve a pipeline's spec and parameters at the start of a run (so the
 * spec is recorded in the run's history and runs in progress keep theirs when the code changes), and
 * run one step, with caching.
 */
import { Context } from '@temporalio/activity';
import type { Database } from '../src/db/client.js';
import type { Pipeline } from '../src/pipeline/definition.js';
import { findPipeline, validateParams } from '../src/pipeline/catalog.js';
import type { PipelineSpec } from '../src/pipeline/spec.js';
import type { LineageSink } from '../src/lineage/store.js';
import { runStepWithCache, type RunStepRequest, type RunStepResult, type StepAuthorizer, type StepImplementations, type StepServices } from '../src/pipeline/step-runtime.js';

export interface ResolvePipelineInput {
  pipeline: string;
  params: Record<string, unknown>;
}

export interface ResolvePipelineResult {
  spec: PipelineSpec;
  params: Record<string, unknown>;
}

/**
 * Heartbeats keep flowing while a step runs, so a dead worker is noticed and cancellation arrives
 * promptly (the SDK throttles what it actually sends to the server). Each one repeats the step's
 * latest progress details: an empty beat would replace them, and `describe` and a retried attempt's
 * heartbeatDetails would lose where the step had got to.
 */
const HEARTBEAT_EVERY_MS = 1_000;

export function createPipelineActivities(db: Database, pipelines: readonly Pipeline[], steps: StepImplementations, lineage?: LineageSink, authorize?: StepAuthorizer, services?: StepServices) {
  return {
    async resolvePipeline(input: ResolvePipelineInput): Promise<ResolvePipelineResult> {
      const pipeline = findPipeline(pipelines, input.pipeline);
      return { spec: pipeline.spec, params: validateParams(pipeline, input.params) };
    },

    async runStep(request: RunStepRequest): Promise<RunStepResult> {
      const context = Context.current();
      let latest: unknown;
      const beat = setInterval(() => context.heartbeat(latest), HEARTBEAT_EVERY_MS);
      try {
        return await runStepWithCache(db, steps, request, {
          attempt: context.info.attempt,
          workflowRunId: context.info.workflowExecution?.runId,
          heartbeat: (details) => {
            latest = details;
            context.heartbeat(details);
          },
          signal: context.cancellationSignal,
          ...(services ? { services } : {}),
        }, lineage, authorize);
      } finally {
        clearInterval(beat);
      }
    },
  };
}
