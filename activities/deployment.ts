/**
 * The deployment workflow's activities: plan, move traffic on the scorer (through its admin API),
 * analyse live per-version stats, and end the deployment (promote, complete, roll back, fail).
 * Each is idempotent: the scorer's routing is set to a value (setting it twice changes nothing),
 * the alias move is a no-op when it already points there, and every record goes through
 * src/serving/deployments.ts under an idempotency key.
 */
import { Context } from '@temporalio/activity';
import type { Database } from '../src/db/client.js';
import { ConfigError, NotFoundError } from '../src/errors.js';
import { deploymentDataset, modelVersionDataset } from '../src/lineage/datasets.js';
import { stepEventKey, stepRunEvent } from '../src/lineage/step-events.js';
import type { LineageSink } from '../src/lineage/store.js';
import { setAlias } from '../src/registry/aliases.js';
import { transitionModelVersion } from '../src/registry/lifecycle.js';
import { requireVersion } from '../src/registry/lookup.js';
import { analyze, type AnalysisResult, type AnalysisThresholds } from '../src/serving/deployment-analysis.js';
import type { DeploymentInput, DeploymentPlan, RecordedAnalysis } from '../src/serving/deployment-types.js';
import { finishDeployment, getDeployment, listDeployments, planDeployment, recordAnalysis, recordRouting } from '../src/serving/deployments.js';
import type { RoutingPolicy } from '../src/serving/routing.js';
import type { ScorerAdmin } from '../src/serving/scorer-client.js';

export interface AnalyzeStepInput {
  model: string;
  candidate: number;
  baseline: number | null;
  /** How long the step has run: the stats window read (rounded up to the scorer's slices). */
  sinceMs: number;
  thresholds: AnalysisThresholds;
}

export interface EndInput {
  deploymentId: string;
  reason: string;
  actor?: string;
}

export function createDeploymentActivities(db: Database, scorerOf: (() => ScorerAdmin) | undefined, lineage?: LineageSink) {
  const scorer = (): ScorerAdmin => {
    if (!scorerOf) throw new ConfigError('This worker has no scorer to deploy to: run the stack with `steward dev` (it hosts the scorer) or set STEWARD_SCORER_URL to a `steward serve`.');
    return scorerOf();
  };
  const planOf = async (id: string) => (await getDeployment(db, id)).plan as unknown as DeploymentPlan;
  const routeToStable = async (plan: DeploymentPlan): Promise<RoutingPolicy | null> => {
    if (plan.stable === null) return scorer().routing(plan.model);
    const routing: RoutingPolicy = { strategy: 'single', version: plan.stable };
    await scorer().setRouting(plan.model, routing);
    return routing;
  };

  return {
    async prepareDeployment(input: DeploymentInput): Promise<DeploymentPlan> {
      return planDeployment(db, input);
    },

    /** Sets a step's routing on the scorer (which loads and warms what it needs first), then records it. */
    async applyDeploymentStep(input: { deploymentId: string; step: number }): Promise<{ routing: RoutingPolicy; scorer: string }> {
      const plan = await planOf(input.deploymentId);
      const step = plan.steps[input.step];
      if (!step) throw new NotFoundError(`Deployment ${input.deploymentId} has no step ${input.step}.`);
      const admin = scorer();
      Context.current().heartbeat();
      await admin.setRouting(plan.model, step.routing);
      await recordRouting(db, plan.deploymentId, input.step, step.routing, step.name);
      return { routing: step.routing, scorer: admin.url };
    },

    /** Reads the candidate's and baseline's live stats and judges them; writes nothing. */
    async analyzeDeploymentStep(input: AnalyzeStepInput): Promise<AnalysisResult> {
      const stats = await scorer().stats(input.model, Math.max(0.001, input.sinceMs / 1000));
      const of = (v: number) => stats.versions.find((s) => s.version === v);
      return analyze({ version: input.candidate, stats: of(input.candidate) }, input.baseline === null ? null : { version: input.baseline, stats: of(input.baseline) }, input.thresholds);
    },

    async recordDeploymentAnalysis(input: { deploymentId: string; analysis: RecordedAnalysis }): Promise<void> {
      await recordAnalysis(db, input.deploymentId, input.analysis);
    },

    /** Every step passed: the candidate serves alone, the alias moves to it, the version becomes `deployed`. */
    async promoteDeployment(input: { deploymentId: string }): Promise<{ routing: RoutingPolicy; previous: number | null }> {
      const plan = await planOf(input.deploymentId);
      const routing: RoutingPolicy = { strategy: 'single', version: plan.candidate };
      await scorer().setRouting(plan.model, routing);
      const why = `Deployment ${plan.deploymentId} (${plan.strategy}) passed ${plan.steps.length} step(s)`;
      // The candidate was approved when the deployment was planned; the deployment is the authority here.
      const change = await setAlias(db, { modelName: plan.model, alias: plan.alias, version: plan.candidate, actor: 'steward', reason: why, workflowId: plan.deploymentId, principal: null });
      const version = await requireVersion(db, plan.model, plan.candidate);
      if (version.status === 'approved') await transitionModelVersion(db, { modelName: plan.model, version: plan.candidate, to: 'deployed', actor: 'steward', reason: why, workflowId: plan.deploymentId });
      await finishDeployment(db, plan.deploymentId, { status: 'promoted', outcome: `${plan.alias} moved to v${plan.candidate}${plan.stable !== null ? ` from v${plan.stable}` : ''}; ${why}`, routing });
      // Lineage: the version now serves as <model>@<alias>, so `steward lineage` reaches the deployment.
      if (lineage) {
        const info = Context.current().info;
        const { startedBy } = await getDeployment(db, plan.deploymentId);
        const identity = { pipeline: 'deployment', step: 'promote', uses: 'promoteDeployment', version: plan.strategy, workflowId: plan.deploymentId, workflowRunId: info.workflowExecution?.runId, attempt: info.attempt, startedBy };
        const event = await stepRunEvent(identity, 'COMPLETE', { inputs: [modelVersionDataset(plan.model, plan.candidate)], outputs: [deploymentDataset(plan.model, plan.alias)] });
        await lineage.emit(event, stepEventKey(identity, 'COMPLETE'));
      }
      return { routing, previous: change.previous };
    },

    /** Passed, without promotion (shadow, A/B): traffic goes back to the stable version alone. */
    async completeDeployment(input: { deploymentId: string; summary: string }): Promise<RoutingPolicy | null> {
      const plan = await planOf(input.deploymentId);
      const routing = await routeToStable(plan);
      await finishDeployment(db, plan.deploymentId, { status: 'completed', outcome: `${input.summary}; ${plan.alias} stays on v${plan.stable}`, routing });
      return routing;
    },

    /** A breach or a person: traffic back to the stable version alone; the alias never moved. */
    async rollbackDeployment(input: EndInput): Promise<RoutingPolicy | null> {
      const plan = await planOf(input.deploymentId);
      const routing = await routeToStable(plan);
      const where = plan.stable !== null ? `traffic back to v${plan.stable}; ${plan.alias} untouched` : `no earlier version to return to`;
      await finishDeployment(db, plan.deploymentId, { status: 'rolled_back', outcome: `Rolled back: ${where}`, rollbackReason: input.reason, routing, actor: input.actor });
      Context.current().log.info('Deployment rolled back', { deploymentId: plan.deploymentId, reason: input.reason });
      return routing;
    },

    /** The candidate could not be served (a corrupt artifact at load): the scorer kept what it served. */
    async failDeployment(input: EndInput): Promise<RoutingPolicy | null> {
      const plan = await planOf(input.deploymentId);
      let routing: RoutingPolicy | null = null;
      let note = '';
      try {
        routing = await routeToStable(plan);
      } catch (error) {
        note = `; the scorer could not be reached to confirm its routing (${(error as Error).message})`;
      }
      await finishDeployment(db, plan.deploymentId, { status: 'failed', outcome: `Failed; v${plan.stable ?? '?'} keeps serving${note}`, rollbackReason: input.reason, routing, actor: input.actor });
      return routing;
    },

    /**
     * A manual rollback when no deployment is running: the latest promoted deployment of the model
     * is undone (routing back to its stable version, the alias moved back).
     */
    async rollbackPromotion(input: { model: string; reason: string; actor: string; requestId: string }): Promise<{ deploymentId: string; version: number; from: number }> {
      const [last] = await listDeployments(db, { model: input.model, status: ['promoted'], limit: 1 });
      if (!last) throw new NotFoundError(`${input.model} has no promoted deployment to roll back (see \`steward deploy list ${input.model}\`).`, { model: input.model });
      const plan = last.plan as unknown as DeploymentPlan;
      if (plan.stable === null) throw new NotFoundError(`${input.model}'s deployment ${last.id} was its first; there is no earlier version to roll back to.`, { model: input.model });
      const routing: RoutingPolicy = { strategy: 'single', version: plan.stable };
      await scorer().setRouting(plan.model, routing);
      await finishDeployment(
        db,
        last.id,
        { status: 'rolled_back', outcome: `Rolled back by hand after promotion: traffic and ${plan.alias} back to v${plan.stable}`, rollbackReason: input.reason, routing, actor: input.actor, key: `manual:${input.requestId}` },
      );
      await setAlias(db, { modelName: plan.model, alias: plan.alias, version: plan.stable, actor: input.actor, reason: `Manual rollback of ${last.id}: ${input.reason}`, workflowId: last.id, principal: null });
      return { deploymentId: last.id, version: plan.stable, from: plan.candidate };
    },
  };
}
