/**
 * The `steward` command as a new user meets it: the demo brings up the embedded stack (a detached
 * Temporal dev server persisted under STEWARD_HOME), runs twice, survives a server restart, and
 * `steward dev` serves the API (a reviewer approves the demo's release there from the CLI) and
 * stops cleanly on SIGTERM.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { firstFreePort } from '../../src/platform/ports.js';
import { runSteward, spawnSteward, waitForOutput } from '../support/processes.js';

describe('steward CLI on the embedded stack', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let blocker: net.Server;
  let preferredPort: number;
  let runId: string;
  let release: { runId: string; approvalId: string; required: Record<string, number>; reviewers: Array<{ role: string; principal: string; token: string }> };

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-'));
    preferredPort = (await firstFreePort(20_000 + Math.floor(Math.random() * 20_000)))!;
    // Another program holds the preferred gRPC port: Steward must pick a free one and say so.
    blocker = net.createServer().listen(preferredPort, '127.0.0.1');
    const uiPort = (await firstFreePort(preferredPort + 200))!;
    const apiPort = (await firstFreePort(uiPort + 200))!;
    env = {
      STEWARD_HOME: home,
      STEWARD_TEMPORAL_CLI: inject('temporalCli'),
      STEWARD_TEMPORAL_PORT: String(preferredPort),
      STEWARD_TEMPORAL_UI_PORT: String(uiPort),
      STEWARD_API_PORT: String(apiPort),
      STEWARD_TASK_QUEUE: 'cli-test',
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
    };
  });
  afterAll(async () => {
    await runSteward(['server', 'stop'], env);
    blocker?.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('runs the demo end to end, picking a free port when the preferred one is taken', async () => {
    const { code, output } = await runSteward(['demo', '--rows', '5000'], env);
    expect(code, output).toBe(0);
    expect(output).toContain(`Port ${preferredPort} (Temporal gRPC) is in use by another program; using`);
    expect(output).toMatch(/Temporal\s+started 127\.0\.0\.1:\d+/);
    expect(output).toMatch(/✓ ingest\s+completed .* rows=5000 reused=false/);
    expect(output).toMatch(/✓ summarize .* flights=5000/);
    expect(output).toContain('Ingested 5,000 flights as flights-');
    expect(output).toMatch(/Temporal UI\s+http:\/\/localhost:\d+\/namespaces\/default\/workflows\/flight-delay-summary-/);
    expect(output).toMatch(/✓ trainBoosted\s+completed .*\[after trainingSet\]/);
    expect(output).toMatch(/Registered flight-delay v1 \((logistic-regression|gradient-boosting)\): artifact:\/\/sha256\//);
    runId = /Run status\s+npx steward status (flight-delay-summary-\S+)/.exec(output)![1]!;
    // The release path stops at its governed sign-off and says how to decide.
    expect(output).toMatch(/Waiting for sign-off: approval apr-[0-9a-f]{12} on flight-delay v1/);
    expect(output).toMatch(/npx steward approvals approve apr-[0-9a-f]{12} --role technical/);
  });

  it('runs the demo again on the same stack, reusing the server and every cached step of both pipelines', async () => {
    const { code, output } = await runSteward(['--json', 'demo', '--rows', '5000'], env);
    expect(code, output).toBe(0);
    const demo = JSON.parse(output.slice(output.indexOf('{')));
    expect(demo.temporal.origin).toBe('reused');
    expect(demo.runs.map((r: { status: string }) => r.status)).toEqual(['COMPLETED', 'COMPLETED']);
    for (const run of demo.runs) expect(run.state.steps.every((s: { cached: boolean }) => s.cached)).toBe(true);
    // The release already waiting for sign-off is reused, not opened twice.
    release = demo.release;
    expect(release).toMatchObject({ status: 'WAITING_FOR_APPROVAL', model: { name: 'flight-delay', version: 1 } });
    expect(release.required.technical).toBe(1);
    expect(release.reviewers.map((r) => r.role).sort()).toEqual(Object.keys(release.required).sort());
  });

  it('shows a finished run with its steps, with no worker running', async () => {
    const { code, output } = await runSteward(['status', runId], env);
    expect(code, output).toBe(0);
    expect(output).toContain(`Run ${runId} (pipeline flight-delay-summary): COMPLETED`);
    expect(output).toMatch(/✓ ingest\s+completed/);
    expect(output).toMatch(/✓ summarize\s+completed .*\[after ingest\]/);
  });

  it('keeps runs across a restart of the dev server (SQLite persisted under STEWARD_HOME)', async () => {
    expect((await runSteward(['server', 'stop'], env)).output).toContain('Temporal dev server stopped.');
    const down = await runSteward(['status', runId], env);
    expect(down.code).toBe(1);
    expect(down.output).toContain('No Temporal server is running. Start the embedded stack with `steward dev`');
    expect((await runSteward(['server', 'start'], env)).code).toBe(0);
    const { code, output } = await runSteward(['--json', 'status', runId], env);
    expect(code, output).toBe(0);
    expect(JSON.parse(output)).toMatchObject({ runId, status: 'COMPLETED', pipeline: 'flight-delay-summary' });
  });

  it('answers an unknown run id with a clear error', async () => {
    const { code, output } = await runSteward(['status', 'no-such-run'], env);
    expect(code).toBe(1);
    expect(output).toContain('No run with id "no-such-run".');
  });

  it('serves the HTTP API under `steward dev`, runs pipelines through it, and stops cleanly on SIGTERM', async () => {
    const dev = spawnSteward(['dev'], env);
    await waitForOutput(dev, /HTTP API\s+http:\/\/[\d.]+:\d+/);
    const api = /HTTP API\s+(http:\/\/[\d.]+:\d+)/.exec(dev.output())![1]!;
    try {
      const health = await fetch(`${api}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', temporal: 'default', database: 'pglite' });

      // Every API route but /health needs a principal.
      const anonymous = await fetch(`${api}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'flight-delay-summary' }) });
      expect(anonymous.status).toBe(401);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${release.reviewers[0]!.token}` };
      const refused = await fetch(`${api}/api/runs`, { method: 'POST', headers, body: JSON.stringify({ pipeline: 'nope' }) });
      expect(refused.status).toBe(404);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('Unknown pipeline "nope"');

      const started = await fetch(`${api}/api/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ pipeline: 'flight-delay-summary', params: { rows: 1000 } }),
      });
      expect(started.status).toBe(202);
      const { runId: apiRun } = (await started.json()) as { runId: string };
      let report: { status: string } = { status: 'RUNNING' };
      for (let i = 0; i < 100 && report.status === 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 200));
        report = (await (await fetch(`${api}/api/runs/${apiRun}`, { headers })).json()) as { status: string };
      }
      expect(report.status).toBe('COMPLETED');

      // While `steward dev` holds the embedded database, `steward run` goes through its worker.
      const viaCli = await runSteward(['run', 'flight-delay-summary', '--param', 'rows=1000', '--wait'], env);
      expect(viaCli.code, viaCli.output).toBe(0);
      expect(viaCli.output).toMatch(/COMPLETED/);

      // Each demo reviewer approves from the CLI, which finds the API `steward dev` started.
      for (const reviewer of release.reviewers) {
        const decided = await runSteward(['approvals', 'approve', release.approvalId, '--role', reviewer.role, '--comment', 'reviewed in the CLI test'], { ...env, STEWARD_TOKEN: reviewer.token });
        expect(decided.code, decided.output).toBe(0);
        expect(decided.output).toMatch(/^Accepted: 1 of 1 /m);
      }
      let status = '';
      for (let i = 0; i < 100 && !status.includes('COMPLETED'); i++) {
        await new Promise((r) => setTimeout(r, 300));
        status = (await runSteward(['status', release.runId], env)).output;
      }
      expect(status).toMatch(/✓ promote\s+completed .*alias=champion changed=true/);
      // Then the release deploys it to the scorer `steward dev` hosts: the first deployment, so straight to production.
      expect(status).toMatch(/✓ deploy\s+completed .*status=promoted/);
      const ready = await fetch(`${/Scorer\s+(http:\/\/[\d.]+:\d+)/.exec(dev.output())![1]}/v2/models/flight-delay/ready`);
      expect(ready.status).toBe(200);
    } finally {
      dev.child.kill('SIGTERM');
    }
    const exit = await dev.exited;
    expect(exit.code, dev.output()).toBe(0);
  });
});
