/**
 * The demos of Steward's worked example, each on its own embedded stack (Temporal dev server,
 * database, worker and scorer in this process; the dev server is left running for the next command):
 *
 * - demo: `flight-delay-summary` and `train-flight-delay` through Temporal on real 2001 flights,
 *   then `release-flight-delay` up to its governed sign-off, printing how to decide (`npm start`);
 * - demoDeploy: a signed-off release deployed as a canary under replayed flights, or a broken
 *   candidate rolled back (`npm run demo:deploy`, `npm run demo:rollback`; deploy.ts);
 * - demoDrift: 2001 replayed week by week through the drift-retrain pipeline (`npm run demo:drift`;
 *   drift.ts).
 *
 * What a demo does loads when it runs (`await import`), so `--help` starts fast.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Stack } from '../../../src/app/stack.js';
import type { RunPipelineResult, RunState } from '../../../src/contracts.js';
import { ValidationError } from '../../../src/errors.js';
import type { Project } from '../../../src/project/define.js';
import { LocalArtifactStore } from '../../../src/artifacts/index.js';
import { out, printJson, type CommandContext } from '../../../src/cli/context.js';
import { renderReport, renderStep, workflowUrl } from '../../../src/cli/render.js';
import type { IngestFlightsResult, SummarizeDelaysResult } from '../data/contracts.js';

let loading: Promise<Project> | undefined;

/**
 * What the demos run, wherever they run (a project's folder or none): Steward's built-ins with the
 * flight-delay example, whose pipelines they start by name. Loaded once. It is the repository root's
 * project (steward.config.ts there re-exports the example), so its runs go to the task queue
 * `steward dev` at the root polls: a release the demo leaves at its sign-off goes on there.
 */
export function demoProject(): Promise<Project> {
  return (loading ??= (async () => {
    const [{ builtinProject }, { flightDelayProject }, { combineProjects }] = await Promise.all([
      import('../../../pipelines/index.js'),
      import('../steward.config.js'),
      import('../../../src/project/define.js'),
    ]);
    return { ...combineProjects(builtinProject, flightDelayProject), source: fileURLToPath(new URL('../../../steward.config.ts', import.meta.url)) };
  })());
}

/** Refuses a --rows that is not a whole number, before the stack comes up. */
function checkRows(rows: string): void {
  if (!/^[0-9]+$/.test(rows)) throw new ValidationError(`--rows must be a whole number, got "${rows}".`);
}

interface DemoRun {
  pipeline: string;
  what: string;
  render: (result: RunPipelineResult) => string;
}

/** The main demo: summary and training on `rows` flights, then the release up to its sign-off. */
export async function demo(ctx: CommandContext, rows: string): Promise<void> {
  const began = Date.now();
  checkRows(rows);
  const { config, logger, json } = ctx;
  if (!json) out('Steward demo: bringing up the embedded stack...');
  const [{ startStack }, { devServerPaths }, { getRunReport, startRun }, { findPipeline }, project] = await Promise.all([
    import('../../../src/app/stack.js'),
    import('../../../src/platform/dev-server.js'),
    import('../../../src/pipeline/runs.js'),
    import('../../../src/pipeline/catalog.js'),
    ctx.project(),
  ]);
  const stack = await startStack(config, logger, { api: false, project });
  const pipelines = stack.project.pipelines;
  try {
    const t = stack.temporal;
    if (!json) {
      out(`  Temporal   ${t.origin === 'started' ? 'started' : t.origin === 'reused' ? 'reused' : 'connected to'} ${t.address}` +
        (t.origin === 'external' ? '' : ` (history persisted in ${devServerPaths(config.home).dbFile})`));
      out(`  Database   ${stack.database.driver} at ${stack.database.location}`);
      out(`  Worker     polling task queue "${stack.taskQueue}"`);
    }
    const flights = Number(rows).toLocaleString('en-US');
    const plan: DemoRun[] = [
      { pipeline: 'flight-delay-summary', what: `ingest ${flights} flights of 2001, then summarize delays per airport`, render: renderSummary },
      {
        pipeline: 'train-flight-delay',
        what: 'check their quality, build point-in-time features, train a logistic regression and gradient-boosted trees, evaluate both as ONNX, register the better',
        render: renderTraining,
      },
    ];
    const reports = [];
    for (const step of plan) {
      const started = await startRun(stack.client, stack.taskQueue, findPipeline(pipelines, step.pipeline), { rows });
      const url = workflowUrl(t.uiUrl, t.namespace, started.runId);
      if (!json) out(`\nRun ${started.runId}: ${step.what}`);
      await follow(stack.client, started.runId, ctx);
      const report = await getRunReport(stack.client, started.runId);
      reports.push({ ...report, url });
      if (!json) out(`\n${report.status === 'COMPLETED' ? step.render(report.result as RunPipelineResult) : renderReport(report)}`);
      if (report.status !== 'COMPLETED') break;
    }
    const release = reports.every((r) => r.status === 'COMPLETED') ? await demoRelease(stack, ctx, rows) : undefined;
    if (json) {
      printJson({ runs: reports, release, temporal: t, database: { driver: stack.database.driver, location: stack.database.location }, seconds: (Date.now() - began) / 1000 });
    } else {
      if (release) out(renderRelease(release, config));
      out(`\nWhere to look:`);
      for (const report of reports) {
        if (report.url) out(`  Temporal UI    ${report.url}`);
        out(`  Run status     npx steward status ${report.runId}`);
      }
      out(`  Run it again   npx steward dev   (then, in another terminal) npx steward run train-flight-delay --wait`);
      out(`  Stop Temporal  npx steward server stop   (runs are kept in ${devServerPaths(config.home).dbFile})`);
      out(`\nDone in ${((Date.now() - began) / 1000).toFixed(1)} s.`);
    }
    if (reports.some((r) => r.status !== 'COMPLETED') || release?.status === 'FAILED') process.exitCode = 1;
  } finally {
    await stack.shutdown();
  }
}

/** The deployment demo: a canary promoted (`deploy`) or a broken candidate rolled back (`rollback`). */
export async function demoDeploy(ctx: CommandContext, rows: string, which: 'deploy' | 'rollback'): Promise<void> {
  const began = Date.now();
  checkRows(rows);
  if (!ctx.json) out(`Steward demo (${which === 'deploy' ? 'canary deployment' : 'automatic rollback'}): bringing up the embedded stack...`);
  const [{ startStack }, { demoDeployment }, project] = await Promise.all([import('../../../src/app/stack.js'), import('./deploy.js'), ctx.project()]);
  const stack = await startStack(ctx.config, ctx.logger, { api: false, project });
  try {
    const report = await demoDeployment(stack, ctx, new LocalArtifactStore(path.join(ctx.config.home, 'artifacts')), which, Number(rows));
    if (ctx.json) printJson({ ...report, seconds: (Date.now() - began) / 1000 });
    else out(`\nDone in ${((Date.now() - began) / 1000).toFixed(1)} s.`);
    const expected = which === 'deploy' ? 'promoted' : 'rolled_back';
    if (report.result?.status !== expected || report.failedRequests > 0) process.exitCode = 1;
  } finally {
    await stack.shutdown();
  }
}

export interface DriftOptions {
  from: string;
  until: string;
  trainRows?: string;
  perWeek: string;
  coolDownHours: string;
  margin: string;
  model: string;
  out?: string;
}

/** The drift demo: 2001 replayed week by week (drift.ts), ending with a timeline page. */
export async function demoDrift(ctx: CommandContext, options: DriftOptions): Promise<void> {
  const number = (value: string, flag: string) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ValidationError(`${flag} must be a number, got "${value}".`);
    return n;
  };
  const instant = (value: string, flag: string) => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new ValidationError(`${flag} "${value}" is not a date; use ISO 8601, e.g. 2001-06-01 or 2001-06-01T00:00:00Z.`);
    return date;
  };
  // Refused here, before the stack comes up.
  const replay = {
    model: options.model,
    source: 'vega:flights-3m.parquet',
    from: instant(options.from, '--from'),
    until: instant(options.until, '--until'),
    ...(options.trainRows ? { trainRows: number(options.trainRows, '--train-rows') } : {}),
    perWeek: number(options.perWeek, '--per-week'),
    coolDownHours: number(options.coolDownHours, '--cool-down-hours'),
    margin: number(options.margin, '--margin'),
  };
  const began = Date.now();
  const [{ startStack }, { replayDrift, writeTimeline }, project] = await Promise.all([import('../../../src/app/stack.js'), import('./drift.js'), ctx.project()]);
  // The stack hosts the scorer the challengers deploy to, unless STEWARD_SCORER_URL names one.
  const stack = await startStack(ctx.config, ctx.logger, { api: false, project });
  try {
    const scorerUrl = ctx.config.scorer.url ?? stack.scorer!.url;
    const artifacts = new LocalArtifactStore(path.join(ctx.config.home, 'artifacts'));
    const say = (line: string) => (ctx.json ? undefined : out(line));
    const weeks = await replayDrift({ db: stack.database.db, client: stack.client, taskQueue: stack.taskQueue, pipelines: stack.project.pipelines, artifacts, scorerUrl, say }, replay);
    const file = path.resolve(options.out ?? path.join(ctx.config.home, 'drift-replay.html'));
    writeTimeline(file, options.model, weeks);
    if (ctx.json) printJson({ weeks, timeline: file, seconds: (Date.now() - began) / 1000 });
    else out(`\nTimeline: ${file}\nDone in ${((Date.now() - began) / 1000).toFixed(1)} s.`);
  } finally {
    await stack.shutdown();
  }
}

/** Prints each step as it changes state until the run closes (nothing in --json mode). */
async function follow(client: Client, runId: string, ctx: CommandContext): Promise<void> {
  const handle = client.workflow.getHandle(runId);
  const seen = new Map<string, string>();
  const show = (state: RunState | undefined) => {
    for (const step of state?.steps ?? []) {
      if (ctx.json || seen.get(step.name) === step.status || step.status === 'pending') continue;
      seen.set(step.name, step.status);
      out(step.status === 'running' ? `  … ${step.name} running` : renderStep(step));
    }
  };
  let closed = false;
  const done = handle.result().finally(() => (closed = true));
  while (!closed) {
    show(await handle.query<RunState>('runState').catch(() => undefined));
    await Promise.race([done.catch(() => {}), sleep(300)]);
  }
  await done.catch(() => {});
  show((await handle.describe()).memo?.runState as RunState | undefined);
}

/** Demo reviewers, one per role the release policy can require; each demo run gets fresh tokens. */
const DEMO_REVIEWERS = { technical: 'demo-technical', compliance: 'demo-compliance', ethics: 'demo-ethics', lead: 'demo-lead' } as const;
const DEMO_AUTHOR = 'demo-engineer';

interface DemoRelease {
  runId: string;
  status: 'WAITING_FOR_APPROVAL' | 'FAILED';
  approvalId?: string;
  model?: { name: string; version: number };
  required?: Record<string, number>;
  conditions?: Array<{ role: string; because: string }>;
  /** One reviewer per required role, with a token issued for this demo. */
  reviewers?: Array<{ role: string; principal: string; token: string }>;
  failure?: string;
}

/**
 * The release path: validate the model just trained and open its governed sign-off. The demo stops
 * there, printing how to approve: the gate is a human's decision, and it waits durably for it.
 * A release already waiting for the same version is reused rather than opened again.
 */
async function demoRelease(stack: Stack, ctx: CommandContext, rows: string): Promise<DemoRelease> {
  const { json } = ctx;
  const [{ listApprovals }, { approvalView }, { createPrincipal, issueToken, listPrincipals }, { getRunReport, startRun }, { findPipeline }] = await Promise.all([
    import('../../../src/governance/approvals.js'),
    import('../../../src/governance/decisions.js'),
    import('../../../src/governance/identity.js'),
    import('../../../src/pipeline/runs.js'),
    import('../../../src/pipeline/catalog.js'),
  ]);
  const pipelines = stack.project.pipelines;
  const db = stack.database.db;
  const known = new Set((await listPrincipals(db)).map((p) => p.name));
  for (const [role, name] of [...Object.entries(DEMO_REVIEWERS), ['author', DEMO_AUTHOR] as const]) {
    if (!known.has(name)) await createPrincipal(db, { name, roles: role === 'author' ? ['engineer'] : [role], displayName: `Demo ${role} reviewer`, actor: 'steward-demo' });
  }
  const waiting = (await listApprovals(db)).filter((a) => a.pipeline === 'release-flight-delay');
  let runId: string;
  const reuse = waiting[0];
  if (reuse) {
    runId = reuse.workflowId;
    if (!json) out(`\nRun ${runId} is already waiting for sign-off (${reuse.id}); not opening another.`);
  } else {
    runId = (await startRun(stack.client, stack.taskQueue, findPipeline(pipelines, 'release-flight-delay'), { rows }, { startedBy: DEMO_AUTHOR })).runId;
    if (!json) out(`\nRun ${runId}: validate the model (ROC AUC, behavioural checks), then wait for a governed sign-off`);
  }
  for (let i = 0; ; i++) {
    const approval = (await listApprovals(db)).find((a) => a.workflowId === runId);
    if (approval) {
      const view = await approvalView(db, stack.client, approval.id);
      const reviewers = [];
      for (const role of Object.keys(approval.required)) {
        const principal = DEMO_REVIEWERS[role as keyof typeof DEMO_REVIEWERS];
        if (principal) reviewers.push({ role, principal, token: (await issueToken(db, { principal, label: 'steward demo', actor: 'steward-demo' })).token });
      }
      return {
        runId,
        status: 'WAITING_FOR_APPROVAL',
        approvalId: approval.id,
        model: approval.modelName ? { name: approval.modelName, version: approval.modelVersion! } : undefined,
        required: approval.required,
        conditions: view.live?.conditions?.map(({ role, because }) => ({ role, because })) ?? [],
        reviewers,
      };
    }
    const report = await getRunReport(stack.client, runId);
    if (report.status !== 'RUNNING') return { runId, status: 'FAILED', failure: report.failure ?? report.status };
    if (i % 20 === 0 && i > 0 && !json) out(`  ...still ${report.state?.steps.find((s) => s.status === 'running')?.name ?? 'starting'}`);
    await sleep(500);
  }
}

function renderRelease(release: DemoRelease, config: CommandContext['config']): string {
  if (release.status === 'FAILED') return `\nRelease run ${release.runId} stopped before sign-off: ${release.failure}`;
  const lines = [
    `\nWaiting for sign-off: approval ${release.approvalId} on ${release.model ? `${release.model.name} v${release.model.version}` : release.runId}`,
    `  requires ${Object.entries(release.required!).map(([r, n]) => `${n} ${r}`).join(', ')}${release.conditions!.map((c) => `; ${c.role} because ${c.because}`).join('')}`,
    `  The run waits up to 3 days, through worker and server restarts. To decide, keep the stack up:`,
    `    npx steward dev`,
    `  then, in another terminal, as the demo reviewer${release.reviewers!.length > 1 ? 's' : ''}:`,
  ];
  for (const r of release.reviewers!) {
    lines.push(`    export STEWARD_TOKEN=${r.token}   # ${r.principal} (${r.role})`);
    lines.push(`    npx steward approvals approve ${release.approvalId} --role ${r.role} --comment "metrics and card reviewed"`);
  }
  lines.push(
    `  or open http://${config.api.host}:${config.api.port}/reviews/${release.approvalId} and sign in with the token,`,
    `  or use the plain Temporal CLI: npx steward approvals code ${release.approvalId} --role technical   (prints the signal command)`,
    `  Afterwards: npx steward status ${release.runId}   and   npx steward audit show --approval ${release.approvalId}`,
  );
  return lines.join('\n');
}

function renderTraining(result: RunPipelineResult): string {
  const o = result.outputs as Record<string, Record<string, unknown>>;
  const trained = o.trainLogistic as { trainRows: number; validationRows: number; validatedFrom: string };
  const line = (label: string, train: string, evaluate: string) => {
    const t = o[train] as { onnxMaxAbsDiff: number };
    const e = o[evaluate] as { rocAuc: number; prAuc: number; logLoss: number };
    return `  ${label.padEnd(20)} ROC AUC ${e.rocAuc.toFixed(3)}  PR AUC ${e.prAuc.toFixed(3)}  log loss ${e.logLoss.toFixed(3)}  (ONNX = TypeScript to ${t.onnxMaxAbsDiff.toExponential(1)})`;
  };
  const registered = o.register as { modelName: string; version: number; algorithm: string; artifactUri: string };
  return [
    `Trained on ${trained.trainRows.toLocaleString('en-US')} flights; validated on the ${trained.validationRows.toLocaleString('en-US')} most recent (from ${trained.validatedFrom.slice(0, 16)}), scored by onnxruntime-node:`,
    line('logistic regression', 'trainLogistic', 'evaluateLogistic'),
    line('gradient boosting', 'trainBoosted', 'evaluateBoosted'),
    `Registered ${registered.modelName} v${registered.version} (${registered.algorithm}): ${registered.artifactUri}`,
  ].join('\n');
}

function renderSummary(result: RunPipelineResult): string {
  const ingestion = result.outputs.ingest as unknown as IngestFlightsResult;
  const summary = result.outputs.summarize as unknown as SummarizeDelaysResult;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `Ingested ${ingestion.rows.toLocaleString('en-US')} flights as ${ingestion.ingestionId}${
      result.steps.every((s) => s.cached)
        ? ' (inputs unchanged since an earlier run: every step reused its cached result)'
        : ingestion.reused
          ? ' (identical data was already ingested: reused, nothing written twice)'
          : ''
    }.`,
    `${summary.flights.toLocaleString('en-US')} flights from ${summary.airports} airports; ${pct(summary.delayedShare)} departed late.`,
    'Airports with the highest share of late departures (at least 500 flights):',
    ...summary.worstAirports.map(
      (a) => `  ${a.origin.padEnd(5)} ${pct(a.delayedShare).padStart(6)} late  mean delay ${a.meanDelayMinutes.toFixed(1).padStart(5)} min  (${a.flights.toLocaleString('en-US')} flights)`,
    ),
  ];
  return lines.join('\n');
}
