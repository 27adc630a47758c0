/**
 * `steward models ...` and `steward runs ...` as a user runs them: the real `steward` binary in a
 * child process against an embedded PGlite database seeded through the registry's own functions
 * (two training runs, two versions, an approval, an alias). Every command's `--json` output is
 * parsed and checked, and so are the refusals: their exit code, their JSON error and their
 * human-readable message, and that they left the registry unchanged. No Temporal is needed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { ingestions } from '../../src/db/schema.js';
import { setAlias } from '../../src/registry/aliases.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { recordTrainingRun } from '../../src/registry/runs.js';
import { stewardBin } from '../support/processes.js';
import { artifactUri, fullMetadata, hex, registerSample } from '../support/registry-fixtures.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Each command is a fresh Node process compiling TypeScript through tsx: generous limits for busy machines.
describe('steward models and steward runs', { timeout: 600_000 }, () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const runIds: { v1: string; v2: string } = { v1: '', v2: '' };

  /** Runs the CLI to completion, keeping stdout (where --json goes) apart from stderr. */
  function steward(...args: string[]): Promise<CliResult> {
    return stewardWith({}, ...args);
  }
  function stewardWith(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
    const child = spawn(process.execPath, [stewardBin, ...args], { env: { ...process.env, ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  /** `steward --json ...` that must succeed; returns the parsed output. */
  async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const result = await steward('--json', ...args);
    expect(result.code, `${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  }

  /** `steward --json ...` that must fail; returns the parsed error after checking the exit code. */
  async function jsonError(...args: string[]): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
    const result = await steward('--json', ...args);
    expect(result.code, `${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(1);
    return (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;
  }

  const historyLength = async () => (await json<{ events: unknown[] }>('models', 'history', 'flight-delay')).events.length;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-registry-cli-'));
    env = { STEWARD_HOME: home, DATABASE_URL: '', TEMPORAL_ADDRESS: '' };
    // Seeded in this process, then closed: the embedded database admits one process at a time.
    const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
    try {
      const db = handle.db;
      await db.insert(ingestions).values({ id: 'ing-1', dataset: 'flights', source: 'vega:flights-3m.parquet', contentHash: hex('c1'), rows: 20_000 });
      for (const [n, C, auc] of [
        [1, 1, 0.7],
        [2, 0.05, 0.72],
      ] as const) {
        const workflowId = `train-flight-delay-${n}`;
        runIds[`v${n}`] = await recordTrainingRun(db, {
          key: `${workflowId}/register`,
          experiment: 'flight-delay',
          workflowId,
          params: { C, trees: 20 },
          metrics: { rocAuc: auc, logLoss: 0.5 },
          trainingSet: { uri: artifactUri('d1'), sha256: hex('d1'), ingestionId: 'ing-1' },
          artifacts: [artifactUri(`a${n}`)],
          algorithm: 'logistic-regression',
        });
        await registerSample(db, 'flight-delay', `a${n}`, {
          runId: workflowId,
          trainingSetUri: artifactUri('d1'),
          metrics: { rocAuc: auc },
          description: `Version ${n}.`,
          metadata: n === 1 ? fullMetadata() : {},
        });
      }
      for (const [to, actor] of [
        ['validated', 'ci'],
        ['pending_approval', 'ci'],
        ['approved', 'grace'],
      ] as const) {
        await transitionModelVersion(db, { modelName: 'flight-delay', version: 1, to, actor, reason: `review: ${to}`, workflowId: 'gate-1' });
      }
      await setAlias(db, { modelName: 'flight-delay', alias: 'champion', version: 1, actor: 'grace', reason: 'approved in review' });
    } finally {
      await handle.close();
    }
  });
  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('lists models, shows a model and a version by number or alias, and lists versions', async () => {
    expect(await json('models', 'list')).toEqual({
      models: [{ name: 'flight-delay', versions: 2, latestVersion: 2, latestStatus: 'registered', aliases: { champion: 1 } }],
    });

    const shown = await json<{ model: string; versions: Array<{ version: number; status: string; aliases: string[]; runId: string }> }>('models', 'show', 'flight-delay');
    expect(shown.model).toBe('flight-delay');
    expect(shown.versions.map((v) => [v.version, v.status, v.aliases, v.runId])).toEqual([
      [1, 'approved', ['champion'], 'train-flight-delay-1'],
      [2, 'registered', [], 'train-flight-delay-2'],
    ]);

    const champion = await json<Record<string, unknown>>('models', 'show', 'flight-delay@champion');
    expect(champion).toMatchObject({
      modelName: 'flight-delay',
      version: 1,
      status: 'approved',
      aliases: ['champion'],
      artifactUri: artifactUri('a1'),
      metrics: { rocAuc: 0.7 },
      description: 'Version 1.',
      metadata: { owner: 'ops-analytics', fairness: { referenceGroup: 'large hub' } },
    });
    expect(await json('models', 'show', 'flight-delay@1')).toEqual(champion);

    const versions = await json<{ versions: Array<{ version: number; status: string }> }>('models', 'versions', 'flight-delay');
    expect(versions.versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'approved'],
      [2, 'registered'],
    ]);
  });

  it('sets, moves and unsets aliases, recording each move with its actor in the history; champion moves only onto an approved version', async () => {
    expect(await json('models', 'alias', 'set', 'flight-delay', 'challenger', '2', '--reason', 'shadow traffic', '--actor', 'ada')).toEqual({
      modelName: 'flight-delay',
      alias: 'challenger',
      version: 2,
      previous: null,
      changed: true,
    });
    expect(await json('models', 'alias', 'set', 'flight-delay', 'challenger', '2', '--reason', 'retry', '--actor', 'ada')).toMatchObject({ changed: false });

    // champion is protected: v2 was never approved, so it stays on v1, and the user is told how to get v2 approved.
    const notApproved =
      'flight-delay v2 is registered, not approved: only a version approved through a sign-off can be champion (a protected alias). ' +
      'A version is approved through the sign-off of a release pipeline (e.g. `steward run release-<model>`), where reviewers decide with `steward approvals list` and `steward approvals approve <id> --role <role>`.';
    const refused = await steward('models', 'alias', 'set', 'flight-delay', 'champion', '2', '--reason', 'better auc', '--actor', 'grace');
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([1, '', `error: ${notApproved}\n`]);
    expect(await jsonError('models', 'alias', 'set', 'flight-delay', 'production', '2', '--reason', 'ship it', '--actor', 'grace')).toEqual({
      code: 'ALIAS_PROTECTED',
      message: notApproved.replace('can be champion', 'can be production'),
      details: { model: 'flight-delay', version: 2, alias: 'production', status: 'registered' },
    });
    // A project's own protected alias, declared in STEWARD_PROTECTED_ALIASES, is held to the same rule.
    const staging = await stewardWith({ STEWARD_PROTECTED_ALIASES: 'staging, canary' }, 'models', 'alias', 'set', 'flight-delay', 'staging', '2', '--reason', 'try it', '--actor', 'ada');
    expect([staging.code, staging.stderr]).toEqual([1, `error: ${notApproved.replace('can be champion', 'can be staging')}\n`]);
    expect((await json<{ aliases: string[] }>('models', 'show', 'flight-delay@champion')).aliases).toEqual(['champion']);
    expect((await json<{ version: number }>('models', 'show', 'flight-delay@champion')).version).toBe(1);
    // Each refusal is in the audit trail, with who tried and why it was refused.
    const { entries } = await json<{ entries: Array<{ action: string; actor: string; details: { alias: string; refusal: string } }> }>('audit', 'show', '--model', 'flight-delay@2');
    expect(entries.filter((e) => e.action === 'model.alias_refused').map((e) => [e.actor, e.details.alias, e.details.refusal === notApproved.replace('can be champion', `can be ${e.details.alias}`)])).toEqual([
      ['grace', 'champion', true],
      ['grace', 'production', true],
      ['ada', 'staging', true],
    ]);

    // Nobody approves a version by hand from the CLI: only a sign-off does.
    for (const to of ['validated', 'pending_approval']) await json('models', 'transition', 'flight-delay', '2', to, '--reason', `review: ${to}`, '--actor', 'grace');
    const byHand = await jsonError('models', 'transition', 'flight-delay', '2', 'approved', '--reason', 'trust me', '--actor', 'grace');
    expect(byHand.code).toBe('VALIDATION_FAILED');
    expect(byHand.message).toContain('A version becomes approved only through a sign-off, never by hand');
    expect((await json<{ status: string }>('models', 'show', 'flight-delay@2')).status).toBe('pending_approval');
    // Once v2 is approved (here by the registry's own function, standing in for its sign-off's gate), champion moves.
    const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
    try {
      await transitionModelVersion(handle.db, { modelName: 'flight-delay', version: 2, to: 'approved', actor: 'grace', reason: 'review: approved' });
    } finally {
      await handle.close();
    }
    expect(await json('models', 'alias', 'set', 'flight-delay', 'champion', '2', '--reason', 'better auc', '--actor', 'grace')).toMatchObject({
      version: 2,
      previous: 1,
      changed: true,
    });
    expect(await json('models', 'alias', 'unset', 'flight-delay', 'challenger', '--reason', 'experiment over', '--actor', 'ada')).toEqual({
      modelName: 'flight-delay',
      alias: 'challenger',
      version: null,
      previous: 2,
      changed: true,
    });

    const { model, events } = await json<{ model: string; events: Array<Record<string, unknown>> }>('models', 'history', 'flight-delay');
    expect(model).toBe('flight-delay');
    expect(events.map((e) => [e.version, e.kind, e.alias, e.from, e.to, e.actor, e.reason, e.workflowId])).toEqual([
      [1, 'registered', null, null, 'registered', 'steward', 'Registered by run train-flight-delay-1', 'train-flight-delay-1'],
      [2, 'registered', null, null, 'registered', 'steward', 'Registered by run train-flight-delay-2', 'train-flight-delay-2'],
      [1, 'transition', null, 'registered', 'validated', 'ci', 'review: validated', 'gate-1'],
      [1, 'transition', null, 'validated', 'pending_approval', 'ci', 'review: pending_approval', 'gate-1'],
      [1, 'transition', null, 'pending_approval', 'approved', 'grace', 'review: approved', 'gate-1'],
      [1, 'alias_set', 'champion', null, '1', 'grace', 'approved in review', null],
      [2, 'alias_set', 'challenger', null, '2', 'ada', 'shadow traffic', null],
      [2, 'transition', null, 'registered', 'validated', 'grace', 'review: validated', null],
      [2, 'transition', null, 'validated', 'pending_approval', 'grace', 'review: pending_approval', null],
      [2, 'transition', null, 'pending_approval', 'approved', 'grace', 'review: approved', null],
      [2, 'alias_set', 'champion', '1', '2', 'grace', 'better auc', null],
      [2, 'alias_unset', 'challenger', '2', null, 'ada', 'experiment over', null],
    ]);
    expect(events.every((e) => !Number.isNaN(Date.parse(e.at as string)))).toBe(true);

    const text = await steward('models', 'history', 'flight-delay');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/v2 {2}alias_set {3}@champion v1 -> v2 {2}by grace: better auc/);
  });

  it('renders the model card as Markdown in JSON, and as an HTML file', async () => {
    const card = await json<{ model: string; version: number; format: string; card: string }>('models', 'card', 'flight-delay@1');
    expect([card.model, card.version, card.format]).toEqual(['flight-delay', 1, 'markdown']);
    expect([...card.card.matchAll(/^## (.+)$/gm)].map((m) => m[1])).toEqual([
      'Overview',
      'Purpose',
      'Training data',
      'Features',
      'Metrics',
      'Fairness',
      'Behavioural checks',
      'Monitoring',
      'Lineage',
      'Approval history',
      'History',
    ]);
    expect(card.card).toContain('| pending_approval → approved | grace | review: approved | gate-1 |');
    expect(card.card).toContain(`    - training set ${artifactUri('d1')}`);
    expect(card.card).toContain('        - dataset vega:flights-3m.parquet');

    const out = path.join(home, 'card.html');
    expect(await json('models', 'card', 'flight-delay@champion', '--html', '--out', out)).toEqual({ model: 'flight-delay', version: 2, format: 'html', out });
    const html = fs.readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Model card: flight-delay v2</title>');
    expect(html).toContain('No fairness report was recorded for this version.');
  });

  it('lists, shows and compares runs', async () => {
    const { runs } = await json<{ runs: Array<{ id: string; experiment: string; status: string }> }>('runs', 'list');
    expect(runs.map((r) => r.id).sort()).toEqual([runIds.v1, runIds.v2].sort());
    expect(runs.every((r) => r.experiment === 'flight-delay' && r.status === 'finished')).toBe(true);
    expect((await json<{ runs: unknown[] }>('runs', 'list', '--experiment', 'nothing-here')).runs).toEqual([]);

    expect(await json('runs', 'show', runIds.v1)).toMatchObject({
      id: runIds.v1,
      experiment: 'flight-delay',
      status: 'finished',
      params: { C: 1, trees: 20 },
      metrics: { rocAuc: 0.7, logLoss: 0.5 },
      tags: { algorithm: 'logistic-regression' },
      artifacts: [artifactUri('a1')],
      trainingSetUri: artifactUri('d1'),
      ingestionId: 'ing-1',
      workflowId: 'train-flight-delay-1',
      series: {},
    });

    const comparison = await json<{ a: { id: string }; b: { id: string }; params: unknown[]; metrics: Array<{ key: string; delta: number | null }> }>(
      'runs',
      'compare',
      runIds.v1,
      runIds.v2,
    );
    expect([comparison.a.id, comparison.b.id]).toEqual([runIds.v1, runIds.v2]);
    expect(comparison.params).toEqual([
      { key: 'C', a: 1, b: 0.05, same: false },
      { key: 'trees', a: 20, b: 20, same: true },
    ]);
    expect(comparison.metrics.map((m) => [m.key, m.delta === null ? null : Number(m.delta.toFixed(6))])).toEqual([
      ['logLoss', 0],
      ['rocAuc', 0.02],
    ]);
  });

  it('refuses an alias to a missing version, an illegal transition and bad names, with exit code 1, and changes nothing', async () => {
    const before = await historyLength();

    expect(await jsonError('models', 'alias', 'set', 'flight-delay', 'champion', '9', '--reason', 'typo')).toEqual({
      code: 'NOT_FOUND',
      message: 'Model "flight-delay" has no version 9 (its latest is 2).',
      details: { model: 'flight-delay', version: 9 },
    });
    const plain = await steward('models', 'alias', 'set', 'flight-delay', 'champion', '9', '--reason', 'typo');
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([1, '', 'error: Model "flight-delay" has no version 9 (its latest is 2).\n']);

    expect(await jsonError('models', 'transition', 'flight-delay', '2', 'registered', '--reason', 'start over')).toMatchObject({
      code: 'CONFLICT',
      message: 'Model "flight-delay" version 2 cannot move from approved to registered; from approved it can move to: deployed, archived.',
    });
    for (const name of ["x'; drop table model_versions; --", '../etc/passwd']) {
      expect(await jsonError('models', 'versions', name)).toEqual({
        code: 'VALIDATION_FAILED',
        message: `Model name "${name}" must be lowercase letters, digits and dashes, starting with a letter (at most 63).`,
        details: { name },
      });
    }
    expect((await jsonError('models', 'alias', 'set', 'flight-delay', 'Champion!', '1', '--reason', 'x')).message).toBe(
      'Alias "Champion!" must be lowercase letters, digits and dashes, starting with a letter (at most 63), e.g. champion.',
    );
    expect((await jsonError('models', 'alias', 'set', 'flight-delay', 'champion', 'two', '--reason', 'x')).message).toBe('Version "two" is not a version number (1, 2, ...).');
    expect((await jsonError('models', 'show', 'flight-delay@')).message).toBe('"flight-delay@" names no version or alias after "@": use <model>@<version> or <model>@<alias>.');
    expect(await jsonError('runs', 'show', 'no-such-run')).toMatchObject({ code: 'NOT_FOUND', message: 'No experiment run no-such-run.' });

    const noReason = await steward('models', 'alias', 'set', 'flight-delay', 'champion', '1');
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("error: required option '--reason <text>' not specified");

    // Every refusal came before a write: the history (which every change appends to) did not grow.
    expect(await historyLength()).toBe(before);
  });
});
