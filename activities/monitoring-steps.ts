/**
 * The drift-retraining steps (pipelines/drift-retrain-flight-delay.ts): monitor a window of the
 * prediction log against the champion's reference, apply the retraining policy (recorded with its
 * numbers on the report and in the audit trail), start the challenge run when the policy says so,
 * and compare challenger with champion on the same recent labelled rows.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Database } from '../src/db/client.js';
import { resolveSource } from '../src/datasets/flights.js';
import { NotFoundError, ValidationError } from '../src/errors.js';
import { appendAuditTx } from '../src/governance/audit.js';
import { compareOnWindow } from '../src/monitoring/challenge.js';
import { decideRetrain, type RetrainPolicy } from '../src/monitoring/policy.js';
import { buildDriftReport } from '../src/monitoring/report.js';
import { getDriftReportRow, recordDriftDecision, retrainDecisionsSince, saveDriftReport } from '../src/monitoring/report-store.js';
import { monitorWindow } from '../src/monitoring/window.js';
import type { Pipeline } from '../src/pipeline/definition.js';
import { startRun } from '../src/pipeline/runs.js';
import type { StepImplementations } from '../src/pipeline/step-runtime.js';
import type { ArtifactStore } from '../src/registry/artifacts.js';

export interface MonitorInput {
  modelName: string;
  /** Version or alias monitored; `champion` by default. */
  version: string;
  /** End of the window (ISO 8601); empty for the schedule tick's time, or "now" when no schedule started the run. */
  windowEnd: string;
  /** The nominal time of the Schedule tick that started the run ('' when none did). */
  scheduledAt?: string;
  windowDays: number;
  minRows: number;
  minLabelledRows: number;
  decayThreshold: number;
  /** Comma-separated features that follow the calendar: reported, not counted toward dataset drift (absent in runs recorded before the option). */
  seasonalFeatures?: string;
  /** Jensen-Shannon columns drift only above their noise floor (absent in older runs: Evidently's rule alone). */
  aboveNoise?: boolean;
}

export interface PolicyInput extends Omit<RetrainPolicy, 'onDatasetDrift' | 'onPredictionDrift' | 'onDecay'> {
  modelName: string;
  reportId: string;
  triggers: string;
}

export interface LaunchInput {
  decision: 'retrain' | 'hold';
  reportId: string;
  modelName: string;
  source: string;
  windowFrom: string;
  windowTo: string;
  /** At most this many of the source's first rows are trained on. */
  maxTrainRows: number;
  minTrainRows: number;
  margin: number;
  minLabelledRows: number;
  /** The challenge's deployment settings (absent in runs recorded before the challenge deployed). */
  deployStrategy?: 'canary' | 'blue-green' | 'shadow' | 'ab';
  deployMinRequests?: number;
  deployMaxWaitSeconds?: number;
  deployBakeSeconds?: number;
  deployMaxScoreDistance?: number;
}

function instant(value: string, name: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ValidationError(`${name} "${value}" is not an ISO 8601 date.`);
  return date;
}

/** How many of a time-ordered flights file's first rows departed before `before` (row groups read one at a time, date column only). */
export async function flightsBefore(sourceRef: string, before: Date): Promise<number> {
  const file = await asyncBufferFromFile(resolveSource(sourceRef));
  const metadata = await parquetMetadataAsync(file);
  const cut = before.getTime();
  let count = 0;
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    let below = 0;
    await parquetRead({
      file,
      metadata,
      compressors,
      rowStart: groupStart,
      rowEnd: groupEnd,
      columns: ['date'],
      parsers: { timestampFromMicroseconds: (v: bigint) => Number(v / 1000n), timestampFromMilliseconds: (v: bigint) => Number(v) },
      onChunk: ({ columnData }) => {
        const values = columnData as ArrayLike<number | Date>;
        for (let i = 0; i < values.length; i++) if (Number(values[i]) < cut) below++;
      },
    });
    count += below;
    if (below < groupEnd - groupStart) break;
    groupStart = groupEnd;
  }
  return count;
}

export function createMonitoringSteps(db: Database, artifacts: ArtifactStore, pipelines: readonly Pipeline[]): StepImplementations {
  return {
    monitorDrift: {
      run: async (input: MonitorInput, ctx) => {
        const to = input.windowEnd ? instant(input.windowEnd, 'windowEnd') : input.scheduledAt ? instant(input.scheduledAt, 'scheduledAt') : new Date();
        if (!(input.windowDays > 0)) throw new ValidationError(`windowDays must be positive, got ${input.windowDays}.`);
        const from = new Date(to.getTime() - input.windowDays * 86_400_000);
        const window = await monitorWindow(db, artifacts, {
          model: input.modelName,
          version: input.version,
          from,
          to,
          minRows: input.minRows,
          minLabelledRows: input.minLabelledRows,
          decayThreshold: input.decayThreshold,
          seasonalFeatures: (input.seasonalFeatures ?? '').split(',').map((f) => f.trim()).filter(Boolean),
          drift: { aboveNoise: input.aboveNoise ?? false },
        });
        const report = buildDriftReport({ id: ctx.runId, model: input.modelName, version: window.version, from, to }, window.assessment, window.data, window.reference);
        const row = await saveDriftReport(db, report, { runId: ctx.runId });
        return {
          reportId: row.id,
          version: row.version,
          windowFrom: row.windowFrom.toISOString(),
          windowTo: row.windowTo.toISOString(),
          rows: row.rows,
          enough: row.enough,
          datasetDrift: row.datasetDrift,
          predictionDrift: row.predictionDrift,
          decayed: row.decayed,
          driftedColumns: report.columns.filter((c) => c.verdict === 'drift').map((c) => c.column),
          driftShare: report.driftShare,
          seasonalColumns: report.seasonalColumns ?? [],
          rocAuc: report.decay.current,
          validationRocAuc: report.decay.reference,
        };
      },
    },
    retrainPolicy: {
      run: async (input: PolicyInput, ctx) => {
        const row = await getDriftReportRow(db, input.reportId);
        const triggers = new Set(input.triggers.split(',').map((t) => t.trim()).filter(Boolean));
        for (const t of triggers) {
          if (!['drift', 'prediction', 'decay'].includes(t)) throw new ValidationError(`Unknown retrain trigger "${t}": use drift, prediction and/or decay, comma-separated.`);
        }
        const policy: RetrainPolicy = {
          onDatasetDrift: triggers.has('drift'),
          onPredictionDrift: triggers.has('prediction'),
          onDecay: triggers.has('decay'),
          coolDownHours: input.coolDownHours,
          maxRetrainsPerPeriod: input.maxRetrainsPerPeriod,
          periodDays: input.periodDays,
        };
        const report = row.report as { driftShare?: number | null; decay?: { current: number | null; reference: number; drop: number | null } };
        return db.transaction(async (tx) => {
          // A retried step finds its own decision: the first one stands.
          const again = await getDriftReportRow(tx, input.reportId);
          if (again.decision && again.decisionDetails) return again.decisionDetails;
          const lookBack = new Date(row.windowTo.getTime() - Math.max(policy.periodDays * 24, policy.coolDownHours) * 3_600_000);
          const previous = (await retrainDecisionsSince(tx, row.modelName, lookBack)).filter((d) => d.id !== row.id).map((d) => d.windowTo);
          const decided = decideRetrain(
            {
              enough: row.enough,
              datasetDrift: row.datasetDrift,
              predictionDrift: row.predictionDrift,
              decayed: row.decayed,
              at: row.windowTo,
              numbers: { rows: row.rows, driftShare: report.driftShare ?? null, rocAuc: report.decay?.current ?? null, validationRocAuc: report.decay?.reference ?? null, rocAucDrop: report.decay?.drop ?? null },
            },
            previous,
            policy,
          );
          const details = { ...decided, reportId: row.id, modelName: row.modelName, version: row.version };
          await recordDriftDecision(tx, row.id, decided.decision, details);
          await appendAuditTx(tx, {
            actor: 'steward',
            action: `monitoring.${decided.decision}`,
            subject: `model:${row.modelName}@${row.version}`,
            details,
            idempotencyKey: `${ctx.idempotencyKey}:decision`,
          });
          return details;
        });
      },
    },
    launchChallenge: {
      run: async (input: LaunchInput, ctx) => {
        if (input.decision !== 'retrain') return { started: false, runId: null, trainRows: 0 };
        // Everything known before the monitored window, and nothing of it: the comparison on the window's labelled rows is then on flights neither model trained on.
        const trainRows = Math.min(input.maxTrainRows, await flightsBefore(input.source, instant(input.windowFrom, 'windowFrom')));
        if (trainRows < input.minTrainRows) {
          throw new ValidationError(`Only ${trainRows} flights departed before ${input.windowFrom}; retraining needs at least ${input.minTrainRows}.`, { trainRows });
        }
        const pipeline = pipelines.find((p) => p.name === 'challenge-flight-delay');
        if (!pipeline) throw new NotFoundError('This worker has no challenge-flight-delay pipeline to start.');
        const activity = Context.current();
        const runId = `${ctx.runId}-challenge`;
        try {
          await startRun(
            activity.client,
            activity.info.taskQueue,
            pipeline,
            {
              modelName: input.modelName,
              source: input.source,
              rows: trainRows,
              windowFrom: input.windowFrom,
              windowTo: input.windowTo,
              margin: input.margin,
              minLabelledRows: input.minLabelledRows,
              reportId: input.reportId,
              // Absent ones (runs recorded before the challenge deployed) drop out of the JSON and take the challenge's defaults.
              deployStrategy: input.deployStrategy,
              deployMinRequests: input.deployMinRequests,
              deployMaxWaitSeconds: input.deployMaxWaitSeconds,
              deployBakeSeconds: input.deployBakeSeconds,
              deployMaxScoreDistance: input.deployMaxScoreDistance,
            },
            { runId, ...(ctx.startedBy ? { startedBy: ctx.startedBy } : {}) },
          );
        } catch (error) {
          // A retried step: the run it started before is the one.
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
        return { started: true, runId, trainRows };
      },
    },
    compareChallenger: {
      run: async (input: { modelName: string; challenger: number; windowFrom: string; windowTo: string; margin: number; minLabelledRows: number; reportId: string }, ctx) => {
        const result = await compareOnWindow(db, artifacts, {
          model: input.modelName,
          champion: 'champion',
          challenger: input.challenger,
          from: instant(input.windowFrom, 'windowFrom'),
          to: instant(input.windowTo, 'windowTo'),
          minLabelledRows: input.minLabelledRows,
        });
        // The same training data trains the same artifact, which the registry answers with the version it already has.
        const same = result.challenger.version === result.champion.version;
        const better = !same && result.improvement >= input.margin;
        const details = { ...result, margin: input.margin, better, reportId: input.reportId };
        await db.transaction((tx) =>
          appendAuditTx(tx, {
            actor: 'steward',
            action: better ? 'monitoring.challenger_better' : 'monitoring.challenger_not_better',
            subject: `model:${input.modelName}@${input.challenger}`,
            details,
            idempotencyKey: `${ctx.idempotencyKey}:compare`,
          }),
        );
        if (same) {
          throw new ValidationError(
            `The retrain reproduced the champion v${result.champion.version} itself: it was trained on the same flights, since none departed between the champion's training and this window (${input.windowFrom}). The champion stays.`,
            details,
          );
        }
        if (!better) {
          throw new ValidationError(
            `Challenger v${result.challenger.version} is not better by the margin: ROC AUC ${result.challenger.rocAuc.toFixed(4)} vs champion v${result.champion.version}'s ${result.champion.rocAuc.toFixed(4)} on ${result.rows} labelled rows (improvement ${result.improvement.toFixed(4)} < margin ${input.margin}). The champion stays.`,
            details,
          );
        }
        return { modelName: input.modelName, version: result.challenger.version, championVersion: result.champion.version, rows: result.rows, championRocAuc: result.champion.rocAuc, challengerRocAuc: result.challenger.rocAuc, improvement: result.improvement };
      },
    },
  };
}
