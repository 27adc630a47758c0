/**
 * `steward runs ...`: experiment runs from the command line (`steward lineage` is in data-commands.ts).
 * Like the registry commands, these open the database directly and need no Temporal. The registry
 * loads inside each action (`await import`), so registering these commands costs nothing at start-up.
 */
import type { Command } from 'commander';
import type { ExperimentRun } from '../db/schema.js';
import type { RunComparison, RunDetails } from '../registry/runs.js';
import { out, printJson, withDatabase, type CommandContext } from './context.js';

const show = (value: unknown) => (value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value));

function renderRunLine(r: ExperimentRun): string {
  const ended = r.endedAt ? `  ended ${r.endedAt.toISOString()}` : '';
  return `${r.id}  ${r.experiment}  ${r.status.padEnd(8)} started ${r.startedAt.toISOString()}${ended}${r.workflowId ? `  [${r.workflowId}]` : ''}`;
}

function renderRun(r: RunDetails): string {
  const lines = [renderRunLine(r)];
  const code = r.gitCommit ? `${r.gitCommit}${r.gitDirty ? ' (uncommitted changes)' : ''}` : 'not a git checkout';
  const packages = Object.entries(r.environment.packages).map(([name, version]) => `${name}@${version ?? 'missing'}`);
  lines.push(`  code:        ${code}`);
  lines.push(`  data:        ${r.trainingSetUri ? `${r.trainingSetUri} (sha256 ${r.trainingSetSha256}) from ingestion ${r.ingestionId}` : 'not recorded'}`);
  lines.push(`  environment: node ${r.environment.node} ${r.environment.platform}  ${packages.join(' ')}`);
  if (r.workflowId) lines.push(`  workflow:    ${r.workflowId}${r.workflowRunId ? ` run ${r.workflowRunId}` : ''}`);
  if (r.error) lines.push(`  error:       ${r.error}`);
  for (const [title, entries] of [
    ['tags', r.tags],
    ['params', r.params],
    ['metrics', r.metrics],
  ] as const) {
    const pairs = Object.entries(entries);
    if (pairs.length) lines.push(`  ${title}:`, ...pairs.map(([k, v]) => `    ${k} = ${show(v)}`));
  }
  const series = Object.entries(r.series);
  if (series.length) {
    lines.push('  series:');
    for (const [key, points] of series) {
      const last = points[points.length - 1]!;
      lines.push(`    ${key}: ${points.length} steps, last step ${last.step} = ${last.value}`);
    }
  }
  if (r.artifacts.length) lines.push('  artifacts:', ...r.artifacts.map((uri) => `    ${uri}`));
  return lines.join('\n');
}

function renderComparison(c: RunComparison): string {
  const rows: string[][] = [['', 'a', 'b', '']];
  for (const p of c.params) rows.push([`param ${p.key}`, show(p.a), show(p.b), p.same ? '' : 'differs']);
  for (const m of c.metrics) rows.push([`metric ${m.key}`, show(m.a), show(m.b), m.delta === null ? (m.same ? '' : 'differs') : m.same ? '' : `delta ${m.delta > 0 ? '+' : ''}${Number(m.delta.toPrecision(6))}`]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  return [`a: ${renderRunLine(c.a)}`, `b: ${renderRunLine(c.b)}`, '', ...table].join('\n');
}

export function registerTrackingCommands(program: Command, context: () => CommandContext): void {
  const runs = program
    .command('runs')
    .description('Inspect experiment runs: parameters, metrics, code, data and environment of each training.')
    .addHelpText(
      'after',
      `
Examples:
  steward runs list --experiment rain-tomorrow
  steward runs show <run-id>
  steward runs compare <run-a> <run-b>`,
    );

  runs
    .command('list')
    .description('List runs, newest first.')
    .option('--experiment <name>', 'only the runs of this experiment')
    .action(async (options: { experiment?: string }) => {
      const ctx = context();
      const { listRuns } = await import('../registry/runs.js');
      const found = await withDatabase(ctx, (db) => listRuns(db, { experiment: options.experiment }));
      if (ctx.json) printJson({ runs: found });
      else if (found.length === 0) out(options.experiment ? `No runs in experiment "${options.experiment}".` : 'No runs recorded yet.');
      else for (const r of found) out(renderRunLine(r));
    });

  runs
    .command('show')
    .description('Show one run in full, including metric series.')
    .argument('<id>', 'the run id')
    .action(async (id: string) => {
      const ctx = context();
      const { getRun } = await import('../registry/runs.js');
      const run = await withDatabase(ctx, (db) => getRun(db, id));
      if (ctx.json) printJson(run);
      else out(renderRun(run));
    });

  runs
    .command('compare')
    .description('Put the parameters and metrics of two runs side by side, marking what differs.')
    .argument('<a>', 'the first run id')
    .argument('<b>', 'the second run id (metric deltas are b - a)')
    .action(async (a: string, b: string) => {
      const ctx = context();
      const { compareRuns } = await import('../registry/runs.js');
      const comparison = await withDatabase(ctx, (db) => compareRuns(db, a, b));
      if (ctx.json) printJson(comparison);
      else out(renderComparison(comparison));
    });
}
