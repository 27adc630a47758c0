/**
 * The HTML model card as a browser reads it: rendered from a registry holding hostile text in every
 * field a user can type, loaded into Chromium with JavaScript on, and inspected through the DOM.
 * Nothing may run or load, every section must be there in order, each table must hold exactly the
 * recorded rows, and the hostile text must come back as text, character for character.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAlias } from '../../src/registry/aliases.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { renderModelCard } from '../../src/registry/model-card.js';
import { useTestDatabase } from '../support/databases.js';
import { HOSTILE_TEXT, fullMetadata, registerSample } from '../support/registry-fixtures.js';

const CHROMIUM = process.env.STEWARD_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** The little of the DOM these checks use (the project compiles without the DOM library). */
interface DomNode {
  id: string;
  textContent: string | null;
  attributes: ArrayLike<{ name: string }>;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): ArrayLike<DomNode>;
}
const SECTIONS = ['overview', 'purpose', 'training-data', 'features', 'metrics', 'fairness', 'behaviour', 'monitoring', 'lineage', 'approvals', 'history'];

describe('HTML model card in a browser', () => {
  const db = useTestDatabase('pglite');
  let browser: Browser;
  const requests: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}; install it or point STEWARD_TEST_CHROMIUM at one.`);
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Loads the card with scripts enabled and records every request and dialog it causes. */
  async function open(html: string): Promise<Page> {
    const page = await browser.newPage({ javaScriptEnabled: true });
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      requests.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.setContent(html, { waitUntil: 'load' });
    return page;
  }

  const cells = (page: Page, selector: string) =>
    page.$$eval(`${selector} tbody tr`, (rows) => (rows as unknown as DomNode[]).map((r) => Array.from(r.querySelectorAll('td')).map((c) => c.textContent ?? '')));

  it('shows every section with the recorded rows, and hostile text only as text', async () => {
    const metadata = fullMetadata();
    metadata.owner = HOSTILE_TEXT.slice(0, 200);
    metadata.purpose = HOSTILE_TEXT;
    metadata.features![0]!.description = HOSTILE_TEXT;
    metadata.fairness!.groupDescription = HOSTILE_TEXT;
    metadata.behaviour!.results[1]!.name = HOSTILE_TEXT;
    const v = await registerSample(db.handle.db, 'hostile', 'a0', { metadata, description: HOSTILE_TEXT });
    await transitionModelVersion(db.handle.db, { modelName: 'hostile', version: v, to: 'validated', actor: 'ci', reason: 'metrics ok' });
    await transitionModelVersion(db.handle.db, { modelName: 'hostile', version: v, to: 'pending_approval', actor: 'ci', reason: 'needs review', workflowId: HOSTILE_TEXT });
    await transitionModelVersion(db.handle.db, { modelName: 'hostile', version: v, to: 'rejected', actor: HOSTILE_TEXT, reason: HOSTILE_TEXT, workflowId: 'gate-1' });
    await setAlias(db.handle.db, { modelName: 'hostile', alias: 'challenger', version: v, actor: 'ada', reason: 'try it' });

    const page = await open(await renderModelCard(db.handle.db, 'hostile', 'challenger', { format: 'html' }));
    try {
      // Nothing ran, loaded or asked anything.
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(requests).toEqual([]);
      expect(await page.$$eval('script, img, iframe, object, embed, link, a, form, input', (found) => found.length)).toBe(0);
      expect(await page.$$eval('*', (all) => (all as unknown as DomNode[]).flatMap((e) => Array.from(e.attributes).map((a) => a.name)).filter((n) => n.startsWith('on')))).toEqual([]);

      expect(await page.title()).toBe('Model card: hostile v1');
      expect(await page.$$eval('body > section', (s) => s.map((e) => [e.id, e.querySelector('h2')?.textContent]))).toEqual(
        SECTIONS.map((id, i) => [id, ['Overview', 'Purpose', 'Training data', 'Features', 'Metrics', 'Fairness', 'Behavioural checks', 'Monitoring', 'Lineage', 'Approval history', 'History'][i]]),
      );

      const facts = Object.fromEntries(await page.$$eval('#overview tr', (rows) => rows.map((r) => [r.querySelector('th')?.textContent, r.querySelector('td')?.textContent])));
      expect(facts).toMatchObject({ Model: 'hostile', Version: '1', Status: 'rejected', Aliases: 'challenger', Owner: HOSTILE_TEXT.slice(0, 200) });
      expect(await page.$$eval('#purpose p', (ps) => ps.map((p) => p.textContent))).toEqual([HOSTILE_TEXT, `This version: ${HOSTILE_TEXT}`]);

      expect(await cells(page, '[data-table="features"]')).toEqual([
        ['distance', 'float', 'public', 'route', HOSTILE_TEXT],
        ['origin', 'string', 'internal', 'location, high-cardinality', 'Origin airport.'],
      ]);
      expect(await cells(page, '[data-table="outputs"]')).toEqual([
        ['label', ''],
        ['probabilities', ''],
      ]);
      expect(await cells(page, '[data-table="metrics"]')).toEqual([
        ['brier', '0.18'],
        ['rocAuc', '0.7125'],
      ]);
      expect(await page.$$eval('#metrics svg', (svgs) => svgs.map((s) => [s.getAttribute('aria-label'), s.querySelector('polyline')?.getAttribute('points')?.split(' ').length]))).toEqual([
        ['ROC curve', 4],
        ['Calibration', 3],
      ]);

      const fairness = await cells(page, '[data-table="fairness"]');
      expect(fairness.map((r) => r[0])).toEqual(['large hub (reference)', 'medium hub', 'nonhub']);
      expect(fairness[2]).toEqual(['nonhub', '100', '0', '0.2000', 'n/a', '0.2000', '0.0000', '0.6000', 'n/a']);
      expect(await page.textContent('#fairness')).toContain(HOSTILE_TEXT);

      const checks = await cells(page, '[data-table="behaviour"]');
      expect(checks.map((r) => [r[0], r[3], r[5]])).toEqual([
        ['worse origin week never lowers the risk', 'passed', '0'],
        [HOSTILE_TEXT, 'FAILED', '3'],
      ]);

      expect(await page.$$eval('#lineage li', (lis) => lis.map((li) => li.getAttribute('data-kind')))).toEqual(['model_version', 'training_set', 'ingestion']);

      expect(await cells(page, '[data-table="approvals"]')).toEqual([
        [expect.any(String), 'validated → pending_approval', 'ci', 'needs review', HOSTILE_TEXT],
        [expect.any(String), 'pending_approval → rejected', HOSTILE_TEXT, HOSTILE_TEXT, 'gate-1'],
      ]);
      expect((await cells(page, '[data-table="history"]')).map((r) => r[1])).toEqual([
        'registered as registered',
        'registered → validated',
        'validated → pending_approval',
        'pending_approval → rejected',
        'alias challenger set to v1',
      ]);
    } finally {
      await page.close();
    }
  });

  it('marks every section a version has no data for, rather than leaving it out or empty', async () => {
    await registerSample(db.handle.db, 'plain', 'b0');
    const page = await open(await renderModelCard(db.handle.db, 'plain', 1, { format: 'html' }));
    try {
      expect(requests).toEqual([]);
      expect(await page.$$eval('body > section', (s) => s.map((e) => e.id))).toEqual(SECTIONS);
      const notes = Object.fromEntries(await page.$$eval('section', (s) => (s as unknown as DomNode[]).map((e) => [e.id, Array.from(e.querySelectorAll('.none')).map((n) => n.textContent)])));
      expect(notes).toEqual({
        overview: [],
        purpose: ['No purpose was recorded for this version.'],
        'training-data': ['No training window was recorded for this version.'],
        features: ['No feature description or sensitivity tagging was recorded for this version.'],
        metrics: ['No validation set description was recorded for this version.'],
        fairness: ['No fairness report was recorded for this version.'],
        behaviour: ['No behavioural check was recorded for this version.'],
        monitoring: ['No reference profile for drift monitoring was recorded for this version.', 'No monitoring run has checked this version yet.'],
        lineage: [],
        approvals: ['No approval step recorded: the version has not been submitted for approval (it is registered).'],
        history: [],
      });
      expect(await page.$$eval('svg', (s) => s.length)).toBe(0);
      expect(await cells(page, '[data-table="features"]')).toEqual([
        ['distance', 'float', 'not tagged', '', ''],
        ['origin', 'string', 'not tagged', '', ''],
      ]);
    } finally {
      await page.close();
    }
  });
});
