/**
 * The `steward` command's top-level commands, and the registration of the others. Start-up loads
 * only commander and these small modules: the Temporal client and worker, the database layer, the
 * pipelines, fastify and onnxruntime load inside the action that needs them (`await import`), so
 * `steward --help` and a command that opens only the database start fast.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { IngestFlightsResult, RunPipelineResult, RunState, SummarizeDelaysResult } from '../contracts.js';
import type { StartedRun } from '../pipeline/runs.js';
import type { Stack } from '../app/stack.js';
import { userCacheDir } from '../platform/config.js';
import { LocalArtifactStore } from '../registry/artifacts.js';
import { configuredTracing } from '../platform/tracing-config.js';
import { completeHelp, out, printJson, withClient, type CommandContext } from './context.js';
import { registerFeatureCommands } from './feature-commands.js';
import { api as callApi, registerGovernanceCommands } from './governance-commands.js';
import { registerServingCommands } from './serving-commands.js';
import { registerDeployCommands } from './deploy-commands.js';
import { ValidationError } from '../errors.js';
import { registerDataCommands } from './data-commands.js';
import { registerMonitoringCommands } from './monitoring-commands.js';
import { registerModelCommands } from './registry-commands.js';
import { registerInitCommand } from './init-command.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { registerStartCommand } from './start-command.js';
import { registerTrackingCommands } from './tracking-commands.js';
import { renderReport, renderStep, workflowUrl } from './render.js';

/**
 * The pipelines `steward run` and the demo start: Steward's and the team's project's (loading them
 * loads zod and every step's definition, and fixes the project's task queue).
 */
const catalog = async (ctx: Context) => {
  const [project, { findPipeline, parseParamPairs }] = await Promise.all([ctx.project(), import('../pipeline/catalog.js')]);
  return { project, pipelines: project.pipelines, findPipeline, parseParamPairs };
};

type Context = CommandContext;
/** Typed explicitly so that its assertion function (checkRunId) can be called. */
type Runs = typeof import('../pipeline/runs.js');

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerCommands(program: Command, context: () => Context): void {
  program
    .command('demo')
    .description('Bring up the embedded stack, run the demo pipeline end to end through Temporal, and print where to look.')
    .option('--rows <n>', 'how many flights to ingest from flights-3m.parquet', '200000')
    .option('--deploy', 'the deployment path: sign off a new release, which deploys it as a canary while real flights are replayed through the scorer, and promotes it')
    .option('--rollback', 'the rollback path: deploy a deliberately broken candidate (inverted scores) and watch the analysis roll it back')
    .addHelpText('after', '\nThe Temporal dev server is left running for the next command; `steward server stop` stops it.')
    .action(async (options: { rows: string; deploy?: boolean; rollback?: boolean }) =>
      options.deploy || options.rollback ? demoDeploy(context(), options.rows, options.rollback ? 'rollback' : 'deploy') : demo(context(), options.rows),
    );

  program
    .command('setup')
    .description('Install what the embedded stack needs (the Temporal CLI, built with Go if missing) and check the database.')
    .action(async () => setup(context()));

  program
    .command('dev')
    .description('Run the embedded stack in the foreground: Temporal dev server, a worker and the HTTP API. Ctrl-C stops the worker and API.')
    .option('--no-api', 'do not start the HTTP API')
    .action(async (options: { api: boolean }) => dev(context(), options.api));

  program
    .command('worker')
    .description('Run a worker against TEMPORAL_ADDRESS (or the running embedded dev server). For production and docker-compose.')
    .option('--health-file <path>', 'touch this file every 10 s while the worker is running (for container health checks)')
    .action(async (options: { healthFile?: string }) => worker(context(), options.healthFile));

  program
    .command('api')
    .description("Serve Steward's HTTP API against TEMPORAL_ADDRESS (or the running embedded dev server), without a worker.")
    .action(async () => api(context()));

  const runCommand = program
    .command('run')
    .description('Start a pipeline run through Temporal.')
    .argument('<pipeline>', 'the pipeline to start (`steward pipelines` lists them)')
    .option('-p, --param <key=value>', 'a pipeline parameter (repeatable)', collect, [])
    .option('--run-id <id>', 'choose the run id (a workflow id: letters, digits and . _ : @ -); starting an id that is already running fails')
    .option('--wait', 'wait for the run to finish and print its result (exit codes below)', false)
    .option('--no-cache', 'run every step even when a cached result matches')
    .option(
      '--token <token>',
      "start the run through Steward's HTTP API as the token's principal (default: $STEWARD_TOKEN): its grants are checked at every step, it is recorded in lineage and the audit trail, and it may not approve what the run produces. Without a token the run starts directly through Temporal, as the operator, and carries no principal",
    )
    .addHelpText('after', `\nExample:\n  steward run flight-delay-summary --param rows=50000 --param delayThresholdMinutes=30 --wait`)
    .action(async (name: string, options: RunOptions) => run(context(), name, options));
  // The pipelines' names, the run id's limit and the exit codes come from modules that load the
  // pipelines and the Temporal client: only for `steward run --help`.
  completeHelp(runCommand, async () => {
    const [{ pipelines }, { MAX_RUN_ID_LENGTH }, { RUN_EXIT_HELP }] = await Promise.all([context().project(), import('../pipeline/runs.js'), import('./run-wait.js')]);
    const pipeline = runCommand.registeredArguments.find((argument) => argument.name() === 'pipeline');
    if (pipeline) pipeline.description = `one of: ${pipelines.map((p) => p.name).join(', ')}`;
    const runId = runCommand.options.find((option) => option.long === '--run-id');
    if (runId) runId.description = `choose the run id (a workflow id: letters, digits and . _ : @ -, at most ${MAX_RUN_ID_LENGTH} characters); starting an id that is already running fails`;
    runCommand.addHelpText('after', RUN_EXIT_HELP);
  });

  program
    .command('status')
    .description("Show a run's status and each step's state.")
    .argument('<runId>', 'the id `steward run` printed')
    .action(async (runId: string) => status(context(), runId));

  program
    .command('pipelines')
    .description('List the pipelines `steward run` can start.')
    .action(async () => {
      const ctx = context();
      const [{ project, pipelines }, { builtinProject }] = await Promise.all([catalog(ctx), import('../../pipelines/index.js')]);
      const builtinNames = new Set(builtinProject.pipelines.map((p) => p.name));
      const own = new Set(project.source ? project.pipelines.filter((p) => !builtinNames.has(p.name)).map((p) => p.name) : []);
      const list = pipelines.map((p) => ({ name: p.name, description: p.description, project: own.has(p.name) ? project.name : 'steward' }));
      if (ctx.json) printJson({ project: { name: project.name, source: project.source ?? null, taskQueue: ctx.config.taskQueue }, pipelines: list });
      else {
        if (project.source) out(`Project ${project.name} (${project.source}); runs go to task queue "${ctx.config.taskQueue}".\n`);
        for (const p of list) out(`${p.name.padEnd(28)} ${p.project === 'steward' && project.source ? '[built-in] ' : ''}${p.description}`);
      }
    });

  registerInitCommand(program);
  registerStartCommand(program, context);
  registerScheduleCommands(program, context);
  registerModelCommands(program, context);
  registerTrackingCommands(program, context);
  registerMonitoringCommands(program, context);
  registerDataCommands(program, context);
  registerGovernanceCommands(program, context);
  registerFeatureCommands(program, context);
  registerServingCommands(program, context);
  registerDeployCommands(program, context);

  const server = program.command('server').description('Manage the embedded Temporal dev server.');
  server
    .command('start')
    .description('Start the embedded Temporal dev server in the background (or report the running one).')
    .action(async () => {
      const { config, logger, json } = context();
      const { ensureTemporal } = await import('../platform/dev-server.js');
      const temporal = await ensureTemporal(config, logger);
      if (json) printJson(temporal);
      else out(`Temporal ${temporal.origin === 'started' ? 'started' : 'already running'} at ${temporal.address}; UI ${temporal.uiUrl ?? '(none)'}`);
    });
  server
    .command('stop')
    .description('Stop the embedded Temporal dev server. Its data stays in .steward/temporal for the next start.')
    .action(async () => {
      const { config, json } = context();
      const { stopDevServer } = await import('../platform/dev-server.js');
      const stopped = await stopDevServer(config.home);
      if (json) printJson({ stopped });
      else out(stopped ? 'Temporal dev server stopped.' : 'No embedded Temporal dev server was running.');
    });
}

interface RunOptions {
  param: string[];
  runId?: string;
  wait: boolean;
  cache: boolean;
  token?: string;
}

async function run(ctx: Context, name: string, options: RunOptions): Promise<void> {
  const { pipelines, findPipeline, parseParamPairs } = await catalog(ctx);
  const [loaded, { RUN_EXIT_CODES, runExitCode, waitForRun }, { Connection }] = await Promise.all([import('../pipeline/runs.js'), import('./run-wait.js'), import('@temporalio/client')]);
  const runs: Runs = loaded;
  const { hasLiveWorker, startRun } = runs;
  const entry = findPipeline(pipelines, name);
  const params = parseParamPairs(options.param);
  // Refused here, before anything reaches Temporal (startRun checks again for the API's sake).
  if (options.runId !== undefined) runs.checkRunId(options.runId);
  await withClient(ctx.config, async (client, uiUrl) => {
    // With a token the API verifies who starts the run; a name given on the command line would prove nothing.
    const token = options.token ?? ctx.config.token;
    const started = token
      ? await callApi<StartedRun>(ctx, token, 'POST', '/api/runs', { pipeline: entry.name, params, ...(options.runId !== undefined ? { runId: options.runId } : {}), cache: options.cache })
      : await startRun(client, ctx.config.taskQueue, entry, params, { runId: options.runId, cache: options.cache });
    const url = workflowUrl(uiUrl, ctx.config.temporal.namespace, started.runId);
    // The run has started: a Temporal that stops answering now must not end the command as if it had failed.
    if (!(await hasLiveWorker(client, ctx.config.taskQueue).catch(() => true))) {
      ctx.logger.warn(`No worker is polling task queue "${ctx.config.taskQueue}": the run waits until one starts (\`steward dev\` or \`steward worker\`).`);
    }
    if (!options.wait) {
      if (ctx.json) printJson({ ...started, url });
      else out(`Started run ${started.runId}\n  status: steward status ${started.runId}${url ? `\n  UI:     ${url}` : ''}`);
      return;
    }
    if (!ctx.json) out(`Waiting for run ${started.runId} (Ctrl-C stops waiting, not the run)`);
    // Ctrl-C while waiting: say that the run goes on, and how to find it again.
    const interrupted = () => {
      process.stderr.write(`\nStopped waiting. Run ${started.runId} goes on: steward status ${started.runId}\n`);
      process.exit(RUN_EXIT_CODES.interrupted);
    };
    process.once('SIGINT', interrupted);
    const printSteps = ctx.json ? undefined : stepPrinter();
    let report;
    try {
      report = await waitForRun(client, started.runId, {
        address: client.connection instanceof Connection ? client.connection.options.address : 'its address',
        notice: (line) => process.stderr.write(`${line}\n`),
        ...(printSteps ? { onState: printSteps } : {}),
      });
    } finally {
      process.removeListener('SIGINT', interrupted);
    }
    if (ctx.json) printJson(report);
    else {
      printSteps?.(report.state);
      out(renderReport(report, url));
    }
    process.exitCode = runExitCode(report.status);
  });
}

/** Prints each step once per state it reaches (running, then its outcome). */
function stepPrinter(): (state: RunState | undefined) => void {
  const seen = new Map<string, string>();
  return (state) => {
    for (const step of state?.steps ?? []) {
      if (seen.get(step.name) === step.status || step.status === 'pending') continue;
      seen.set(step.name, step.status);
      out(step.status === 'running' ? `  … ${step.name} running` : renderStep(step));
    }
  };
}

async function status(ctx: Context, runId: string): Promise<void> {
  const runs: Runs = await import('../pipeline/runs.js');
  runs.checkRunId(runId);
  const { getRunReport } = runs;
  await withClient(ctx.config, async (client, uiUrl) => {
    const report = await getRunReport(client, runId);
    if (ctx.json) printJson(report);
    else out(renderReport(report, workflowUrl(uiUrl, ctx.config.temporal.namespace, runId)));
  });
}

/** Prints each step as it changes state until the run closes (nothing in --json mode). */
async function follow(client: Client, runId: string, ctx: Context): Promise<void> {
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

interface DemoRun {
  pipeline: string;
  what: string;
  render: (result: RunPipelineResult) => string;
}

/**
 * What the demos run, wherever the command runs (a project's folder or none): Steward's built-ins
 * with the flight-delay example (examples/flight-delay), whose pipelines they start by name.
 */
export async function demoProject(): Promise<import('../project/define.js').Project> {
  const [{ builtinProject }, { flightDelayProject }, { combineProjects }] = await Promise.all([
    import('../../pipelines/index.js'),
    import('../../examples/flight-delay/steward.config.js'),
    import('../project/define.js'),
  ]);
  return combineProjects(builtinProject, flightDelayProject);
}

async function demo(ctx: Context, rows: string): Promise<void> {
  const began = Date.now();
  const { config, logger, json } = ctx;
  if (!json) out('Steward demo: bringing up the embedded stack...');
  const [{ startStack }, { devServerPaths }, { getRunReport, startRun }, { findPipeline }, project] = await Promise.all([
    import('../app/stack.js'),
    import('../platform/dev-server.js'),
    import('../pipeline/runs.js'),
    import('../pipeline/catalog.js'),
    demoProject(),
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

async function demoDeploy(ctx: Context, rows: string, which: 'deploy' | 'rollback'): Promise<void> {
  const began = Date.now();
  if (!/^[0-9]+$/.test(rows)) throw new ValidationError(`--rows must be a whole number, got "${rows}".`);
  if (!ctx.json) out(`Steward demo (${which === 'deploy' ? 'canary deployment' : 'automatic rollback'}): bringing up the embedded stack...`);
  const [{ startStack }, { demoDeployment }] = await Promise.all([import('../app/stack.js'), import('./demo-deploy.js')]);
  const stack = await startStack(ctx.config, ctx.logger, { api: false, project: await demoProject() });
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
async function demoRelease(stack: Stack, ctx: Context, rows: string): Promise<DemoRelease> {
  const { config, json } = ctx;
  const [{ listApprovals }, { approvalView }, { createPrincipal, issueToken, listPrincipals }, { getRunReport, startRun }, { findPipeline }] = await Promise.all([
    import('../governance/approvals.js'),
    import('../governance/decisions.js'),
    import('../governance/identity.js'),
    import('../pipeline/runs.js'),
    import('../pipeline/catalog.js'),
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

function renderRelease(release: DemoRelease, config: Context['config']): string {
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

async function dev(ctx: Context, withApi: boolean): Promise<void> {
  const [{ startStack }, project] = await Promise.all([import('../app/stack.js'), ctx.project()]);
  const stack = await startStack(ctx.config, ctx.logger, { api: withApi, project });
  const t = stack.temporal;
  if (ctx.json) printJson({ temporal: t, database: { driver: stack.database.driver, location: stack.database.location }, api: stack.api?.url, scorer: stack.scorer?.url });
  else {
    out('Steward is up.');
    if (project.source) out(`  Project      ${project.name} (${project.source}): ${project.pipelines.length} pipelines with the built-ins`);
    out(`  Temporal     ${t.address} (${t.origin})${t.uiUrl ? `  UI: ${t.uiUrl}` : ''}`);
    out(`  Database     ${stack.database.driver} at ${stack.database.location}`);
    out(`  Worker       polling "${stack.taskQueue}"`);
    if (stack.scorer) {
      const served = stack.scorer.restored.filter((r) => r.ok).map((r) => `${r.model} (${r.source})`);
      out(`  Scorer       ${stack.scorer.url}  (POST /predict/{model}, /v2/models/{model}/infer, /metrics; serving ${served.join(', ') || 'nothing yet: `steward deploy start`'})`);
    }
    if (stack.api) {
      out(`  HTTP API     ${stack.api.url}  (GET /health; with a token: GET /api/pipelines, POST /api/runs, /api/approvals, POST /api/models/{name}/versions)`);
      out(`  Reviews      ${stack.api.url}/reviews  (sign in with an API token)`);
    }
    out('Ctrl-C stops the worker and API; the Temporal dev server keeps running (`steward server stop`).');
  }
  // The SDK's runtime turns SIGINT/SIGTERM into a graceful worker shutdown; then the rest closes.
  await stack.workerDone;
  await stack.shutdown();
}

async function worker(ctx: Context, healthFile?: string): Promise<void> {
  const { config, logger } = ctx;
  const [{ locateTemporal }, { openDatabase }, { createWorker }, { configuredScorer }, project] = await Promise.all([
    import('../platform/dev-server.js'),
    import('../db/client.js'),
    import('../app/worker.js'),
    import('../serving/hosted-scorer.js'),
    ctx.project(),
  ]);
  const temporal = await locateTemporal(config);
  const database = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir, logger });
  const tracing = await configuredTracing(config);
  try {
    const w = await createWorker({
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueue: config.taskQueue,
      activities: { db: database.db, artifacts: new LocalArtifactStore(path.join(config.home, 'artifacts')), pipelines: project.pipelines, steps: [...project.steps.values()], features: project.features, expectations: project.expectations, ...(project.source ? { projectRoot: path.dirname(project.source) } : {}), logger, crashAfterCommit: config.faults.crashAfterCommit, scorer: configuredScorer(config), lineage: { endpoint: config.lineage.url, logger } },
      cacheDir: path.join(config.home, 'cache'),
      logger,
      logLevel: config.logLevel,
      tracing,
    });
    logger.info(`Worker polling "${config.taskQueue}" on ${temporal.address} (database: ${database.driver}).`);
    const touch = () => {
      if (healthFile && w.getState() === 'RUNNING') fs.writeFileSync(healthFile, new Date().toISOString());
    };
    const health = healthFile ? setInterval(touch, 10_000) : undefined;
    const running = w.run();
    touch();
    await running.finally(() => clearInterval(health));
  } finally {
    await tracing?.shutdown();
    await database.close();
  }
}

async function api(ctx: Context): Promise<void> {
  const { config, logger } = ctx;
  const [{ locateTemporal }, { connectClient }, { openDatabase }, { createApi }, project] = await Promise.all([
    import('../platform/dev-server.js'),
    import('../platform/temporal.js'),
    import('../db/client.js'),
    import('../api/server.js'),
    ctx.project(),
  ]);
  const temporal = await locateTemporal(config);
  const tracing = await configuredTracing(config);
  const client = await connectClient(temporal.address, temporal.namespace, tracing?.clientInterceptors());
  // Approvals and the reviewer page need the database; with PGlite that only works while no worker holds it.
  const database = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir, logger });
  const app = createApi({
    client,
    taskQueue: config.taskQueue,
    pipelines: project.pipelines,
    database: { driver: database.driver },
    db: database.db,
    artifacts: new LocalArtifactStore(path.join(config.home, 'artifacts')),
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  logger.info(`Steward API on http://${config.api.host}:${config.api.port} (Temporal ${temporal.address}, ${database.driver}).`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await app.close();
  await database.close();
  await client.connection.close();
  await tracing?.shutdown();
}

async function setup(ctx: Context): Promise<void> {
  const { config, logger, json } = ctx;
  const [{ ensureTemporalCli }, { openDatabase }] = await Promise.all([import('../platform/temporal-cli.js'), import('../db/client.js')]);
  const cli = config.temporal.address
    ? undefined
    : await ensureTemporalCli({ explicitPath: config.temporal.cliPath, home: config.home, userCache: userCacheDir(), logger });
  const database = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir });
  const summary = { temporalCli: cli ?? null, temporalAddress: config.temporal.address ?? null, database: { driver: database.driver, location: database.location } };
  await database.close();
  if (json) printJson(summary);
  else {
    out(cli ? `Temporal CLI   ${cli}` : `Temporal       ${config.temporal.address} (external; no CLI needed)`);
    out(`Database       ${database.driver} at ${database.location} (migrations applied)`);
  }
}
