/**
 * Records the histories of representative runs of every pipeline (and of the executor's step kinds)
 * as replay fixtures. test/unit/workflows/replay.test.ts replays them against the current workflow
 * code: a change that would break runs already started fails there, and must go behind patched().
 *
 *   npm run fixtures:histories -- <generation>     (e.g. v3-new-step-kind)
 *
 * Each generation is a folder. Record a new one for a deliberate, patched() change and keep the
 * old ones: runs started before the change must keep replaying.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import proto from '@temporalio/proto';
import { pipelines, rootProject } from '../test/support/projects.js';
import { openDatabase } from '../src/db/client.js';
import { findPipeline } from '../src/pipeline/catalog.js';
import { startRun } from '../src/pipeline/runs.js';
import { createLogger } from '../src/platform/logger.js';
import { createWorker } from '../src/app/worker.js';
import { LocalArtifactStore } from '../src/artifacts/index.js';
import { testPipelines } from '../test/support/test-pipelines.js';
import { startLocalTemporal } from '../bench/support/local-temporal.js';

const generation = process.argv[2];
if (!generation || !/^v\d+-[a-z0-9-]+$/.test(generation)) {
  console.error('usage: npm run fixtures:histories -- v<N>-<what-changed>   (a new folder under test/fixtures/histories)');
  process.exit(2);
}
const out = path.resolve('test/fixtures/histories', generation);
fs.mkdirSync(out, { recursive: true });
const logger = createLogger('info');
const env = await startLocalTemporal(logger);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-record-'));
const database = await openDatabase({ url: undefined, pgliteDir: path.join(scratch, 'pglite') });
const catalog = [...pipelines, ...testPipelines];
const worker = await createWorker({
  address: env.address,
  namespace: 'default',
  taskQueue: 'record',
  activities: {
    db: database.db,
    artifacts: new LocalArtifactStore(path.join(scratch, 'artifacts')),
    // The test pipelines' typed steps are registered with them.
    pipelines: catalog,
    // The flight example's feature definitions, which its pipelines apply and read.
    features: rootProject.features,
  },
  logger,
  logLevel: 'warn',
});
const running = worker.run();

/** Saved as <workflowId>.binpb: replay needs the original id, from which child workflow ids derive. */
async function saveHistory(workflowId: string) {
  // Binary protobuf: exact, and independent of which protobufjs copy would do JSON conversion.
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  fs.writeFileSync(path.join(out, `${workflowId}.binpb`), proto.temporal.api.history.v1.History.encode(history).finish());
  logger.info(`recorded ${workflowId}`);
}

async function record(name: string, pipeline: string, params: Record<string, unknown>, drive?: (runId: string) => Promise<void>) {
  const { runId } = await startRun(env.client, 'record', findPipeline(catalog, pipeline), params, { runId: `fixture-${name}` });
  const handle = env.client.workflow.getHandle(runId);
  await drive?.(runId);
  await handle.result().catch(() => undefined);
  await saveHistory(runId);
}

const waitForGate = async (runId: string) => {
  const handle = env.client.workflow.getHandle(runId);
  for (let i = 0; i < 100 && (await handle.query<unknown[]>('approvals')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
};

try {
  await record('flight-delay-summary', 'flight-delay-summary', { rows: '2000' });
  await record('train-flight-delay', 'train-flight-delay', { rows: '20000' });
  await record('train-flight-delay-cached', 'train-flight-delay', { rows: '20000' });
  await record('diamond', 'diamond', { value: 'fixture' });
  await record('fails-fast', 'fails-fast', {});
  await record('flaky', 'flaky', {});
  await record('fan-out', 'fan-out', { n: '9' });
  await saveHistory('fixture-fan-out--squares--0');
  await record('parent', 'parent', {});
  await saveHistory('fixture-parent--child');
  await record('gated-approved', 'gated', {}, async (runId) => {
    await waitForGate(runId);
    await env.client.workflow.getHandle(runId).signal('decide', { gate: 'signoff', decision: 'maybe', reviewer: 'mallory' });
    await env.client.workflow.getHandle(runId).executeUpdate('decide', { args: [{ gate: 'signoff', decision: 'approve', reviewer: 'alice', comment: 'ok' }] });
  });
  await record('conditional-went', 'conditional', { go: 'go' });
  await record('conditional-stayed', 'conditional', { go: 'stop' });
  await record('long-cancelled', 'long', {}, async (runId) => {
    await new Promise((r) => setTimeout(r, 1_500));
    await env.client.workflow.getHandle(runId).cancel();
  });
} finally {
  worker.shutdown();
  await running;
  await database.close();
  await env.teardown();
  fs.rmSync(scratch, { recursive: true, force: true });
}
