/**
 * The `steward` command as a new user meets it: the worked example's demo (`npm start`,
 * examples/flight-delay/demo/main.ts) brings up the embedded stack (a detached Temporal dev server
 * persisted under STEWARD_HOME), runs twice, the runs survive a server restart, and
 * `steward dev` serves the API (a reviewer approves the demo's release there from the CLI) and
 * stops cleanly on SIGTERM.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { firstFreePort } from '../../src/platform/ports.js';
import { runDemo, runSteward, spawnSteward, waitForOutput, type Spawned } from '../support/processes.js';

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
    const { code, output } = await runDemo(['--rows', '5000'], env);
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
    const { code, output } = await runDemo(['--json', '--rows', '5000'], env);
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
      // With a token, `steward run` starts through the API as the token's principal; a bad token starts nothing.
      const asReviewer = await runSteward(['run', 'flight-delay-summary', '--param', 'rows=1000', '--wait'], { ...env, STEWARD_TOKEN: release.reviewers[0]!.token });
      expect(asReviewer.code, asReviewer.output).toBe(0);
      expect(asReviewer.output).toMatch(/COMPLETED/);
      const forged = await runSteward(['run', 'flight-delay-summary', '--token', `stw_00000000_${'x'.repeat(43)}`], env);
      expect(forged.code).toBe(1);
      expect(forged.output).toContain('The API token is not known');

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

describe('steward CLI: run ids, --wait through a Temporal outage, approval codes for the plain temporal CLI', { timeout: 900_000 }, () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let worker: Spawned | undefined;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-wait-'));
    // A port other than Temporal's default, as a reviewer's or CI's stack often has.
    port = (await firstFreePort(21_000 + Math.floor(Math.random() * 19_000)))!;
    env = {
      STEWARD_HOME: home,
      STEWARD_TEMPORAL_CLI: inject('temporalCli'),
      STEWARD_TEMPORAL_PORT: String(port),
      STEWARD_TEMPORAL_UI_PORT: String((await firstFreePort(port + 300))!),
      STEWARD_TASK_QUEUE: 'cli-wait-test',
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: '',
    };
  });
  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await runSteward(['server', 'stop'], env);
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('refuses an over-long or malformed run id in one line, with no stack trace, before reaching Temporal', async () => {
    // No Temporal runs yet: the id is refused first, so the message is about the id.
    const long = 'a'.repeat(3000);
    const expected = `error: A run id is at most 200 characters; this one has 3,000 ("${'a'.repeat(24)}...").\n`;
    expect(await runSteward(['status', long], env)).toEqual({ code: 1, output: expected });
    expect(await runSteward(['run', 'flight-delay-summary', '--run-id', long, '--wait'], env)).toEqual({ code: 1, output: expected });
    const json = await runSteward(['--json', 'status', 'my run'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.output)).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'Run id "my run" has characters a run id may not have (" "): use letters, digits and . _ : @ - (at most 200), starting with a letter or a digit.', details: { runId: 'my run' } },
    });
  });

  it('keeps `run --wait` waiting through a Temporal outage and exits with the run\'s own outcome: 0 completed, 3 failed', async () => {
    const help = await runSteward(['run', '--help'], env);
    expect(help.output).toContain('Exit codes with --wait:');
    expect(help.output).toMatch(/^ {2}3 {4}the run failed/m);

    expect((await runSteward(['server', 'start'], env)).output).toContain(`127.0.0.1:${port}`);
    // No worker yet: the run waits for one, and the command waits for the run.
    const waiting = spawnSteward(['run', 'flight-delay-summary', '--param', 'rows=2000', '--wait'], env);
    await waitForOutput(waiting, /Waiting for run (flight-delay-summary-\S+)/, 120_000);
    const runId = /Waiting for run (flight-delay-summary-\S+)/.exec(waiting.output())![1]!;

    // Temporal goes away: the command says so and keeps waiting, instead of exiting 1.
    expect((await runSteward(['server', 'stop'], env)).output).toContain('Temporal dev server stopped.');
    await waitForOutput(waiting, new RegExp(`Temporal at 127\\.0\\.0\\.1:${port} is unreachable \\(.+\\)\\. Run ${runId} goes on`), 120_000);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(waiting.child.exitCode).toBeNull();

    // Temporal is back (its history persisted): the command resumes, and a worker runs the run to the end.
    expect((await runSteward(['server', 'start'], env)).output).toContain(`127.0.0.1:${port}`);
    await waitForOutput(waiting, /answers again \(unreachable for/, 300_000);
    worker = spawnSteward(['worker'], env);
    const done = await waiting.exited;
    expect(done.code, waiting.output()).toBe(0);
    expect(waiting.output()).toContain(`Run ${runId} (pipeline flight-delay-summary): COMPLETED`);

    // A run that really fails is the only non-zero outcome, with its own code.
    const failed = await runSteward(['run', 'flight-delay-summary', '--param', 'source=vega:no-such-file.parquet', '--wait'], env);
    expect(failed.code, failed.output).toBe(3);
    expect(failed.output).toMatch(/: FAILED/);
    expect(failed.output).toContain('vega-datasets has no file no-such-file.parquet');

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    worker = undefined;
  });

  it('prints an approval code\'s temporal command with --address (and --namespace), which reaches this Temporal on its non-default port', async () => {
    // A run waiting for a worker stands in for a release waiting at its gate; a stub of Steward's API issues the code.
    const started = await runSteward(['--json', 'run', 'flight-delay-summary', '--param', 'rows=1000'], env);
    expect(started.code, started.output).toBe(0);
    const { runId } = JSON.parse(started.output.slice(started.output.indexOf('{'))) as { runId: string };
    const api = http.createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.method === 'POST' && request.url === '/api/approvals/apr-0123456789ab/codes') {
        response.end(JSON.stringify({ code: 'dc-test-code', approvalId: 'apr-0123456789ab', principal: 'rita', role: 'technical', expiresAt: '2030-01-01T00:00:00.000Z' }));
      } else if (request.method === 'GET' && request.url === '/api/approvals/apr-0123456789ab') {
        response.end(JSON.stringify({ id: 'apr-0123456789ab', gate: 'signoff', workflowId: runId, pipeline: 'flight-delay-summary', status: 'waiting' }));
      } else {
        response.statusCode = 404;
        response.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no' } }));
      }
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(api.address() as net.AddressInfo).port}`;
    const reviewer = { ...env, STEWARD_API_URL: apiUrl, STEWARD_TOKEN: 'stw_test' };
    try {
      const payload = `'{"gate":"signoff","principal":"rita","role":"technical","decision":"approve","comment":"...","code":"dc-test-code"}'`;
      // The embedded dev server on its non-default port.
      const local = await runSteward(['approvals', 'code', 'apr-0123456789ab', '--role', 'technical'], reviewer);
      expect(local.code, local.output).toBe(0);
      const command = `temporal workflow signal --address 127.0.0.1:${port} --workflow-id ${runId} --name decide --input ${payload}`;
      expect(local.output).toContain(`  ${command}\n`);
      // TEMPORAL_ADDRESS and a namespace other than default are named too.
      const remote = await runSteward(['approvals', 'code', 'apr-0123456789ab', '--role', 'technical'], { ...reviewer, TEMPORAL_ADDRESS: 'temporal.internal:7443', TEMPORAL_NAMESPACE: 'ml-prod' });
      expect(remote.output).toContain(`  temporal workflow signal --address temporal.internal:7443 --namespace ml-prod --workflow-id ${runId} --name decide --input ${payload}\n`);
      const json = await runSteward(['--json', 'approvals', 'code', 'apr-0123456789ab', '--role', 'technical'], reviewer);
      expect(JSON.parse(json.output)).toMatchObject({ workflowId: runId, temporal: { address: `127.0.0.1:${port}`, namespace: 'default' }, command });

      // The printed command, run as printed (with the real temporal CLI), reaches this server and its workflow.
      const cli = inject('temporalCli');
      const ran = await new Promise<{ code: number; output: string }>((resolve) =>
        execFile('sh', ['-c', command.replace(/^temporal /, `'${cli}' `)], { env: { ...process.env, TEMPORAL_ADDRESS: '' } }, (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
        ),
      );
      expect(ran.code, ran.output).toBe(0);
      expect(ran.output).toMatch(/Signal workflow succeeded/i);
    } finally {
      api.close();
      await new Promise<void>((resolve) => execFile(inject('temporalCli'), ['workflow', 'terminate', '--address', `127.0.0.1:${port}`, '--workflow-id', runId, '--reason', 'test over'], () => resolve()));
    }
  });
});
