/**
 * `steward deploy start | status | list | rollback`: deployments of approved model versions to the
 * scorer, run by the deployment workflow. These commands talk to Temporal only (never the
 * database), so they work beside a running `steward dev`, which hosts the worker and the scorer.
 * The deployment client and the Temporal client load inside each action.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { DatabaseHandle } from '../db/client.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { AnalysisThresholds } from '../serving/deployment-analysis.js';
import type { DeploymentSummary, VersionStatusLookup } from '../serving/deployment-client.js';
import type { DeploymentInput, DeploymentState, DeploymentStrategy, RecordedAnalysis } from '../serving/deployment-types.js';
import { out, printJson, withClient, type CommandContext } from './context.js';

const STRATEGIES: DeploymentStrategy[] = ['canary', 'blue-green', 'shadow', 'ab'];

interface StartOptions {
  version: string;
  strategy: string;
  steps?: string;
  alias: string;
  minRequests?: string;
  maxDrift?: string;
  driftMetric?: string;
  maxErrorRate?: string;
  maxP99Ratio?: string;
  pollSeconds?: string;
  maxWaitSeconds?: string;
  bakeSeconds?: string;
  shadowPercent?: string;
  abPercent?: string;
  abDuration?: string;
  promote?: boolean;
  as?: string;
  reason?: string;
  wait: boolean;
}

function number(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new ValidationError(`${what} must be a number, got "${text}".`);
  return n;
}

function whoAmI(given: string | undefined): string {
  if (given?.trim()) return given.trim();
  try {
    return os.userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}

/** The workflow's input from the command line; the worker checks it again (and the registry) before anything moves. */
export function deploymentInputOf(model: string, options: StartOptions): Omit<DeploymentInput, 'deploymentId'> {
  if (!/^[0-9]+$/.test(options.version ?? '')) throw new ValidationError(`--version must be a version number, got "${options.version}".`);
  if (!STRATEGIES.includes(options.strategy as DeploymentStrategy)) throw new ValidationError(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${options.strategy}".`);
  const steps = options.steps?.split(',').map((s, i) => number(s.trim(), `--steps value ${i + 1}`)!);
  if (steps && options.strategy !== 'canary') throw new ValidationError('--steps applies to the canary strategy only.');
  const thresholds: Partial<AnalysisThresholds> = {};
  const set = <K extends keyof AnalysisThresholds>(key: K, value: AnalysisThresholds[K] | undefined) => {
    if (value !== undefined) thresholds[key] = value;
  };
  set('minRequests', number(options.minRequests, '--min-requests'));
  set('maxDrift', number(options.maxDrift, '--max-drift'));
  set('maxErrorRate', number(options.maxErrorRate, '--max-error-rate'));
  set('maxLatencyP99Ratio', number(options.maxP99Ratio, '--max-p99-ratio'));
  if (options.driftMetric !== undefined) {
    if (options.driftMetric !== 'jensen-shannon' && options.driftMetric !== 'psi') throw new ValidationError(`--drift-metric must be jensen-shannon or psi, got "${options.driftMetric}".`);
    thresholds.driftMetric = options.driftMetric;
  }
  const analysis = {
    ...(options.pollSeconds !== undefined ? { pollSeconds: number(options.pollSeconds, '--poll-seconds') } : {}),
    ...(options.maxWaitSeconds !== undefined ? { maxWaitSeconds: number(options.maxWaitSeconds, '--max-wait-seconds') } : {}),
    ...(options.bakeSeconds !== undefined ? { minSeconds: number(options.bakeSeconds, '--bake-seconds') } : {}),
  };
  return {
    model,
    version: Number(options.version),
    strategy: options.strategy as DeploymentStrategy,
    alias: options.alias,
    startedBy: whoAmI(options.as),
    ...(steps ? { steps } : {}),
    ...(Object.keys(thresholds).length ? { thresholds } : {}),
    ...(Object.keys(analysis).length ? { analysis } : {}),
    ...(options.shadowPercent !== undefined ? { shadowPercent: number(options.shadowPercent, '--shadow-percent') } : {}),
    ...(options.abPercent !== undefined ? { abPercent: number(options.abPercent, '--ab-percent') } : {}),
    ...(options.abDuration !== undefined ? { abDurationSeconds: number(options.abDuration, '--ab-duration') } : {}),
    ...(options.promote !== undefined ? { promote: options.promote } : {}),
    ...(options.reason ? { reason: options.reason } : {}),
  };
}

export function registerDeployCommands(program: Command, context: () => CommandContext): void {
  const deploy = program
    .command('deploy')
    .description('Deploy an approved model version to the scorer (canary, blue-green, shadow, A/B) with automatic analysis and rollback.')
    .addHelpText(
      'after',
      `
The deployment workflow moves traffic on the scorer step by step. Between steps it compares the
candidate's live error rate, latency p99 and score distribution (Jensen-Shannon distance) with the
version serving before, once each arm has enough requests; a breach rolls back at once and records
why. Success moves the alias (production) to the candidate. Every step is in the audit trail
(\`steward audit show\`). \`steward dev\` runs the worker and the scorer these commands drive.`,
    );

  deploy
    .command('start')
    .description('Start a deployment of <model> --version N.')
    .argument('<model>', 'the registered model name')
    .requiredOption('--version <n>', 'the candidate version: approved through a sign-off (checked before anything starts)')
    .option('--strategy <name>', `${STRATEGIES.join(' | ')}`, 'canary')
    .option('--steps <percents>', 'canary traffic steps, comma-separated; the last 100 is the switch (default 5,25,100)')
    .option('--alias <name>', 'the alias that follows what serves; success moves it', 'production')
    .option('--min-requests <n>', 'requests each arm needs before a verdict (default 200)')
    .option('--max-drift <x>', 'largest distance between the score distributions (default 0.2 for Jensen-Shannon, 0.25 for PSI)')
    .option('--drift-metric <name>', 'jensen-shannon | psi (default jensen-shannon)')
    .option('--max-error-rate <x>', 'largest error rate the candidate may have (default 0.05)')
    .option('--max-p99-ratio <x>', "largest candidate p99 as a multiple of the stable version's (default 2)")
    .option('--poll-seconds <s>', 'how often an analysis waiting for traffic looks again (default 10)')
    .option('--max-wait-seconds <s>', 'how long a step waits for enough traffic before rolling back (default 900)')
    .option('--bake-seconds <s>', 'the least time each step runs before its verdict counts (default 30)')
    .option('--shadow-percent <p>', 'shadow: share of requests the candidate also scores (default 100)')
    .option('--ab-percent <p>', "A/B: the candidate arm's share of traffic (default 50)")
    .option('--ab-duration <s>', 'A/B: the least time the split runs before its report')
    .option('--promote', 'move the alias when the analysis passes (default for canary and blue-green)')
    .option('--no-promote', 'report only; traffic returns to the stable version (default for shadow and A/B)')
    .option('--as <principal>', 'who is deploying, for the audit trail (default: your user name)')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--wait', 'follow the deployment until it ends and print the outcome', false)
    .addHelpText(
      'after',
      `
Examples:
  steward deploy start rain-tomorrow --version 4 --wait
  steward deploy start rain-tomorrow --version 4 --strategy blue-green
  steward deploy start rain-tomorrow --version 5 --strategy shadow --min-requests 500
  steward deploy start rain-tomorrow --version 5 --strategy ab --ab-percent 20 --ab-duration 3600`,
    )
    .action(async (model: string, options: StartOptions) => start(context(), model, options));

  deploy
    .command('status')
    .description("Show a deployment's steps, analyses and outcome: the model's latest, or one by id.")
    .argument('<model-or-id>', 'a model name, or a deployment id (deploy-...)')
    .action(async (target: string) => status(context(), target));

  deploy
    .command('list')
    .description('List deployments, newest first.')
    .argument('[model]', 'only this model')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (model: string | undefined, options: { limit: string }) => list(context(), model, Number(options.limit)));

  deploy
    .command('rollback')
    .description("Roll <model> back: the running deployment (routing back to the stable version), or else the latest promotion (routing and alias back).")
    .argument('<model>', 'the model name')
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .option('--as <principal>', 'who is rolling back (default: your user name)')
    .addHelpText('after', '\nExample:\n  steward deploy rollback rain-tomorrow --reason "p99 doubled on the dashboard"')
    .action(async (model: string, options: { reason: string; as?: string }) => rollback(context(), model, options));
}

/**
 * Where `deploy start` reads the version's status before it starts anything: the database when this
 * process can open it (PostgreSQL, or the embedded one while no stack holds it), else the running
 * stack's scorer, which holds the embedded database. When neither answers it says so, and the
 * workflow checks the version when it starts.
 */
export function registryVersionStatus(ctx: CommandContext): VersionStatusLookup {
  return async (model, version) => {
    const [{ openDatabase }, { requireVersion }, { scorerUrlOf }, { httpScorerAdmin }] = await Promise.all([
      import('../db/client.js'),
      import('../registry/lookup.js'),
      import('../serving/hosted-scorer.js'),
      import('../serving/scorer-client.js'),
    ]);
    let database: DatabaseHandle | undefined;
    try {
      database = await openDatabase({ url: ctx.config.database.url, pgliteDir: ctx.config.database.pgliteDir });
    } catch {
      // Held by the running stack (or unreachable): ask the stack's scorer below.
    }
    if (database) {
      try {
        return (await requireVersion(database.db, model, version)).status;
      } finally {
        await database.close();
      }
    }
    const scorer = httpScorerAdmin(scorerUrlOf(ctx.config), { timeoutMs: 10_000 });
    try {
      const status = await scorer.versionStatus(model, version);
      if (status === undefined) ctx.logger.warn(`The scorer at ${scorer.url} cannot tell ${model} v${version}'s status; the deployment checks it when it starts.`);
      return status;
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof ValidationError) throw error;
      ctx.logger.warn(`Could not read ${model} v${version}'s status (${(error as Error).message}); the deployment checks it when it starts.`);
      return undefined;
    }
  };
}

async function start(ctx: CommandContext, model: string, options: StartOptions): Promise<void> {
  const input = deploymentInputOf(model, options);
  const [{ startDeployment, deploymentStatus }, { hasLiveWorker }] = await Promise.all([import('../serving/deployment-client.js'), import('../pipeline/runs.js')]);
  await withClient(ctx.config, async (client) => {
    // A version that is not approved is refused here, before a workflow exists to fail.
    const handle = await startDeployment(client, ctx.config.taskQueue, input, { versionStatus: registryVersionStatus(ctx) });
    if (!(await hasLiveWorker(client, ctx.config.taskQueue))) {
      ctx.logger.warn(`No worker is polling "${ctx.config.taskQueue}": the deployment waits until one starts (\`steward dev\`).`);
    }
    if (!options.wait) {
      if (ctx.json) printJson({ deploymentId: handle.workflowId, ...input });
      else out(`Started deployment ${handle.workflowId} (${input.strategy}) of ${model} v${input.version}\n  status:   steward deploy status ${handle.workflowId}\n  rollback: steward deploy rollback ${model} --reason "..."`);
      return;
    }
    if (!ctx.json) out(`Deployment ${handle.workflowId}: ${input.strategy} of ${model} v${input.version}`);
    const shown = { analyses: 0, step: -1 };
    let closed = false;
    const done = handle.result().finally(() => (closed = true));
    while (!closed) {
      const state = await handle.query<DeploymentState | null>('deploymentState').catch(() => null);
      if (state && !ctx.json) printProgress(state, shown);
      await Promise.race([done.catch(() => {}), sleep(500)]);
    }
    const report = await deploymentStatus(client, handle.workflowId);
    if (ctx.json) printJson(report);
    else {
      if (report.state) printProgress(report.state, shown);
      out(renderOutcome(report));
    }
    if (report.result?.status !== 'promoted' && report.result?.status !== 'completed') process.exitCode = 1;
  });
}

function printProgress(state: DeploymentState, shown: { analyses: number; step: number }): void {
  for (; shown.analyses < state.analyses.length; shown.analyses++) out(renderAnalysis(state.analyses[shown.analyses]!));
  if (state.status === 'running' && state.currentStep !== shown.step && state.currentStep < state.steps.length) {
    shown.step = state.currentStep;
    out(`  … ${state.steps[state.currentStep]}`);
  }
}

export function renderAnalysis(a: RecordedAnalysis): string {
  const mark = a.verdict === 'pass' ? '✓' : '✗';
  const js = a.jensenShannon === null ? '' : `  JS ${a.jensenShannon.toFixed(3)}  PSI ${a.psi?.toFixed(3)}`;
  const arm = (n: typeof a.candidate) => `v${n.version}: ${n.requests} req, ${((n.errorRate ?? 0) * 100).toFixed(1)}% err, p99 ${n.latencyP99Ms?.toFixed(2) ?? '-'} ms`;
  return `  ${mark} ${a.stepName} after ${a.afterSeconds} s — ${arm(a.candidate)}${a.baseline ? ` | ${arm(a.baseline)}` : ''}${js}${a.verdict === 'fail' ? `\n      ${a.reason}` : ''}`;
}

function renderOutcome(report: DeploymentSummary & { result?: { status: string; outcome: string; rollbackReason?: string }; failure?: string }): string {
  if (report.failure) return `Deployment ${report.deploymentId} did not start: ${report.failure}`;
  const r = report.result;
  if (!r) return `Deployment ${report.deploymentId} is ${report.state?.status ?? report.execution.toLowerCase()}${report.state ? ` (step ${report.state.currentStep + 1} of ${report.state.steps.length}: ${report.state.steps[report.state.currentStep] ?? 'finishing'})` : ''}.`;
  return `Deployment ${report.deploymentId}: ${r.status.replace('_', ' ')}. ${r.outcome}${r.rollbackReason ? `\n  why: ${r.rollbackReason}` : ''}`;
}

async function status(ctx: CommandContext, target: string): Promise<void> {
  const { deploymentStatus, listDeploymentRuns } = await import('../serving/deployment-client.js');
  await withClient(ctx.config, async (client) => {
    // A deployment id (deploy-..., or <run>--<step> from a pipeline), else a model's latest.
    let report = await deploymentStatus(client, target).catch(() => undefined);
    const id = report ? target : (await listDeploymentRuns(client, { model: target, limit: 1 }))[0]?.deploymentId;
    if (!id) throw new ValidationError(`No deployment or model "${target}" with deployments; \`steward deploy list\` shows them, \`steward deploy start ${target} --version N\` starts one.`);
    report ??= await deploymentStatus(client, id);
    if (ctx.json) return printJson(report);
    const s = report.state;
    out(`Deployment ${id} (${report.execution.toLowerCase()}, started ${report.startedAt})`);
    if (s) {
      out(`  ${s.model} v${s.candidate} over v${s.stable ?? '-'} by ${s.strategy}; routing now ${JSON.stringify(s.routing)}`);
      s.steps.forEach((name, i) => out(`  ${i < s.currentStep || s.status === 'promoted' || s.status === 'completed' ? '✓' : i === s.currentStep && s.status === 'running' ? '…' : ' '} ${name}`));
      for (const a of s.analyses) out(renderAnalysis(a));
      if (s.status === 'running' && s.lastAnalysis?.verdict === 'insufficient') out(`  waiting: ${s.lastAnalysis.reason}`);
    }
    out(renderOutcome(report));
  });
}

async function list(ctx: CommandContext, model: string | undefined, limit: number): Promise<void> {
  const { listDeploymentRuns } = await import('../serving/deployment-client.js');
  await withClient(ctx.config, async (client) => {
    const runs = await listDeploymentRuns(client, { model, limit: Number.isInteger(limit) && limit > 0 ? limit : 20 });
    if (ctx.json) return printJson({ deployments: runs });
    if (runs.length === 0) return out(model ? `${model} has no deployments yet.` : 'No deployments yet.');
    for (const r of runs) {
      const s = r.state;
      out(`${r.deploymentId.padEnd(44)} ${(s?.status ?? r.execution.toLowerCase()).padEnd(12)} ${s ? `${s.strategy.padEnd(10)} v${s.stable ?? '-'} -> v${s.candidate}` : ''}  ${r.startedAt.slice(0, 19)}`);
    }
  });
}

async function rollback(ctx: CommandContext, model: string, options: { reason: string; as?: string }): Promise<void> {
  const [{ rollbackDeployment }, { hasLiveWorker }] = await Promise.all([import('../serving/deployment-client.js'), import('../pipeline/runs.js')]);
  await withClient(ctx.config, async (client) => {
    if (!(await hasLiveWorker(client, ctx.config.taskQueue))) {
      throw new ValidationError(`No worker is polling "${ctx.config.taskQueue}", so nothing can move the scorer's traffic: start the stack with \`steward dev\` and run this again.`);
    }
    const outcome = await rollbackDeployment(client, ctx.config.taskQueue, model, { reason: options.reason, actor: whoAmI(options.as) });
    if (ctx.json) return printJson(outcome);
    if (outcome.kind === 'running') out(`Rolled back deployment ${outcome.deploymentId}: ${outcome.state.outcome ?? 'traffic back on the stable version'}.`);
    else out(`Rolled back ${model}'s promotion ${outcome.deploymentId}: traffic and alias back on v${outcome.version} (from v${outcome.from}).`);
  });
}
