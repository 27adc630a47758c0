/**
 * Starting pipeline runs and reading their state through the Temporal client: what the CLI and the
 * HTTP API share. A run's id is its workflow id.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { searchAttributes, type RunPipelineInput, type RunState } from '../contracts.js';
import { NotFoundError } from '../errors.js';
import { validateParams } from './catalog.js';
import type { Pipeline } from './definition.js';

/** The executor workflow's type: every pipeline run is one of these. */
export const EXECUTOR_WORKFLOW = 'runPipeline';

export interface StartedRun {
  runId: string;
  pipeline: string;
}

export interface StartOptions {
  runId?: string;
  /** Reuse cached step results (default true). */
  cache?: boolean;
  /** The principal starting the run (recorded as an author for separation of duties). */
  startedBy?: string;
}

/** Validates the parameters here, for an immediate error, then starts the executor workflow. */
export async function startRun(
  client: Client,
  taskQueue: string,
  pipeline: Pipeline,
  rawParams: Record<string, unknown>,
  options: StartOptions = {},
): Promise<StartedRun> {
  validateParams(pipeline, rawParams);
  const runId = options.runId ?? `${pipeline.name}-${randomUUID().slice(0, 8)}`;
  const input: RunPipelineInput = { pipeline: pipeline.name, params: rawParams, cache: options.cache ?? true, ...(options.startedBy ? { startedBy: options.startedBy } : {}) };
  await client.workflow.start(EXECUTOR_WORKFLOW, {
    taskQueue,
    workflowId: runId,
    args: [input],
    typedSearchAttributes: [
      { key: searchAttributes.pipeline, value: pipeline.name },
      { key: searchAttributes.status, value: 'running' },
    ],
  });
  return { runId, pipeline: pipeline.name };
}

export interface RunReport {
  runId: string;
  pipeline: string | undefined;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ... */
  status: string;
  startedAt: string | undefined;
  closedAt: string | undefined;
  /** Per-step state: from the run's query while it runs, from its memo once closed. */
  state: RunState | undefined;
  result?: unknown;
  failure?: string;
}

/** Queries need a worker; a running run whose worker is gone still reports its last recorded state. */
const QUERY_DEADLINE_MS = 3_000;

export async function getRunReport(client: Client, runId: string): Promise<RunReport> {
  const handle = client.workflow.getHandle(runId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') {
      throw new NotFoundError(`No run with id "${runId}". List runs with \`temporal workflow list\` or the Temporal UI.`, { runId });
    }
    throw error;
  }
  const status = description.status.name;
  let state = description.memo?.runState as RunState | undefined;
  if (status === 'RUNNING') {
    try {
      state = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query<RunState>('runState'));
    } catch {
      // No worker answered in time: fall back to the state the run last recorded in its memo.
    }
  }
  const report: RunReport = {
    runId,
    pipeline: description.typedSearchAttributes.get(searchAttributes.pipeline),
    status,
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString(),
    state,
  };
  if (status === 'COMPLETED') report.result = await handle.result();
  if (status === 'FAILED') report.failure = await failureOf(client, runId);
  if (status === 'CANCELLED') report.failure = 'The run was cancelled.';
  return report;
}

async function failureOf(client: Client, runId: string): Promise<string> {
  try {
    await client.workflow.getHandle(runId).result();
    return 'unknown failure';
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const causes: string[] = [];
      for (let e: Error | undefined = error.cause; e; e = (e as { cause?: Error }).cause) causes.push(e.message);
      return causes.join(': ') || error.message;
    }
    return (error as Error).message;
  }
}

/** Whether any worker polled the task queue recently (else a started run would just wait). */
export async function hasLiveWorker(client: Client, taskQueue: string): Promise<boolean> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
  });
  const recent = Date.now() - 90_000;
  return (response.pollers ?? []).some((p) => {
    const seconds = Number(p.lastAccessTime?.seconds ?? 0);
    return seconds * 1000 >= recent;
  });
}
