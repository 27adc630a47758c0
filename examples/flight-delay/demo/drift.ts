/**
 * `npm run demo:drift`: 2001 replayed week by week. A champion is trained on the flights before
 * `from` (January and February by default) and released through release-flight-delay (signed off
 * by the demo reviewers, promoted, deployed to the scorer); then each week's flights (a sample spread
 * evenly over the week, with the feature store's point-in-time features) are scored by the current
 * champion's ONNX model in onnxruntime-node and written to the prediction log through the scorer's
 * PredictionLog at their departure time, and their true delays attached as ground truth. After each
 * week the drift-retrain-flight-delay pipeline runs through Temporal for that week's window; when
 * its policy retrains, its challenge step (a child run trained on every flight before the week) is
 * followed to its sign-off, where the demo reviewers approve, or to where it stopped. An approved challenger is
 * promoted and deployed to the scorer as a canary against the version in production, while the
 * coming week's flights are sent through the scorer's /predict so each analysis step has live
 * traffic; a canary that fails its analysis rolls back and the replay keeps the version serving.
 * It ends with a timeline (SVG in an HTML page) of drift, decay and model versions, and returns
 * what it found week by week.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Table } from 'apache-arrow';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { buildFlightTrainingSetFromStore } from '../features/flight-training-set.js';
import { flightsBefore } from '../steps/index.js';
import { monitorFindings } from '../../../pipelines/steps/monitor-drift.js';
import { PIPELINE_STEP_FAILED, type RunPipelineResult, type RunState, type StepState } from '../../../src/contracts.js';
import type { Database } from '../../../src/db/client.js';
import { predictionGroundTruth } from '../../../src/db/schema.js';
import { ingestFlights } from '../data/flights.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/errors.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES, loadTrainingSet } from '../features/raw-training-set.js';
import { listApprovals } from '../../../src/governance/approvals.js';
import type { DriftReport } from '../../../src/monitoring/report.js';
import { getDriftReportRow } from '../../../src/monitoring/report-store.js';
import { submitDecision } from '../../../src/governance/decisions.js';
import { createPrincipal, listPrincipals, requirePrincipal } from '../../../src/governance/identity.js';
import { escapeHtml } from '../../../src/registry/model-card-render.js';
import { findPipeline } from '../../../src/pipeline/catalog.js';
import type { Pipeline } from '../../../src/pipeline/definition.js';
import { getRunReport, startRun } from '../../../src/pipeline/runs.js';
import { createSchedule, deleteSchedule } from '../../../src/pipeline/schedules.js';
import type { ArtifactStore } from '../../../src/artifacts/index.js';
import { setAlias } from '../../../src/registry/aliases.js';
import { resolveVersion } from '../../../src/registry/lookup.js';
import { PredictionLog, databaseSink } from '../../../src/serving/prediction-log.js';
import { replayTraffic } from '../../../src/serving/traffic.js';

const DAY = 86_400_000;
const REVIEWERS: Record<string, string> = { technical: 'drift-demo-technical', compliance: 'drift-demo-compliance', ethics: 'drift-demo-ethics', lead: 'drift-demo-lead' };
const AUTHOR = 'drift-demo-engineer';

export interface ReplayDeps {
  db: Database;
  client: Client;
  taskQueue: string;
  /** The project's pipelines: the flight-delay example's release and drift-retrain among them. */
  pipelines: readonly Pipeline[];
  artifacts: ArtifactStore;
  /** The scorer the challengers are deployed to (its base URL); the replay sends it live traffic during each deployment. */
  scorerUrl: string;
  say: (line: string) => void;
}

export interface ReplayOptions {
  model: string;
  source: string;
  /** First week starts here; the champion trains on the flights before it (or on `trainRows`). */
  from: Date;
  until: Date;
  trainRows?: number;
  perWeek: number;
  /** Passed to each monitoring run. */
  coolDownHours: number;
  margin: number;
}

export interface ReplayWeek {
  week: number;
  /** The monitoring run the schedule's tick started. */
  runId: string;
  from: string;
  to: string;
  champion: number;
  rows: number;
  datasetDrift: boolean | null;
  predictionDrift: boolean | null;
  driftedColumns: string[];
  /** Drifted share of the counted (non-seasonal) decided features; null when none was decided. */
  driftShare: number | null;
  /** Features tested and shown but not counted toward dataset drift (the pipeline's seasonalFeatures). */
  seasonalColumns: string[];
  rocAuc: number | null;
  validationRocAuc: number;
  decayed: boolean | null;
  decision: string;
  reasons: string[];
  challenge: {
    runId: string;
    /** promoted: signed off, promoted and its canary passed; rolled_back: its canary failed analysis; stopped: anything before that. */
    outcome: 'promoted' | 'rolled_back' | 'stopped';
    version: number | null;
    detail: string;
    /** Live requests sent through the scorer while its deployment ran, and how many failed. */
    traffic: { sent: number; failed: number } | null;
  } | null;
}

async function ensureReviewers(db: Database): Promise<void> {
  const known = new Set((await listPrincipals(db)).map((p) => p.name));
  for (const [role, name] of [...Object.entries(REVIEWERS), ['engineer', AUTHOR] as const]) {
    if (!known.has(name)) await createPrincipal(db, { name, roles: [role], displayName: `Drift demo ${role}`, actor: 'steward-demo' });
  }
}

type RunEnd = { ok: true; result: RunPipelineResult } | { ok: false; message: string; state: RunState | null };

async function finished(client: Client, runId: string): Promise<RunEnd> {
  try {
    return { ok: true, result: (await client.workflow.getHandle(runId).result()) as RunPipelineResult };
  } catch (error) {
    const cause = (error as { cause?: { message?: string; type?: string; details?: unknown[] } }).cause;
    // A failed pipeline run carries its state (every step's status and output) as the failure's details.
    const state = cause?.type === PIPELINE_STEP_FAILED && Array.isArray(cause.details) ? ((cause.details[0] as RunState | undefined) ?? null) : null;
    return { ok: false, message: cause?.message ?? (error as Error).message, state };
  }
}

/** How a challenge run that did not complete ended: its deploy step rolled back, or it stopped before (or in) anything else. */
export function failedChallengeOutcome(state: RunState | null): 'rolled_back' | 'stopped' {
  const deploy = state?.steps.find((s) => s.kind === 'deployment');
  return deploy?.output?.status === 'rolled_back' ? 'rolled_back' : 'stopped';
}

/** Quick canaries (100 requests per arm, 5 s per step): the replay sends the coming week's flights through the scorer while one runs. */
const DEPLOY_SETTINGS = { deployMinRequests: 100, deployBakeSeconds: 5, deployMaxWaitSeconds: 300 };

/** Sends `rows` through the scorer's /predict while `work` runs; what it sent comes back with its result. */
async function underTraffic<T>(deps: ReplayDeps, model: string, rows: readonly Record<string, unknown>[], work: Promise<T>): Promise<{ result: T; traffic: { sent: number; failed: number } }> {
  const traffic = replayTraffic(deps.scorerUrl, model, rows);
  try {
    const result = await work;
    return { result, traffic: await traffic.stop() };
  } finally {
    await traffic.stop();
  }
}

/**
 * Follows a release or challenge run: approves its sign-off as the demo reviewers, then sends
 * `live` through the scorer until the run ends (its deployment's analysis needs traffic on both
 * arms; a model's first deployment needs none, and gets `live` empty).
 */
async function followRelease(
  deps: ReplayDeps,
  runId: string,
  live: readonly Record<string, unknown>[],
  model: string,
  why: string,
): Promise<{ end: Awaited<ReturnType<typeof finished>>; traffic: { sent: number; failed: number } | null }> {
  for (;;) {
    const approval = (await listApprovals(deps.db, { status: 'all' })).find((a) => a.workflowId === runId);
    if (approval?.status === 'waiting') {
      for (const role of Object.keys(approval.required)) {
        const principal = await requirePrincipal(deps.db, REVIEWERS[role] ?? `drift-demo-${role}`);
        await submitDecision(deps.db, deps.client, { approvalId: approval.id, principal, role, decision: 'approve', comment: `drift demo: ${why}` });
        deps.say(`    ${principal.name} approved v${approval.modelVersion} as ${role}`);
      }
      break;
    }
    const report = await getRunReport(deps.client, runId);
    if (report.status !== 'RUNNING') break;
    await sleep(500);
  }
  const running = live.length > 0 && (await getRunReport(deps.client, runId)).status === 'RUNNING';
  if (!running) return { end: await finished(deps.client, runId), traffic: null };
  const { result: end, traffic } = await underTraffic(deps, model, live, finished(deps.client, runId));
  return { end, traffic };
}

async function followChallenge(deps: ReplayDeps, runId: string, live: readonly Record<string, unknown>[], model: string): Promise<NonNullable<ReplayWeek['challenge']>> {
  const { end, traffic } = await followRelease(deps, runId, live, model, 'challenger beat the champion on recent labelled flights');
  if (end.ok) {
    const version = (end.result.outputs.promote as { version: number }).version;
    const deployed = end.result.outputs.deploy as { outcome: string };
    return { runId, outcome: 'promoted', version, detail: `v${version} promoted to champion; ${deployed.outcome}`, traffic };
  }
  return { runId, outcome: failedChallengeOutcome(end.state), version: null, detail: end.message, traffic };
}

/** Row range [start, end) of a table in departure order whose departures fall in [from, to). */
function rowsBetween(departed: Float64Array, from: number, to: number): [number, number] {
  const lower = (t: number) => {
    let lo = 0;
    let hi = departed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((departed[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [lower(from), lower(to)];
}

/** The sampled flights as the scorer's /predict takes them. */
function predictRecords(table: Table, rows: readonly number[]): Record<string, unknown>[] {
  const numeric = NUMERIC_FEATURES.map((f) => [f, table.getChild(f)!.toArray() as Float64Array] as const);
  const categorical = CATEGORICAL_FEATURES.map((f) => [f, table.getChild(f)!] as const);
  return rows.map((r) => {
    const record: Record<string, unknown> = {};
    for (const [f, values] of numeric) record[f] = Number.isFinite(values[r]!) ? values[r] : null;
    for (const [f, column] of categorical) record[f] = column.get(r) ?? null;
    return record;
  });
}

/** Scores a week's sample with the champion and logs it at its departure times, with its outcomes. */
async function serveWeek(deps: ReplayDeps, options: ReplayOptions, table: Table, rows: number[], week: number, version: number): Promise<void> {
  const found = await resolveVersion(deps.db, options.model, version);
  const session = await InferenceSession.create(await deps.artifacts.get(found.artifactUri));
  const n = rows.length;
  const numeric = Object.fromEntries(NUMERIC_FEATURES.map((f) => [f, table.getChild(f)!.toArray() as Float64Array]));
  const categorical = Object.fromEntries(CATEGORICAL_FEATURES.map((f) => [f, table.getChild(f)!]));
  const departed = table.getChild('departedAt')!.toArray() as Float64Array;
  const labels = table.getChild('label')!.toArray() as Int8Array;
  const feeds: Record<string, Tensor> = {};
  for (const f of NUMERIC_FEATURES) feeds[f] = new Tensor('float32', Float32Array.from(rows, (r) => numeric[f]![r]!), [n, 1]);
  for (const f of CATEGORICAL_FEATURES) feeds[f] = new Tensor('string', rows.map((r) => String(categorical[f]!.get(r) ?? '')), [n, 1]);
  const probabilities = (await session.run(feeds)).probabilities!.data as Float32Array;
  await session.release();
  const log = new PredictionLog(databaseSink(deps.db), { capacity: n + 1, batchSize: 500 });
  const records = predictRecords(table, rows);
  rows.forEach((r, i) => {
    log.record({
      requestId: `replay-${options.model}-w${week}-${i}`,
      model: options.model,
      version,
      arm: 'primary',
      shadow: false,
      records: [records[i]!],
      batch: undefined,
      rows: 1,
      scores: Float64Array.of(probabilities[2 * i + 1]!),
      error: undefined,
      latencyMs: 0,
      at: departed[r]!,
      pii: [],
    });
  });
  await log.close();
  if (log.written !== n) throw new ValidationError(`The prediction log wrote ${log.written} of ${n} predictions of week ${week}: ${log.lastError ?? 'dropped'}.`);
  const truths = rows.map((r, i) => ({ requestId: `replay-${options.model}-w${week}-${i}`, rowIndex: 0, value: labels[r]! }));
  for (let i = 0; i < truths.length; i += 1_000) await deps.db.insert(predictionGroundTruth).values(truths.slice(i, i + 1_000)).onConflictDoNothing();
}

/**
 * The schedule that monitors the replayed model every 7 days, its ticks on `from` plus whole weeks.
 * It stays paused, since its ticks lie in 2001: each week's tick is backfilled once that week is
 * served, so the monitoring runs are the Schedule's own, with its tick time as their window's end.
 */
async function replaySchedule(deps: ReplayDeps, options: ReplayOptions): Promise<string> {
  const id = `drift-replay-${options.model}`;
  const schedule = {
    id,
    workflowId: id,
    every: '7d',
    anchor: options.from,
    paused: true,
    overlap: 'allow-all' as const,
    note: 'npm run demo:drift: 2001 replayed, each tick backfilled once its week is served',
    params: {
      modelName: options.model,
      source: options.source,
      windowDays: 7,
      minRows: Math.min(500, Math.floor(options.perWeek / 2)),
      minLabelledRows: Math.min(200, Math.floor(options.perWeek / 4)),
      coolDownHours: options.coolDownHours,
      margin: options.margin,
      ...DEPLOY_SETTINGS,
    },
  };
  const pipeline = findPipeline(deps.pipelines, 'drift-retrain-flight-delay');
  try {
    return await createSchedule(deps.client, deps.taskQueue, pipeline, schedule);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // An earlier replay of this model left its schedule: start again from a fresh one.
    await deleteSchedule(deps.client, id);
    return createSchedule(deps.client, deps.taskQueue, pipeline, schedule);
  }
}

/** Backfills the schedule's tick at `at` and returns the id of the run it started. */
async function tick(deps: ReplayDeps, scheduleId: string, at: number): Promise<string> {
  const handle = deps.client.schedule.getHandle(scheduleId);
  // Temporal evaluates a backfill on (start, end]: a start just before the tick takes exactly it.
  await handle.backfill({ start: new Date(at - 1_000), end: new Date(at + 1_000), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
  for (let waited = 0; waited < 60_000; waited += 250) {
    const action = (await handle.describe()).info.recentActions.find((a) => a.scheduledAt.getTime() === at);
    if (action?.action.type === 'startWorkflow') return action.action.workflow.workflowId;
    await sleep(250);
  }
  throw new ValidationError(`The schedule ${scheduleId} started no run for its tick at ${new Date(at).toISOString()} within a minute; is a worker polling ${deps.taskQueue}?`);
}

/**
 * Waits until a monitoring run has decided about its challenge: the run closed, or its `challenge`
 * step left pending (skipped by its condition, or started). A started challenge is waited for
 * until its child run exists, so it can be followed.
 */
async function untilChallengeDecided(deps: ReplayDeps, runId: string, challengeId: string): Promise<{ state: RunState | undefined; challengeStarted: boolean }> {
  for (;;) {
    const report = await getRunReport(deps.client, runId);
    const challenge: StepState | undefined = report.state?.steps.find((s) => s.name === 'challenge');
    const started = challenge !== undefined && ['running', 'completed', 'failed', 'cancelled'].includes(challenge.status) && (await runExists(deps.client, challengeId));
    if (started || report.status !== 'RUNNING') return { state: report.state, challengeStarted: started };
    await sleep(500);
  }
}

async function runExists(client: Client, runId: string): Promise<boolean> {
  try {
    await getRunReport(client, runId);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

async function runFailure(client: Client, runId: string): Promise<string> {
  const end = await finished(client, runId);
  return end.ok ? 'it completed without monitoring' : end.message;
}

/** A week's findings as its monitoring run's `monitor` and `policy` steps returned them, read back from the drift report they stored. */
async function weekFindings(db: Database, runId: string): Promise<{ monitor: ReturnType<typeof monitorFindings>; policy: { decision: string; reasons: string[] } }> {
  const row = await getDriftReportRow(db, runId);
  const decision = row.decisionDetails as { decision?: string; reasons?: string[] } | null;
  return { monitor: monitorFindings(row, row.report as unknown as DriftReport), policy: { decision: decision?.decision ?? row.decision ?? 'undecided', reasons: decision?.reasons ?? [] } };
}

export async function replayDrift(deps: ReplayDeps, options: ReplayOptions): Promise<ReplayWeek[]> {
  if (!(options.until.getTime() - options.from.getTime() >= 7 * DAY)) throw new ValidationError('--until must be at least a week after --from: the replay monitors whole weeks.');
  if (!Number.isInteger(options.perWeek) || options.perWeek < 50) throw new ValidationError(`--per-week must be a whole number of at least 50, got ${options.perWeek}.`);
  const { db, client, taskQueue, say } = deps;
  const spare = (options.until.getTime() - options.from.getTime()) % (7 * DAY);
  if (spare > 0) say(`The last ${(spare / DAY).toFixed(1)} days before ${options.until.toISOString().slice(0, 10)} are not a whole week and are not replayed.`);
  await ensureReviewers(db);
  const trainRows = options.trainRows ?? (await flightsBefore(options.source, options.from));
  const totalRows = await flightsBefore(options.source, options.until);
  say(`Building point-in-time features for the ${totalRows.toLocaleString('en-US')} flights up to ${options.until.toISOString().slice(0, 10)} through the feature store...`);
  const ingestion = await ingestFlights(db, options.source, { rows: totalRows });
  const all = await buildFlightTrainingSetFromStore(db, deps.artifacts, ingestion.ingestionId, { delayThresholdMinutes: 15 });
  const table = await loadTrainingSet(deps.artifacts, all.uri);
  const departed = table.getChild('departedAt')!.toArray() as Float64Array;
  const sampleOf = (start: number): number[] => {
    const [first, last] = rowsBetween(departed, start, start + 7 * DAY);
    const count = Math.min(options.perWeek, last - first);
    return Array.from({ length: count }, (_, i) => first + Math.floor(((i + 0.5) * (last - first)) / count));
  };

  // The first champion is released like any model: trained, validated, signed off, promoted and deployed to the scorer
  // (a model's first deployment is its load and warm-up; a replay of a model already in production canaries it under the first week's flights).
  const release = await startRun(
    client,
    taskQueue,
    findPipeline(deps.pipelines, 'release-flight-delay'),
    { source: options.source, rows: trainRows, modelName: options.model, ...DEPLOY_SETTINGS },
    { startedBy: AUTHOR },
  );
  say(`Releasing the first champion (${release.runId}): trained on ${trainRows.toLocaleString('en-US')} flights (before ${options.from.toISOString().slice(0, 10)}), signed off, deployed...`);
  const serving = await resolveVersion(db, options.model, 'production').catch(() => null);
  const released = await followRelease(deps, release.runId, serving ? predictRecords(table, sampleOf(options.from.getTime())) : [], options.model, 'the replay\'s first champion');
  if (!released.end.ok) throw new ValidationError(`Releasing the first champion failed: ${released.end.message}`);
  let champion = (released.end.result.outputs.promote as { version: number }).version;
  say(`The scorer at ${deps.scorerUrl} serves ${options.model} v${champion} (${(released.end.result.outputs.deploy as { outcome: string }).outcome}).`);

  const scheduleId = await replaySchedule(deps, options);
  say(`Monitoring runs come from the Temporal Schedule ${scheduleId} (every 7 days from ${options.from.toISOString().slice(0, 10)}, paused): each week's tick is backfilled once its flights are served.`);
  const weeks: ReplayWeek[] = [];
  for (let start = options.from.getTime(), week = 1; start + 7 * DAY <= options.until.getTime(); start += 7 * DAY, week++) {
    const end = start + 7 * DAY;
    const sample = sampleOf(start);
    await serveWeek(deps, options, table, sample, week, champion);
    const runId = await tick(deps, scheduleId, end);
    // The run monitors, decides, and (when retraining) runs the challenge as its child `<run>--challenge`,
    // which waits for the sign-off: follow the child from when it starts, and read the week from its drift report.
    const challengeId = `${runId}--challenge`;
    const decided = await untilChallengeDecided(deps, runId, challengeId);
    const steps = decided.state?.steps ?? [];
    if (!['monitor', 'policy'].every((name) => steps.find((s) => s.name === name)?.status === 'completed')) {
      throw new ValidationError(`Monitoring week ${week} failed: ${await runFailure(client, runId)}`);
    }
    const { monitor: m, policy: p } = await weekFindings(db, runId);
    const line: ReplayWeek = {
      week,
      runId,
      from: new Date(start).toISOString().slice(0, 10),
      to: new Date(end).toISOString().slice(0, 10),
      champion,
      rows: m.rows,
      datasetDrift: m.datasetDrift,
      predictionDrift: m.predictionDrift,
      driftedColumns: m.driftedColumns,
      driftShare: m.driftShare,
      seasonalColumns: m.seasonalColumns,
      rocAuc: m.rocAuc,
      validationRocAuc: m.validationRocAuc,
      decayed: m.decayed,
      decision: p.decision,
      reasons: p.reasons,
      challenge: null,
    };
    say(
      `  week ${week} (${line.from}..${line.to}) v${champion}: ${m.rows} flights, drifted ${driftedList(line)}${m.datasetDrift ? ' (DATASET DRIFT)' : ''}, ROC AUC ${m.rocAuc?.toFixed(4) ?? '-'} vs ${m.validationRocAuc.toFixed(4)}${m.decayed ? ' (DECAY)' : ''} -> ${p.decision}: ${p.reasons.join(' ')}`,
    );
    if (decided.challengeStarted) {
      // What a deployed challenger would serve next: the coming week's flights (this week's at the end of the data).
      const coming = sampleOf(end);
      line.challenge = await followChallenge(deps, challengeId, predictRecords(table, coming.length > 0 ? coming : sample), options.model);
      const sent = line.challenge.traffic ? ` (${line.challenge.traffic.sent.toLocaleString('en-US')} live requests during the deployment, ${line.challenge.traffic.failed} failed)` : '';
      say(`    challenge ${challengeId}: ${line.challenge.detail}${sent}`);
      if (line.challenge.outcome === 'promoted' && line.challenge.version !== null) champion = line.challenge.version;
      if (line.challenge.outcome === 'rolled_back') {
        // Promotion moved `champion` before the canary failed: the version still serving is the champion again.
        await setAlias(db, { modelName: options.model, alias: 'champion', version: champion, actor: 'steward-demo', reason: `drift replay: the canary of the challenger rolled back (${challengeId}); v${champion} keeps serving` });
      }
    }
    // A challenge that stopped fails the monitoring run with its reason; anything else failing is the replay's failure.
    const monitored = await finished(client, runId);
    if (!monitored.ok && monitored.state?.failedStep !== 'challenge') throw new ValidationError(`Monitoring week ${week} failed: ${monitored.message}`);
    weeks.push(line);
  }
  return weeks;
}

/** The drifted features, each seasonal one marked as not counted. */
function driftedList(week: Pick<ReplayWeek, 'driftedColumns' | 'seasonalColumns'>): string {
  return week.driftedColumns.map((c) => (week.seasonalColumns.includes(c) ? `${c} (seasonal)` : c)).join(', ') || 'none';
}

/** The replay's timeline: drifted share of columns and ROC AUC per week, retrains and versions marked. */
export function replayTimelineHtml(model: string, weeks: readonly ReplayWeek[]): string {
  const width = 760;
  const height = 260;
  const left = 46;
  const right = 16;
  const top = 24;
  const bottom = 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (i: number) => left + (weeks.length <= 1 ? plotW / 2 : (i * plotW) / (weeks.length - 1));
  const y = (v: number) => top + plotH - v * plotH;
  const path = (values: Array<number | null>) =>
    values
      .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(Math.max(0, Math.min(1, v))).toFixed(1)}`))
      .filter((p) => p !== null)
      .join(' ');
  const auc = weeks.map((w) => w.rocAuc);
  const validation = weeks.map((w) => w.validationRocAuc);
  const drift = weeks.map((w) => w.driftShare);
  const marks = weeks
    .map((w, i) => {
      const out: string[] = [];
      if (w.datasetDrift || w.decayed) out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(0).toFixed(1)}" r="4" fill="#e45756"><title>week ${w.week}: ${w.datasetDrift ? 'dataset drift ' : ''}${w.decayed ? 'decay' : ''}</title></circle>`);
      if (w.challenge) {
        const colour = w.challenge.outcome === 'promoted' ? '#54a24b' : w.challenge.outcome === 'rolled_back' ? '#b279a2' : '#9d755d';
        out.push(`<line x1="${x(i).toFixed(1)}" y1="${top}" x2="${x(i).toFixed(1)}" y2="${top + plotH}" stroke="${colour}" stroke-dasharray="4 3"><title>${escapeHtml(w.challenge.detail)}</title></line>`);
      }
      out.push(`<text x="${x(i).toFixed(1)}" y="${height - bottom + 14}" text-anchor="middle">${escapeHtml(w.from.slice(5))}</text>`);
      out.push(`<text x="${x(i).toFixed(1)}" y="${height - bottom + 28}" text-anchor="middle" fill="#555">v${w.champion}</text>`);
      return out.join('');
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">
<title>${escapeHtml(model)}: drift, decay and versions week by week</title>
<line x1="${left}" y1="${y(0)}" x2="${width - right}" y2="${y(0)}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${y(0)}" stroke="#888"/>
${[0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${left - 4}" y="${y(v) + 3}" text-anchor="end">${v}</text>`).join('')}
<polyline fill="none" stroke="#4c78a8" stroke-width="2" points="${path(auc)}"><title>ROC AUC on the week's labelled flights</title></polyline>
<polyline fill="none" stroke="#4c78a8" stroke-dasharray="2 2" points="${path(validation)}"><title>the champion's validation ROC AUC</title></polyline>
<polyline fill="none" stroke="#f58518" stroke-width="2" points="${path(drift)}"><title>share of the counted features that drifted (seasonal ones are not counted)</title></polyline>
${marks}
<text x="${left}" y="14"><tspan fill="#4c78a8">━ ROC AUC (dashed: at validation)</tspan>  <tspan fill="#f58518">━ share of features drifted</tspan>  <tspan fill="#e45756">● drift or decay</tspan>  <tspan fill="#54a24b">┆ challenger deployed</tspan>  <tspan fill="#b279a2">┆ canary rolled back</tspan>  <tspan fill="#9d755d">┆ challenge stopped</tspan></text>
<text x="${left}" y="${height - 8}" fill="#555">week starting (MM-DD) and the champion serving it</text>
</svg>`;
  const rows = weeks
    .map(
      (w) =>
        `<tr><td>${w.week}</td><td>${w.from} to ${w.to}</td><td>v${w.champion}</td><td>${w.rows}</td><td>${escapeHtml(driftedList(w))}${w.datasetDrift ? ' (dataset drift)' : ''}</td><td>${w.rocAuc?.toFixed(4) ?? '-'} / ${w.validationRocAuc.toFixed(4)}${w.decayed ? ' (decay)' : ''}</td><td>${escapeHtml(w.decision)}: ${escapeHtml(w.reasons.join(' '))}</td><td>${w.challenge ? escapeHtml(w.challenge.detail) : ''}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift replay: ${escapeHtml(model)}</title>
<style>body{font-family:sans-serif;max-width:64rem;margin:2rem auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;font-size:.85rem;text-align:left}</style></head>
<body><h1>Drift replay of 2001: ${escapeHtml(model)}</h1>
${svg}
<table data-table="weeks"><thead><tr><th>week</th><th>window</th><th>champion</th><th>flights</th><th>drifted features</th><th>ROC AUC now / at validation</th><th>policy</th><th>challenge</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}

export function writeTimeline(file: string, model: string, weeks: readonly ReplayWeek[]): void {
  fs.writeFileSync(file, replayTimelineHtml(model, weeks));
}
