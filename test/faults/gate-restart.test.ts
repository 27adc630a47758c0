/**
 * A Temporal dev server restart while a governed approval gate waits. The gate's subject is a
 * registered model version, so the restart also falls between the version moving to
 * `pending_approval` and its approval. The worker stays up across the restart (it reconnects on its
 * own), and the reviewer decides through `submitDecision` as soon as the server is back: the
 * decision lands, the gate approves with that reviewer, the version is approved, the run completes,
 * and the audit trail holds exactly one decision entry.
 *
 * test/integration/server-restart.test.ts covers the other half: a quorum of two split across a
 * worker replacement and a restart, checked by the run's output only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { RunPipelineResult } from '../../src/contracts.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { approvals, decisionCodes, modelVersions, type Principal } from '../../src/db/schema.js';
import { listApprovals } from '../../src/governance/approvals.js';
import { auditTrail, verifyAuditChain } from '../../src/audit/index.js';
import { approvalView, submitDecision } from '../../src/governance/decisions.js';
import { createPrincipal } from '../../src/governance/identity.js';
import { approvalGate, definePipeline, output } from '../../src/pipeline/definition.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { getRunReport, startRun } from '../../src/pipeline/runs.js';
import { firstFreePort } from '../../src/platform/ports.js';
import { modelHistoryOf } from '../../src/registry/history.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { createTestDatabase, describeEachDriver, type TestDatabase } from '../support/databases.js';
import { registerSample } from '../support/registry-fixtures.js';
import { startTemporal, startTestWorker } from '../support/temporal.js';
import { echo, stepLog } from '../support/test-pipelines.js';

const MODEL = 'restart-gated';

/** A release in miniature: a governed sign-off on a model version (one technical reviewer; compliance when pii is used), then the release. */
const gated = definePipeline({
  name: 'restart-signoff',
  params: z.object({ model: z.string(), version: z.number().int() }),
  steps: (p) => [
    approvalGate('signoff', {
      subject: { model: p.model, version: p.version },
      policy: { roles: { technical: 1 }, deadline: '1 hour', conditions: [{ role: 'compliance', when: { piiFeatures: true } }] },
    }),
    echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
  ],
});

describeEachDriver('Temporal dev server restart while a governed gate waits', (driver) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-gate-restart-'));
  const dbFilename = path.join(dir, 'temporal.db');
  const taskQueue = `gate-restart-${driver}`;
  let port: number;
  let env: TestWorkflowEnvironment | undefined;
  let testDb: TestDatabase | undefined;
  let handle: DatabaseHandle;
  let worker: { worker: Worker; done: Promise<void> } | undefined;
  const people: Record<string, Principal> = {};

  beforeAll(async () => {
    port = (await firstFreePort(30_000 + Math.floor(Math.random() * 20_000)))!;
    [env, testDb] = await Promise.all([startTemporal({ dbFilename, port }), createTestDatabase(driver)]);
    handle = await testDb.open();
    worker = await startTestWorker(env, handle.db, taskQueue, { pipelines: [gated] });
    for (const [name, roles] of [
      ['rita', ['technical']],
      ['ed', ['technical']], // starts the run: an author, who may not review it
    ] as const) {
      people[name] = await createPrincipal(handle.db, { name, roles: [...roles], actor: 'test-operator' });
    }
  });
  afterAll(async () => {
    if (worker) {
      worker.worker.shutdown();
      await worker.done;
    }
    await handle?.close();
    await testDb?.destroy();
    await env?.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes a decision sent right after the restart: approved by that reviewer, one decision in the audit trail, the run completes', async () => {
    const db = handle.db;
    const version = await registerSample(db, MODEL, 'c3');
    await transitionModelVersion(db, { modelName: MODEL, version, to: 'validated', actor: 'test-operator', reason: 'validated for the test' });
    const { runId } = await startRun(env!.client, taskQueue, findPipeline([gated], 'restart-signoff'), { model: MODEL, version }, { startedBy: 'ed' });

    let approvalId: string | undefined;
    for (let i = 0; i < 300 && !approvalId; i++) {
      approvalId = (await listApprovals(db)).find((a) => a.workflowId === runId)?.id;
      if (!approvalId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(approvalId, `no approval opened for ${runId}`).toBeDefined();
    // What the reviewer sees before the restart: the gate waits for one technical review, the author excluded.
    const before = await approvalView(db, env!.client, approvalId!);
    expect(before.live).toMatchObject({ gate: 'signoff', status: 'waiting', missing: { technical: 1 } });
    expect({ status: before.status, required: before.required, authors: before.authors, model: before.modelName, version: before.modelVersion }).toEqual({
      status: 'waiting',
      required: { technical: 1 },
      authors: ['ed'],
      model: MODEL,
      version,
    });
    const versionStatus = async () => (await db.select({ status: modelVersions.status }).from(modelVersions).where(and(eq(modelVersions.modelName, MODEL), eq(modelVersions.version, version))))[0]?.status;
    expect(await versionStatus()).toBe('pending_approval');

    // The server stops and starts again on its SQLite file; the worker in this process stays up.
    await env!.teardown();
    env = undefined;
    env = await startTemporal({ dbFilename, port });
    const run = env.client.workflow.getHandle(runId);
    // The run survived the restart (Temporal's own record: no worker needed to say so).
    expect((await run.describe()).status.name).toBe('RUNNING');

    // The reviewer decides at once, while the worker may still be reconnecting.
    const answer = await submitDecision(db, env.client, { approvalId: approvalId!, principal: people.rita!, role: 'technical', decision: 'approve', comment: 'reviewed after the restart' });
    expect(answer).toMatchObject({ status: 'approved', missing: {} });

    const result = (await run.result()) as RunPipelineResult;
    expect(result.outputs.signoff).toMatchObject({
      decision: 'approved',
      reviewer: 'rita',
      approvalId,
      decisions: [expect.objectContaining({ principal: 'rita', role: 'technical', decision: 'approve', comment: 'reviewed after the restart' })],
    });
    expect(result.outputs.release).toEqual({ value: 'rita' });
    expect(stepLog.calls.get(`${runId}/release`)).toBe(1);
    const report = await getRunReport(env.client, runId);
    expect(report.status).toBe('COMPLETED');
    expect(report.state?.steps.map((s) => [s.name, s.status])).toEqual([
      ['signoff', 'completed'],
      ['release', 'completed'],
    ]);

    // The record: approved by rita, the version approved, one code issued and used.
    const after = await approvalView(db, env.client, approvalId!);
    expect({ status: after.status, received: after.received.map((d) => [d.principal, d.role, d.decision]), missing: after.missing }).toEqual({
      status: 'approved',
      received: [['rita', 'technical', 'approve']],
      missing: {},
    });
    expect(await versionStatus()).toBe('approved');
    expect((await modelHistoryOf(db, MODEL)).map((h) => [h.kind, h.to, h.actor])).toEqual([
      ['registered', 'registered', 'steward'],
      ['transition', 'validated', 'test-operator'],
      ['transition', 'pending_approval', 'steward'],
      ['transition', 'approved', 'rita'],
    ]);
    const codes = await db.select().from(decisionCodes).where(eq(decisionCodes.approvalId, approvalId!));
    expect(codes.map((c) => [c.principal, c.role, c.usedAt !== null])).toEqual([['rita', 'technical', true]]);
    expect(await db.select({ id: approvals.id }).from(approvals)).toEqual([{ id: approvalId }]);

    // The audit trail: opened, exactly one decision (rita's, by Update), approved; nothing refused.
    const trail = await auditTrail(db, { subject: `approval:${approvalId}` });
    expect(trail.map((e) => [e.action, e.actor])).toEqual([
      ['approval.opened', 'steward'],
      ['approval.decision', 'rita'],
      ['approval.approved', 'rita'],
    ]);
    expect(trail[1]!.details).toMatchObject({ role: 'technical', decision: 'approve', via: 'update', model: MODEL, version });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
});
