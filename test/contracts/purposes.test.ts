/**
 * Purpose limitation on both drivers: a model cannot get a training set with a pii feature until a
 * purpose for that model is approved through a governed approval (subject { purpose, model, features }
 * decided by a compliance reviewer), and can once it is; the refusal names the feature and the
 * missing approval; a rejected approval grants nothing; the grant lands in the audit trail.
 */
import { Float64, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { apply, featureService, getHistoricalFeatures, ingest, tableSource } from '../../src/features/index.js';
import { closeApproval, openApproval } from '../../src/governance/approvals.js';
import { auditTrail } from '../../src/audit/index.js';
import { PURPOSE_POLICY, PurposeNotApprovedError, approvedPurposesOf, piiFeaturesOf, recordApprovedPurpose } from '../../src/governance/purposes.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { customer, profile } from '../support/customer-features.js';

const T0 = Date.UTC(2024, 0, 1);
const withZip = featureService({ name: 'churn_features', version: 1, features: [profile] });
const withoutZip = featureService({ name: 'churn_public', version: 1, features: [profile.select('spend')] });

const entityRows = new Table({
  customer_id: vectorFromArray(['c1', 'c2'], new Utf8()),
  at: vectorFromArray([new Date(T0 + 60_000), new Date(T0 + 60_000)], new TimestampMillisecond()),
});

describeEachDriver('purpose limitation', (driver) => {
  const fixture = useTestDatabase(driver);
  const db = () => fixture.handle.db;
  const training = (model?: string) => getHistoricalFeatures(db(), { entityRows, entityTimestamp: 'at', featureService: withZip, ...(model ? { model } : {}) });

  /** A purpose request through the approval records the gate keeps, decided as `status`. */
  const decide = async (workflowId: string, status: 'approved' | 'rejected', subject: Record<string, unknown>) => {
    const opened = await openApproval(db(), {
      workflowId,
      runId: `${workflowId}-run`,
      gate: 'approval',
      pipeline: 'approve-purpose',
      subject,
      policy: PURPOSE_POLICY,
      openedAt: new Date(T0).toISOString(),
      deadline: new Date(T0 + 7 * 86_400_000).toISOString(),
      startedBy: 'dana',
    });
    expect(opened.required).toEqual({ compliance: 1 });
    await closeApproval(db(), {
      approvalId: opened.approvalId,
      status,
      decisions: [{ principal: 'carla', role: 'compliance', decision: status === 'approved' ? 'approve' : 'reject', at: new Date(T0).toISOString() }],
      reason: status,
      workflowId,
    });
    return opened.approvalId;
  };

  it('refuses a pii feature to a model without an approved purpose, naming the feature and the missing approval', async () => {
    await apply(db(), [customer, profile, withZip, withoutZip]);
    const rows = new Table({
      customer_id: vectorFromArray(['c1', 'c2'], new Utf8()),
      event_at: vectorFromArray([new Date(T0), new Date(T0)], new TimestampMillisecond()),
      spend: vectorFromArray([10, 20], new Float64()),
      home_zip: vectorFromArray(['10115', '80331'], new Utf8()),
    });
    await ingest(db(), 'customer_profile', tableSource(rows, { description: 'test rows' }));
    expect(piiFeaturesOf(withZip)).toEqual(['customer_profile__home_zip']);
    expect(piiFeaturesOf(withoutZip)).toEqual([]);

    const refused = await training('churn').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PurposeNotApprovedError);
    expect((refused as PurposeNotApprovedError).status).toBe(403);
    expect((refused as Error).message).toMatch(
      /^Model "churn" may not train on pii feature customer_profile__home_zip: no approved purpose for churn covers it \(missing approval: approve-purpose for model churn, features customer_profile__home_zip\)/,
    );
    await expect(training()).rejects.toThrow(/reads pii feature customer_profile__home_zip; pii features are served only for training a named model with an approved purpose/);
    // Public features need no purpose.
    const open = await getHistoricalFeatures(db(), { entityRows, entityTimestamp: 'at', featureService: withoutZip });
    expect([...open.getChild('customer_profile__spend')!]).toEqual([10, 20]);
  });

  it('grants nothing for a rejected request or for another model', async () => {
    const rejected = await decide('wf-purpose-rejected', 'rejected', { purpose: 'retention offers', model: 'churn', features: 'customer_profile__home_zip' });
    await expect(recordApprovedPurpose(db(), rejected)).rejects.toThrow(ConflictError);
    await expect(recordApprovedPurpose(db(), rejected)).rejects.toThrow(/is rejected, not approved: it grants no purpose/);
    const other = await decide('wf-purpose-other', 'approved', { purpose: 'fraud screening', model: 'fraud', features: 'customer_profile__home_zip' });
    await recordApprovedPurpose(db(), other);
    await expect(training('churn')).rejects.toThrow(PurposeNotApprovedError);
  });

  it('serves the pii feature for training the model once a compliance reviewer approved the purpose', async () => {
    const approvalId = await decide('wf-purpose-ok', 'approved', { purpose: 'retention offers', model: 'churn', features: 'customer_profile__home_zip' });
    const granted = await recordApprovedPurpose(db(), approvalId);
    expect(granted).toMatchObject({ modelName: 'churn', purpose: 'retention offers', features: ['customer_profile__home_zip'], approvedBy: ['carla'] });
    // A retried step records it once.
    await recordApprovedPurpose(db(), approvalId);
    expect((await approvedPurposesOf(db(), 'churn')).map((p) => p.approvalId)).toEqual([approvalId]);

    const table = await training('churn');
    expect([...table.getChild('customer_profile__home_zip')!]).toEqual(['10115', '80331']);
    const trail = await auditTrail(db(), { subject: 'model:churn' });
    expect(trail.filter((e) => e.action === 'purpose.approved').map((e) => [e.actor, e.details])).toEqual([
      ['carla', { approvalId, purpose: 'retention offers', features: ['customer_profile__home_zip'] }],
    ]);
  });
});
