/**
 * Ask for a purpose: may model M train on pii features F for purpose P? The governed gate waits for
 * a compliance reviewer who is not the requester (PURPOSE_POLICY); once approved, `record` stores the
 * purpose, and from then on getHistoricalFeatures serves F for training M. A rejection or an expired
 * gate fails the run and grants nothing.
 *
 *   steward run approve-purpose --param model=churn --param purpose="retention offers" --param features=customers__email
 */
import { z } from 'zod';
import { approvalGate, definePipeline, output } from '../src/pipeline/definition.js';
import { PURPOSE_POLICY } from '../src/governance/purposes.js';
import { recordPurpose } from './steps/index.js';

export const approvePurpose = definePipeline({
  name: 'approve-purpose',
  description: 'Request approval for a model to train on pii features for a stated purpose; a compliance reviewer decides',
  params: z.object({
    model: z.string().regex(/^[a-z][a-z0-9-]*$/),
    purpose: z.string().trim().min(3).max(500),
    /** Feature output names (`view__feature`), comma-separated. */
    features: z.string().regex(/^[a-z][a-z0-9_]*__[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*__[a-z][a-z0-9_]*)*$/),
  }),
  steps: (p) => [
    approvalGate('approval', { subject: { purpose: p.purpose, model: p.model, features: p.features }, policy: PURPOSE_POLICY }),
    // An approval gate's outputs are not typed: the reference names the field.
    recordPurpose.step('record', { approvalId: output('approval', 'approvalId') }),
  ],
});
