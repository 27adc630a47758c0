/**
 * Starting pipeline runs and reading their state through the Temporal client: what the CLI and the
 * HTTP API share. A run's id is its workflow id.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { searchAttributes, type RunPipelineInput, type RunState } from '../contracts.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { validateParams } from './catalog.js';
import type { Pipeline } from './definition.js';

/** The executor workflow's type: every pipeline run is one of these. */
export const EXECUTOR_WORKFLOW = 'runPipeline';

/**
 * The longest run id Steward takes. Runs derive ids for their children from it (`<run>--<step>`,
 * `<run>--<step>--<batch>`, `<run>-challenge`), which must stay under Temporal's own limit (1,000 by
 * default), and the HTTP API reads a run at /api/runs/<id>.
 */
export const MAX_RUN_ID_LENGTH = 200;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/**
 * Checks a run id (a workflow id) a person or a client gives, before anything reaches Temporal: at
 * most MAX_RUN_ID_LENGTH characters, letters, digits and `. _ : @ -`, starting with a letter or a
 * digit. The ids Steward makes (`<pipeline>-<8 hex>`, a Schedule's `<schedule>-<time>`, children's
 * `<run>--<step>`) all pass. One place for the CLI (`steward run --run-id`, `steward status`) and
 * for startRun / getRunReport (so the HTTP API answers 400, not 500).
 */
export function checkRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string' || runId.length === 0) throw new ValidationError('A run id must be a non-empty string, e.g. train-rain-tomorrow-1a2b3c4d.', { runId: runId ?? null });
  if (runId.length > MAX_RUN_ID_LENGTH) {
    throw new ValidationError(`A run id is at most ${MAX_RUN_ID_LENGTH} characters; this one has ${runId.length.toLocaleString('en-US')} ("${runId.slice(0, 24)}...").`, {
      length: runId.length,
      maxLength: MAX_RUN_ID_LENGTH,
    });
  }
  if (!RUN_ID.test(runId)) {
    const bad = [...new Set([...runId].filter((c) => !/[A-Za-z0-9._:@-]/.test(c)))].map((c) => JSON.stringify(c)).join(', ');
    throw new ValidationError(
      `Run id "${runId}" ${bad ? `has characters a run id may not have (${bad})` : 'must start with a letter or a digit'}: use letters, digits and . _ : @ - (at most ${MAX_RUN_ID_LENGTH}), starting with a letter or a digit.`,
      { runId },
    );
  }
}

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
  if (options.runId !== undefined) checkRunId(options.runId);
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
  checkRunId(runId);
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
