/**
 * Deployments as records: planning one (checking the candidate may be deployed and working out the
 * routing of each step), and every change after it (traffic moved, an analysis with its numbers,
 * promotion, rollback, failure), each written to the `deployments` row and the audit trail in one
 * transaction under an idempotency key, so a retried activity writes nothing twice.
 *
 * @example
 * ```ts
 * const plan = await planDeployment(db, { deploymentId, model: 'rain-tomorrow', version: 4, strategy: 'canary', startedBy: 'ana' });
 * await recordRouting(db, plan.deploymentId, 0, plan.steps[0]!.routing, 'steward');
 * ```
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { once } from '../db/idempotency.js';
import { deployments, modelAliases, type DeploymentRow } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { appendAuditTx } from '../audit/index.js';
import { APPROVED_STATUSES, notApprovedMessage } from '../registry/aliases.js';
import { requireVersion } from '../registry/lookup.js';
import { checkAliasName, checkModelName } from '../registry/names.js';
import { DEFAULT_THRESHOLDS, type AnalysisThresholds } from './deployment-analysis.js';
import type { DeploymentInput, DeploymentPlan, DeploymentStatus, PlannedStep, RecordedAnalysis } from './deployment-types.js';
import type { RoutingPolicy } from './routing.js';

const STRATEGIES = ['canary', 'blue-green', 'shadow', 'ab'] as const;
/** Statuses a version may be deployed from: approved by the sign-off, or deployed before (a roll forward again). */
export const DEPLOYABLE: readonly string[] = APPROVED_STATUSES;

/** Refuses a version that is not approved, saying how to get it approved; what `deploy start` checks before it starts anything. */
export function checkDeployable(model: string, version: number, status: string): void {
  if (!DEPLOYABLE.includes(status)) throw new ValidationError(notApprovedMessage(model, version, status, 'can be deployed'), { model, version, status });
}

function positive(value: unknown, what: string, { max, integer = false, zero = false }: { max?: number; integer?: boolean; zero?: boolean } = {}): number {
  const n = value as number;
  if (typeof n !== 'number' || !Number.isFinite(n) || (zero ? n < 0 : n <= 0) || (integer && !Number.isInteger(n)) || (max !== undefined && n > max)) {
    throw new ValidationError(`${what} must be a ${integer ? 'whole ' : ''}number ${zero ? 'of at least 0' : 'above 0'}${max !== undefined ? ` and at most ${max}` : ''}, got ${JSON.stringify(value)}.`);
  }
  return n;
}

export function checkThresholds(overrides: Partial<AnalysisThresholds> | undefined): AnalysisThresholds {
  const known = Object.keys(DEFAULT_THRESHOLDS);
  const unknown = Object.keys(overrides ?? {}).filter((k) => !known.includes(k));
  if (unknown.length) throw new ValidationError(`Unknown analysis threshold(s) ${unknown.join(', ')}; known: ${known.join(', ')}.`);
  const driftMetric = overrides?.driftMetric ?? DEFAULT_THRESHOLDS.driftMetric;
  if (driftMetric !== 'jensen-shannon' && driftMetric !== 'psi') throw new ValidationError(`driftMetric must be "jensen-shannon" or "psi", got ${JSON.stringify(driftMetric)}.`);
  const t: AnalysisThresholds = { ...DEFAULT_THRESHOLDS, ...(driftMetric === 'psi' ? { maxDrift: 0.25 } : {}), ...overrides, driftMetric };
  positive(t.minRequests, 'minRequests', { integer: true });
  positive(t.maxErrorRate, 'maxErrorRate', { max: 1, zero: true });
  positive(t.maxErrorRateIncrease, 'maxErrorRateIncrease', { max: 1, zero: true });
  positive(t.maxLatencyP99Ratio, 'maxLatencyP99Ratio');
  positive(t.latencySlackMs, 'latencySlackMs', { zero: true });
  positive(t.maxLatencyP99Ms, 'maxLatencyP99Ms');
  positive(t.maxDrift, 'maxDrift');
  return t;
}

/** Canary steps: increasing percentages above 0, at most 100; a final 100 is the switch. */
export function checkCanarySteps(steps: number[] | undefined): number[] {
  const list = steps ?? [5, 25, 100];
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError('A canary needs at least one traffic step, e.g. 5,25,100.');
  list.forEach((p, i) => {
    positive(p, `Canary step ${i + 1}`, { max: 100 });
    if (i > 0 && p <= list[i - 1]!) throw new ValidationError(`Canary steps must increase: ${list.join(', ')} does not (step ${i + 1}).`);
  });
  return list;
}

/** Which version serves now: the alias's. */
async function stableOf(db: Database, model: string, alias: string): Promise<number | null> {
  const [row] = await db.select().from(modelAliases).where(and(eq(modelAliases.modelName, model), eq(modelAliases.alias, alias)));
  return row?.version ?? null;
}

/** The routing of each step for a strategy (pure: the deployment records it, the workflow follows it). */
export function planSteps(input: Pick<DeploymentInput, 'strategy' | 'steps' | 'shadowPercent' | 'abPercent'>, candidate: number, stable: number | null): PlannedStep[] {
  if (stable === null) {
    // A model's first deployment: nothing serves yet, so there is no traffic to watch and nothing to
    // compare with or fall back to. Loading and warming it (which checks the artifact and the
    // signature) is the test; the next deployment's canary compares against it.
    return [{ name: `v${candidate} serves all traffic (first deployment)`, routing: { strategy: 'single', version: candidate }, analyze: null }];
  }
  switch (input.strategy) {
    case 'canary':
      return checkCanarySteps(input.steps)
        .filter((p) => p < 100)
        .map((percent) => ({ name: `canary ${percent}%`, routing: { strategy: 'canary', primary: stable, candidate, percent }, analyze: { candidate, baseline: stable } }));
    case 'blue-green':
      return [
        { name: `smoke: green v${candidate} mirrors blue v${stable}'s traffic`, routing: { strategy: 'shadow', primary: stable, shadow: candidate, percent: 100 }, analyze: { candidate, baseline: stable } },
        // Canary at 0% is how blue stays loaded (for an instant rollback) while green serves everything.
        { name: `switch: green v${candidate} serves all, blue v${stable} kept loaded`, routing: { strategy: 'canary', primary: candidate, candidate: stable, percent: 0 }, analyze: { candidate, baseline: null } },
      ];
    case 'shadow': {
      const percent = positive(input.shadowPercent ?? 100, 'shadowPercent', { max: 100 });
      return [{ name: `shadow: v${candidate} scores ${percent}% of v${stable}'s traffic`, routing: { strategy: 'shadow', primary: stable, shadow: candidate, percent }, analyze: { candidate, baseline: stable } }];
    }
    case 'ab': {
      const percent = positive(input.abPercent ?? 50, 'abPercent', { max: 99 });
      return [
        {
          name: `A/B: a = v${stable} ${100 - percent}%, b = v${candidate} ${percent}%`,
          routing: { strategy: 'ab', arms: [{ name: 'a', version: stable, weight: 100 - percent }, { name: 'b', version: candidate, weight: percent }] },
          analyze: { candidate, baseline: stable },
        },
      ];
    }
  }
}

/**
 * Checks the request (model, approved version, strategy, thresholds), works out the steps and
 * records the deployment as running with a `deployment.started` audit entry. Idempotent on the id;
 * a second deployment of the same model while one runs is a ConflictError.
 */
export async function planDeployment(db: Database, input: DeploymentInput): Promise<DeploymentPlan> {
  if (!input || typeof input !== 'object') throw new ValidationError('A deployment needs { deploymentId, model, version, strategy, startedBy }.');
  checkModelName(input.model);
  if (!STRATEGIES.includes(input.strategy)) throw new ValidationError(`Unknown strategy ${JSON.stringify(input.strategy)}; use one of ${STRATEGIES.join(', ')}.`);
  positive(input.version, 'The version', { integer: true });
  if (!input.startedBy?.trim()) throw new ValidationError('A deployment needs the principal starting it (startedBy).');
  const alias = input.alias ?? 'production';
  checkAliasName(alias);
  const existing = await getDeployment(db, input.deploymentId).catch(() => undefined);
  if (existing) return existing.plan as unknown as DeploymentPlan;

  const version = await requireVersion(db, input.model, input.version);
  checkDeployable(input.model, input.version, version.status);
  const stable = await stableOf(db, input.model, alias);
  if (stable === input.version) throw new ValidationError(`${input.model} v${input.version} is already ${alias}; there is nothing to deploy.`, { model: input.model, version: input.version });
  const thresholds = checkThresholds(input.thresholds);
  const plan: DeploymentPlan = {
    deploymentId: input.deploymentId,
    model: input.model,
    candidate: input.version,
    stable,
    strategy: input.strategy,
    alias,
    steps: planSteps(input, input.version, stable),
    thresholds,
    pollSeconds: positive(input.analysis?.pollSeconds ?? 10, 'analysis.pollSeconds'),
    maxWaitSeconds: positive(input.analysis?.maxWaitSeconds ?? 900, 'analysis.maxWaitSeconds'),
    // A bake time per step: the scorer's stats window advances a slice at a time, so a verdict taken
    // right after a traffic change would still see the previous step's traffic in its first slice.
    minSeconds: positive(input.analysis?.minSeconds ?? Math.max(30, input.strategy === 'ab' ? (input.abDurationSeconds ?? 0) : 0), 'analysis.minSeconds', { zero: true }),
    promote: input.promote ?? (input.strategy === 'canary' || input.strategy === 'blue-green'),
  };
  await once(db, `deployment:${plan.deploymentId}:start`, 'deployment', async (tx) => {
    const [running] = await tx.select({ id: deployments.id }).from(deployments).where(and(eq(deployments.modelName, plan.model), eq(deployments.status, 'running')));
    if (running) throw new ConflictError(`${plan.model} is already being deployed (${running.id}); wait for it or roll it back with \`steward deploy rollback ${plan.model}\`.`, { running: running.id });
    await tx.insert(deployments).values({
      id: plan.deploymentId,
      modelName: plan.model,
      candidateVersion: plan.candidate,
      stableVersion: stable,
      strategy: plan.strategy,
      alias,
      plan: plan as unknown as Record<string, unknown>,
      status: 'running',
      startedBy: input.startedBy,
      workflowId: plan.deploymentId,
    });
    await audit(tx, input.startedBy, 'deployment.started', plan, {
      strategy: plan.strategy,
      candidate: plan.candidate,
      stable,
      alias,
      steps: plan.steps.map((s) => s.name),
      thresholds,
      promote: plan.promote,
      reason: input.reason ?? null,
    });
    return true;
  });
  return plan;
}

function audit(tx: Transaction, actor: string, action: string, d: { deploymentId: string; model: string; candidate: number }, details: Record<string, unknown>, key?: string) {
  return appendAuditTx(tx, {
    actor,
    action,
    subject: `deployment:${d.deploymentId}`,
    details: { deploymentId: d.deploymentId, model: d.model, candidate: d.candidate, ...details },
    idempotencyKey: key,
  });
}

async function requireRow(tx: Transaction | Database, id: string): Promise<DeploymentRow> {
  const [row] = await tx.select().from(deployments).where(eq(deployments.id, id));
  if (!row) throw new NotFoundError(`No deployment "${id}".`, { deploymentId: id });
  return row;
}

const ref = (row: DeploymentRow) => ({ deploymentId: row.id, model: row.modelName, candidate: row.candidateVersion });

/** Traffic moved: the routing a step set (the scorer already applied it). */
export async function recordRouting(db: Database, id: string, step: number, routing: RoutingPolicy, stepName: string, actor = 'steward'): Promise<void> {
  await once(db, `deployment:${id}:routing:${step}`, 'deployment', async (tx) => {
    const row = await requireRow(tx, id);
    await tx.update(deployments).set({ currentStep: step, routing: routing as unknown as Record<string, unknown>, updatedAt: new Date() }).where(eq(deployments.id, id));
    await audit(tx, actor, 'deployment.traffic', ref(row), { step, stepName, routing });
    return true;
  });
}

/** A decisive analysis (pass or fail) with its numbers. */
export async function recordAnalysis(db: Database, id: string, analysis: RecordedAnalysis): Promise<void> {
  await once(db, `deployment:${id}:analysis:${analysis.step}`, 'deployment', async (tx) => {
    const row = await requireRow(tx, id);
    await tx.update(deployments).set({ analyses: [...row.analyses, analysis as unknown as Record<string, unknown>], updatedAt: new Date() }).where(eq(deployments.id, id));
    await audit(tx, 'steward', 'deployment.analysis', ref(row), { ...analysis });
    return true;
  });
}

export interface FinishInput {
  status: Exclude<DeploymentStatus, 'running'>;
  outcome: string;
  rollbackReason?: string;
  routing?: RoutingPolicy | null;
  actor?: string;
  /** Distinguishes a second finish of the same deployment (a manual rollback after promotion). */
  key?: string;
}

const ACTIONS: Record<FinishInput['status'], string> = {
  promoted: 'deployment.promoted',
  completed: 'deployment.completed',
  rolled_back: 'deployment.rolled_back',
  failed: 'deployment.failed',
};

/** The deployment's end: its status, outcome and rollback reason, and the routing it left behind. */
export async function finishDeployment(db: Database, id: string, input: FinishInput, within?: (tx: Transaction) => Promise<void>): Promise<DeploymentRow> {
  const { result } = await once(db, `deployment:${id}:finish:${input.key ?? 'end'}`, 'deployment', async (tx) => {
    const row = await requireRow(tx, id);
    if (within) await within(tx);
    const [updated] = await tx
      .update(deployments)
      .set({
        status: input.status,
        outcome: input.outcome,
        rollbackReason: input.rollbackReason ?? null,
        ...(input.routing !== undefined ? { routing: input.routing as unknown as Record<string, unknown> | null } : {}),
        currentStep: input.status === 'promoted' || input.status === 'completed' ? (row.plan as unknown as DeploymentPlan).steps.length : row.currentStep,
        updatedAt: new Date(),
        finishedAt: new Date(),
      })
      .where(eq(deployments.id, id))
      .returning();
    await audit(tx, input.actor ?? 'steward', ACTIONS[input.status], ref(row), {
      stable: row.stableVersion,
      outcome: input.outcome,
      rollbackReason: input.rollbackReason ?? null,
      routing: input.routing ?? null,
    });
    return { id: updated!.id };
  });
  return requireRow(db, result.id);
}

export async function getDeployment(db: Database, id: string): Promise<DeploymentRow> {
  return requireRow(db, id);
}

export async function listDeployments(db: Database, options: { model?: string; status?: DeploymentStatus[]; limit?: number } = {}): Promise<DeploymentRow[]> {
  const where = and(options.model ? eq(deployments.modelName, options.model) : undefined, options.status ? inArray(deployments.status, options.status) : undefined);
  return db
    .select()
    .from(deployments)
    .where(where)
    .orderBy(desc(deployments.startedAt))
    .limit(options.limit ?? 50);
}

/** The routing each model should have when a scorer starts: a running deployment's, else its alias's version. */
export async function servingIntent(db: Database, alias = 'production'): Promise<Array<{ model: string; routing: RoutingPolicy; source: string }>> {
  const running = await listDeployments(db, { status: ['running'], limit: 1000 });
  const intents = new Map<string, { model: string; routing: RoutingPolicy; source: string }>();
  for (const d of running) if (d.routing) intents.set(d.modelName, { model: d.modelName, routing: d.routing as unknown as RoutingPolicy, source: `deployment ${d.id}` });
  const aliased = await db.select().from(modelAliases).where(eq(modelAliases.alias, alias));
  for (const a of aliased) if (!intents.has(a.modelName)) intents.set(a.modelName, { model: a.modelName, routing: { strategy: 'single', version: a.version }, source: `${a.modelName}@${alias}` });
  return [...intents.values()];
}
