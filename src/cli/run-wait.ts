/**
 * `steward run --wait`: following a run until it closes, through outages of Temporal. The run's
 * state lives in Temporal and its steps run on the worker, so an unreachable Temporal is no reason
 * to stop waiting, nor to exit as if the run had failed: the wait says so, retries with backoff and
 * resumes when Temporal answers again. Only the run's own outcome decides the exit code.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { RunState } from '../contracts.js';
import { NotFoundError } from '../errors.js';
import { getRunReport, type RunReport } from '../pipeline/runs.js';

/** What `steward run --wait` exits with; listed in `steward run --help`. */
export const RUN_EXIT_CODES = {
  /** The run completed. */
  completed: 0,
  /** Steward could not start the run or read it (a refused parameter or run id, no Temporal at the start); the message says why. */
  error: 1,
  /** The run failed: the report names the step and the reason. */
  failed: 3,
  /** The run was cancelled, terminated or timed out. */
  stopped: 4,
  /** You stopped waiting (Ctrl-C); the run goes on. */
  interrupted: 130,
} as const;

export const RUN_EXIT_HELP = `
Exit codes with --wait:
  0    the run completed
  1    Steward could not start the run or read it (the error says why; a started run is unaffected)
  3    the run failed (the report names the step and the reason)
  4    the run was cancelled, terminated or timed out
  130  you stopped waiting with Ctrl-C; the run goes on (\`steward status <id>\`)
While waiting, an outage of Temporal does not end the command: it says that Temporal is
unreachable and that the run goes on, retries with backoff, and resumes when Temporal is back.`;

/** The exit code for a closed run's Temporal status. */
export function runExitCode(status: string): number {
  if (status === 'COMPLETED') return RUN_EXIT_CODES.completed;
  if (status === 'FAILED') return RUN_EXIT_CODES.failed;
  return RUN_EXIT_CODES.stopped;
}

// gRPC status codes that mean "Temporal did not answer" rather than "Temporal said no".
const UNREACHABLE_CODES = new Map([
  [4, 'no answer in time'],
  [14, 'unavailable'],
]);

/** Why Temporal could not be reached, when that is what `error` (or one of its causes) says; else undefined. */
export function temporalUnreachable(error: unknown): string | undefined {
  for (let e = error as { cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (isGrpcServiceError(e) && UNREACHABLE_CODES.has(e.code)) return UNREACHABLE_CODES.get(e.code);
  }
  return undefined;
}

export interface WaitOptions {
  /** Where Temporal is, for the notices. */
  address: string;
  /** Outage notices (stderr: they are not the command's result). */
  notice(line: string): void;
  /** Called with the run's state as it changes (the caller prints the steps); omitted in --json mode. */
  onState?(state: RunState | undefined): void;
  /** How often a running run is looked at (default 500 ms). */
  pollMs?: number;
  /** The longest one call to Temporal may take before it counts as unanswered (default 5 s). */
  callTimeoutMs?: number;
  /** Retry delays while Temporal is unreachable: doubling from initialMs up to maxMs (default 1 s to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

const seconds = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

/**
 * Waits until the run closes and returns its report. Errors other than an unreachable Temporal
 * (an unknown run id, a refused call) end the wait as they would any command.
 */
export async function waitForRun(client: Client, runId: string, options: WaitOptions): Promise<RunReport> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const callTimeout = options.callTimeoutMs ?? 5_000;
  const { initialMs, maxMs } = options.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
  const handle = client.workflow.getHandle(runId);
  const bounded = <T>(fn: () => Promise<T>, ms = callTimeout) => client.connection.withDeadline(now() + ms, fn);
  let outage: { since: number; attempts: number } | undefined;
  for (;;) {
    try {
      const description = await bounded(() => handle.describe());
      if (outage) {
        options.notice(`Temporal at ${options.address} answers again (unreachable for ${seconds(now() - outage.since)}); following run ${runId}.`);
        outage = undefined;
      }
      if (description.status.name !== 'RUNNING') return await bounded(() => getRunReport(client, runId), callTimeout * 3);
      if (options.onState) {
        // A query needs a worker: without one it does not answer, and the steps shown stay as they were.
        const state = await bounded(() => handle.query<RunState>('runState'), 3_000).catch(() => undefined);
        if (state) options.onState(state);
      }
      await sleep(options.pollMs ?? 500);
    } catch (error) {
      const why = temporalUnreachable(error);
      if (!why) {
        if ((error as Error).name === 'WorkflowNotFoundError') {
          throw new NotFoundError(`Temporal at ${options.address} no longer knows run ${runId} (was its history lost, e.g. a dev server started without its database?).`, { runId });
        }
        throw error;
      }
      const delay = Math.min(maxMs, initialMs * 2 ** (outage?.attempts ?? 0));
      if (!outage) {
        outage = { since: now(), attempts: 0 };
        options.notice(
          `Temporal at ${options.address} is unreachable (${why}). Run ${runId} goes on: Temporal keeps its state and the worker its steps. ` +
            `Waiting for Temporal to come back, retrying with backoff (Ctrl-C stops waiting, not the run).`,
        );
      } else {
        options.notice(`  Temporal still unreachable after ${seconds(now() - outage.since)}; trying again in ${seconds(delay)}.`);
      }
      outage.attempts++;
      await sleep(delay);
    }
  }
}
