/**
 * Scheduled monitoring of the flight-delay champion, the decision to retrain, and the challenge,
 * in one run:
 *
 *   monitor (input drift per feature, prediction drift, performance decay over the window, against
 *   the reference stored with the version; a drift report per run) -> policy (triggers, a cool-down
 *   between retrains, a maximum per period; the decision and its numbers on the report and in the
 *   audit trail) -> prepare (when retraining: the flights the challenger trains on, those before the
 *   window, capped at maxTrainRows; fewer than minTrainRows fails the run before anything is
 *   trained) -> challenge (only when policy.decision == "retrain": the challenge-flight-delay
 *   pipeline as a child run `<this run>--challenge`, which retrains on those flights, compares
 *   challenger and champion on the window's labelled rows, which neither trained on, stops unless
 *   the challenger is better by the margin, and otherwise goes through the release sign-off,
 *   promotion and a canary deployment on the scorer, rolled back automatically if its analysis
 *   fails).
 *
 * A run whose policy holds completes with `challenge` skipped and the condition as the reason
 * (`steward status` shows it); a run that retrains lasts as long as its challenge, sign-off
 * included, and fails with the challenge's reason when the challenger is not better or its canary
 * rolls back. Start it on a schedule: `steward schedule create drift-retrain-flight-delay --every 7d`.
 * A scheduled run's window ends at its tick's nominal time, so a late or backfilled tick monitors
 * its own week.
 */
import { z } from 'zod';
import { childPipeline, definePipeline, scheduledAt } from '../../../src/pipeline/definition.js';
import { eq } from '../../../src/pipeline/step.js';
import { monitorDrift, retrainPolicy } from '../../../pipelines/steps/index.js';
import { prepareChallenge } from '../steps/index.js';

const modelName = z.string().regex(/^[a-z][a-z0-9-]*$/).default('flight-delay');

export const driftRetrainFlightDelay = definePipeline({
  name: 'drift-retrain-flight-delay',
  description: 'Monitor the flight-delay champion over a window (drift, decay), decide by policy whether to retrain, and if so run the challenge (retrain, compare, sign-off, promote, deploy)',
  params: z.object({
    modelName,
    /** End of the window (ISO 8601); empty means the schedule tick's time, or when the step runs if no schedule started it. */
    windowEnd: z.string().default(''),
    windowDays: z.coerce.number().positive().max(366).default(7),
    minRows: z.coerce.number().int().positive().default(500),
    minLabelledRows: z.coerce.number().int().positive().default(200),
    decayThreshold: z.coerce.number().gt(0).lt(1).default(0.05),
    /**
     * Comma-separated features that follow the calendar: tested and shown in the report, but not
     * counted toward dataset drift. A champion trained on January and February sees a new `month`
     * in every later window (the full replay found it drifted in every week), which is the season,
     * not a change in the world; '' counts every feature.
     */
    seasonalFeatures: z.string().default('month'),
    /**
     * 'true': a Jensen-Shannon column (origin) drifts only when its distance also exceeds the noise
     * floor, what windows of this size drawn from the reference itself measure. 'false' (the
     * default) decides by Evidently's rule alone; the report flags distances within the noise either
     * way. With 223 airports, a window of 2,000 flights has a floor near 0.16, above the 0.1 threshold.
     */
    aboveNoise: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
    /** Comma-separated: drift, prediction, decay. */
    triggers: z.string().default('drift,decay'),
    coolDownHours: z.coerce.number().min(0).default(144),
    maxRetrainsPerPeriod: z.coerce.number().int().min(0).default(2),
    periodDays: z.coerce.number().positive().default(30),
    source: z.string().min(1).default('vega:flights-3m.parquet'),
    maxTrainRows: z.coerce.number().int().positive().max(3_000_000).default(3_000_000),
    minTrainRows: z.coerce.number().int().positive().default(1_000),
    /** How much higher the challenger's ROC AUC must be than the champion's on the same rows. */
    margin: z.coerce.number().min(-1).max(1).default(0.005),
    /** How an approved challenger reaches the scorer, and how its deployment's analysis decides. */
    deployStrategy: z.enum(['canary', 'blue-green', 'shadow', 'ab']).default('canary'),
    deployMinRequests: z.coerce.number().int().positive().default(200),
    deployMaxWaitSeconds: z.coerce.number().positive().default(900),
    deployBakeSeconds: z.coerce.number().min(0).default(30),
    /**
     * The largest Jensen-Shannon distance between the challenger's and the champion's live score
     * distributions. Looser than a release's 0.2: a model retrained on drifted data is expected to
     * score differently (0.26 to 0.31 in the two-week replay test), while a broken one is far off
     * (scores inverted: 0.68 to 0.70); error rate and latency stay as strict as for any release.
     */
    deployMaxScoreDistance: z.coerce.number().gt(0).max(1).default(0.5),
  }),
  steps: (p) => {
    const monitor = monitorDrift.step('monitor', {
      modelName: p.modelName,
      version: 'champion',
      windowEnd: p.windowEnd,
      scheduledAt,
      windowDays: p.windowDays,
      minRows: p.minRows,
      minLabelledRows: p.minLabelledRows,
      decayThreshold: p.decayThreshold,
      seasonalFeatures: p.seasonalFeatures,
      aboveNoise: p.aboveNoise,
    });
    const policy = retrainPolicy.step('policy', {
      modelName: p.modelName,
      reportId: monitor.output.reportId,
      triggers: p.triggers,
      coolDownHours: p.coolDownHours,
      maxRetrainsPerPeriod: p.maxRetrainsPerPeriod,
      periodDays: p.periodDays,
    });
    // Unconditional (a hold counts nothing), so the challenge's own condition is what `steward status` shows when it is skipped.
    const prepare = prepareChallenge.step('prepare', {
      decision: policy.output.decision,
      source: p.source,
      windowFrom: monitor.output.windowFrom,
      maxTrainRows: p.maxTrainRows,
      minTrainRows: p.minTrainRows,
    });
    const challenge = {
      ...childPipeline(
        'challenge',
        'challenge-flight-delay',
        {
          modelName: p.modelName,
          source: p.source,
          rows: prepare.output.trainRows,
          windowFrom: monitor.output.windowFrom,
          windowTo: monitor.output.windowTo,
          margin: p.margin,
          minLabelledRows: p.minLabelledRows,
          reportId: monitor.output.reportId,
          deployStrategy: p.deployStrategy,
          deployMinRequests: p.deployMinRequests,
          deployMaxWaitSeconds: p.deployMaxWaitSeconds,
          deployBakeSeconds: p.deployBakeSeconds,
          deployMaxScoreDistance: p.deployMaxScoreDistance,
        },
        { outputs: ['train', 'compare', 'validate', 'signoff', 'promote', 'deploy'] },
      ),
      when: eq(policy.output.decision, 'retrain'),
    };
    return [monitor, policy, prepare, challenge];
  },
});
