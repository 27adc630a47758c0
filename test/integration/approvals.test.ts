/**
 * Governed approval gates on a real Temporal dev server and a real database: roles and quorums,
 * separation of duties, single-use decision codes (forged, reused), decisions by Update, by Signal
 * through the plain `temporal` CLI, conditional requirements, rejection, reminders and expiry,
 * and the hash-chained audit trail that records all of it (and detects an edited row).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunPipelineResult } from '../../src/contracts.js';
import type { Principal } from '../../src/db/schema.js';
import { issueDecisionCode, listApprovals, requireApproval } from '../../src/governance/approvals.js';
import { auditTrail, verifyAuditChain } from '../../src/governance/audit.js';
import { approvalView, submitDecision } from '../../src/governance/decisions.js';
import { createPrincipal, PermissionDeniedError } from '../../src/governance/identity.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { useTemporalWorker } from '../support/temporal.js';
import { createTestSteps, testPipelines, type StepLog } from '../support/test-pipelines.js';

const run = promisify(execFile);

describe('governed approval gates on real Temporal', () => {
  const log: StepLog = { calls: new Map(), spans: new Map() };
  const harness = useTemporalWorker('pglite', 'approvals', { pipelines: testPipelines, steps: createTestSteps(log) });
  const people: Record<string, Principal> = {};
  const db = () => harness.database.db;
  const client = () => harness.env.client;

  beforeAll(async () => {
    for (const [name, roles] of [
      ['alice', ['technical']],
      ['bob', ['technical']],
      ['erin', ['technical']],
      ['carol', ['compliance']],
      ['dave', ['viewer']],
    ] as const) {
      people[name] = await createPrincipal(db(), { name, roles: [...roles], actor: 'test-operator' });
    }
  });

  async function startGoverned(pipeline: string, params: Record<string, unknown> = {}) {
    const { runId } = await startRun(client(), harness.taskQueue, findPipeline(testPipelines, pipeline), params, { startedBy: 'erin' });
    for (let i = 0; i < 200; i++) {
      const open = (await listApprovals(db(), { status: 'all' })).find((a) => a.workflowId === runId);
      if (open) return { runId, approvalId: open.id, handle: client().workflow.getHandle(runId) };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no approval opened for ${runId}`);
  }

  const decide = (who: string, approvalId: string, decision: 'approve' | 'reject', role = 'technical', comment?: string) =>
    submitDecision(db(), client(), { approvalId, principal: people[who]!, role, decision, comment });

  it('counts a quorum of distinct reviewers, refuses everyone else with a specific reason, and accepts the plain Temporal CLI', async () => {
    const { runId, approvalId, handle } = await startGoverned('governed');
    const view = await approvalView(db(), client(), approvalId);
    expect(view.required).toEqual({ technical: 2 });
    expect(view.authors).toEqual(['erin']);

    await expect(decide('dave', approvalId, 'approve')).rejects.toThrow(PermissionDeniedError);
    await expect(decide('dave', approvalId, 'approve')).rejects.toThrow('dave is not a technical reviewer');
    await expect(decide('erin', approvalId, 'approve')).rejects.toThrow('erin authored this candidate and may not review it (separation of duties)');
    await expect(decide('carol', approvalId, 'approve', 'compliance')).rejects.toThrow('does not ask for a "compliance" review');
    await expect(decide('alice', approvalId, 'approve', 'technical', 'x'.repeat(4_001))).rejects.toThrow('the limit is 4000');

    expect((await decide('alice', approvalId, 'approve', 'technical', 'beats the champion')).message).toBe(
      'accepted: 1 of 2 technical approvals; still missing 1 technical',
    );
    // The same decision again is idempotent: accepted, nothing counted twice.
    expect((await decide('alice', approvalId, 'approve')).message).toContain('already recorded; nothing changed');

    // A decision with a made-up code reaches the workflow, whose activity refuses it.
    await expect(
      handle.executeUpdate('decide', { args: [{ gate: 'signoff', principal: 'bob', role: 'technical', decision: 'approve', code: 'dc_forged-code-000000' }] }),
    ).rejects.toThrow();
    // A malformed signal is recorded as refused, not applied.
    await handle.signal('decide', { gate: 'signoff', decision: 'maybe' } as never);

    // bob decides with the plain Temporal CLI and a single-use code.
    const { code } = await issueDecisionCode(db(), { approvalId, principal: 'bob', role: 'technical' });
    const payload = { gate: 'signoff', principal: 'bob', role: 'technical', decision: 'approve', comment: 'ok by me', code };
    await run(inject('temporalCli'), ['workflow', 'signal', '--address', harness.env.address, '--workflow-id', runId, '--name', 'decide', '--input', JSON.stringify(payload)]);

    const result = (await handle.result()) as RunPipelineResult;
    const decisions = result.outputs.signoff!.decisions as Array<{ principal: string }>;
    expect(decisions.map((d) => d.principal)).toEqual(['alice', 'bob']);
    expect(result.outputs.release).toEqual({ value: 'alice, bob' });

    // The code was consumed: replaying the same signal is refused and recorded.
    const approval = await requireApproval(db(), approvalId);
    expect(approval.status).toBe('approved');
    const trail = await auditTrail(db(), { subject: `approval:${approvalId}` });
    const actions = trail.map((e) => e.action);
    expect(actions[0]).toBe('approval.opened');
    expect(actions.filter((a) => a === 'approval.decision')).toHaveLength(2);
    expect(actions.at(-1)).toBe('approval.approved');
    const refusals = trail.filter((e) => e.action === 'approval.refused').map((e) => (e.details as { reason: string }).reason);
    expect(refusals.some((r) => r.includes('dave is not a technical reviewer'))).toBe(true);
    expect(refusals.some((r) => r.includes('separation of duties'))).toBe(true);
    expect(refusals.some((r) => r.includes('decision code is not valid'))).toBe(true);
    expect(refusals.some((r) => r.includes('decision must be "approve" or "reject"'))).toBe(true);
    expect(trail.find((e) => e.action === 'approval.decision' && e.actor === 'bob')!.details).toMatchObject({ via: 'signal', decision: 'approve' });

    // After the gate closed, a decision is refused with the reason.
    await expect(decide('alice', approvalId, 'approve')).rejects.toThrow(/already closed|no longer running/);
  });

  it('requires a compliance review when the candidate uses a pii feature, and a rejection ends the gate', async () => {
    const { approvalId, handle } = await startGoverned('governed', { piiFeatures: ['passenger_name'] });
    const view = await approvalView(db(), client(), approvalId);
    expect(view.required).toEqual({ technical: 2, compliance: 1 });
    expect(view.live?.conditions).toEqual([{ role: 'compliance', quorum: 1, because: 'the model uses pii features (passenger_name)' }]);
    await expect(decide('carol', approvalId, 'reject', 'compliance')).rejects.toThrow('needs a reason');
    const answer = await decide('carol', approvalId, 'reject', 'compliance', 'no approved purpose for passenger_name');
    expect(answer.status).toBe('rejected');
    await expect(handle.result()).rejects.toThrow();
    const report = await handle.query<Array<{ status: string }>>('approvals');
    expect(report[0]!.status).toBe('rejected');
    expect((await requireApproval(db(), approvalId)).status).toBe('rejected');
  });

  it('reminds and escalates before the deadline, then expires as rejected', async () => {
    const { approvalId, handle } = await startGoverned('governed-short');
    await expect(handle.result()).rejects.toThrow();
    const actions = (await auditTrail(db(), { subject: `approval:${approvalId}` })).map((e) => e.action);
    expect(actions).toEqual(['approval.opened', 'approval.escalated', 'approval.expired']);
    const escalation = (await auditTrail(db(), { subject: `approval:${approvalId}` }))[1]!;
    expect(escalation.details).toMatchObject({ missing: { technical: 1 }, escalateTo: ['lead'] });
    expect((escalation.details as { notified: string[] }).notified).toEqual(['alice', 'bob', 'erin']);
    expect((await requireApproval(db(), approvalId)).status).toBe('expired');
  });

  it('keeps a hash chain that `verify` proves intact and that exposes an edited row', async () => {
    const intact = await verifyAuditChain(db());
    expect(intact.ok).toBe(true);
    expect(intact.entries).toBeGreaterThan(20);
    // The database refuses to rewrite history...
    await expect(db().execute(sql`update audit_log set actor = 'mallory' where seq = 3`)).rejects.toThrow();
    // ...so a tamperer must first disable the trigger; the chain still shows exactly where.
    await db().execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db().execute(sql`update audit_log set details = jsonb_set(details, '{roles}', '["technical","compliance"]') where seq = 3`);
    await db().execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    const tampered = await verifyAuditChain(db(), { pageSize: 7 });
    expect(tampered).toMatchObject({ ok: false, entries: 2, firstBad: { seq: 3 } });
    expect(tampered.firstBad!.reason).toContain('changed after it was written');
  });
});
