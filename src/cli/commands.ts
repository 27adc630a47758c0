/**
 * The `steward` command's top-level commands, and the registration of the others. Start-up loads
 * only commander and these small modules: the Temporal client and worker, the database layer, the
 * pipelines, fastify and onnxruntime load inside the action that needs them (`await import`), so
 * `steward --help` and a command that opens only the database start fast.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { RunState } from '../contracts.js';
import type { StartedRun } from '../pipeline/runs.js';
import { userCacheDir } from '../platform/config.js';
import { LocalArtifactStore } from '../artifacts/index.js';
import { configuredTracing } from '../platform/tracing-config.js';
import { completeHelp, out, printJson, withClient, type CommandContext } from './context.js';
import { registerFeatureCommands } from './feature-commands.js';
import { api as callApi, registerGovernanceCommands } from './governance-commands.js';
import { registerServingCommands } from './serving-commands.js';
import { registerDeployCommands } from './deploy-commands.js';
import { registerDataCommands } from './data-commands.js';
import { registerMonitoringCommands } from './monitoring-commands.js';
import { registerModelCommands } from './registry-commands.js';
import { registerInitCommand } from './init-command.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { registerStartCommand } from './start-command.js';
import { registerTrackingCommands } from './tracking-commands.js';
import { renderReport, renderStep, workflowUrl } from './render.js';

/**
 * The pipelines `steward run` starts: Steward's and the team's project's (loading them
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
    .addHelpText('after', `\nExample:\n  steward run train-rain-tomorrow --param maxRows=1000 --wait`)
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
