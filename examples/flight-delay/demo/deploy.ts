/**
 * The deployment half of the demo (`npm run demo:deploy`, `npm run demo:rollback`), run in the
 * demo's own stack (worker and scorer in one process):
 *
 * - `--deploy`: the release of a freshly trained flight-delay version is signed off by the demo
 *   reviewers through the governed gate (decision codes, like `steward approvals approve`); the
 *   release then promotes it to `champion` and its `deploy` step runs a canary (5% -> 25% -> 100%)
 *   against the version in `production`, while real flights from the version's training set are
 *   replayed through the scorer so each analysis window has traffic. The canary passes and moves
 *   `production`.
 * - `--rollback`: a deliberately broken candidate (the production model's ONNX graph with its two
 *   probability columns swapped, so every score is inverted) is registered, marked approved with
 *   that reason, and deployed as a canary under the same replayed traffic; the first analysis sees
 *   the inverted score distribution and rolls back, and the reason is printed from the audit trail.
 *
 * Either path first makes sure something is in `production` (a model's first deployment needs no
 * traffic: loading and warming it is its check).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, desc, eq, inArray } from 'drizzle-orm';
import onnxProto from 'onnx-proto';
import type { Database } from '../../../src/db/client.js';
import { auditLog, modelAliases, modelVersions, type ModelVersion } from '../../../src/db/schema.js';
import { ValidationError } from '../../../src/errors.js';
import { loadTrainingSet } from '../features/raw-training-set.js';
import { listApprovals } from '../../../src/governance/approvals.js';
import { submitDecision } from '../../../src/governance/decisions.js';
import { createPrincipal, listPrincipals, requirePrincipal } from '../../../src/governance/identity.js';
import { findPipeline } from '../../../src/pipeline/catalog.js';
import { getRunReport, startRun } from '../../../src/pipeline/runs.js';
import type { Stack } from '../../../src/app/stack.js';
import type { ArtifactStore } from '../../../src/artifacts/index.js';
import { transitionModelVersion } from '../../../src/registry/lifecycle.js';
import { registerModelVersion } from '../../../src/registry/models.js';
import { startDeployment } from '../../../src/serving/deployment-client.js';
import type { DeploymentResult, DeploymentState } from '../../../src/serving/deployment-types.js';
import { replayTraffic } from '../../../src/serving/traffic.js';
import { renderAnalysis } from '../../../src/cli/deploy-commands.js';
import { out, type CommandContext } from '../../../src/cli/context.js';

const MODEL = 'flight-delay';
const AUTHOR = 'demo-engineer';
const REVIEWERS: Record<string, string> = { technical: 'demo-technical', compliance: 'demo-compliance', ethics: 'demo-ethics', lead: 'demo-lead' };
/** Quick analysis windows for a demo: 300 requests per arm and at least 10 s per step. */
const DEMO_ANALYSIS = { deployMinRequests: 300, deployMaxWaitSeconds: 300, deployBakeSeconds: 10 };

export interface DemoDeployment {
  path: 'deploy' | 'rollback';
  baseline: { version: number; how: string };
  candidate: number;
  deploymentId: string;
  result: DeploymentResult | undefined;
  requestsReplayed: number;
  failedRequests: number;
  audit: Array<{ seq: number; action: string; actor: string }>;
}

export async function demoDeployment(stack: Stack, ctx: CommandContext, artifacts: ArtifactStore, path: 'deploy' | 'rollback', rows: number): Promise<DemoDeployment> {
  if (!stack.scorer) throw new ValidationError('The demo deploys to the scorer its stack hosts; unset STEWARD_SCORER_URL to run it.');
  const db = stack.database.db;
  const say = (line: string) => (ctx.json ? undefined : out(line));
  await ensureDemoPrincipals(db);

  const baseline = await ensureProduction(stack, ctx, rows);
  say(`\nProduction: ${MODEL} v${baseline.version} (${baseline.how}); scorer at ${stack.scorer.url}`);

  let candidate: number;
  let deploymentId: string;
  let finished: () => Promise<DeploymentResult | undefined>;
  const production = await versionOf(db, baseline.version);
  if (path === 'deploy') {
    // A few more flights than any earlier demo trained on: a new version that should behave like production.
    const count = (await db.select({ v: modelVersions.version }).from(modelVersions).where(eq(modelVersions.modelName, MODEL))).length;
    const trainOn = rows + 2_000 * count;
    const release = await startRun(stack.client, stack.taskQueue, findPipeline(stack.project.pipelines, 'release-flight-delay'), { rows: trainOn, ...DEMO_ANALYSIS }, { startedBy: AUTHOR });
    say(`\nRelease ${release.runId}: train on ${trainOn.toLocaleString('en-US')} flights, validate, sign off, promote, then deploy as a canary`);
    candidate = await approveRelease(stack, ctx, release.runId);
    deploymentId = `${release.runId}--deploy`;
    finished = async () => {
      await stack.client.workflow.getHandle(release.runId).result().catch(() => undefined);
      return (await stack.client.workflow.getHandle(deploymentId).result().catch(() => undefined)) as DeploymentResult | undefined;
    };
  } else {
    candidate = await registerInvertedCandidate(db, artifacts, production);
    say(`\nRegistered ${MODEL} v${candidate}: v${production.version}'s graph with its probability columns swapped (every score inverted), approved only to show the rollback`);
    const handle = await startDeployment(stack.client, stack.taskQueue, {
      model: MODEL,
      version: candidate,
      strategy: 'canary',
      steps: [10, 50, 100],
      thresholds: { minRequests: DEMO_ANALYSIS.deployMinRequests },
      analysis: { pollSeconds: 2, maxWaitSeconds: DEMO_ANALYSIS.deployMaxWaitSeconds, minSeconds: DEMO_ANALYSIS.deployBakeSeconds },
      startedBy: AUTHOR,
      reason: 'demo: deploy a deliberately broken candidate',
    });
    deploymentId = handle.workflowId;
    finished = async () => (await handle.result().catch(() => undefined)) as DeploymentResult | undefined;
  }

  // Real flights, most recent first, replayed through the scorer while the deployment analyses.
  const flights = await replayRows(artifacts, (await versionOf(db, candidate)).trainingSetUri);
  say(`Deployment ${deploymentId}: replaying ${flights.length.toLocaleString('en-US')} recent flights through POST ${stack.scorer.url}/predict/${MODEL}`);
  const traffic = replayTraffic(stack.scorer.url, MODEL, flights);
  const shown = { analyses: 0, step: -1 };
  let result: DeploymentResult | undefined;
  const done = finished().then((r) => (result = r));
  while (result === undefined) {
    const state = await stack.client.workflow.getHandle(deploymentId).query<DeploymentState | null>('deploymentState').catch(() => null);
    if (state && !ctx.json) {
      for (; shown.analyses < state.analyses.length; shown.analyses++) out(renderAnalysis(state.analyses[shown.analyses]!));
      if (state.status === 'running' && state.currentStep !== shown.step && state.currentStep < state.steps.length) out(`  … ${state.steps[(shown.step = state.currentStep)]}`);
    }
    if (await Promise.race([done.then(() => true), sleep(1000).then(() => false)])) break;
  }
  const { sent, failed } = await traffic.stop();
  const audit = await db
    .select({ seq: auditLog.seq, action: auditLog.action, actor: auditLog.actor })
    .from(auditLog)
    .where(eq(auditLog.subject, `deployment:${deploymentId}`))
    .orderBy(auditLog.seq);
  if (result) {
    for (const a of result.analyses.slice(shown.analyses)) say(renderAnalysis(a));
    say(`\n${result.status === 'promoted' ? '✓ Promoted' : result.status === 'rolled_back' ? '↩ Rolled back automatically' : `Deployment ${result.status}`}: ${result.outcome}`);
    if (result.rollbackReason) say(`  why: ${result.rollbackReason}`);
  } else {
    say(`\nDeployment ${deploymentId} did not finish: ${(await getRunReport(stack.client, deploymentId).catch(() => undefined))?.failure ?? 'see `steward deploy status`'}`);
  }
  say(`  ${sent.toLocaleString('en-US')} requests replayed during the deployment, ${failed} failed`);
  say(`  audit trail: ${audit.map((a) => a.action.replace('deployment.', '')).join(' -> ')}   (steward audit show)`);
  say(`  steward deploy status ${deploymentId}`);
  return { path, baseline, candidate, deploymentId, result, requestsReplayed: sent, failedRequests: failed, audit };
}

async function ensureDemoPrincipals(db: Database): Promise<void> {
  const known = new Set((await listPrincipals(db)).map((p) => p.name));
  for (const [role, name] of [...Object.entries(REVIEWERS), ['author', AUTHOR] as const]) {
    if (!known.has(name)) await createPrincipal(db, { name, roles: role === 'author' ? ['engineer'] : [role], displayName: `Demo ${role} reviewer`, actor: 'steward-demo' });
  }
}

async function versionOf(db: Database, version: number): Promise<ModelVersion> {
  const [row] = await db.select().from(modelVersions).where(and(eq(modelVersions.modelName, MODEL), eq(modelVersions.version, version)));
  return row!;
}

/** What serves now; else the newest approved version goes out as the first deployment; else a release is run and signed off for it. */
async function ensureProduction(stack: Stack, ctx: CommandContext, rows: number): Promise<{ version: number; how: string }> {
  const db = stack.database.db;
  const [alias] = await db.select().from(modelAliases).where(and(eq(modelAliases.modelName, MODEL), eq(modelAliases.alias, 'production')));
  if (alias) return { version: alias.version, how: 'already in production' };
  const [approved] = await db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelName, MODEL), inArray(modelVersions.status, ['approved', 'deployed'])))
    .orderBy(desc(modelVersions.version))
    .limit(1);
  if (approved) {
    const handle = await startDeployment(stack.client, stack.taskQueue, { model: MODEL, version: approved.version, strategy: 'canary', startedBy: AUTHOR, reason: 'demo: first deployment' });
    const result = (await handle.result()) as DeploymentResult;
    if (result.status !== 'promoted') throw new ValidationError(`The first deployment of ${MODEL} v${approved.version} ended ${result.status}: ${result.rollbackReason ?? result.outcome}`);
    return { version: approved.version, how: 'approved earlier; deployed now as the first production version' };
  }
  // Nothing approved yet: the release waiting at its gate (from `npm start`), or a new one.
  const waiting = (await listApprovals(db)).find((a) => a.pipeline === 'release-flight-delay');
  const runId = waiting?.workflowId ?? (await startRun(stack.client, stack.taskQueue, findPipeline(stack.project.pipelines, 'release-flight-delay'), { rows, ...DEMO_ANALYSIS }, { startedBy: AUTHOR })).runId;
  if (!ctx.json) out(`\nRelease ${runId}: nothing is in production yet, so this release is signed off and deployed first`);
  const version = await approveRelease(stack, ctx, runId);
  const report = await stack.client.workflow.getHandle(runId).result().then(
    () => undefined,
    (error: Error) => error.message,
  );
  if (report) throw new ValidationError(`Release ${runId} did not reach production: ${report}`);
  return { version, how: `released by ${runId}` };
}

/** Waits for the run's sign-off gate and approves it as each required demo reviewer. Returns the version under review. */
async function approveRelease(stack: Stack, ctx: CommandContext, runId: string): Promise<number> {
  const db = stack.database.db;
  for (let i = 0; ; i++) {
    const approval = (await listApprovals(db, { status: 'all' })).find((a) => a.workflowId === runId);
    if (approval?.status === 'waiting') {
      for (const role of Object.keys(approval.required)) {
        const principal = await requirePrincipal(db, REVIEWERS[role] ?? `demo-${role}`);
        const decided = await submitDecision(db, stack.client, { approvalId: approval.id, principal, role, decision: 'approve', comment: 'demo: metrics and card reviewed' });
        if (!ctx.json) out(`  ✓ ${principal.name} approved as ${role}: ${decided.message}`);
      }
      return approval.modelVersion!;
    }
    if (approval) return approval.modelVersion!;
    const report = await getRunReport(stack.client, runId);
    if (report.status !== 'RUNNING') throw new ValidationError(`Release ${runId} stopped before its sign-off: ${report.failure ?? report.status}`);
    if (i % 20 === 0 && i > 0 && !ctx.json) out(`  ...still ${report.state?.steps.find((s) => s.status === 'running')?.name ?? 'starting'}`);
    await sleep(500);
  }
}

/**
 * The production version's ONNX graph with its two probability columns swapped: it loads, warms and
 * scores like the real model (same inputs, same signature), but every score is 1 - p.
 */
export function invertProbabilities(bytes: Uint8Array): Uint8Array {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const producer = graph.node!.find((n) => n.output?.includes('probabilities'));
  if (!producer) throw new ValidationError('The model has no "probabilities" output to invert.');
  producer.output = producer.output!.map((o) => (o === 'probabilities' ? 'probabilities_as_trained' : o));
  graph.initializer = [...(graph.initializer ?? []), onnx.TensorProto.create({ name: 'swapped_columns', dataType: onnx.TensorProto.DataType.INT64, dims: [2], int64Data: [1, 0] })];
  graph.node = [
    ...graph.node!,
    onnx.NodeProto.create({ opType: 'Gather', domain: '', input: ['probabilities_as_trained', 'swapped_columns'], output: ['probabilities'], attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] }),
  ];
  if (!model.opsetImport!.some((o) => !o.domain)) model.opsetImport!.push(onnx.OperatorSetIdProto.create({ domain: '', version: 13 }));
  return onnx.ModelProto.encode(model).finish();
}

async function registerInvertedCandidate(db: Database, artifacts: ArtifactStore, production: ModelVersion): Promise<number> {
  const stored = await artifacts.put(invertProbabilities(await artifacts.get(production.artifactUri)));
  const { version } = await registerModelVersion(
    db,
    {
      modelName: MODEL,
      artifactUri: stored.uri,
      artifactSha256: stored.sha256,
      trainingSetUri: production.trainingSetUri,
      metrics: production.metrics as Record<string, number>,
      signature: production.signature,
      runId: `demo-broken-${randomUUID().slice(0, 8)}`,
      algorithm: production.algorithm ?? undefined,
      description: `Deliberately broken for the demo: v${production.version} with its probability columns swapped, so every score is inverted.`,
      metadata: production.metadata,
    },
    { artifacts },
  );
  const why = 'demo: a deliberately broken candidate, approved only to show the automatic rollback';
  const remaining: Record<string, Array<'validated' | 'pending_approval' | 'approved'>> = {
    registered: ['validated', 'pending_approval', 'approved'],
    validated: ['pending_approval', 'approved'],
    pending_approval: ['approved'],
  };
  for (const to of remaining[version.status] ?? []) await transitionModelVersion(db, { modelName: MODEL, version: version.version, to, actor: 'steward-demo', reason: why });
  return version.version;
}

/** The most recent flights of a training set, as the scorer's /predict takes them (at most 20,000). */
async function replayRows(artifacts: ArtifactStore, trainingSetUri: string): Promise<Record<string, unknown>[]> {
  const table = await loadTrainingSet(artifacts, trainingSetUri);
  const start = Math.max(0, table.numRows - 20_000);
  const names = ['hour', 'dayOfWeek', 'month', 'distance', 'originDelay7d', 'originFlights7d', 'origin'];
  const columns = names.map((name) => [name, table.getChild(name)] as const);
  const rows: Record<string, unknown>[] = [];
  for (let i = table.numRows - 1; i >= start; i--) {
    const row: Record<string, unknown> = {};
    for (const [name, column] of columns) {
      const value = column?.get(i);
      row[name] = name === 'origin' ? String(value) : Number(value);
    }
    rows.push(row);
  }
  return rows;
}
