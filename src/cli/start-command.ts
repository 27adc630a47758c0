/**
 * `steward start`: what a project's `npm start` runs. It loads the project (steward.config.ts,
 * found from the working folder upward), brings up the embedded stack with a worker for it (the
 * Temporal dev server, the database), runs the project's `start` pipeline through Temporal, prints
 * each step as it finishes and the result (the model version registered, when there is one), then
 * stops its worker and closes its database. The dev server keeps running for the next command.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { RunPipelineResult, RunState } from '../contracts.js';
import { ConfigError } from '../errors.js';
import { out, printJson, type CommandContext } from './context.js';

interface StartOptions {
  param: string[];
  cache: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerStartCommand(program: Command, context: () => CommandContext): void {
  program
    .command('start')
    .description("Run the project's start pipeline (`start` in steward.config.ts) through Temporal on the embedded stack, print each step and the result, then stop.")
    .option('-p, --param <key=value>', 'override a parameter of the start pipeline (repeatable)', collect, [])
    .option('--no-cache', 'run every step even when a cached result matches')
    .addHelpText('after', '\nThe Temporal dev server is left running for the next command; `steward server stop` stops it.\nWithout a steward.config.ts there is nothing to start: Steward\'s worked example (under examples/) runs with `npm start` at the root of a Steward checkout.')
    .action(async (options: StartOptions) => start(context(), options));
}

async function start(ctx: CommandContext, options: StartOptions): Promise<void> {
  const began = Date.now();
  const { config, logger, json } = ctx;
  // Steward's built-ins and the project (steward.config.ts from --project, STEWARD_PROJECT or the working folder upward).
  const [project, { findPipeline, parseParamPairs, validateParams }] = await Promise.all([ctx.project(), import('../pipeline/catalog.js')]);
  if (!project.source) {
    throw new ConfigError(
      `No steward.config.ts in ${process.cwd()} or a folder above it: \`steward start\` runs a project's start pipeline. ` +
        'Create a project with `steward init <dir>` (or point --project / STEWARD_PROJECT at one); Steward\'s worked example (under examples/) runs with `npm start` at the root of a Steward checkout.',
    );
  }
  const where = path.relative(process.cwd(), project.source) || project.source;
  if (!project.start) {
    throw new ConfigError(
      `${where} declares no start pipeline: add start: { pipeline: '<name>' } to defineProject(...), or start one with \`steward run <pipeline> --wait\` while \`steward dev\` runs.`,
      { file: project.source },
    );
  }
  const pipeline = findPipeline(project.pipelines, project.start.pipeline);
  const params = { ...(project.start.params ?? {}), ...parseParamPairs(options.param) };
  // Refused here, before anything starts.
  validateParams(pipeline, params);

  const [{ Connection }, { startStack }, { devServerPaths }, { startRun, getRunReport }, { renderReport, renderStep, workflowUrl }, { runExitCode, waitForRun }] = await Promise.all([
    import('@temporalio/client'),
    import('../app/stack.js'),
    import('../platform/dev-server.js'),
    import('../pipeline/runs.js'),
    import('./render.js'),
    import('./run-wait.js'),
  ]);
  if (!json) out(`Steward: project "${project.name}" (${where}); bringing up the embedded stack...`);
  const stack = await startStack(config, logger, { api: false, project });
  try {
    const { temporal: t, taskQueue } = stack;
    if (!json) {
      out(`  Temporal   ${t.origin === 'started' ? 'started' : t.origin === 'reused' ? 'reused' : 'connected to'} ${t.address}` + (t.origin === 'external' ? '' : ` (history in ${devServerPaths(config.home).dbFile})`));
      out(`  Database   ${stack.database.driver} at ${stack.database.location}`);
      out(`  Worker     polling task queue "${taskQueue}"`);
    }
    const started = await startRun(stack.client, taskQueue, pipeline, params, { cache: options.cache });
    const url = workflowUrl(t.uiUrl, t.namespace, started.runId);
    if (!json) out(`\nRun ${started.runId}: ${pipeline.name}${pipeline.description ? `: ${pipeline.description}` : ''}`);
    const printSteps = json ? undefined : stepPrinter((line) => out(line), renderStep);
    const report = await waitForRun(stack.client, started.runId, {
      address: stack.client.connection instanceof Connection ? stack.client.connection.options.address : t.address,
      notice: (line) => process.stderr.write(`${line}\n`),
      ...(printSteps ? { onState: printSteps } : {}),
    });
    printSteps?.(report.state);
    const result = report.status === 'COMPLETED' ? (report.result as RunPipelineResult) : undefined;
    const models = result ? registeredModels(result) : [];
    const metrics = result ? metricsOf(result) : undefined;
    const seconds = (Date.now() - began) / 1000;
    if (json) {
      printJson({ project: project.name, pipeline: pipeline.name, runId: started.runId, status: report.status, models, metrics, result: result ?? null, failure: report.failure ?? null, url: url ?? null, seconds });
    } else {
      if (!result) out(`\n${renderReport(await getRunReport(stack.client, started.runId).catch(() => report), url)}`);
      else {
        out(`\nRun ${started.runId} completed${result.steps.every((s) => s.cached) ? ' (every step reused its cached result: inputs and code unchanged)' : ''}.`);
        const cached = new Set(result.steps.filter((s) => s.cached).map((s) => s.name));
        for (const model of models) {
          const note = cached.has(model.step) ? ' (registered by an earlier run; reused)' : model.created === false ? ' (already registered by an earlier run)' : '';
          out(`Registered model ${model.modelName} version ${model.version}${note}`);
        }
        if (metrics) out(`  ${Object.entries(metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`).join('  ')}`);
      }
      out('\nWhere to look:');
      if (url) out(`  Temporal UI    ${url}`);
      out(`  Run status     npx steward status ${started.runId}`);
      for (const model of models) out(`  Model          npx steward models versions ${model.modelName}   npx steward models card ${model.modelName}@${model.version}`);
      out(`  Keep it up     npx steward dev   (then, in another terminal) npx steward run ${pipeline.name} --wait`);
      out(`  Stop Temporal  npx steward server stop`);
      out(`\nDone in ${seconds.toFixed(1)} s.`);
    }
    process.exitCode = runExitCode(report.status);
  } finally {
    await stack.shutdown();
  }
}

/** Prints each step once per state it reaches (running, then its outcome). */
function stepPrinter(print: (line: string) => void, render: (step: RunState['steps'][number]) => string): (state: RunState | undefined) => void {
  const seen = new Map<string, string>();
  return (state) => {
    for (const step of state?.steps ?? []) {
      if (seen.get(step.name) === step.status || step.status === 'pending') continue;
      seen.set(step.name, step.status);
      print(step.status === 'running' ? `  … ${step.name} running` : render(step));
    }
  };
}

interface RegisteredModel {
  step: string;
  modelName: string;
  version: number;
  created?: boolean;
}

/** Step outputs that name a registered model version (`modelName` and `version`, as the registry returns them). */
export function registeredModels(result: Pick<RunPipelineResult, 'outputs'>): RegisteredModel[] {
  const found: RegisteredModel[] = [];
  for (const [step, output] of Object.entries(result.outputs ?? {})) {
    const o = output as Record<string, unknown>;
    if (typeof o?.modelName === 'string' && typeof o.version === 'number') {
      found.push({ step, modelName: o.modelName, version: o.version, ...(typeof o.created === 'boolean' ? { created: o.created } : {}) });
    }
  }
  return found;
}

/** The first step output's `metrics` (an object of numbers), e.g. a training step's validation metrics. */
export function metricsOf(result: Pick<RunPipelineResult, 'outputs'>): Record<string, number> | undefined {
  for (const output of Object.values(result.outputs ?? {})) {
    const metrics = (output as Record<string, unknown>)?.metrics;
    if (typeof metrics === 'object' && metrics !== null && !Array.isArray(metrics)) {
      const numbers = Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
      if (numbers.length > 0) return Object.fromEntries(numbers);
    }
  }
  return undefined;
}
