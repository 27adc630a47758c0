/**
 * A deployment of an approved model version to the scorer: canary, blue-green, shadow or A/B.
 * The plan (the routing of each step) is made by an activity and recorded in history; the workflow
 * moves traffic step by step and, between steps, asks for an analysis of the live per-version
 * stats until each arm has enough requests (waiting on durable timers, up to a maximum). A breach
 * rolls back at once; a load failure (a corrupt artifact) fails the deployment while the old
 * version keeps serving; success promotes (the alias moves to the candidate) or, for shadow and
 * A/B without promotion, reports and returns traffic to the stable version.
 *
 * The Update `rollback` (and the Signal of the same name, for the plain Temporal CLI) rolls back
 * by hand at any point before promotion. The Query `deploymentState` and the memo show progress.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AnalysisResult } from '../src/serving/deployment-analysis.js';
import type { DeploymentInput, DeploymentResult, DeploymentState, RecordedAnalysis, RollbackRequest } from '../src/serving/deployment-types.js';

export const deploymentStateQuery = defineQuery<DeploymentState | null>('deploymentState');
export const rollbackUpdate = defineUpdate<DeploymentState, [RollbackRequest]>('rollback');
export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');

const BAD_INPUT = ['VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT', 'CONFIG_INVALID', 'MODEL_LOAD_FAILED'];

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: BAD_INPUT },
});
const reads = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second', nonRetryableErrorTypes: BAD_INPUT },
});

function rootMessage(error: unknown): string {
  let current = error as { cause?: unknown; message?: string } | undefined;
  while (current?.cause) current = current.cause as typeof current;
  return current?.message ?? String(error);
}

export async function runDeployment(input: DeploymentInput): Promise<DeploymentResult> {
  let state: DeploymentState | null = null;
  let manual: RollbackRequest | undefined;
  setHandler(deploymentStateQuery, () => state);
  const refusal = (request: RollbackRequest | undefined): string | undefined => {
    if (!request || typeof request !== 'object' || typeof request.reason !== 'string' || !request.reason.trim()) return 'a rollback needs a reason';
    if (typeof request.actor !== 'string' || !request.actor.trim()) return 'a rollback needs the actor asking for it';
    if (state && state.status !== 'running') return `deployment ${state.deploymentId} already ended (${state.status}); \`steward deploy rollback\` undoes a promotion`;
    return undefined;
  };
  setHandler(
    rollbackUpdate,
    async (request) => {
      manual ??= request;
      await condition(() => state !== null && state.status !== 'running');
      return state!;
    },
    {
      validator: (request) => {
        const reason = refusal(request);
        if (reason) throw new Error(`rejected: ${reason}`);
      },
    },
  );
  setHandler(rollbackSignal, (request) => {
    if (!refusal(request)) manual ??= request;
  });

  const result = await deploy(input, (next) => (state = next), () => manual);
  // A rollback update waiting for the end gets its answer before the workflow closes.
  await condition(allHandlersFinished);
  return result;
}

async function deploy(input: DeploymentInput, publish: (state: DeploymentState) => void, requested: () => RollbackRequest | undefined): Promise<DeploymentResult> {
  const plan = await acts.prepareDeployment(input);
  const s: DeploymentState = {
    deploymentId: plan.deploymentId,
    model: plan.model,
    candidate: plan.candidate,
    stable: plan.stable,
    strategy: plan.strategy,
    status: 'running',
    currentStep: 0,
    steps: plan.steps.map((step) => step.name),
    routing: null,
    analyses: [],
  };
  publish(s);
  const record = () => upsertMemo({ deploymentState: { ...s, lastAnalysis: undefined } });
  record();

  const end = (status: DeploymentResult['status'], outcome: string, rollbackReason?: string): DeploymentResult => {
    s.status = status;
    s.outcome = outcome;
    s.rollbackReason = rollbackReason;
    record();
    return { deploymentId: plan.deploymentId, model: plan.model, candidate: plan.candidate, stable: plan.stable, status, outcome, analyses: s.analyses, ...(rollbackReason ? { rollbackReason } : {}) };
  };
  const rollBack = async (reason: string, actor = 'steward'): Promise<DeploymentResult> => {
    s.routing = (await acts.rollbackDeployment({ deploymentId: plan.deploymentId, reason, actor })) ?? s.routing;
    return end('rolled_back', plan.stable !== null ? `rolled back to v${plan.stable}` : 'rolled back', reason);
  };
  const manualReason = () => `manual rollback by ${requested()!.actor}: ${requested()!.reason}`;

  for (const [index, step] of plan.steps.entries()) {
    s.currentStep = index;
    if (requested()) return rollBack(manualReason(), requested()!.actor);
    try {
      const applied = await acts.applyDeploymentStep({ deploymentId: plan.deploymentId, step: index });
      s.routing = applied.routing;
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      const reason = `step "${step.name}" could not be applied: ${rootMessage(error)}`;
      s.routing = (await acts.failDeployment({ deploymentId: plan.deploymentId, reason })) ?? s.routing;
      return end('failed', plan.stable !== null ? `failed; v${plan.stable} keeps serving` : 'failed', reason);
    }
    record();
    if (!step.analyze) continue;

    const started = Date.now();
    let verdict: AnalysisResult | undefined;
    for (;;) {
      const elapsed = Date.now() - started;
      const result = await reads.analyzeDeploymentStep({ model: plan.model, ...step.analyze, sinceMs: elapsed, thresholds: plan.thresholds });
      s.lastAnalysis = { ...result, step: index };
      if (result.verdict === 'fail' || (result.verdict === 'pass' && elapsed >= plan.minSeconds * 1000)) {
        verdict = result;
        break;
      }
      if (elapsed >= plan.maxWaitSeconds * 1000) {
        verdict = { ...result, verdict: 'fail', reason: `not enough traffic to judge after ${Math.round(elapsed / 1000)} s (${result.reason})` };
        break;
      }
      if (await condition(() => requested() !== undefined, plan.pollSeconds * 1000)) break;
    }
    if (!verdict) return rollBack(manualReason(), requested()!.actor);
    const recorded: RecordedAnalysis = { ...verdict, step: index, stepName: step.name, afterSeconds: Math.round((Date.now() - started) / 100) / 10, at: new Date().toISOString() };
    await acts.recordDeploymentAnalysis({ deploymentId: plan.deploymentId, analysis: recorded });
    s.analyses.push(recorded);
    record();
    if (verdict.verdict === 'fail') return rollBack(`analysis of "${step.name}" failed: ${verdict.reason}`);
  }
  if (requested()) return rollBack(manualReason(), requested()!.actor);

  s.currentStep = plan.steps.length;
  if (plan.promote) {
    const promoted = await acts.promoteDeployment({ deploymentId: plan.deploymentId });
    s.routing = promoted.routing;
    return end('promoted', `${plan.alias} moved to v${plan.candidate}${plan.stable !== null ? ` from v${plan.stable}` : ''}`);
  }
  const summary = `${plan.strategy} passed: ${s.analyses.map((a) => a.reason).join(' | ')}`;
  s.routing = (await acts.completeDeployment({ deploymentId: plan.deploymentId, summary })) ?? s.routing;
  return end('completed', `${plan.strategy} analysis passed; v${plan.stable} keeps serving`);
}

/**
 * A manual rollback when no deployment workflow is running: undoes the model's latest promotion.
 * A workflow, not a CLI write, because with PGlite only the worker's process may open the database.
 */
export async function rollbackModel(input: { model: string; reason: string; actor: string }): Promise<{ deploymentId: string; version: number; from: number }> {
  if (!input?.reason?.trim() || !input.actor?.trim()) throw ApplicationFailure.create({ type: 'VALIDATION_FAILED', nonRetryable: true, message: 'A rollback needs a reason and the actor asking for it.' });
  return acts.rollbackPromotion({ ...input, requestId: workflowInfo().workflowId });
}
