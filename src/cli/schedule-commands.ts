/**
 * `steward schedule ...`: pipelines on a timetable, as Temporal Schedules. The schedules module
 * (the Temporal client) and the pipelines load inside each action.
 */
import type { Command } from 'commander';
import type { OverlapName, ScheduleSummary } from '../pipeline/schedules.js';
import type { CommandContext } from './context.js';
import { completeHelp, out, printJson, withClient } from './context.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function render(s: ScheduleSummary): string {
  return [
    `${s.id}  pipeline=${s.pipeline ?? '?'}  ${s.spec}  overlap=${s.overlap}${s.paused ? '  PAUSED' : ''}${s.note ? `  (${s.note})` : ''}`,
    `  next: ${s.nextRuns.join(', ') || '-'}`,
    ...s.recentRuns.slice(-3).map((r) => `  ran:  ${r.runId} at ${r.startedAt}`),
  ].join('\n');
}

export function registerScheduleCommands(program: Command, context: () => CommandContext): void {
  const schedule = program
    .command('schedule')
    .description('Run pipelines on a timetable (Temporal Schedules).')
    .addHelpText(
      'after',
      `
Examples:
  steward schedule create drift-retrain-rain-tomorrow --every 1d --param windowDays=1
  steward schedule create drift-retrain-rain-tomorrow --cron "0 3 * * 1" --id weekly-drift
  steward schedule backfill weekly-drift --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z
The default overlap policy skips a tick while the previous run is still going.`,
    );
  // The pipelines and the overlap policies (from the Temporal client) load only for `steward schedule ...`.
  completeHelp(schedule, async () => {
    const [{ pipelines }, { overlapPolicies }] = await Promise.all([context().project(), import('../pipeline/schedules.js')]);
    const pipeline = create.registeredArguments.find((argument) => argument.name() === 'pipeline');
    if (pipeline) pipeline.description = `one of: ${pipelines.map((p) => p.name).join(', ')}`;
    const overlap = create.options.find((option) => option.long === '--overlap');
    if (overlap) overlap.description = `what to do when a run is still going: ${Object.keys(overlapPolicies).join(', ')}`;
  });

  const create = schedule
    .command('create')
    .description('Create a schedule that starts <pipeline> on a timetable.')
    .argument('<pipeline>', 'the pipeline to start (`steward pipelines` lists them)')
    .option('--every <interval>', 'an interval: 30m, 6h, 1d, 1w')
    .option('--cron <expression>', 'a cron expression (UTC), e.g. "0 3 * * *"')
    .option('-p, --param <key=value>', 'a pipeline parameter (repeatable)', collect, [])
    .option('--id <id>', 'the schedule id (default: <pipeline>-schedule)')
    .option('--overlap <policy>', 'what to do when a run is still going (policies listed in `steward schedule create --help`)', 'skip')
    .option('--paused', 'create it paused', false)
    .option('--note <text>', 'why this schedule exists')
    .action(async (name: string, options: { every?: string; cron?: string; param: string[]; id?: string; overlap: string; paused: boolean; note?: string }) => {
      const ctx = context();
      const [{ pipelines }, { findPipeline, parseParamPairs }, { createSchedule, describeSchedule }] = await Promise.all([
        ctx.project(),
        import('../pipeline/catalog.js'),
        import('../pipeline/schedules.js'),
      ]);
      const pipeline = findPipeline(pipelines, name);
      await withClient(ctx.config, async (client) => {
        const id = await createSchedule(client, ctx.config.taskQueue, pipeline, {
          id: options.id,
          every: options.every,
          cron: options.cron,
          params: parseParamPairs(options.param),
          overlap: options.overlap as OverlapName,
          paused: options.paused,
          note: options.note,
        });
        const summary = await describeSchedule(client, id);
        if (ctx.json) printJson(summary);
        else out(`Created schedule\n${render(summary)}`);
      });
    });

  schedule
    .command('list')
    .description('List schedules with their next and recent runs.')
    .action(async () => {
      const ctx = context();
      const { listSchedules } = await import('../pipeline/schedules.js');
      await withClient(ctx.config, async (client) => {
        const all = await listSchedules(client);
        if (ctx.json) printJson({ schedules: all });
        else out(all.length ? all.map(render).join('\n') : 'No schedules. Create one with `steward schedule create <pipeline> --every 1d`.');
      });
    });

  const simple = (verb: string, description: string, act: (client: Parameters<Parameters<typeof withClient>[1]>[0], id: string) => Promise<unknown>) =>
    schedule
      .command(verb)
      .description(description)
      .argument('<id>', 'the schedule id')
      .action(async (id: string) => {
        const ctx = context();
        const { describeSchedule } = await import('../pipeline/schedules.js');
        await withClient(ctx.config, async (client) => {
          await act(client, id);
          if (ctx.json) printJson(verb === 'delete' ? { id, deleted: true } : await describeSchedule(client, id));
          else out(verb === 'delete' ? `Deleted schedule ${id}.` : render(await describeSchedule(client, id)));
        });
      });
  const schedules = () => import('../pipeline/schedules.js');
  simple('pause', 'Stop starting runs until unpaused.', async (client, id) => (await schedules()).pauseSchedule(client, id));
  simple('unpause', 'Start runs again.', async (client, id) => (await schedules()).unpauseSchedule(client, id));
  simple('trigger', 'Start one run now, whatever the timetable says.', async (client, id) => (await schedules()).triggerSchedule(client, id));
  simple('delete', 'Delete the schedule (runs it started are kept).', async (client, id) => (await schedules()).deleteSchedule(client, id));

  schedule
    .command('backfill')
    .description('Run the ticks the schedule would have run between two times.')
    .argument('<id>', 'the schedule id')
    .requiredOption('--from <time>', 'start, e.g. 2026-11-01T00:00:00Z')
    .requiredOption('--to <time>', 'end, e.g. 2026-11-08T00:00:00Z')
    .option('--overlap <policy>', 'overlap policy for the backfilled runs', 'allow-all')
    .action(async (id: string, options: { from: string; to: string; overlap: string }) => {
      const ctx = context();
      const { backfillSchedule } = await import('../pipeline/schedules.js');
      await withClient(ctx.config, async (client) => {
        await backfillSchedule(client, id, new Date(options.from), new Date(options.to), options.overlap as OverlapName);
        if (ctx.json) printJson({ id, backfilled: { from: options.from, to: options.to } });
        else out(`Backfill of ${id} from ${options.from} to ${options.to} requested.`);
      });
    });
}
