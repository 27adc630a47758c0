/**
 * Governed approval gates on a real Temporal dev server and a real database: roles and quorums,
 * separation of duties, single-use decision codes (forged, reused), decisions by Update, by Signal
 * through the plain `temporal` CLI, conditional requirements, rejection, reminders and expiry,
 * and the hash-chained audit trail that records all of it (and detects an edited row).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunPipelineResult } from '../../src/contracts.js';
import type { Principal } from '../../src/db/schema.js';
import { issueDecisionCode, listApprovals, requireApproval } from '../../src/governance/approvals.js';
import { auditTrail, verifyAuditChain } from '../../src/audit/index.js';
import { approvalView, submitDecision } from '../../src/governance/decisions.js';
import { createPrincipal, issueToken, PermissionDeniedError } from '../../src/governance/identity.js';
import { createApi } from '../../src/api/server.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { runSteward } from '../support/processes.js';
import { useTemporalWorker } from '../support/temporal.js';
import { testPipelines } from '../support/test-pipelines.js';

const run = promisify(execFile);

describe('governed approval gates on real Temporal', () => {
  const harness = useTemporalWorker('pglite', 'approvals', { pipelines: testPipelines });
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
    // The memo (what `steward status` shows with no worker answering) has the waiting gate as running.
    const memo = (await handle.describe()).memo as { runState: { steps: Array<{ name: string; status: string }> } };
    expect(memo.runState.steps.find((s) => s.name === 'signoff')?.status).toBe('running');
    expect(view.authors).toEqual(['erin']);

    await expect(decide('dave', approvalId, 'approve')).rejects.toThrow(PermissionDeniedError);
    await expect(decide('dave', approvalId, 'approve')).rejects.toThrow('dave is not a technical reviewer');
    await expect(decide('erin', approvalId, 'approve')).rejects.toThrow('erin authored this candidate and may not review it (separation of duties)');
    await expect(decide('carol', approvalId, 'approve', 'compliance')).rejects.toThrow('does not ask for a "compliance" review');
    await expect(decide('alice', approvalId, 'approve', 'technical', 'x'.repeat(4_001))).rejects.toThrow('the limit is 4000');

    expect((await decide('alice', approvalId, 'approve', 'technical', 'beats the champion')).message).toBe(
      'accepted: 1 of 2 technical approvals; still missing 1 technical',
    );
    // The same decision again is refused: each reviewer counts once.
    await expect(decide('alice', approvalId, 'approve')).rejects.toThrow('alice already decided on this gate (approve as technical); each reviewer counts once');

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

  it('refuses a used decision code replayed under any name and role, and audits it as a replay', async () => {
    // The issue's attack: a gate needing 2 technical + 1 compliance; alice's code, readable in
    // history once she used it, is resent as bob's, then as a made-up compliance reviewer's.
    const { runId, approvalId, handle } = await startGoverned('governed', { piiFeatures: ['passenger_name'] });
    expect((await approvalView(db(), client(), approvalId)).required).toEqual({ technical: 2, compliance: 1 });
    const { code } = await issueDecisionCode(db(), { approvalId, principal: 'alice', role: 'technical' });
    const signal = (body: Record<string, unknown>) =>
      run(inject('temporalCli'), ['workflow', 'signal', '--address', harness.env.address, '--workflow-id', runId, '--name', 'decide', '--input', JSON.stringify({ gate: 'signoff', decision: 'approve', code, ...body })]);
    await signal({ principal: 'alice', role: 'technical', comment: 'mine' });
    const gate = async () => (await handle.query<Array<{ received: Array<{ principal: string }>; refusals: Array<{ reason: string }>; missing: Record<string, number> }>>('approvals'))[0]!;
    for (let i = 0; i < 100 && (await gate()).received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await gate()).received.map((d) => d.principal)).toEqual(['alice']);

    await signal({ principal: 'bob', role: 'technical', comment: 'replayed as bob' });
    await signal({ principal: 'mallory', role: 'compliance', comment: 'replayed as nobody' });
    await expect(
      handle.executeUpdate('decide', { args: [{ gate: 'signoff', principal: 'bob', role: 'technical', decision: 'approve', code }] }),
    ).rejects.toThrow();
    for (let i = 0; i < 100 && (await gate()).refusals.length < 2; i++) await new Promise((r) => setTimeout(r, 100));

    const now = await gate();
    expect(now.received.map((d) => d.principal)).toEqual(['alice']);
    expect(now.missing).toEqual({ technical: 1, compliance: 1 });
    expect(now.refusals.map((r) => r.reason).join('\n')).toContain('the decision code was already used (by alice as technical');
    const trail = await auditTrail(db(), { subject: `approval:${approvalId}` });
    expect(trail.filter((e) => e.action === 'approval.decision').map((e) => e.actor)).toEqual(['alice']);
    const replays = trail.filter((e) => e.action === 'approval.replay');
    expect(replays).toHaveLength(3);
    // The trail blames the principal the code proves, and keeps the claimed names as evidence.
    expect(replays.map((e) => e.actor)).toEqual(['alice', 'alice', 'alice']);
    expect(replays.map((e) => (e.details as { input: { claimedPrincipal: string } }).input.claimedPrincipal)).toEqual(['bob', 'mallory', 'bob']);
    // A refusal whose sender proves nobody has no actor but `unverified`.
    await handle.signal('decide', { gate: 'signoff', principal: 'carol', role: 'compliance', decision: 'approve', code: 'dc_made-up-000000000' } as never);
    for (let i = 0; i < 100; i++) {
      const latest = (await auditTrail(db(), { subject: `approval:${approvalId}` })).at(-1)!;
      if (latest.action === 'approval.refused') {
        expect(latest.actor).toBe('unverified');
        expect(latest.details).toMatchObject({ input: { claimedPrincipal: 'carol' } });
        break;
      }
      if (i === 99) throw new Error('the forged signal was not audited');
      await new Promise((r) => setTimeout(r, 100));
    }

    // The real reviewers still decide, each once.
    await decide('bob', approvalId, 'approve');
    expect((await decide('carol', approvalId, 'approve', 'compliance')).status).toBe('approved');
    const result = (await handle.result()) as RunPipelineResult;
    expect((result.outputs.signoff!.decisions as Array<{ principal: string }>).map((d) => d.principal)).toEqual(['alice', 'bob', 'carol']);
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

  it('lets reviewers work from the steward CLI through the HTTP API with their token', async () => {
    const app = createApi({ client: client(), taskQueue: harness.taskQueue, pipelines: testPipelines, database: { driver: 'pglite' }, db: db() });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { approvalId, handle } = await startGoverned('governed');
      const tokenOf = async (name: string) => (await issueToken(db(), { principal: name, actor: 'test-operator' })).token;
      const as = async (name: string) => ({ STEWARD_API_URL: address, STEWARD_TOKEN: await tokenOf(name), STEWARD_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-')) });
      const alice = await as('alice');

      const unknown = await fetch(`${address}/api/approvals/apr-000000000000`, { headers: { authorization: `Bearer ${alice.STEWARD_TOKEN}` } });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('No approval with id "apr-000000000000"');
      const noToken = await fetch(`${address}/api/approvals`);
      expect(noToken.status).toBe(401);

      const list = await runSteward(['approvals', 'list', '--json'], alice);
      expect(list.code).toBe(0);
      expect((JSON.parse(list.output) as { approvals: Array<{ id: string }> }).approvals.map((a) => a.id)).toContain(approvalId);
      const shown = await runSteward(['approvals', 'show', approvalId], alice);
      expect(shown.output).toContain('requires   2 technical');
      expect(shown.output).toContain('authors    erin (may not approve)');

      const approved = await runSteward(['approvals', 'approve', approvalId, '--role', 'technical', '--comment', 'fine', '--json'], alice);
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.output)).toMatchObject({ status: 'waiting', missing: { technical: 1 } });

      const refused = await runSteward(['approvals', 'approve', approvalId, '--role', 'technical'], await as('dave'));
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain('dave is not a technical reviewer');
      const anonymous = await runSteward(['approvals', 'list'], { ...alice, STEWARD_TOKEN: 'stw_00000000_' + 'x'.repeat(43) });
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.output).toContain('The API token is not known');

      const code = await runSteward(['approvals', 'code', approvalId, '--role', 'technical', '--json'], await as('bob'));
      const { signal } = JSON.parse(code.output) as { signal: Record<string, unknown> };
      await handle.signal('decide', { ...signal, comment: 'via the printed signal payload' } as never);
      const result = (await handle.result()) as RunPipelineResult;
      expect(result.outputs.release).toEqual({ value: 'alice, bob' });
      const failures = (await auditTrail(db())).filter((e) => e.action === 'auth.failed');
      expect(failures.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
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
