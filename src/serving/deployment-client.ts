/**
 * Deployments through the Temporal client: start one, find the one running for a model, roll it
 * back, read its state. What the CLI uses; it needs Temporal only, never the database (with PGlite
 * only the worker's process may open it), so it works beside a running `steward dev`.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { searchAttributes } from '../contracts.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { checkDeployable } from './deployments.js';
import { DEPLOYMENT_WORKFLOW, MANUAL_ROLLBACK_WORKFLOW, type DeploymentInput, type DeploymentResult, type DeploymentState, type RollbackRequest } from './deployment-types.js';

export function deploymentIdFor(model: string, version: number): string {
  return `deploy-${model}-v${version}-${randomUUID().slice(0, 8)}`;
}

/** A version's registry status; undefined when it cannot be learned now (the workflow checks again when it starts). */
export type VersionStatusLookup = (model: string, version: number) => Promise<string | undefined>;

export interface StartDeploymentOptions {
  /**
   * Read before the workflow starts: a version that is not approved is refused (a ValidationError
   * saying how to get it approved) and nothing is started, rather than a workflow that fails.
   */
  versionStatus?: VersionStatusLookup;
}

export async function startDeployment(
  client: Client,
  taskQueue: string,
  input: Omit<DeploymentInput, 'deploymentId'> & { deploymentId?: string },
  options: StartDeploymentOptions = {},
): Promise<WorkflowHandle> {
  if (options.versionStatus) {
    const status = await options.versionStatus(input.model, input.version);
    if (status !== undefined) checkDeployable(input.model, input.version, status);
  }
  const deploymentId = input.deploymentId ?? deploymentIdFor(input.model, input.version);
  return client.workflow.start(DEPLOYMENT_WORKFLOW, {
    taskQueue,
    workflowId: deploymentId,
    args: [{ ...input, deploymentId }],
    typedSearchAttributes: [
      { key: searchAttributes.model, value: input.model },
      { key: searchAttributes.status, value: 'running' },
    ],
  });
}

export interface DeploymentSummary {
  deploymentId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, ... */
  execution: string;
  startedAt: string;
  closedAt?: string;
  state: DeploymentState | undefined;
}

/** The model's deployments, newest first (from Temporal's visibility and each one's memo). */
export async function listDeploymentRuns(client: Client, options: { model?: string; running?: boolean; limit?: number } = {}): Promise<DeploymentSummary[]> {
  const clauses = [`WorkflowType = '${DEPLOYMENT_WORKFLOW}'`];
  if (options.model) clauses.push(`StewardModel = '${options.model.replaceAll("'", '')}'`);
  if (options.running) clauses.push(`ExecutionStatus = 'Running'`);
  const found: DeploymentSummary[] = [];
  for await (const execution of client.workflow.list({ query: clauses.join(' AND ') })) {
    found.push({
      deploymentId: execution.workflowId,
      execution: execution.status.name,
      startedAt: execution.startTime.toISOString(),
      closedAt: execution.closeTime?.toISOString(),
      state: (await execution.memo)?.deploymentState as DeploymentState | undefined,
    });
    if (found.length >= (options.limit ?? 20)) break;
  }
  return found.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** A deployment's state: the live query while it runs (falling back to the memo), the memo once closed. */
export async function deploymentStatus(client: Client, deploymentId: string): Promise<DeploymentSummary & { result?: DeploymentResult; failure?: string }> {
  const handle = client.workflow.getHandle(deploymentId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') throw new NotFoundError(`No deployment "${deploymentId}"; \`steward deploy list\` shows them.`);
    throw error;
  }
  let state = description.memo?.deploymentState as DeploymentState | undefined;
  const execution = description.status.name;
  if (execution === 'RUNNING') state = (await handle.query<DeploymentState | null>('deploymentState').catch(() => null)) ?? state;
  const summary: DeploymentSummary & { result?: DeploymentResult; failure?: string } = {
    deploymentId,
    execution,
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString(),
    state,
  };
  if (execution === 'COMPLETED') summary.result = (await handle.result()) as DeploymentResult;
  if (execution === 'FAILED') summary.failure = await handle.result().then(() => undefined, (error: Error) => rootMessage(error));
  return summary;
}

function rootMessage(error: unknown): string {
  let current = error as { cause?: unknown; message?: string } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? String(error);
}

export type RollbackOutcome =
  | { kind: 'running'; deploymentId: string; state: DeploymentState }
  | { kind: 'promotion'; deploymentId: string; version: number; from: number };

/**
 * Rolls the model back: the running deployment through its `rollback` update (it answers once the
 * routing is back on the stable version), or, with none running, the latest promotion through the
 * `rollbackModel` workflow (routing and alias back to the version before).
 */
export async function rollbackDeployment(client: Client, taskQueue: string, model: string, request: RollbackRequest): Promise<RollbackOutcome> {
  if (!request.reason.trim()) throw new ValidationError('A rollback needs a reason (--reason).');
  const [running] = await listDeploymentRuns(client, { model, running: true, limit: 1 });
  if (running) {
    try {
      const state = await client.workflow.getHandle(running.deploymentId).executeUpdate<DeploymentState, [RollbackRequest]>('rollback', { args: [request] });
      return { kind: 'running', deploymentId: running.deploymentId, state };
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) throw new ValidationError(`Deployment ${running.deploymentId} refused the rollback: ${rootMessage(error)}`);
      throw error;
    }
  }
  const result = await client.workflow.execute(MANUAL_ROLLBACK_WORKFLOW, {
    taskQueue,
    workflowId: `rollback-${model}-${randomUUID().slice(0, 8)}`,
    args: [{ model, ...request }],
    // A rollback that no worker picks up soon must not fire later, when nobody expects it.
    workflowExecutionTimeout: '2 minutes',
    typedSearchAttributes: [{ key: searchAttributes.model, value: model }],
  }).catch((error: unknown) => {
    throw new ValidationError(`Could not roll ${model} back: ${rootMessage(error)}`);
  });
  return { kind: 'promotion', ...(result as { deploymentId: string; version: number; from: number }) };
}
