/**
 * A challenger for the flight-delay champion, started by drift-retrain-flight-delay when its policy
 * decides to retrain: train (the train-flight-delay pipeline as a child, on the source's flights up
 * to the monitored window's start) -> compare (challenger and champion scored again on the same
 * labelled rows of the window; the run stops here, with the numbers, unless the challenger's ROC AUC
 * is higher by the margin) -> validate -> the release sign-off (release-flight-delay's policy) ->
 * promote to champion -> deploy (a canary by default against the version in production, analysed
 * between steps and rolled back automatically on a breach, which fails this run with the reason).
 * Every comparison and decision lands in the audit trail.
 */
import { z } from 'zod';
import { approvalGate, childPipeline, definePipeline, deployModel, output, param } from '../../../src/pipeline/definition.js';
import { releasePolicy } from './release-flight-delay.js';
import { promoteModel, validateModel } from '../../../pipelines/steps/index.js';
import { compareChallenger } from '../steps/index.js';

export const challengeFlightDelay = definePipeline({
  name: 'challenge-flight-delay',
  description: 'Retrain the flight-delay model on fresh data, compare it with the champion on recent labelled traffic, and release it through the sign-off if it is better',
  params: z.object({
    modelName: z.string().regex(/^[a-z][a-z0-9-]*$/).default('flight-delay'),
    source: z.string().min(1).default('vega:flights-3m.parquet'),
    rows: z.coerce.number().int().positive().max(3_000_000),
    windowFrom: z.string().min(1),
    windowTo: z.string().min(1),
    margin: z.coerce.number().min(-1).max(1).default(0.005),
    minLabelledRows: z.coerce.number().int().positive().default(200),
    minRocAuc: z.coerce.number().min(0).max(1).default(0.55),
    /** The drift report whose decision started this run. */
    reportId: z.string().default(''),
    /** How the promoted challenger reaches the scorer (release-flight-delay's deployment settings). */
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
    const train = childPipeline('train', 'train-flight-delay', { source: param('source'), rows: param('rows'), modelName: param('modelName') }, { outputs: ['register'] });
    const compare = compareChallenger.step('compare', {
      modelName: p.modelName,
      challenger: output('train', 'register', 'version'),
      windowFrom: p.windowFrom,
      windowTo: p.windowTo,
      margin: p.margin,
      minLabelledRows: p.minLabelledRows,
      reportId: p.reportId,
    });
    const validate = validateModel.step('validate', { modelName: compare.output.modelName, version: compare.output.version, criteria: [{ metric: 'rocAuc', min: p.minRocAuc }], behaviour: 'review' });
    const signoff = approvalGate('signoff', {
      subject: {
        model: validate.output.modelName,
        version: validate.output.version,
        rocAuc: validate.output.rocAuc,
        failedChecks: validate.output.failedChecks,
        championRocAuc: compare.output.championRocAuc,
        challengerRocAuc: compare.output.challengerRocAuc,
      },
      policy: releasePolicy,
    });
    // An approval gate's outputs are not typed: the references name the fields.
    const promote = promoteModel.step('promote', {
      modelName: validate.output.modelName,
      version: validate.output.version,
      alias: 'champion',
      approvalId: output('signoff', 'approvalId'),
      reviewers: output('signoff', 'reviewer'),
    });
    const deploy = deployModel(
      'deploy',
      {
        model: validate.output.modelName,
        version: validate.output.version,
        strategy: p.deployStrategy,
        thresholds: { minRequests: p.deployMinRequests, maxDrift: p.deployMaxScoreDistance },
        analysis: { maxWaitSeconds: p.deployMaxWaitSeconds, minSeconds: p.deployBakeSeconds },
        reason: 'challenger better than the champion on recent labelled flights',
      },
      { after: ['promote'] },
    );
    return [train, compare, validate, signoff, promote, deploy];
  },
});
