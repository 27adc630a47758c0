/**
 * npm run bench:approvals
 *
 * Latency from an approval decision to the next pipeline step starting, over 100 governed gates
 * on the Temporal dev server with PGlite: each run opens a gate (policy: 1 technical reviewer),
 * a reviewer decides through the same path the CLI and the web page use (a single-use code, then
 * the `decide` Update, whose handler verifies the code in an activity), and the run's next step
 * starts. Prints p50/p99 of:
 *   - decision round trip: submitDecision called -> the gate's answer received,
 *   - decision -> next step: submitDecision called -> the `release` step started (workflow time).
 * Baseline in the same run: the same pipeline with an open gate (no policy, no proof), decided by a
 * bare Update. Figures are printed, never asserted: these machines are shared.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { createActivities } from '../activities/index.js';
import type { RunPipelineResult } from '../src/contracts.js';
import { openDatabase } from '../src/db/client.js';
import { listApprovals } from '../src/governance/approvals.js';
import { submitDecision } from '../src/governance/decisions.js';
import { createPrincipal } from '../src/governance/identity.js';
import { findPipeline } from '../src/pipeline/catalog.js';
import { approvalGate, definePipeline, output } from '../src/pipeline/definition.js';
import { startRun } from '../src/pipeline/runs.js';
import { defineStep } from '../src/pipeline/step.js';
import { createLogger } from '../src/platform/logger.js';
import { workflowBundleFor } from '../src/app/worker.js';
import { LocalArtifactStore } from '../src/artifacts/index.js';
import { startLocalTemporal } from './support/local-temporal.js';

const GATES = Number(process.env.BENCH_GATES ?? 100);
const echo = defineStep({
  name: 'echo',
  input: z.object({ value: z.unknown() }),
  output: z.object({ value: z.unknown() }),
  run: async (input) => ({ value: input.value }),
});
const none = z.object({});
const candidate = echo.step('candidate', { value: 'm' }, { cache: false });
const benchPipelines = [
  definePipeline({
    name: 'bench-governed',
    params: none,
    steps: [
      candidate,
      approvalGate('signoff', { subject: { candidate: candidate.output.value }, policy: { roles: { technical: 1 }, deadline: '1 hour' } }),
      echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
    ],
  }),
  definePipeline({
    name: 'bench-open',
    params: none,
    steps: [
      candidate,
      approvalGate('signoff', { subject: { candidate: candidate.output.value }, timeout: '1 hour' }),
      echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
    ],
  }),
];

const logger = createLogger('warn');
const env = await startLocalTemporal(logger);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-approvals-'));
const database = await openDatabase({ url: process.env.DATABASE_URL, pgliteDir: path.join(scratch, 'pglite') });
const db = database.db;
const worker = await Worker.create({
  connection: await NativeConnection.connect({ address: env.address }),
  taskQueue: 'bench-approvals',
  workflowBundle: await workflowBundleFor(path.join(scratch, 'cache'), logger),
  activities: createActivities({
    db,
    artifacts: new LocalArtifactStore(path.join(scratch, 'artifacts')),
    pipelines: benchPipelines,
  }),
});
const running = worker.run();

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

try {
  const client = env.client;
  const reviewer = await createPrincipal(db, { name: 'rev', roles: ['technical'], actor: 'bench' });
  const results: Record<string, { roundTrip: number[]; toNextStep: number[] }> = { governed: { roundTrip: [], toNextStep: [] }, open: { roundTrip: [], toNextStep: [] } };

  async function waitingGate(runId: string, governed: boolean): Promise<string> {
    for (;;) {
      if (governed) {
        const row = (await listApprovals(db)).find((a) => a.workflowId === runId);
        if (row) return row.id;
      } else {
        const gates = await client.workflow.getHandle(runId).query<Array<{ status: string }>>('approvals');
        if (gates.some((g) => g.status === 'waiting')) return runId;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  for (let i = 0; i < GATES * 2; i++) {
    const governed = i % 2 === 0; // interleaved, so both see the same machine
    const pipeline = findPipeline(benchPipelines, governed ? 'bench-governed' : 'bench-open');
    const { runId } = await startRun(client, 'bench-approvals', pipeline, {});
    const approvalId = await waitingGate(runId, governed);
    const handle = client.workflow.getHandle(runId);
    const sent = Date.now();
    if (governed) await submitDecision(db, client, { approvalId, principal: reviewer, role: 'technical', decision: 'approve' });
    else await handle.executeUpdate('decide', { args: [{ gate: 'signoff', decision: 'approve', reviewer: 'rev' }] });
    const answered = Date.now();
    const result = (await handle.result()) as RunPipelineResult;
    const release = result.steps.find((s) => s.name === 'release')!;
    const bucket = results[governed ? 'governed' : 'open']!;
    bucket.roundTrip.push(answered - sent);
    bucket.toNextStep.push(Date.parse(release.startedAt!) - sent);
    if ((i + 1) % 40 === 0) process.stderr.write(`  ${(i + 1) / 2} of ${GATES} gates of each kind\n`);
  }

  console.log(`\nApproval latency over ${GATES} gates of each kind (dev server, ${database.driver}):`);
  for (const [kind, r] of Object.entries(results)) {
    console.log(`  ${kind.padEnd(8)} decision round trip p50 ${fmt(quantile(r.roundTrip, 0.5))}  p99 ${fmt(quantile(r.roundTrip, 0.99))}   decision -> next step p50 ${fmt(quantile(r.toNextStep, 0.5))}  p99 ${fmt(quantile(r.toNextStep, 0.99))}`);
  }
  const g = results.governed!;
  const o = results.open!;
  console.log(
    `  ratio governed/open: decision -> next step p50 ${(quantile(g.toNextStep, 0.5) / quantile(o.toNextStep, 0.5)).toFixed(2)}x, p99 ${(quantile(g.toNextStep, 0.99) / quantile(o.toNextStep, 0.99)).toFixed(2)}x`,
  );
  console.log('  (governed = code issued + Update + verification activity + audit entry; open = a bare Update with no proof)');
} finally {
  worker.shutdown();
  await running;
  await database.close();
  await env.teardown();
  fs.rmSync(scratch, { recursive: true, force: true });
}
