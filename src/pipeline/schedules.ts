/**
 * Pipelines on a timetable, as Temporal Schedules: each schedule starts the executor workflow with
 * a pipeline name and parameters, so a scheduled run always uses the pipeline's current code.
 * The default overlap policy skips a tick while the previous run is still going.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import { searchAttributes, type RunPipelineInput } from '../contracts.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { validateParams } from './catalog.js';
import type { Pipeline } from './definition.js';
import { EXECUTOR_WORKFLOW } from './runs.js';

export const overlapPolicies = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
export type OverlapName = keyof typeof overlapPolicies;

export interface CreateScheduleOptions {
  id?: string;
  /** An interval such as `1d`, `6h` or `30m`. */
  every?: string;
  /** A cron expression such as `0 3 * * 1` (03:00 every Monday, UTC). */
  cron?: string;
  params: Record<string, unknown>;
  overlap?: OverlapName;
  paused?: boolean;
  note?: string;
  /** With --every: ticks fall on this instant plus whole intervals (default: whole intervals since the Unix epoch). */
  anchor?: Date;
  /** Prefix of the started runs' ids (Temporal appends each tick's time); default `<pipeline>-scheduled`. */
  workflowId?: string;
}

export interface ScheduleSummary {
  id: string;
  pipeline: string | undefined;
  spec: string;
  paused: boolean;
  note: string | undefined;
  overlap: string;
  nextRuns: string[];
  recentRuns: Array<{ runId: string; scheduledAt: string; startedAt: string }>;
}

const INTERVAL = /^(\d+)\s*(s|m|h|d|w)$/;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

function specOf(options: Pick<CreateScheduleOptions, 'every' | 'cron' | 'anchor'>): ScheduleSpec {
  if (Boolean(options.every) === Boolean(options.cron)) {
    throw new ValidationError('Give a schedule exactly one of --every (e.g. 1d, 6h) or --cron (e.g. "0 3 * * *").');
  }
  if (options.every) {
    const match = INTERVAL.exec(options.every.trim());
    if (!match) throw new ValidationError(`--every ${options.every} is not an interval: use a number and one of s, m, h, d, w (e.g. 1d, 6h, 30m).`);
    const unit = { s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks' }[match[2] as 's'];
    const every = `${match[1]} ${unit}` as `${number} seconds`;
    if (!options.anchor) return { intervals: [{ every }] };
    if (Number.isNaN(options.anchor.getTime())) throw new ValidationError('The schedule\'s anchor is not a date.');
    const period = Number(match[1]) * UNIT_MS[match[2] as 's'];
    if (!(period > 0)) throw new ValidationError(`--every ${options.every} must be longer than zero.`);
    const offset = ((options.anchor.getTime() % period) + period) % period;
    return { intervals: [{ every, offset }] };
  }
  const fields = options.cron!.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) {
    throw new ValidationError(`--cron "${options.cron}" needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}.`);
  }
  return { cronExpressions: [options.cron!.trim()] };
}

export async function createSchedule(client: Client, taskQueue: string, pipeline: Pipeline, options: CreateScheduleOptions): Promise<string> {
  validateParams(pipeline, options.params);
  const overlap = options.overlap ?? 'skip';
  if (!(overlap in overlapPolicies)) {
    throw new ValidationError(`--overlap ${overlap} is not a policy: use one of ${Object.keys(overlapPolicies).join(', ')}.`);
  }
  const id = options.id ?? `${pipeline.name}-schedule`;
  const input: RunPipelineInput = { pipeline: pipeline.name, params: options.params };
  try {
    await client.schedule.create({
      scheduleId: id,
      spec: specOf(options),
      policies: { overlap: overlapPolicies[overlap], catchupWindow: '1 day' },
      state: { paused: options.paused ?? false, note: options.note },
      action: {
        type: 'startWorkflow',
        workflowType: EXECUTOR_WORKFLOW,
        taskQueue,
        workflowId: options.workflowId ?? `${pipeline.name}-scheduled`,
        args: [input],
        typedSearchAttributes: [
          { key: searchAttributes.pipeline, value: pipeline.name },
          { key: searchAttributes.status, value: 'running' },
        ],
      },
      typedSearchAttributes: [{ key: searchAttributes.pipeline, value: pipeline.name }],
    });
  } catch (error) {
    if ((error as Error).name === 'ScheduleAlreadyRunning') {
      throw new ConflictError(`A schedule with id "${id}" already exists. Pick another --id, or delete it first.`, { id });
    }
    throw error;
  }
  return id;
}

async function withSchedule<T>(client: Client, id: string, fn: (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<T>): Promise<T> {
  try {
    return await fn(client.schedule.getHandle(id));
  } catch (error) {
    if (error instanceof ScheduleNotFoundError || (error as Error).name === 'ScheduleNotFoundError') {
      throw new NotFoundError(`No schedule with id "${id}". List them with \`steward schedule list\`.`, { id });
    }
    throw error;
  }
}

export async function describeSchedule(client: Client, id: string): Promise<ScheduleSummary> {
  return withSchedule(client, id, async (handle) => {
    const d = await handle.describe();
    const spec = d.spec.intervals?.map((i) => `every ${String(i.every)}`) ?? [];
    const cron = d.spec.calendars?.length ? [`calendar ${JSON.stringify(d.spec.calendars[0])}`] : [];
    const action = d.action.type === 'startWorkflow' ? (d.action.args?.[0] as RunPipelineInput | undefined) : undefined;
    return {
      id,
      pipeline: action?.pipeline,
      spec: [...spec, ...cron].join('; ') || 'manual',
      paused: d.state.paused,
      note: d.state.note,
      overlap: String(d.policies.overlap),
      nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
      recentRuns: d.info.recentActions.map((a) => ({
        runId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : '',
        scheduledAt: a.scheduledAt.toISOString(),
        startedAt: a.takenAt.toISOString(),
      })),
    };
  });
}

export async function listSchedules(client: Client): Promise<ScheduleSummary[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) ids.push(s.scheduleId);
  return Promise.all(ids.sort().map((id) => describeSchedule(client, id)));
}

export const pauseSchedule = (client: Client, id: string, note?: string) => withSchedule(client, id, (h) => h.pause(note ?? 'paused with steward'));
export const unpauseSchedule = (client: Client, id: string, note?: string) => withSchedule(client, id, (h) => h.unpause(note ?? 'unpaused with steward'));
export const triggerSchedule = (client: Client, id: string) => withSchedule(client, id, (h) => h.trigger());
export const deleteSchedule = (client: Client, id: string) => withSchedule(client, id, (h) => h.delete());

/** Runs the ticks a schedule would have run between two times (e.g. after an outage). */
export async function backfillSchedule(client: Client, id: string, from: Date, to: Date, overlap: OverlapName = 'allow-all'): Promise<void> {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new ValidationError('--from and --to must be dates, e.g. 2026-11-01T00:00:00Z.');
  if (from >= to) throw new ValidationError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()}).`);
  await withSchedule(client, id, (h) => h.backfill({ start: from, end: to, overlap: overlapPolicies[overlap] }));
}
