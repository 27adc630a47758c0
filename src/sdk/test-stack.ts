/**
 * A whole Steward stack for a project's tests: the embedded Temporal dev server (or
 * TEMPORAL_ADDRESS), an embedded database and artifact store in a temporary folder, a worker
 * serving the project with Steward's built-ins, and a scorer for deployments. A test runs the
 * project's pipelines through Temporal exactly as `steward start` does, and signs off as reviewers
 * do, through the same decision path the CLI and the reviewer page use.
 *
 * @example
 * const stack = await startTestStack({ project: 'steward.config.ts' });
 * const trained = await stack.run('train-rain-tomorrow');
 * const alice = await stack.reviewer('alice', ['technical']);
 * const release = stack.start('release-rain-tomorrow', { version: 1 });
 * await stack.decide(await release.runId, alice, 'approve', { comment: 'checked the card' });
 * await release.result;
 * await stack.close();
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadAppProject, taskQueueFor } from '../app/project.js';
import { startStack, type Stack } from '../app/stack.js';
import type { RunPipelineResult } from '../contracts.js';
import type { Database } from '../db/client.js';
import type { Principal } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { listApprovals } from '../governance/approvals.js';
import { submitDecision, type DecisionResult } from '../governance/decisions.js';
import { createPrincipal } from '../governance/identity.js';
import { findPipeline } from '../pipeline/catalog.js';
import { startRun } from '../pipeline/runs.js';
import { loadConfig } from '../platform/config.js';
import { stopDevServer } from '../platform/dev-server.js';
import { createLogger, type Logger } from '../platform/logger.js';
import type { Project } from '../project/define.js';
import type { ArtifactStore } from '../artifacts/index.js';

export interface TestStackOptions {
  /** The project: its steward.config.ts (or the folder holding it). */
  project: string;
  /** Where the database, artifacts and dev server state live (default: a new temporary folder). */
  dir?: string;
  /** Keep the folder after close() (to look at it after a failure). */
  keep?: boolean;
  logger?: Logger;
}

export interface StartedTestRun {
  runId: string;
  /** The run's result once it closes; rejects with the run's failure. */
  result: Promise<RunPipelineResult>;
}

export interface TestStack {
  readonly project: Project;
  readonly taskQueue: string;
  readonly db: Database;
  readonly artifacts: ArtifactStore;
  readonly client: Client;
  /** The hosted scorer deployments drive: POST `${scorerUrl}/predict`. */
  readonly scorerUrl: string | undefined;
  readonly dir: string;
  /** Starts a pipeline of the project (parameters validated first) and returns at once. */
  start(pipeline: string, params?: Record<string, unknown>, options?: { startedBy?: string; runId?: string }): Promise<StartedTestRun>;
  /** Runs a pipeline to its end; rejects with the run's failure. */
  run(pipeline: string, params?: Record<string, unknown>, options?: { startedBy?: string; runId?: string }): Promise<RunPipelineResult>;
  /** A reviewer (a principal with roles), created once per name. */
  reviewer(name: string, roles: string[]): Promise<Principal>;
  /** Waits for the run's approval gate to open, then records the reviewer's decision on it. */
  decide(runId: string, reviewer: Principal, decision: 'approve' | 'reject', options?: { role?: string; comment?: string; timeoutMs?: number }): Promise<DecisionResult>;
  close(): Promise<void>;
}

export async function startTestStack(options: TestStackOptions): Promise<TestStack> {
  const dir = options.dir ? path.resolve(options.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'steward-stack-'));
  const logger = options.logger ?? createLogger('warn');
  const project = await loadAppProject({ project: options.project });
  // The stack's own home: its database, artifacts and (without TEMPORAL_ADDRESS) its dev server.
  const config = loadConfig({ ...process.env, STEWARD_HOME: dir }, dir);
  config.taskQueue = taskQueueFor(config, project);
  let stack: Stack;
  try {
    stack = await startStack(config, logger, { api: false, scorer: true, project });
  } catch (error) {
    if (!config.temporal.address) await stopDevServer(dir).catch(() => false);
    if (!options.keep && !options.dir) fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const reviewers = new Map<string, Principal>();
  const pipelineOf = (name: string) => {
    const pipeline = findPipeline(project.pipelines, name);
    if (!pipeline) throw new NotFoundError(`Project "${project.name}" has no pipeline "${name}"; it has ${project.pipelines.map((p) => p.name).join(', ')}.`);
    return pipeline;
  };
  const start: TestStack['start'] = async (pipeline, params = {}, runOptions = {}) => {
    const { runId } = await startRun(stack.client, stack.taskQueue, pipelineOf(pipeline), params, runOptions);
    const result = stack.client.workflow.getHandle(runId).result() as Promise<RunPipelineResult>;
    // Observed by whoever awaits it; never an unhandled rejection meanwhile.
    result.catch(() => {});
    return { runId, result };
  };
  let closed: Promise<void> | undefined;
  return {
    project,
    taskQueue: stack.taskQueue,
    db: stack.database.db,
    artifacts: stack.artifacts,
    client: stack.client,
    scorerUrl: stack.scorer?.url,
    dir,
    start,
    async run(pipeline, params, runOptions) {
      return (await start(pipeline, params, runOptions)).result;
    },
    async reviewer(name, roles) {
      const known = reviewers.get(name);
      if (known) return known;
      const principal = await createPrincipal(stack.database.db, { name, roles, actor: 'test' });
      reviewers.set(name, principal);
      return principal;
    },
    async decide(runId, reviewer, decision, decideOptions = {}) {
      const deadline = Date.now() + (decideOptions.timeoutMs ?? 120_000);
      for (;;) {
        const open = (await listApprovals(stack.database.db, { status: 'waiting' })).find((a) => a.workflowId === runId);
        if (open) {
          const role = decideOptions.role ?? reviewer.roles[0];
          if (!role) throw new ValidationError(`Reviewer ${reviewer.name} has no role to decide with.`);
          return submitDecision(stack.database.db, stack.client, { approvalId: open.id, principal: reviewer, role, decision, comment: decideOptions.comment });
        }
        if (Date.now() > deadline) throw new NotFoundError(`Run ${runId} opened no approval within ${decideOptions.timeoutMs ?? 120_000} ms.`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    close() {
      closed ??= (async () => {
        await stack.shutdown();
        if (!config.temporal.address) await stopDevServer(dir).catch(() => false);
        if (!options.keep && !options.dir) fs.rmSync(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
