/**
 * The model registry's contract, held on both drivers: lifecycle transitions, aliases, the
 * append-only history, model cards, and the bad input registration refuses (non-finite metrics,
 * names that would break URLs or SQL, malformed card metadata).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { modelHistory, modelVersions } from '../../src/db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors.js';
import { auditTrail } from '../../src/audit/index.js';
import { grantAccess } from '../../src/governance/access.js';
import { createPrincipal, PermissionDeniedError } from '../../src/governance/identity.js';
import { AliasRefusedError, setAlias, unsetAlias, type SetAliasInput } from '../../src/registry/aliases.js';
import { modelHistoryOf } from '../../src/registry/history.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { listModels, listVersions, resolveModelRef } from '../../src/registry/lookup.js';
import { renderModelCard } from '../../src/registry/model-card.js';
import { registerModelVersion } from '../../src/registry/models.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { HOSTILE_TEXT, artifactUri, fullMetadata, hex, registerSample } from '../support/registry-fixtures.js';

const who = { actor: 'ada', reason: 'test' };

describeEachDriver('model registry contract', (driver) => {
  const db = useTestDatabase(driver);

  async function register(modelName: string, artifact: string, metrics: Record<string, number> = { auc: 0.71 }) {
    const { version } = await registerModelVersion(db.handle.db, {
      modelName,
      artifactUri: `artifact://sha256/${artifact.padEnd(64, '0')}`,
      artifactSha256: artifact.padEnd(64, '0'),
      trainingSetUri: 'artifact://sha256/'.padEnd(82, 'a'),
      metrics,
      signature: { inputs: [{ name: 'distance', type: 'float' }, { name: 'origin', type: 'string' }], outputs: ['label', 'probabilities'] },
      runId: `run-${modelName}-${artifact}`,
      algorithm: 'logistic-regression',
    });
    return version.version;
  }

  async function historyKinds(model: string) {
    return (await modelHistoryOf(db.handle.db, model)).map((e) => `${e.kind} v${e.version} ${e.from ?? '-'}>${e.to ?? '-'}`);
  }

  it('records one registered event per version, however often the same artifact is registered', async () => {
    const first = await register('idem', 'a1');
    const again = await register('idem', 'a1');
    const second = await register('idem', 'a2');
    expect([first, again, second]).toEqual([1, 1, 2]);
    const events = await modelHistoryOf(db.handle.db, 'idem');
    expect(events.map((e) => [e.kind, e.version, e.to, e.actor, e.workflowId])).toEqual([
      ['registered', 1, 'registered', 'steward', 'run-idem-a1'],
      ['registered', 2, 'registered', 'steward', 'run-idem-a2'],
    ]);
  });

  it('walks a version from registered to deployed, storing the status and every step with who and why', async () => {
    const v = await register('walk', 'b1');
    const steps = ['validated', 'pending_approval', 'approved', 'deployed'] as const;
    for (const [i, to] of steps.entries()) {
      await transitionModelVersion(db.handle.db, { modelName: 'walk', version: v, to, actor: `reviewer-${i}`, reason: `step ${i}`, workflowId: i === 2 ? 'gate-1' : undefined });
    }
    const [row] = await db.handle.db.select().from(modelVersions).where(eq(modelVersions.modelName, 'walk'));
    expect(row?.status).toBe('deployed');
    const events = await modelHistoryOf(db.handle.db, 'walk');
    expect(events.map((e) => [e.kind, e.from, e.to, e.actor, e.reason, e.workflowId])).toEqual([
      ['registered', null, 'registered', 'steward', 'Registered by run run-walk-b1', 'run-walk-b1'],
      ['transition', 'registered', 'validated', 'reviewer-0', 'step 0', null],
      ['transition', 'validated', 'pending_approval', 'reviewer-1', 'step 1', null],
      ['transition', 'pending_approval', 'approved', 'reviewer-2', 'step 2', 'gate-1'],
      ['transition', 'approved', 'deployed', 'reviewer-3', 'step 3', null],
    ]);
  });

  it('refuses illegal moves naming from, to and the allowed targets, and writes nothing', async () => {
    const v = await register('illegal', 'c1');
    const deploy = transitionModelVersion(db.handle.db, { modelName: 'illegal', version: v, to: 'deployed', ...who });
    await expect(deploy).rejects.toThrow(ConflictError);
    await expect(deploy).rejects.toThrow('Model "illegal" version 1 cannot move from registered to deployed; from registered it can move to: validated, rejected, archived.');

    await transitionModelVersion(db.handle.db, { modelName: 'illegal', version: v, to: 'archived', ...who });
    await expect(transitionModelVersion(db.handle.db, { modelName: 'illegal', version: v, to: 'validated', ...who })).rejects.toThrow(
      'Model "illegal" version 1 cannot move from archived to validated; archived is final.',
    );
    await expect(transitionModelVersion(db.handle.db, { modelName: 'illegal', version: v, to: 'live', ...who })).rejects.toThrow(
      'Unknown status "live": use one of registered, validated, pending_approval, approved, rejected, deployed, archived.',
    );
    expect(await historyKinds('illegal')).toEqual(['registered v1 ->registered', 'transition v1 registered>archived']);
    const [row] = await db.handle.db.select().from(modelVersions).where(eq(modelVersions.modelName, 'illegal'));
    expect(row?.status).toBe('archived');
  });

  it('lets only one of two concurrent identical transitions through', async () => {
    const v = await register('race', 'd1');
    const attempts = await Promise.allSettled(
      [1, 2].map((n) => transitionModelVersion(db.handle.db, { modelName: 'race', version: v, to: 'validated', actor: `bot-${n}`, reason: 'race' })),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const refused = attempts.find((a) => a.status === 'rejected');
    expect((refused as PromiseRejectedResult).reason.message).toMatch(/cannot move from validated to validated/);
    expect(await historyKinds('race')).toEqual(['registered v1 ->registered', 'transition v1 registered>validated']);
  });

  it('names the unknown model or version, and rejects bad names and empty actors or reasons', async () => {
    await register('known', 'e1');
    const ghost = transitionModelVersion(db.handle.db, { modelName: 'ghost', version: 1, to: 'validated', ...who });
    await expect(ghost).rejects.toThrow(NotFoundError);
    await expect(ghost).rejects.toThrow('Model "ghost" is not registered.');
    await expect(transitionModelVersion(db.handle.db, { modelName: 'known', version: 7, to: 'validated', ...who })).rejects.toThrow(
      'Model "known" has no version 7 (its latest is 1).',
    );
    await expect(transitionModelVersion(db.handle.db, { modelName: 'Known', version: 1, to: 'validated', ...who })).rejects.toThrow(
      'Model name "Known" must be lowercase letters, digits and dashes, starting with a letter (at most 63).',
    );
    const blank = transitionModelVersion(db.handle.db, { modelName: 'known', version: 1, to: 'validated', actor: 'ada', reason: '  ' });
    await expect(blank).rejects.toThrow(ValidationError);
    await expect(blank).rejects.toThrow('Every registry change needs a reason: why it is being made.');
    await expect(setAlias(db.handle.db, { modelName: 'known', alias: 'champion', version: 1, actor: '', reason: 'x' })).rejects.toThrow(
      'Every registry change needs an actor: who is making it.',
    );
    await expect(setAlias(db.handle.db, { modelName: 'known', alias: '1st', version: 1, ...who })).rejects.toThrow(
      'Alias "1st" must be lowercase letters, digits and dashes, starting with a letter (at most 63), e.g. champion.',
    );
    expect(await historyKinds('known')).toEqual(['registered v1 ->registered']);
  });

  it('sets, moves, resolves and unsets aliases, recording each previous target', async () => {
    const v1 = await register('aliased', 'f1');
    const v2 = await register('aliased', 'f2');
    expect(await setAlias(db.handle.db, { modelName: 'aliased', alias: 'favourite', version: v1, actor: 'ada', reason: 'first model' })).toEqual({
      modelName: 'aliased',
      alias: 'favourite',
      version: 1,
      previous: null,
      changed: true,
    });
    const moved = await setAlias(db.handle.db, { modelName: 'aliased', alias: 'favourite', version: v2, actor: 'grace', reason: 'better auc' });
    expect(moved).toMatchObject({ version: 2, previous: 1, changed: true });
    const repeated = await setAlias(db.handle.db, { modelName: 'aliased', alias: 'favourite', version: v2, actor: 'grace', reason: 'retry' });
    expect(repeated).toMatchObject({ version: 2, previous: 2, changed: false });
    await setAlias(db.handle.db, { modelName: 'aliased', alias: 'challenger', version: v1, ...who });

    expect((await resolveModelRef(db.handle.db, 'aliased@favourite')).version).toBe(2);
    expect((await resolveModelRef(db.handle.db, 'aliased@challenger')).version).toBe(1);
    expect((await resolveModelRef(db.handle.db, 'aliased@1')).artifactSha256).toBe('f1'.padEnd(64, '0'));
    expect((await listModels(db.handle.db)).find((m) => m.name === 'aliased')).toEqual({
      name: 'aliased',
      versions: 2,
      latestVersion: 2,
      latestStatus: 'registered',
      aliases: { challenger: 1, favourite: 2 },
    });

    expect(await unsetAlias(db.handle.db, { modelName: 'aliased', alias: 'challenger', actor: 'ada', reason: 'experiment over' })).toMatchObject({ version: null, previous: 1 });
    await expect(resolveModelRef(db.handle.db, 'aliased@challenger')).rejects.toThrow('Model "aliased" has no alias "challenger" (its aliases: favourite).');
    await expect(unsetAlias(db.handle.db, { modelName: 'aliased', alias: 'challenger', ...who })).rejects.toThrow('Model "aliased" has no alias "challenger" to unset.');

    const events = (await modelHistoryOf(db.handle.db, 'aliased')).filter((e) => e.kind !== 'registered');
    expect(events.map((e) => [e.kind, e.alias, e.from, e.to, e.actor, e.reason])).toEqual([
      ['alias_set', 'favourite', null, '1', 'ada', 'first model'],
      ['alias_set', 'favourite', '1', '2', 'grace', 'better auc'],
      ['alias_set', 'challenger', null, '1', 'ada', 'test'],
      ['alias_unset', 'challenger', '1', null, 'ada', 'experiment over'],
    ]);
  });

  it('refuses an alias to a version that does not exist, leaving the alias where it was', async () => {
    await register('pointed', 'g1');
    await setAlias(db.handle.db, { modelName: 'pointed', alias: 'favourite', version: 1, ...who });
    await expect(setAlias(db.handle.db, { modelName: 'pointed', alias: 'favourite', version: 9, ...who })).rejects.toThrow(
      'Model "pointed" has no version 9 (its latest is 1).',
    );
    await expect(resolveModelRef(db.handle.db, 'pointed@9')).rejects.toThrow(NotFoundError);
    expect((await resolveModelRef(db.handle.db, 'pointed@favourite')).version).toBe(1);
    expect(await historyKinds('pointed')).toEqual(['registered v1 ->registered', 'alias_set v1 ->1']);
  });

  it('moves a protected alias only onto a version approved through a sign-off, auditing every refusal', async () => {
    const v1 = await register('guarded', 'p1');
    const refusalOf = (alias: string, extra: Partial<SetAliasInput> = {}) =>
      setAlias(db.handle.db, { modelName: 'guarded', alias, version: v1, actor: 'ada', reason: 'looks good', ...extra }).then(
        () => undefined,
        (error: unknown) => error as AliasRefusedError,
      );
    for (const alias of ['champion', 'production']) {
      const refused = await refusalOf(alias);
      expect(refused).toBeInstanceOf(AliasRefusedError);
      expect(refused!.message).toBe(
        `guarded v1 is registered, not approved: only a version approved through a sign-off can be ${alias} (a protected alias). ` +
          'A version is approved through the sign-off of a release pipeline (e.g. `steward run release-<model>`), where reviewers decide with `steward approvals list` and `steward approvals approve <id> --role <role>`.',
      );
      expect(refused!.details).toEqual({ model: 'guarded', version: 1, alias, status: 'registered' });
    }
    // A project's own protected alias (STEWARD_PROTECTED_ALIASES) is held to the same rule; other aliases move freely.
    expect(await refusalOf('staging', { protectedAliases: ['staging'] })).toBeInstanceOf(AliasRefusedError);
    expect(await setAlias(db.handle.db, { modelName: 'guarded', alias: 'challenger', version: v1, ...who })).toMatchObject({ changed: true });
    // Waiting for its sign-off: the refusal says where the sign-off is.
    for (const to of ['validated', 'pending_approval']) await transitionModelVersion(db.handle.db, { modelName: 'guarded', version: v1, to, actor: 'ci', reason: 'release' });
    expect((await refusalOf('champion'))!.message).toMatch(/^guarded v1 is pending_approval, not approved: .* Its sign-off is open: reviewers find it with `steward approvals list`/);
    await expect(resolveModelRef(db.handle.db, 'guarded@champion')).rejects.toThrow(NotFoundError);

    await transitionModelVersion(db.handle.db, { modelName: 'guarded', version: v1, to: 'approved', actor: 'grace', reason: 'signed off', workflowId: 'release-1' });
    expect(await setAlias(db.handle.db, { modelName: 'guarded', alias: 'champion', version: v1, actor: 'ada', reason: 'approved' })).toMatchObject({ version: 1, changed: true });
    // Deployed since: still approved through its sign-off.
    await transitionModelVersion(db.handle.db, { modelName: 'guarded', version: v1, to: 'deployed', actor: 'steward', reason: 'canary passed' });
    expect(await setAlias(db.handle.db, { modelName: 'guarded', alias: 'production', version: v1, actor: 'steward', reason: 'canary passed' })).toMatchObject({ changed: true });

    // Only the moves that happened are in the history; the refusals are in the audit trail.
    expect((await historyKinds('guarded')).filter((k) => k.startsWith('alias'))).toEqual(['alias_set v1 ->1', 'alias_set v1 ->1', 'alias_set v1 ->1']);
    const refusals = (await auditTrail(db.handle.db, { subject: 'model:guarded' })).filter((e) => e.action === 'model.alias_refused');
    expect(refusals.map((e) => [e.actor, (e.details as { alias: string }).alias, (e.details as { refusal: string }).refusal.split(':')[0]])).toEqual([
      ['ada', 'champion', 'guarded v1 is registered, not approved'],
      ['ada', 'production', 'guarded v1 is registered, not approved'],
      ['ada', 'staging', 'guarded v1 is registered, not approved'],
      ['ada', 'champion', 'guarded v1 is pending_approval, not approved'],
    ]);
  });

  it("moves a pii model's protected alias only for a principal allowed to deploy it", async () => {
    const {
      version: { version },
    } = await registerModelVersion(db.handle.db, {
      modelName: 'sensitive',
      artifactUri: artifactUri('s1'),
      artifactSha256: hex('s1'),
      trainingSetUri: artifactUri('ts'),
      metrics: { auc: 0.7 },
      signature: { inputs: [{ name: 'email_domain', type: 'string' }], outputs: ['label', 'probabilities'] },
      runId: 'run-sensitive',
      algorithm: 'logistic-regression',
      metadata: { features: [{ name: 'email_domain', type: 'string', sensitivity: 'pii' }] },
    });
    for (const to of ['validated', 'pending_approval', 'approved']) await transitionModelVersion(db.handle.db, { modelName: 'sensitive', version, to, actor: 'grace', reason: 'signed off' });
    await createPrincipal(db.handle.db, { name: 'eve', roles: ['engineer'], actor: 'test' });
    await createPrincipal(db.handle.db, { name: 'rita', roles: ['release-manager'], actor: 'test' });
    await grantAccess(db.handle.db, { role: 'release-manager', permission: 'deploy', resource: 'model:sensitive', actor: 'test' });

    const denied = await setAlias(db.handle.db, { modelName: 'sensitive', alias: 'champion', version, actor: 'eve', reason: 'ship it' }).then(() => undefined, (e: unknown) => e as Error);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied!.message).toMatch(/^Permission denied: eve may not deploy model:sensitive \(pii\)/);
    expect(await setAlias(db.handle.db, { modelName: 'sensitive', alias: 'champion', version, actor: 'rita', reason: 'ship it' })).toMatchObject({ changed: true });
    // A workflow step after its sign-off moves it as itself (the run's principal was checked before the step).
    expect(await setAlias(db.handle.db, { modelName: 'sensitive', alias: 'production', version, actor: 'steward', reason: 'deployed', principal: null })).toMatchObject({ changed: true });

    const trail = await auditTrail(db.handle.db, { subject: 'model:sensitive' });
    expect(trail.map((e) => [e.action, e.actor]).filter(([a]) => a !== 'model.transition' && a !== 'model.registered' && a !== 'access.granted')).toEqual([
      ['access.denied', 'eve'],
      ['model.alias_refused', 'eve'],
      ['access.allowed', 'rita'],
      ['model.alias_set', 'rita'],
      ['model.alias_set', 'steward'],
    ]);
    expect((await resolveModelRef(db.handle.db, 'sensitive@champion')).version).toBe(version);
  });

  it('keeps history append-only: the database refuses to rewrite or delete an event', async () => {
    await register('audited', 'h1');
    // drizzle wraps the server's error; the trigger's message is its cause.
    const refusal = (query: Promise<unknown>) => query.then(() => 'allowed', (error: Error) => (error.cause as Error).message);
    expect(await refusal(db.handle.db.update(modelHistory).set({ reason: 'rewritten' }).where(eq(modelHistory.modelName, 'audited')))).toBe(
      'model_history is append-only: UPDATE is not allowed',
    );
    expect(await refusal(db.handle.db.execute(sql`delete from model_history where model_name = 'audited'`))).toBe('model_history is append-only: DELETE is not allowed');
    expect((await modelHistoryOf(db.handle.db, 'audited')).map((e) => e.reason)).toEqual(['Registered by run run-audited-h1']);
  });

  it('renders a Markdown model card with status, aliases, signature, metrics, lineage and history', async () => {
    await register('carded', 'i1', { auc: 0.7125, accuracy: 0.64 });
    await transitionModelVersion(db.handle.db, { modelName: 'carded', version: 1, to: 'validated', actor: 'ada', reason: 'beats baseline | by 2 points' });
    await setAlias(db.handle.db, { modelName: 'carded', alias: 'favourite', version: 1, actor: 'grace', reason: 'only candidate' });
    const card = await renderModelCard(db.handle.db, 'carded', 'favourite', { format: 'markdown' });
    expect(card).toContain('# Model card: carded v1');
    for (const line of [
      '| Status | validated |',
      '| Aliases | favourite |',
      '| Algorithm | logistic-regression |',
      `| Training set | ${'artifact://sha256/'.padEnd(82, 'a')} |`,
      '| Produced by run | run-carded-i1 |',
      '| distance | float | not tagged |  |  |',
      '| origin | string | not tagged |  |  |',
      '| probabilities |  |',
      '| accuracy | 0.64 |',
      '| auc | 0.7125 |',
      // No experiment run recorded this artifact, and the lineage says so rather than stopping short.
      `  - training set ${'artifact://sha256/'.padEnd(82, 'a')}`,
      '    - ingestion not recorded (no experiment run produced this artifact)',
    ]) {
      expect(card).toContain(line);
    }
    expect(card).toMatch(/\| registered → validated \| ada \| beats baseline \\\| by 2 points \| {2}\|/);
    expect(card).toMatch(/\| alias favourite set to v1 \| grace \| only candidate \|/);
    expect(card.indexOf('registered as registered')).toBeLessThan(card.indexOf('registered → validated'));
  });

  it('says explicitly which card sections a version has no data for, instead of leaving them out', async () => {
    await register('bare', 'k1');
    const card = await renderModelCard(db.handle.db, 'bare', 1, { format: 'markdown' });
    const headings = [...card.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(['Overview', 'Purpose', 'Training data', 'Features', 'Metrics', 'Fairness', 'Behavioural checks', 'Monitoring', 'Lineage', 'Approval history', 'History']);
    for (const note of [
      '| Owner | not recorded |',
      '_No purpose was recorded for this version._',
      '_No training window was recorded for this version._',
      '_No feature description or sensitivity tagging was recorded for this version._',
      '_No validation set description was recorded for this version._',
      '_No fairness report was recorded for this version._',
      '_No behavioural check was recorded for this version._',
      '_No reference profile for drift monitoring was recorded for this version._',
      '_No monitoring run has checked this version yet._',
      '_No approval step recorded: the version has not been submitted for approval (it is registered)._',
    ]) {
      expect(card).toContain(note);
    }
  });

  it('renders the recorded purpose, owner, window, tagged features, validation set, fairness, checks and approvals', async () => {
    const v = await registerSample(db.handle.db, 'complete', 'c0', { metadata: fullMetadata(), description: 'Chosen over gradient-boosting.' });
    for (const [to, actor, workflowId] of [
      ['validated', 'ci', undefined],
      ['pending_approval', 'ci', 'gate-7'],
      ['approved', 'grace', 'gate-7'],
      ['deployed', 'deployer', 'deploy-3'],
    ] as const) {
      await transitionModelVersion(db.handle.db, { modelName: 'complete', version: v, to, actor, reason: `to ${to}`, workflowId });
    }
    const card = await renderModelCard(db.handle.db, 'complete', v, { format: 'markdown' });
    for (const line of [
      '| Owner | ops-analytics |',
      'Flags flights likely to leave more than 15 minutes late.',
      '**This version:** Chosen over gradient-boosting.',
      '| Window | 2001-01-01T00:00:00.000Z to 2001-03-07T00:00:00.000Z |',
      '| Rows | 16,000 |',
      '| Source | vega:flights-3m.parquet |',
      '| distance | float | public | route | Route distance in miles. |',
      '| origin | string | internal | location, high-cardinality | Origin airport. |',
      '**Validation set:** The most recent 20% of flights. 4,000 rows, 900 positive.',
      '| large hub (reference) | 3,000 | 700 | 0.3333 | 0.6000 | 0.2500 | 0.4200 | 1.0000 | 0.0000 |',
      '| nonhub | 100 | 0 | 0.2000 | n/a | 0.2000 | 0.0000 | 0.6000 | n/a |',
      'Lowest disparate impact ratio 0.6000 (fails the four-fifths rule: below 0.8); largest equal opportunity gap 0.0500.',
      '2,000 validation rows. 1 of 2 checks passed.',
      '| worse origin week never lowers the risk | directional | originDelay7d | passed | 1,990 | 0 |  |',
      '| one mile of distance moves the risk by at most 0.01 | invariance | distance | FAILED | 2,000 | 3 | row 17: 733 → 734 moved the score 0.2100 → 0.2500 |',
    ]) {
      expect(card).toContain(line);
    }
    const approvals = card.slice(card.indexOf('## Approval history'), card.indexOf('## History'));
    const rows = approvals.split('\n').filter((l) => /^\| \d{4}-/.test(l));
    // Into and out of pending_approval and approved; validation and deployment alone are not approval steps.
    expect(rows.map((r) => r.split(' | ').slice(1))).toEqual([
      ['validated → pending_approval', 'ci', 'to pending_approval', 'gate-7 |'],
      ['pending_approval → approved', 'grace', 'to approved', 'gate-7 |'],
      ['approved → deployed', 'deployer', 'to deployed', 'deploy-3 |'],
    ]);
  });

  it('escapes hostile text in both formats: no markup, link or table syntax survives', async () => {
    await register('escaped', 'j1');
    await transitionModelVersion(db.handle.db, { modelName: 'escaped', version: 1, to: 'rejected', actor: 'eve "the auditor"', reason: HOSTILE_TEXT });
    const html = await renderModelCard(db.handle.db, 'escaped', '1', { format: 'html' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Model card: escaped v1</title>');
    expect(html).not.toMatch(/<script|<img|<(link|iframe)\b|href=/);
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt; &lt;img src=x onerror=window.__pwned=2&gt;');
    expect(html).toContain('eve &quot;the auditor&quot;');
    const markdown = await renderModelCard(db.handle.db, 'escaped', 1, { format: 'markdown' });
    expect(markdown).not.toMatch(/<script|<img/);
    expect(markdown).toContain('&lt;script&gt;');
    expect(markdown).toContain('\\| \\[click\\](javascript:alert(1)) \\]');
  });

  it('refuses NaN and infinite metrics at registration and writes nothing', async () => {
    for (const [value, shown] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
    ] as const) {
      const attempt = register('nan-metric', 'l1', { auc: 0.7, logLoss: value });
      await expect(attempt).rejects.toThrow(ValidationError);
      await expect(attempt).rejects.toThrow(`Metric logLoss is ${shown}; a registered model's metrics must be finite numbers.`);
    }
    await expect(listVersions(db.handle.db, 'nan-metric')).rejects.toThrow('Model "nan-metric" is not registered.');
  });

  it('refuses model and alias names that would break URLs, refs or SQL, before touching the database', async () => {
    await register('named', 'm1');
    const hostile = ["x'); drop table model_versions; --", 'a/b', '../etc', 'a@b', 'a b', 'a%2Fb', 'A', '-a', '', 'a'.repeat(64), 'café'];
    for (const name of hostile) {
      const error = await register(name, 'm2').then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toBe(`Model name "${name}" must be lowercase letters, digits and dashes, starting with a letter (at most 63).`);
      await expect(setAlias(db.handle.db, { modelName: 'named', alias: name, version: 1, ...who })).rejects.toThrow(`Alias "${name}" must be lowercase`);
      await expect(resolveModelRef(db.handle.db, `named@${name}`)).rejects.toThrow(ValidationError);
    }
    // The table is still there and holds the one good version.
    expect((await listVersions(db.handle.db, 'named')).map((v) => v.version)).toEqual([1]);
    expect(await historyKinds('named')).toEqual(['registered v1 ->registered']);
  });

  it('refuses malformed or oversized card metadata, naming the field, and writes nothing', async () => {
    const metadata = fullMetadata();
    metadata.features![1] = { ...metadata.features![1]!, sensitivity: 'secret' as 'pii' };
    await expect(registerSample(db.handle.db, 'bad-meta', 'n1', { metadata })).rejects.toThrow(
      /^Model version metadata is invalid: features\.1\.sensitivity: Invalid option: expected one of "public"\|"internal"\|"confidential"\|"pii"\.$/,
    );
    await expect(registerSample(db.handle.db, 'bad-meta', 'n1', { metadata: { training: { from: 'last spring', to: '2001-03-01T00:00:00Z', rows: 1 } } })).rejects.toThrow(
      'Model version metadata is invalid: training.from: must be an ISO 8601 date-time.',
    );
    await expect(registerSample(db.handle.db, 'bad-meta', 'n1', { metadata: { purpose: 'x'.repeat(300_000) } })).rejects.toThrow(
      /^Model version metadata is 300014 bytes; at most 262144 are kept\./,
    );
    await expect(listVersions(db.handle.db, 'bad-meta')).rejects.toThrow(NotFoundError);
  });

  describe('with the artifact store', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-registry-artifacts-'));
    const store = new LocalArtifactStore(dir);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const onnx = new Uint8Array(fs.readFileSync(new URL('../fixtures/onnx/external-logreg.onnx', import.meta.url)));
    // As importOnnxModel reports it: one [batch, 3] float input, two outputs.
    const declared = {
      inputs: [{ name: 'X', kind: 'tensor', elementType: 'float32', shape: ['batch', 3] }],
      outputs: [
        { name: 'logit', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] },
        { name: 'probability', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] },
      ],
    };
    const registerStored = (modelName: string, artifact: { uri: string; sha256: string }, signature: unknown = declared) =>
      registerModelVersion(
        db.handle.db,
        { modelName, artifactUri: artifact.uri, artifactSha256: artifact.sha256, trainingSetUri: artifact.uri, metrics: { auc: 0.8 }, signature, runId: `run-${modelName}` },
        { artifacts: store },
      );

    it('registers an artifact whose bytes and ONNX signature match what is declared, once', async () => {
      const artifact = await store.put(onnx);
      const first = await registerStored('verified', artifact);
      const again = await registerStored('verified', artifact);
      expect([first.created, again.created, again.version.version]).toEqual([true, false, 1]);
    });

    it('refuses a corrupt or missing artifact and writes nothing', async () => {
      const artifact = await store.put(Uint8Array.from([...onnx, 1]));
      const file = path.join(dir, 'sha256', artifact.sha256.slice(0, 2), artifact.sha256);
      const bytes = fs.readFileSync(file);
      bytes[100] = bytes[100]! ^ 0xff;
      fs.writeFileSync(file, bytes);
      const corrupt = registerStored('corrupt', artifact);
      await expect(corrupt).rejects.toThrow(ValidationError);
      await expect(corrupt).rejects.toThrow(
        new RegExp(`^Cannot register corrupt from ${artifact.uri}: Artifact ${artifact.uri} is corrupt: its content hashes to [0-9a-f]{64}\\. Restore it or retrain\\.$`),
      );
      const absent = { uri: artifactUri('ab'), sha256: hex('ab') };
      await expect(registerStored('corrupt', absent)).rejects.toThrow(`Cannot register corrupt from ${absent.uri}: Artifact ${absent.uri} is not in the store at ${dir}.`);
      await expect(registerStored('corrupt', { uri: artifact.uri, sha256: hex('cd') })).rejects.toThrow(
        `Cannot register corrupt: the artifact URI ${artifact.uri} names sha256 ${artifact.sha256}, but the declared artifactSha256 is ${hex('cd')}.`,
      );
      await expect(listVersions(db.handle.db, 'corrupt')).rejects.toThrow(NotFoundError);
    });

    it('refuses bytes that are not an ONNX model, and a model that does not match its declared signature', async () => {
      const text = await store.put(new TextEncoder().encode('definitely not a model'));
      await expect(registerStored('mismatch', text)).rejects.toThrow(`Cannot register mismatch from ${text.uri}: the artifact is not a readable ONNX model.`);
      const artifact = await store.put(onnx);
      await expect(registerStored('mismatch', artifact, { inputs: [{ name: 'distance', type: 'float' }], outputs: ['logit', 'probability'] })).rejects.toThrow(
        `Cannot register mismatch from ${artifact.uri}: the model does not match its declared signature: declared inputs "distance" are not in the model; model inputs "X" are not declared.`,
      );
      await expect(registerStored('mismatch', artifact, { inputs: [{ name: 'X', type: 'string' }], outputs: ['logit'] })).rejects.toThrow(
        'the model does not match its declared signature: input "X" is declared string but the model has float32; model outputs "probability" are not declared.',
      );
      await expect(registerStored('mismatch', artifact, {})).rejects.toThrow('the signature declares no inputs list; the signature declares no outputs list.');
      await expect(listVersions(db.handle.db, 'mismatch')).rejects.toThrow(NotFoundError);
    });
  });
});
