/**
 * Stop and restart the Temporal dev server (its SQLite persisted to a file) while a run is in
 * flight: the worker reconnects, the run completes, and no finished step runs again. An approval
 * gate keeps waiting across a worker replacement and a restart, and takes a decision sent after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunPipelineResult } from '../../src/contracts.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { listApprovals } from '../../src/governance/approvals.js';
import { submitDecision } from '../../src/governance/decisions.js';
import { createPrincipal, listPrincipals } from '../../src/governance/identity.js';
import { firstFreePort } from '../../src/platform/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startTemporal, startTestWorker } from '../support/temporal.js';
import { resetStepLog, stepLog, testPipelines } from '../support/test-pipelines.js';

describe('Temporal dev server restart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-restart-'));
  let env: TestWorkflowEnvironment | undefined;
  let testDb: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  let stopWorker: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await stopWorker?.();
    await handle?.close();
    await testDb?.destroy();
    await env?.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes a run that was in flight when the server stopped', async () => {
    const port = (await firstFreePort(30_000 + Math.floor(Math.random() * 20_000)))!;
    const dbFilename = path.join(dir, 'temporal.db');
    env = await startTemporal({ dbFilename, port });
    testDb = await createTestDatabase('pglite');
    handle = await testDb.open();
    resetStepLog();
    const { worker, done } = await startTestWorker(env, handle.db, 'restart', { pipelines: testPipelines });
    stopWorker = async () => {
      worker.shutdown();
      await done;
    };
    const { runId } = await startRun(env.client, 'restart', findPipeline(testPipelines, 'survivor'), {});
    for (let i = 0; i < 100 && !stepLog.spans.has('during-restart'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stepLog.spans.has('during-restart')).toBe(true);

    await env.teardown();
    env = undefined;
    env = await startTemporal({ dbFilename, port });

    const result = (await env.client.workflow.getHandle(runId).result()) as RunPipelineResult;
    expect(result.outputs.after).toEqual({ value: 'during-restart' });
    expect(stepLog.calls.get(`${runId}/before`)).toBe(1);
    expect(stepLog.calls.get(`${runId}/after`)).toBe(1);
  });

  it('keeps an approval gate waiting across a worker replacement and a server restart; a decision sent afterwards lands', async () => {
    const port = (await firstFreePort(30_000 + Math.floor(Math.random() * 20_000)))!;
    const dbFilename = path.join(dir, 'temporal-gate.db');
    await stopWorker?.();
    await env?.teardown();
    env = await startTemporal({ dbFilename, port });
    if (!handle) {
      testDb = await createTestDatabase('pglite');
      handle = await testDb.open();
    }
    const db = handle.db;
    let worker = await startTestWorker(env, db, 'restart-gate', { pipelines: testPipelines });
    stopWorker = async () => {
      worker.worker.shutdown();
      await worker.done;
    };
    for (const name of ['rita', 'sam']) await createPrincipal(db, { name, roles: ['technical'], actor: 'test' });
    const { runId } = await startRun(env.client, 'restart-gate', findPipeline(testPipelines, 'governed'), {});
    let approvalId: string | undefined;
    for (let i = 0; i < 200 && !approvalId; i++) {
      approvalId = (await listApprovals(db)).find((a) => a.workflowId === runId)?.id;
      if (!approvalId) await new Promise((r) => setTimeout(r, 100));
    }
    const principal = async (name: string) => (await listPrincipals(db)).find((p) => p.name === name)!;
    expect((await submitDecision(db, env.client, { approvalId: approvalId!, principal: await principal('rita'), role: 'technical', decision: 'approve' })).message).toContain('1 of 2');

    // The worker goes away and the server restarts while the gate waits.
    await stopWorker();
    await env.teardown();
    env = undefined;
    env = await startTemporal({ dbFilename, port });
    worker = await startTestWorker(env, db, 'restart-gate', { pipelines: testPipelines });

    const answer = await submitDecision(db, env.client, { approvalId: approvalId!, principal: await principal('sam'), role: 'technical', decision: 'approve' });
    expect(answer.status).toBe('approved');
    const result = (await env.client.workflow.getHandle(runId).result()) as RunPipelineResult;
    expect(result.outputs.release).toEqual({ value: 'rita, sam' });
  });
});
