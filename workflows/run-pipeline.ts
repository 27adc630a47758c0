/**
 * The one executor for every pipeline. It resolves the pipeline's spec in an activity (so the spec
 * is recorded in history), then runs the DAG: ready steps in parallel, each activity step through
 * the `runStep` activity with its own retry policy and timeouts, fan-outs in child workflows,
 * child pipelines as child workflows, approval gates as durable waits. A failed step skips its
 * dependents, cancels what is still running, and fails the run with a report.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  defineQuery,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  PIPELINE_STEP_FAILED,
  scheduledStartTime,
  searchAttributes,
  type RunPipelineInput,
  type RunPipelineResult,
  type RunState,
  type StepState,
} from '../src/contracts.js';
import { describeCondition, evaluateCondition, resolveTemplate, type ResolveContext, type StepSpec } from '../src/pipeline/spec.js';
import type { DeploymentInput, DeploymentResult } from '../src/serving/deployment-types.js';
import { awaitApproval, registerApprovalHandlers } from './approval.js';
import { runDeployment } from './deployment.js';
import { fanOutBatch, type FanOutBatchResult } from './fan-out.js';
import { stepActivityOptions } from './step-options.js';

export const runStateQuery = defineQuery<RunState>('runState');

const { resolvePipeline } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });
// Resolving a spec reads only the worker's own pipeline catalog: as a local activity it costs no
// task-queue round trip, which was a third of a short parallel pipeline's overhead.
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** What the state (query and memo) keeps of a step's output: scalars and small values, not bulk. */
export function summarizeOutput(output: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(output).map(([key, value]) => {
      if (Array.isArray(value) && JSON.stringify(value).length > 256) return [key, `[${value.length} items]`];
      if (value && typeof value === 'object' && JSON.stringify(value).length > 256) return [key, '{…}'];
      return [key, value];
    }),
  );
}

export async function runPipeline(input: RunPipelineInput): Promise<RunPipelineResult> {
  const info = workflowInfo();
  const state: RunState = { pipeline: input.pipeline, status: 'running', steps: [] };
  setHandler(runStateQuery, () => state);
  const approvals = registerApprovalHandlers();

  const resolve = patched('resolve-pipeline-locally') ? local.resolvePipeline : resolvePipeline;
  const { spec, params } = await resolve({ pipeline: input.pipeline, params: input.params });
  state.steps = spec.steps.map((s) => ({ name: s.name, kind: s.kind, status: 'pending', after: s.after }));
  const stateOf = (name: string) => state.steps.find((s) => s.name === name)!;
  const outputs: Record<string, Record<string, unknown>> = {};
  const scheduledAt = info.typedSearchAttributes.get(scheduledStartTime)?.toISOString() ?? '';
  const context = (): ResolveContext => ({
    params,
    outputs,
    run: { id: info.workflowId, pipeline: spec.name, startedAt: info.startTime.toISOString(), scheduledAt },
  });
  const cache = input.cache ?? true;
  const record = () => upsertMemo({ runState: state });

  const execute = async (step: StepSpec, s: StepState): Promise<void> => {
    const where = `Step "${step.name}"`;
    switch (step.kind) {
      case 'activity': {
        const stepInput = resolveTemplate(step.input, context(), where);
        const { runStep } = proxyActivities<Activities>(stepActivityOptions(step, step.name));
        const result = await runStep({ runId: info.workflowId, pipeline: spec.name, ...(input.startedBy ? { startedBy: input.startedBy } : {}), step: step.name, uses: step.uses, version: step.version, input: stepInput, cache: cache && step.cache });
        outputs[step.name] = result.output;
        Object.assign(s, { output: summarizeOutput(result.output), cached: result.cached, attempts: result.attempt });
        // A step that registers a model names it: the run becomes findable by model in the Temporal UI.
        if (typeof result.output.modelName === 'string' && patched('model-search-attribute')) {
          upsertSearchAttributes([{ key: searchAttributes.model, value: result.output.modelName }]);
        }
        return;
      }
      case 'fanOut': {
        const items = resolveTemplate(step.items, context(), where);
        if (!Array.isArray(items)) {
          throw ApplicationFailure.create({ type: 'VALIDATION_FAILED', nonRetryable: true, message: `${where}: fan-out items must be a list, got ${typeof items}.` });
        }
        // Everything but the per-item references is resolved once here; each child resolves `$item`.
        const each = { ...step.each, input: resolveTemplate(step.each.input, { ...context(), item: undefined }, where, { keepItems: true }) as typeof step.each.input };
        const batches: unknown[][] = [];
        for (let i = 0; i < items.length; i += step.batchSize) batches.push(items.slice(i, i + step.batchSize));
        const perChild = Math.min(step.concurrency, step.batchSize);
        const parallelChildren = Math.max(1, Math.floor(step.concurrency / perChild));
        s.items = { total: items.length, done: 0, cached: 0 };
        const results: unknown[] = new Array(items.length);
        let nextBatch = 0;
        const runChildren = async () => {
          while (nextBatch < batches.length) {
            const index = nextBatch++;
            const batch: FanOutBatchResult = await executeChild(fanOutBatch, {
              workflowId: `${info.workflowId}--${step.name}--${index}`,
              args: [{ runId: info.workflowId, pipeline: spec.name, ...(input.startedBy ? { startedBy: input.startedBy } : {}), step: step.name, each, items: batches[index]!, firstIndex: index * step.batchSize, concurrency: perChild, cache }],
            });
            batch.outputs.forEach((o, i) => (results[index * step.batchSize + i] = o));
            s.items!.done += batch.outputs.length;
            s.items!.cached += batch.cached;
          }
        };
        await Promise.all(Array.from({ length: Math.min(parallelChildren, batches.length) }, runChildren));
        outputs[step.name] = { count: items.length, results };
        s.output = { count: items.length, cached: s.items.cached };
        return;
      }
      case 'pipeline': {
        const child: RunPipelineResult = await executeChild(runPipeline, {
          workflowId: `${info.workflowId}--${step.name}`,
          args: [{ pipeline: step.pipeline, params: resolveTemplate(step.params, context(), where) as Record<string, unknown>, cache, ...(input.startedBy ? { startedBy: input.startedBy } : {}) }],
          typedSearchAttributes: [{ key: searchAttributes.pipeline, value: step.pipeline }, { key: searchAttributes.status, value: 'running' }],
        });
        outputs[step.name] = child.outputs;
        s.output = { runId: child.runId, steps: child.steps.length };
        return;
      }
      case 'approval': {
        const governed = step.policy && { policy: step.policy, pipeline: spec.name, ...(input.startedBy ? { startedBy: input.startedBy } : {}) };
        const decision = await awaitApproval(approvals, step.name, resolveTemplate(step.subject, context(), where), step.timeout, governed);
        outputs[step.name] = { ...decision };
        s.output = { ...decision };
        return;
      }
      case 'deployment': {
        // New with the deployment step kind: histories recorded before it never reach this branch.
        const settings = resolveTemplate(step.input, context(), where) as Omit<DeploymentInput, 'deploymentId' | 'startedBy'>;
        const deploymentId = `${info.workflowId}--${step.name}`;
        const result: DeploymentResult = await executeChild(runDeployment, {
          workflowId: deploymentId,
          args: [{ ...settings, deploymentId, startedBy: input.startedBy ?? 'steward', reason: settings.reason ?? `Pipeline ${spec.name}, run ${info.workflowId}` }],
          typedSearchAttributes: [{ key: searchAttributes.model, value: String(settings.model) }, { key: searchAttributes.status, value: 'running' }],
        });
        const summary = { deploymentId, status: result.status, outcome: result.outcome, model: result.model, candidate: result.candidate, stable: result.stable };
        outputs[step.name] = summary;
        s.output = summary;
        if (result.status === 'rolled_back' || result.status === 'failed') {
          throw ApplicationFailure.create({
            type: 'DEPLOYMENT_ROLLED_BACK',
            nonRetryable: true,
            message: `Deployment ${deploymentId} of ${result.model} v${result.candidate} ${result.status === 'failed' ? 'failed' : 'was rolled back'}: ${result.rollbackReason ?? result.outcome}`,
            details: [summary],
          });
        }
        return;
      }
    }
  };

  let failure: { step: string; message: string; type?: string } | undefined;
  let cancelled = false;
  const stepsScope = new CancellationScope();
  const running = new Map<string, Promise<void>>();
  const start = (step: StepSpec, s: StepState) => {
    s.status = 'running';
    s.startedAt = new Date().toISOString();
    const done = stepsScope
      .run(() => execute(step, s))
      .then(
        () => {
          s.status = 'completed';
        },
        (error: unknown) => {
          if (isCancellation(error)) {
            s.status = 'cancelled';
            if (!failure) cancelled = true;
            return;
          }
          const root = rootCause(error);
          s.status = 'failed';
          s.error = root.message;
          s.errorType = root.type;
          if (!failure) {
            failure = { step: step.name, message: root.message, type: root.type };
            // Fail fast: whatever else is running cannot make this run succeed.
            stepsScope.cancel();
          }
        },
      )
      .finally(() => {
        s.finishedAt = new Date().toISOString();
        running.delete(step.name);
        record();
      });
    running.set(step.name, done);
  };

  // Step promises never reject (outcomes land in the state), so this loop ends once nothing runs.
  // Cancelling the run cancels stepsScope (a child of the root scope) and so every running step.
  for (;;) {
    let started = false;
    // Steps skipped by a condition let their dependents be decided in another pass at once.
    let decided = false;
    for (const step of spec.steps) {
      const s = stateOf(step.name);
      if (s.status !== 'pending') continue;
      const upstream = step.after.map(stateOf);
      if (failure || cancelled || upstream.some((u) => ['failed', 'skipped', 'cancelled'].includes(u.status))) {
        s.status = 'skipped';
        // Only conditions give reasons: runs without them keep the state (and memo) they always had.
        const conditional = upstream.find((u) => u.status === 'skipped' && u.skipReason);
        if (!failure && !cancelled && conditional) s.skipReason = `"${conditional.name}" was skipped`;
      } else if (upstream.every((u) => u.status === 'completed')) {
        // Specs from before conditions have no `when`: their runs never take this branch.
        if (step.when) {
          let holds: boolean;
          try {
            holds = evaluateCondition(step.when, context(), `Step "${step.name}": condition`);
          } catch (error) {
            s.status = 'failed';
            s.error = (error as Error).message;
            s.errorType = 'VALIDATION_FAILED';
            if (!failure) {
              failure = { step: step.name, message: s.error, type: s.errorType };
              stepsScope.cancel();
            }
            decided = true;
            continue;
          }
          if (!holds) {
            s.status = 'skipped';
            s.skipReason = `when ${describeCondition(step.when)} did not hold`;
            decided = true;
            continue;
          }
        }
        start(step, s);
        started = true;
      }
    }
    // The memo shows running steps too, so `steward status` with no worker answering (or a run
    // waiting at a gate) tells what is under way. Runs from before the patch replay as they ran.
    if (started && patched('memo-on-step-start')) record();
    else if (decided) record();
    if (decided && running.size === 0) continue;
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  state.status = failure ? 'failed' : cancelled ? 'cancelled' : 'completed';
  state.failedStep = failure?.step;
  upsertSearchAttributes([{ key: searchAttributes.status, value: state.status }]);
  record();
  if (failure) {
    throw ApplicationFailure.create({
      type: PIPELINE_STEP_FAILED,
      nonRetryable: true,
      message: `Step "${failure.step}" failed: ${failure.message}`,
      details: [state],
    });
  }
  if (cancelled) throw new CancelledFailure('The run was cancelled.');
  return { pipeline: spec.name, runId: info.workflowId, params, outputs, steps: state.steps };
}

/** The innermost failure: an activity's or child's own error, not the wrappers around it. */
function rootCause(error: unknown): { message: string; type?: string } {
  let current = error as { message?: string; cause?: unknown; type?: string } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return { message: current?.message ?? String(error), type: current?.type };
}
