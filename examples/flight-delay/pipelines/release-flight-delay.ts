/**
 * The release path of the flight-delay model: train (the train-flight-delay pipeline, as a child
 * run) -> validate against release criteria -> a governed sign-off -> promote to `champion`.
 *
 * The sign-off policy: one technical reviewer; a compliance reviewer as well when the model uses a
 * feature tagged `pii`; an ethics reviewer when its largest equal-opportunity gap between origin
 * hub sizes exceeds 0.1. Whoever started the run may not approve it. The gate waits three days,
 * reminds a day before, and expires as rejected. `promote` moves `champion` (the approved version);
 * `deploy` then rolls it out on the scorer (a canary by default, analysed between steps against the
 * version serving now and rolled back automatically on a breach) and moves `production` to it.
 */
import { z } from 'zod';
import { approvalGate, childPipeline, definePipeline, deployModel, output, param } from '../../../src/pipeline/definition.js';
import type { ApprovalPolicy } from '../../../src/pipeline/spec.js';
import { promoteModel, validateModel } from '../../../pipelines/steps/index.js';

export const releasePolicy: ApprovalPolicy = {
  roles: { technical: 1 },
  deadline: '3 days',
  remindBefore: ['1 day'],
  escalateTo: ['lead'],
  separationOfDuties: true,
  conditions: [
    { role: 'compliance', when: { piiFeatures: true } },
    { role: 'ethics', when: { fairnessGapAbove: 0.1 } },
  ],
};

export const releaseFlightDelay = definePipeline({
  name: 'release-flight-delay',
  description: 'Train the flight-delay model, validate it, wait for a governed sign-off, promote it to champion, then deploy it to the scorer (canary by default)',
  params: z.object({
    source: z.string().default('vega:flights-3m.parquet'),
    rows: z.coerce.number().int().positive().default(300_000),
    modelName: z.string().regex(/^[a-z][a-z0-9-]*$/).default('flight-delay'),
    minRocAuc: z.coerce.number().min(0).max(1).default(0.55),
    /** 'review': failed behavioural checks go to the reviewers; 'block': they reject the version. */
    behaviour: z.enum(['review', 'block']).default('review'),
    /** How the approved version reaches the scorer after sign-off. */
    deployStrategy: z.enum(['canary', 'blue-green', 'shadow', 'ab']).default('canary'),
    /** Requests each arm needs before the deployment's analysis decides. */
    deployMinRequests: z.coerce.number().int().positive().default(200),
    /** How long a deployment step waits for that traffic before rolling back. */
    deployMaxWaitSeconds: z.coerce.number().positive().default(900),
    /** The least time each deployment step runs before its verdict counts. */
    deployBakeSeconds: z.coerce.number().min(0).default(30),
  }),
  steps: (p) => {
    const train = childPipeline('train', 'train-flight-delay', { source: param('source'), rows: param('rows'), modelName: param('modelName') }, { outputs: ['register'] });
    // A child pipeline's outputs are not typed: the references name the child's step and field.
    const validate = validateModel.step('validate', {
      modelName: output('train', 'register', 'modelName'),
      version: output('train', 'register', 'version'),
      criteria: [{ metric: 'rocAuc', min: p.minRocAuc }],
      behaviour: p.behaviour,
    });
    const signoff = approvalGate('signoff', {
      subject: {
        model: validate.output.modelName,
        version: validate.output.version,
        rocAuc: validate.output.rocAuc,
        failedChecks: validate.output.failedChecks,
      },
      policy: releasePolicy,
    });
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
        thresholds: { minRequests: p.deployMinRequests },
        analysis: { maxWaitSeconds: p.deployMaxWaitSeconds, minSeconds: p.deployBakeSeconds },
      },
      { after: ['promote'] },
    );
    return [train, validate, signoff, promote, deploy];
  },
});
