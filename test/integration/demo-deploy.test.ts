/**
 * The demo's deployment paths as a user runs them (examples/flight-delay/demo/main.ts), in child
 * processes on a fresh embedded stack: `npm run demo:deploy` signs off a release (after a first
 * one goes to production), and the release's canary promotes it while real flights are replayed
 * through the scorer, with no request failing; `npm run demo:rollback` deploys an inverted copy of
 * production and the analysis rolls it back, the reason printed and the scorer still answering
 * with production.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { firstFreePort } from '../../src/platform/ports.js';
import { runDemo, runSteward } from '../support/processes.js';

describe('the demo --deploy and --rollback (npm run demo:deploy, demo:rollback)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-demo-deploy-'));
    const port = (await firstFreePort(20_000 + Math.floor(Math.random() * 20_000)))!;
    env = {
      STEWARD_HOME: home,
      STEWARD_TEMPORAL_CLI: inject('temporalCli'),
      STEWARD_TEMPORAL_PORT: String(port),
      STEWARD_TEMPORAL_UI_PORT: String((await firstFreePort(port + 200))!),
      STEWARD_SCORER_PORT: String((await firstFreePort(port + 400))!),
      STEWARD_TASK_QUEUE: 'demo-deploy-test',
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      STEWARD_SCORER_URL: '',
    };
  });
  afterAll(async () => {
    await runSteward(['server', 'stop'], env);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('deploys a signed-off release as a canary under replayed flights and promotes it', async () => {
    const { code, output } = await runDemo(['--deploy', '--rows', '6000'], env);
    expect(code, output).toBe(0);
    expect(output).toMatch(/nothing is in production yet, so this release is signed off and deployed first/);
    expect(output).toMatch(/✓ demo-technical approved as technical/);
    expect(output).toMatch(/Production: flight-delay v1 \(released by release-flight-delay-\w+\)/);
    expect(output).toMatch(/✓ canary 5% after [\d.]+ s — v2: \d+ req, 0\.0% err/);
    expect(output).toMatch(/✓ canary 25% after/);
    expect(output).toContain('✓ Promoted: production moved to v2 from v1');
    expect(output).toMatch(/[\d,]+ requests replayed during the deployment, 0 failed/);
    expect(output).toContain('audit trail: started -> traffic -> analysis -> traffic -> analysis -> promoted');
  }, 600_000);

  it('deploys a deliberately broken candidate and rolls it back automatically, saying why', async () => {
    const { code, output } = await runDemo(['--json', '--rollback', '--rows', '6000'], env);
    expect(code, output).toBe(0);
    const report = JSON.parse(output.slice(output.indexOf('{')));
    expect(report).toMatchObject({ path: 'rollback', baseline: { version: 2 }, candidate: 3, failedRequests: 0, result: { status: 'rolled_back' } });
    // The inverted scores fail the distribution check; on a loaded machine the latency check may fail too, first.
    expect(report.result.rollbackReason).toMatch(/^analysis of "canary 10%" failed: (p99 [^;]+; limit [^;]+; )?Jensen-Shannon distance 0\.\d+ between the score distributions/);
    expect(report.audit.map((a: { action: string }) => a.action)).toEqual(['deployment.started', 'deployment.traffic', 'deployment.analysis', 'deployment.rolled_back']);

    // The CLI reads the same story back from Temporal, without the database.
    const status = await runSteward(['deploy', 'status', 'flight-delay'], env);
    expect(status.code, status.output).toBe(0);
    expect(status.output).toContain(`Deployment ${report.deploymentId}: rolled back. rolled back to v2`);
    expect(status.output).toContain('routing now {"strategy":"single","version":2}');
    const list = await runSteward(['deploy', 'list'], env);
    expect(list.output.trim().split('\n').map((l) => l.split(/\s+/)[1])).toEqual(['rolled_back', 'promoted', 'promoted']);
  }, 600_000);
});
