/**
 * Purpose limitation end to end on real Temporal: a model cannot get a training set with a pii
 * feature; the approve-purpose pipeline opens a governed gate that only a compliance reviewer other
 * than the requester may decide; once approved, the purpose is recorded and the same request
 * succeeds. A rejected request fails its run and grants nothing.
 */
import { Float64, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunPipelineResult } from '../../src/contracts.js';
import type { Principal } from '../../src/db/schema.js';
import { apply, featureService, getHistoricalFeatures, ingest, tableSource } from '../../src/features/index.js';
import { listApprovals, requireApproval } from '../../src/governance/approvals.js';
import { submitDecision } from '../../src/governance/decisions.js';
import { createPrincipal } from '../../src/governance/identity.js';
import { approvedPurposesOf, PurposeNotApprovedError } from '../../src/governance/purposes.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { pipelines } from '../support/projects.js';
import { useTemporalWorker } from '../support/temporal.js';
import { customer, profile } from '../support/customer-features.js';

const T0 = Date.UTC(2024, 0, 1);
const churnFeatures = featureService({ name: 'churn_features', version: 1, features: [profile] });
const entityRows = new Table({
  customer_id: vectorFromArray(['c1', 'c2'], new Utf8()),
  at: vectorFromArray([new Date(T0 + 60_000), new Date(T0 + 60_000)], new TimestampMillisecond()),
});

describe('purpose approval through the governed gate on real Temporal', () => {
  const harness = useTemporalWorker('pglite', 'purpose-approval');
  const db = () => harness.database.db;
  const people: Record<string, Principal> = {};
  const training = () => getHistoricalFeatures(db(), { entityRows, entityTimestamp: 'at', featureService: churnFeatures, model: 'churn' });

  beforeAll(async () => {
    for (const [name, roles] of [
      ['dana', ['engineer', 'compliance']],
      ['carla', ['compliance']],
      ['tom', ['technical']],
    ] as const) {
      people[name] = await createPrincipal(db(), { name, roles: [...roles], actor: 'test-operator' });
    }
    await apply(db(), [customer, profile, churnFeatures]);
    const rows = new Table({
      customer_id: vectorFromArray(['c1', 'c2'], new Utf8()),
      event_at: vectorFromArray([new Date(T0), new Date(T0)], new TimestampMillisecond()),
      spend: vectorFromArray([10, 20], new Float64()),
      home_zip: vectorFromArray(['10115', '80331'], new Utf8()),
    });
    await ingest(db(), 'customer_profile', tableSource(rows, { description: 'test rows' }));
  });

  async function request(purpose: string) {
    const { runId } = await startRun(harness.env.client, harness.taskQueue, findPipeline(pipelines, 'approve-purpose'), { model: 'churn', purpose, features: 'customer_profile__home_zip' }, { startedBy: 'dana' });
    for (let i = 0; i < 200; i++) {
      const open = (await listApprovals(db(), { status: 'all' })).find((a) => a.workflowId === runId);
      if (open) return { runId, approvalId: open.id, handle: harness.env.client.workflow.getHandle(runId) };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no approval opened for ${runId}`);
  }
  const decide = (who: string, approvalId: string, decision: 'approve' | 'reject', role = 'compliance', comment?: string) =>
    submitDecision(db(), harness.env.client, { approvalId, principal: people[who]!, role, decision, comment });

  it('refuses a rejected purpose and grants nothing', async () => {
    await expect(training()).rejects.toThrow(PurposeNotApprovedError);
    const { approvalId, handle } = await request('sell addresses to advertisers');
    await decide('carla', approvalId, 'reject', 'compliance', 'not a purpose customers agreed to');
    await expect(handle.result()).rejects.toThrow('Workflow execution failed');
    expect((await requireApproval(db(), approvalId)).status).toBe('rejected');
    expect(await approvedPurposesOf(db(), 'churn')).toEqual([]);
    await expect(training()).rejects.toThrow(/Model "churn" may not train on pii feature customer_profile__home_zip/);
  });

  it('lets the model train on the pii feature once a compliance reviewer other than the requester approves', async () => {
    const { approvalId, handle } = await request('retention offers by region');
    await expect(decide('tom', approvalId, 'approve', 'technical')).rejects.toThrow(/does not ask for a "technical" review/);
    // The requester holds the compliance role too, but may not approve her own request.
    await expect(decide('dana', approvalId, 'approve')).rejects.toThrow(/separation of duties/);
    await expect(training()).rejects.toThrow(PurposeNotApprovedError);
    await decide('carla', approvalId, 'approve');
    const result = (await handle.result()) as RunPipelineResult;
    expect(result.outputs.record).toMatchObject({ approvalId, model: 'churn', purpose: 'retention offers by region', features: ['customer_profile__home_zip'], approvedBy: ['carla'] });
    const table = await training();
    expect([...table.getChild('customer_profile__home_zip')!]).toEqual(['10115', '80331']);
  });
});
