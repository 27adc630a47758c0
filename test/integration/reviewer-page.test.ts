/**
 * The reviewer web page end to end, in real headless Chromium against a real Temporal dev server,
 * worker and database: sign in with an API token, open an approval, approve and read the gate's
 * answer, see the separation-of-duties refusal when the run's author tries, and watch the pipeline
 * move on once the second reviewer approves. A second gate names a registered model version, so
 * its page embeds the model card with its inline SVG charts; hostile text in the subject and the
 * card must render as text.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../../src/api/server.js';
import type { RunPipelineResult } from '../../src/contracts.js';
import { approvals, webSessions } from '../../src/db/schema.js';
import { auditTrail } from '../../src/audit/index.js';
import { approvalView } from '../../src/governance/decisions.js';
import { createPrincipal, issueToken } from '../../src/governance/identity.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { approvalGate, definePipeline, output } from '../../src/pipeline/definition.js';
import { startRun } from '../../src/pipeline/runs.js';
import { HOSTILE_TEXT, fullMetadata, registerSample } from '../support/registry-fixtures.js';
import { useTemporalWorker } from '../support/temporal.js';
import { echo, testPipelines } from '../support/test-pipelines.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
// Locally a missing browser skips with a warning; CI installs it (.ci/run), so there it must exist.
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install chromium).`);
if (!haveChromium) console.warn(`reviewer-page.test.ts skipped: ${CHROMIUM} is missing (apt-get install chromium).`);

/** A gate whose subject names a model version: its page embeds the model card. */
const modelGated = definePipeline({
  name: 'governed-model',
  params: z.object({ model: z.string(), version: z.number().int(), note: z.string().default('') }),
  steps: (p) => [
    approvalGate('signoff', {
      subject: { model: p.model, version: p.version, note: p.note, piiFeatures: ['origin'] },
      policy: { roles: { technical: 1 }, deadline: '1 hour', conditions: [{ role: 'compliance', when: { piiFeatures: true } }] },
    }),
    // The test steps' echo (one step per name on a worker); an approval gate's outputs are named.
    echo.step('release', { value: output('signoff', 'reviewer') }, { cache: false }),
  ],
});
const pipelines = [...testPipelines, modelGated];

describe.skipIf(!haveChromium)('reviewer web page in headless Chromium', () => {
  const harness = useTemporalWorker('pglite', 'reviewer-page', { pipelines });
  const tokens: Record<string, string> = {};
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const db = () => harness.database.db;
  const client = () => harness.env.client;

  beforeAll(async () => {
    const people: Array<[string, string[]]> = [
      ['ada', ['technical']],
      ['bo', ['technical']],
      ['cy', ['technical']], // starts the run: an author
      ['dee', ['compliance', 'technical']],
    ];
    for (const [name, roles] of people) {
      await createPrincipal(db(), { name, roles, actor: 'admin' });
      tokens[name] = (await issueToken(db(), { principal: name, actor: 'admin' })).token;
    }
    app = createApi({ client: client(), taskQueue: harness.taskQueue, pipelines, database: { driver: 'pglite' }, db: db() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** The approval a run's gate opened, once the gate takes decisions. */
  async function openedApproval(runId: string): Promise<string> {
    for (let attempt = 0; attempt < 600; attempt++) {
      const [row] = await db().select().from(approvals).where(eq(approvals.workflowId, runId));
      if (row && (await approvalView(db(), client(), row.id)).live?.status === 'waiting') return row.id;
      await sleep(100);
    }
    throw new Error(`The run ${runId} opened no approval gate`);
  }

  /** Follows the redirect from a protected page to the sign-in form, signs in, and lands back on the page. */
  async function signIn(page: Page, who: string, path: string): Promise<void> {
    await page.goto(`${base}${path}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('next')).toBe(path);
    await page.getByLabel('API token').fill(tokens[who]!);
    await Promise.all([page.waitForURL(`${base}${path}`), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(await page.locator('[data-principal]').textContent()).toBe(who);
  }

  async function signOut(page: Page): Promise<void> {
    await Promise.all([page.waitForURL(`${base}/login`), page.getByRole('button', { name: 'Sign out' }).click()]);
  }

  /** Submits the decision form and returns the page's answer element text and its ARIA role. */
  async function decide(page: Page, decision: 'Approve' | 'Reject', role: string, comment: string): Promise<{ role: string | null; text: string }> {
    await page.getByLabel('Review as').selectOption(role);
    await page.getByLabel(/^Comment/).fill(comment);
    // Subscribed before the click: the next load is the answer page, not the form page (which may hold an earlier answer).
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: decision }).click()]);
    const answer = page.locator('#gate-answer');
    return { role: await answer.getAttribute('role'), text: (await answer.textContent())!.trim() };
  }

  it('sends a visitor without a session to the sign-in page, and refuses a wrong token with the reason', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/reviews/apr-000000000000`);
    expect(page.url()).toBe(`${base}/login?next=%2Freviews%2Fapr-000000000000`);
    await page.getByLabel('API token').fill('stw_00000000_' + 'x'.repeat(43));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('The API token is not known');
    expect(await context.cookies()).toEqual([]);
    await context.close();

    const post = await fetch(`${base}/reviews/apr-000000000000/decide`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ role: 'technical', decision: 'approve' }) });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe('/login?next=%2Freviews%2Fapr-000000000000');
    const crossSite = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { origin: 'http://evil.example' }, body: new URLSearchParams({ token: tokens.ada!, next: '/reviews' }) });
    expect(crossSite.status).toBe(403);
    const offSite = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: tokens.ada!, next: '//evil.example/x' }) });
    expect(offSite.status).toBe(303);
    expect(offSite.headers.get('location')).toBe('/reviews');

    const trail = await auditTrail(db(), { limit: 10_000 });
    expect(trail.some((e) => e.action === 'auth.failed' && (e.details as { reason?: string }).reason?.includes('not known'))).toBe(true);
  });

  it('approves from the page: 1 of 2, the author is refused, the second approval moves the pipeline on', async () => {
    const { runId } = await startRun(client(), harness.taskQueue, findPipeline(pipelines, 'governed'), {}, { startedBy: 'cy' });
    const approvalId = await openedApproval(runId);
    const path = `/reviews/${approvalId}`;

    // ada signs in from the list and approves first.
    const context: BrowserContext = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'ada', '/reviews');
    const cookie = (await context.cookies()).find((c) => c.name === 'steward_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const stored = await db().select().from(webSessions).where(eq(webSessions.principal, 'ada'));
    expect(JSON.stringify(stored)).not.toContain(cookie.value);
    expect(await (await page.request.get(`${base}/api/whoami`)).json()).toMatchObject({ name: 'ada' });

    await page.getByRole('link', { name: approvalId }).click();
    await page.waitForURL(`${base}${path}`);
    expect(await page.locator('[data-missing]').textContent()).toBe('2 technical');
    expect(await page.locator('[data-section=policy]').textContent()).toContain('authors may not approve: cy');
    const first = await decide(page, 'Approve', 'technical', 'Checked the metrics <b>twice</b>');
    expect(first.role).toBe('status');
    expect(first.text).toBe('accepted: 1 of 2 technical approvals; still missing 1 technical');
    expect(await page.locator('[data-role=technical]').textContent()).toContain('ada');
    expect(await page.locator('[data-table=decisions]').textContent()).toContain('Checked the metrics <b>twice</b>');
    expect(await page.locator('[data-table=decisions] b').count()).toBe(0);

    // cy started the run: the gate refuses cy's approval and the page says why.
    await signOut(page);
    await signIn(page, 'cy', path);
    const refused = await decide(page, 'Approve', 'technical', 'My own run, looks fine');
    expect(refused.role).toBe('alert');
    expect(refused.text).toContain('cy authored this candidate and may not review it (separation of duties)');
    expect(await page.locator('[data-missing]').textContent()).toBe('1 technical');
    expect(await page.locator('[data-table=refusals]').textContent()).toContain('separation of duties');
    expect(await page.getByLabel(/^Comment/).inputValue()).toBe('My own run, looks fine');

    // bo completes the quorum: the gate approves and the run releases.
    await signOut(page);
    await signIn(page, 'bo', path);
    const second = await decide(page, 'Approve', 'technical', 'Agreed');
    expect(second.role).toBe('status');
    expect(second.text).toBe('accepted: 2 of 2 technical approvals; every required review is in, the gate is approved');

    const result = (await client().workflow.getHandle(runId).result()) as RunPipelineResult;
    expect(result.steps.find((s) => s.name === 'release')?.status).toBe('completed');
    expect(String(result.outputs.release?.value).split(', ').sort()).toEqual(['ada', 'bo']);
    expect(result.outputs.signoff).toMatchObject({ decision: 'approved', approvalId });

    await page.goto(`${base}${path}`);
    expect(await page.locator('[data-status]').textContent()).toBe('approved');
    expect(await page.locator('[data-closed]').count()).toBe(1);
    expect(await page.locator('form.decide').count()).toBe(0);
    await context.close();

    const trail = await auditTrail(db(), { subject: `approval:${approvalId}` });
    expect(trail.filter((e) => e.action === 'approval.decision').map((e) => e.actor).sort()).toEqual(['ada', 'bo']);
    expect(trail.some((e) => e.action === 'approval.refused' && e.actor === 'cy')).toBe(true);
    expect(trail.at(-1)?.action).toBe('approval.approved');
  });

  it('embeds the model card with its SVG charts, shows why a condition applied, and renders hostile text as text', async () => {
    const version = await registerSample(db(), 'flight-delay', 'b7', { metadata: fullMetadata(), description: HOSTILE_TEXT });
    const { runId } = await startRun(client(), harness.taskQueue, findPipeline(pipelines, 'governed-model'), { model: 'flight-delay', version, note: HOSTILE_TEXT }, { startedBy: 'cy' });
    const approvalId = await openedApproval(runId);
    const path = `/reviews/${approvalId}`;

    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'dee', path);
    const card = page.locator('section.model-card');
    expect(await card.locator('h1').first().textContent()).toBe(`Model card: flight-delay v${version}`);
    expect(await card.locator('svg[aria-label="ROC curve"]').count()).toBe(1);
    expect(await card.locator('svg[aria-label="Calibration"] polyline').count()).toBe(1);
    expect(await card.locator('[data-table=fairness]').count()).toBeGreaterThan(0);
    expect(await card.textContent()).toContain(HOSTILE_TEXT);
    expect(await page.locator('[data-table=subject]').textContent()).toContain(HOSTILE_TEXT);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();

    expect(await page.locator('[data-condition=compliance]').textContent()).toContain('applies because the model uses pii features (origin)');
    expect(await page.locator('[data-missing]').textContent()).toBe('1 technical, 1 compliance');
    expect(await page.locator('#role option').allTextContents()).toEqual(['technical', 'compliance']);

    const rejected = await decide(page, 'Reject', 'compliance', '');
    expect(rejected.role).toBe('alert');
    expect(rejected.text).toContain('A rejection needs a reason');
    const accepted = await decide(page, 'Approve', 'compliance', 'Origin is an airport, not a person; pii tag reviewed.');
    expect(accepted.text).toBe('accepted: 1 of 1 compliance approval; still missing 1 technical');
    await context.close();

    await client().workflow.getHandle(runId).terminate('test finished');
  });
});
