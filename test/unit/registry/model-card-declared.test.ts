/**
 * The model card and `steward models show` for versions registered by the generic steps: intended
 * use and limitations, one fairness report per declared group column (a classifier's rates, a
 * regressor's errors, each against its declared bound), a regressor's residuals and predicted
 * against actual values, and the inputs /predict takes. The metadata is built with the same
 * functions the evaluation uses (src/ml/fairness.ts, src/ml/metrics, src/ml/tabular/evaluate.ts)
 * on small data whose figures were checked with numpy and scikit-learn or by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CommandContext } from '../../../src/cli/context.js';
import { modelVersions } from '../../../src/db/schema.js';
import { registerModelCommands } from '../../../src/cli/registry-commands.js';
import { fairnessReport } from '../../../src/ml/fairness.js';
import { mae, r2, rmse } from '../../../src/ml/metrics/index.js';
import { regressionCurves } from '../../../src/ml/tabular/evaluate.js';
import { loadConfig } from '../../../src/platform/config.js';
import { createLogger } from '../../../src/platform/logger.js';
import { decimal, renderModelCard } from '../../../src/registry/model-card.js';
import type { FairnessReportMetadata, VersionMetadata } from '../../../src/registry/version-metadata.js';
import type { DatabaseHandle } from '../../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../../support/databases.js';
import { HOSTILE, HOSTILE_TEXT, registerSample } from '../../support/registry-fixtures.js';

// --- a regressor: 40 validation rows, predictions 10 + 0.5 i, actual values off by 3 sin(i) + 0.1 i ---
const N = 40;
const predictions = Float64Array.from({ length: N }, (_, i) => 10 + 0.5 * i);
const actual = Float64Array.from(predictions, (p, i) => p + 3 * Math.sin(i) + 0.1 * i);
const region = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 'north' : 'south'));

function regressionFairness(column: string, groups: string[], maxAllowedErrorRatio: number): FairnessReportMetadata {
  const overall = { rows: N, rmse: rmse(actual, predictions), mae: mae(actual, predictions) };
  const perGroup = [...new Set(groups)].map((group) => {
    const rows = groups.flatMap((g, i) => (g === group ? [i] : []));
    const y = Float64Array.from(rows, (i) => actual[i]!);
    const p = Float64Array.from(rows, (i) => predictions[i]!);
    return { group, size: rows.length, rmse: rmse(y, p), mae: mae(y, p), errorRatio: rmse(y, p) / overall.rmse };
  });
  const worst = perGroup.reduce((a, b) => (b.errorRatio > a.errorRatio ? b : a));
  return {
    task: 'regression',
    column,
    groupColumn: column,
    groupDescription: `Validation rows grouped by ${column}.`,
    overall,
    groups: perGroup,
    worstGroup: worst.group,
    maxErrorRatio: worst.errorRatio,
    maxAllowedErrorRatio,
    passed: worst.errorRatio <= maxAllowedErrorRatio,
  };
}

function regressionMetadata(): VersionMetadata {
  const curves = regressionCurves(actual, predictions);
  return {
    purpose: 'Predicts tomorrow’s maximum temperature.',
    owner: 'weather-team',
    intendedUse: 'Planning outdoor work a day ahead.',
    limitations: 'Trained on one city; not for other climates.',
    validation: { description: 'The most recent 40 days.', rows: N },
    fairnessReports: [regressionFairness('region', region, 1.02)],
    curves: { residuals: curves.residuals!, predictedVsActual: curves.predictedVsActual! },
    reference: {
      uri: `artifact://sha256/${'r'.repeat(64)}`,
      sha256: 'r'.repeat(64),
      features: ['temp_max', 'station'],
      trainRows: 400,
      validationRows: N,
      task: 'regression',
      primaryMetric: 'rmse',
      validationMetric: rmse(actual, predictions),
    },
  };
}

// --- a classifier: 10 validation rows, two declared group columns -------------------------------
// region: A A A A A A B B B B; shift: day/night alternating; predicted positive at a score >= 0.5.
const labels = Float64Array.from([1, 1, 0, 0, 1, 0, 1, 0, 1, 0]);
const scores = Float64Array.from([0.9, 0.8, 0.6, 0.2, 0.3, 0.1, 0.7, 0.2, 0.4, 0.1]);

function classificationFairness(column: string, groups: string[], referenceGroup: string, minAllowed: number): FairnessReportMetadata {
  const report = fairnessReport(labels, scores, groups, { referenceGroup, threshold: 0.5 });
  const passed = report.minDisparateImpactRatio !== null && report.minDisparateImpactRatio >= minAllowed;
  return { task: 'binary-classification', column, groupColumn: column, groupDescription: `Validation rows grouped by ${column}.`, ...report, minAllowedDisparateImpactRatio: minAllowed, passed };
}

function classificationMetadata(): VersionMetadata {
  const reports = [
    classificationFairness('region', ['A', 'A', 'A', 'A', 'A', 'A', 'B', 'B', 'B', 'B'], 'A', 0.8),
    classificationFairness('shift', Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'day' : 'night')), 'day', 0.3),
  ];
  const { task: _t, column: _c, minAllowedDisparateImpactRatio: _m, passed: _p, ...worst } = reports[0] as Extract<FairnessReportMetadata, { task: 'binary-classification' }>;
  return {
    purpose: 'Tells whether it rains tomorrow.',
    owner: 'weather-team',
    intendedUse: HOSTILE_TEXT,
    limitations: `Not for aviation. ${HOSTILE.script}`,
    fairness: worst,
    fairnessReports: reports,
    curves: { roc: { fpr: [0, 0.25, 1], tpr: [0, 0.75, 1] } },
  };
}

const section = (card: string, heading: string) => {
  const from = card.indexOf(`## ${heading}\n`);
  return card.slice(from, card.indexOf('\n## ', from + 3));
};
const htmlSection = (html: string, id: string) => {
  const from = html.indexOf(`<section id="${id}">`);
  return html.slice(from, html.indexOf('</section>', from));
};

// One embedded database (its migrations take a while on a busy machine): the cards read it through
// `db`, then `steward models show` opens it itself once `db` is closed.
let testDb: TestDatabase;
let db: DatabaseHandle | undefined;
const handle = () => db!.db;
beforeAll(async () => {
  testDb = await createTestDatabase('pglite');
  db = await testDb.open();
}, 180_000);
afterAll(async () => {
  await db?.close();
  await testDb?.destroy();
});

describe('model card of declared models', () => {

  it('cross-checks the fixture figures with numpy and scikit-learn', () => {
    // numpy/sklearn on the same 40 rows: r2_score 0.8098359123022254, rmse 3.124629082689451, mae 2.5174688698001644,
    // residual quantiles [-1.87188564 -0.05956162 2.15490076 3.91901157 5.60565817], mean 2.0364823685336355, std 2.36981992291405.
    expect(r2(actual, predictions)).toBeCloseTo(0.8098359123022254, 12);
    expect(rmse(actual, predictions)).toBeCloseTo(3.124629082689451, 12);
    expect(regressionCurves(actual, predictions).residuals!.quantiles.values).toEqual([-1.87188564, -0.05956162, 2.15490076, 3.91901157, 5.60565817].map((v) => expect.closeTo(v, 7)));
  });

  it("renders a regressor's intended use, limitations, errors per group against the bound, residuals and predicted against actual", async () => {
    const metrics = { rmse: rmse(actual, predictions), mae: mae(actual, predictions), r2: r2(actual, predictions) };
    const v = await registerSample(handle(), 'temperature', 'r1', { metrics, metadata: regressionMetadata(), algorithm: 'linear' });
    const card = await renderModelCard(handle(), 'temperature', v, { format: 'markdown' });

    expect(card).toContain('| Task | regression |');
    const purpose = section(card, 'Purpose');
    expect(purpose).toContain('### Intended use\n\nPlanning outdoor work a day ahead.');
    expect(purpose).toContain('### Limitations\n\nTrained on one city; not for other climates.');

    const metricsSection = section(card, 'Metrics');
    // Four decimals at most: r2 is 0.8098359123022254 in the registry.
    for (const line of ['| mae | 2.5175 |', '| r2 | 0.8098 |', '| rmse | 3.1246 |']) expect(metricsSection).toContain(line);
    expect(card).not.toMatch(/\d\.\d{5,}/);
    expect(metricsSection).toContain('### Residuals (actual − predicted)');
    expect(metricsSection).toContain('| Mean | Std. dev. | 5% | 25% | 50% | 75% | 95% |\n| --- | --- | --- | --- | --- | --- | --- |\n| 2.0365 | 2.3698 | -1.8719 | -0.0596 | 2.1549 | 3.919 | 5.6057 |');
    // Deciles of 4 rows each; numpy: mean actual per decile 12.3189..., 32.2186...
    expect(metricsSection).toContain('| Decile | Rows | Mean predicted | Mean actual |');
    expect(metricsSection).toContain('| 1 | 4 | 10.75 | 12.3189 |');
    expect(metricsSection).toContain('| 10 | 4 | 28.75 | 32.2186 |');

    const fairness = section(card, 'Fairness');
    expect(fairness).toContain('### Groups: region');
    // numpy: north RMSE 3.014891, MAE 2.316404, ratio 0.964880; south 3.230642, 2.718533, 1.033928.
    expect(fairness).toContain('| Group | Rows | RMSE | MAE | RMSE / overall |');
    expect(fairness).toContain('| north | 20 | 3.0149 | 2.3164 | 0.9649 |');
    expect(fairness).toContain('| south | 20 | 3.2306 | 2.7185 | 1.0339 |');
    expect(fairness).toContain('| (all rows) | 40 | 3.1246 | 2.5175 | 1.0000 |');
    expect(fairness).toContain('FAILED: the worst group, south, has 1.0339 times the overall RMSE 3.1246; at most 1.02 is allowed.');
    expect(fairness).not.toContain('No fairness report');

    expect(section(card, 'Monitoring')).toContain('| Decay is measured against | validation RMSE 3.1246 |');

    const html = await renderModelCard(handle(), 'temperature', v, { format: 'html' });
    const metricsHtml = htmlSection(html, 'metrics');
    expect(metricsHtml).toContain('<table data-table="residuals">');
    expect(metricsHtml).toContain('<tr><td>2.0365</td><td>2.3698</td><td>-1.8719</td><td>-0.0596</td><td>2.1549</td><td>3.919</td><td>5.6057</td></tr>');
    expect(metricsHtml).toContain('<tr><td>10</td><td>4</td><td>28.75</td><td>32.2186</td></tr>');
    // The chart spans the values on both axes: its ticks run from the lowest to the highest value.
    const svg = /<svg[^>]*aria-label="Predicted against actual"[\s\S]*?<\/svg>/.exec(metricsHtml)?.[0] ?? '';
    expect(svg.match(/<circle /g)).toHaveLength(10);
    expect(svg).toContain('>10.75</text>');
    expect(svg).toContain('>32.2186</text>');
    // The first decile (10.75, 12.3189) sits at the left edge, a little above the bottom.
    const span = 260 - 72;
    const y = (260 - 36 - ((12.318916314770085 - 10.75) / (32.21863523364502 - 10.75)) * span).toFixed(1);
    expect(svg).toContain(`<circle cx="36.0" cy="${y}" r="2.5"/>`);
    expect(htmlSection(html, 'fairness')).toContain('<table data-table="fairness:region">');
    expect(htmlSection(html, 'fairness')).toContain('<tr><td>south</td><td>20</td><td>3.2306</td><td>2.7185</td><td>1.0339</td></tr>');
    expect(htmlSection(html, 'purpose')).toContain('<h3>Intended use</h3>\n<p>Planning outdoor work a day ahead.</p>');
  });

  it("renders a classifier's report per declared column with its bound and verdict, and escapes hostile intended use and limitations", async () => {
    const v = await registerSample(handle(), 'rain', 'c1', { metrics: { rocAuc: 0.6916695386176573, accuracy: 0.7 }, metadata: classificationMetadata() });
    const card = await renderModelCard(handle(), 'rain', v, { format: 'markdown' });
    expect(card).toContain('| Task | binary-classification |');
    expect(card).toContain('| rocAuc | 0.6917 |');
    expect(card).toContain('| accuracy | 0.7 |');

    const fairness = section(card, 'Fairness');
    expect([...fairness.matchAll(/^### (.+)$/gm)].map((m) => m[1])).toEqual(['Groups: region', 'Groups: shift']);
    // By hand: region A selects 3 of 6 (2 true positives of 3 positives, 1 false of 3 negatives); B 1 of 4 (1 of 2, 0 of 2).
    expect(fairness).toContain('| A (reference) | 6 | 3 | 0.5000 | 0.6667 | 0.3333 | 0.6667 | 1.0000 | 0.0000 |');
    expect(fairness).toContain('| B | 4 | 2 | 0.2500 | 0.5000 | 0.0000 | 1.0000 | 0.5000 | -0.1667 |');
    expect(fairness).toContain('FAILED: lowest disparate impact ratio 0.5000 against a declared minimum of 0.8; largest equal opportunity gap 0.1667.');
    // shift: day selects 3 of 5, night 1 of 5: 0.2 / 0.6.
    expect(fairness).toContain('| night | 5 | 1 | 0.2000 | 1.0000 | 0.0000 | 1.0000 | 0.3333 | 0.5000 |');
    expect(fairness).toContain('passed: lowest disparate impact ratio 0.3333 against a declared minimum of 0.3; largest equal opportunity gap 0.5000.');
    // The worst report is not shown twice through the `fairness` section that repeats it.
    expect(fairness.match(/\| A \(reference\) \|/g)).toHaveLength(1);

    const purpose = section(card, 'Purpose');
    expect(purpose).not.toMatch(/<script|<img/);
    expect(purpose).toContain('### Intended use\n\n&lt;script&gt;window.__pwned = 1&lt;/script&gt; &lt;img src=x onerror=window.__pwned=2&gt; \\| \\[click\\](javascript:alert(1)) \\]');
    expect(purpose).toContain('### Limitations\n\nNot for aviation. &lt;script&gt;window.__pwned = 1&lt;/script&gt;');

    const html = await renderModelCard(handle(), 'rain', v, { format: 'html' });
    expect(html).not.toMatch(/<script|<img|href=/);
    expect(htmlSection(html, 'purpose')).toContain(
      '<h3>Intended use</h3>\n<p>&lt;script&gt;window.__pwned = 1&lt;/script&gt; &lt;img src=x onerror=window.__pwned=2&gt; | [click](javascript:alert(1)) ] x&#39;); drop table model_versions; -- &amp; more</p>',
    );
    expect(htmlSection(html, 'purpose')).toContain('<h3>Limitations</h3>\n<p>Not for aviation. &lt;script&gt;window.__pwned = 1&lt;/script&gt;</p>');
    expect([...htmlSection(html, 'fairness').matchAll(/data-table="([^"]+)"/g)].map((m) => m[1])).toEqual(['fairness:region', 'fairness:shift']);
    expect(html).toContain('<tr><td>rocAuc</td><td>0.6917</td></tr>');
  });

  it('still shows the single fairness report of older versions, and notes reports it cannot read', async () => {
    const { fairnessReports: _reports, ...metadata } = classificationMetadata();
    const v = await registerSample(handle(), 'older', 'o1', { metadata });
    const card = await renderModelCard(handle(), 'older', v, { format: 'markdown' });
    const fairness = section(card, 'Fairness');
    expect(fairness).toContain('**Groups: region:** Validation rows grouped by region. Reference group: A; predicted positive at a score &gt;= 0.5.');
    expect(fairness).toContain('| B | 4 | 2 | 0.2500 | 0.5000 | 0.0000 | 1.0000 | 0.5000 | -0.1667 |');
    expect(fairness).toContain('Lowest disparate impact ratio 0.5000 (fails the four-fifths rule: below 0.8); largest equal opportunity gap 0.1667.');

    // A foreign writer's malformed reports: the card says so rather than dropping them silently.
    await handle()
      .update(modelVersions)
      .set({ metadata: { ...metadata, fairnessReports: [{ task: 'regression', column: 'region' }] } })
      .where(and(eq(modelVersions.modelName, 'older'), eq(modelVersions.version, v)));
    const reread = section(await renderModelCard(handle(), 'older', v, { format: 'markdown' }), 'Fairness');
    expect(reread).toContain('| B | 4 | 2 |');
    expect(reread).toMatch(/_The recorded fairness reports could not be read \(0\.groupColumn: .+\)\._/);
  });

  it('prints at most four decimals, and significant digits below 0.001', () => {
    expect([0.6916695386176573, 0.64, 1234.56789, 3, -0.00001234567, 0, 1e-3].map(decimal)).toEqual(['0.6917', '0.64', '1234.5679', '3', '-0.00001235', '0', '0.001']);
  });
});

describe('steward models show', { timeout: 120_000 }, () => {
  let home: string;
  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-models-show-'));
    try {
      await registerSample(handle(), 'shower', 's1', {
        metrics: { rocAuc: 0.6916695386176573 },
        signature: { inputs: [{ name: 'precipitation', type: 'float' }, { name: 'weather', type: 'string' }], outputs: ['label', 'probabilities'] },
      });
      // An imported ONNX model's signature: element types and shapes.
      await registerSample(handle(), 'imported', 'i1', {
        metrics: {},
        signature: { inputs: [{ name: 'x', kind: 'tensor', elementType: 'float32', shape: ['batch', 3] }], outputs: [{ name: 'y', kind: 'tensor', elementType: 'float32', shape: ['batch', 1] }] },
      });
    } finally {
      // The embedded database admits one opener: the command opens it itself.
      await db?.close();
      db = undefined;
    }
  });
  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  async function steward(json: boolean, ...args: string[]): Promise<string> {
    const config = loadConfig({ STEWARD_HOME: home }, home);
    const context = (): CommandContext => ({
      config: { ...config, database: { url: undefined, pgliteDir: testDb.pgliteDir } },
      logger: createLogger('error'),
      json,
      project: () => Promise.reject(new Error('models show needs no project')),
    });
    const program = new Command().exitOverride();
    registerModelCommands(program, context);
    let stdout = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    try {
      await program.parseAsync(['node', 'steward', ...args]);
    } finally {
      spy.mockRestore();
    }
    return stdout;
  }

  it("prints the version's inputs by name and type, and its metrics with four decimals", async () => {
    const text = await steward(false, 'models', 'show', 'shower@1');
    expect(text).toContain('\n  inputs:       precipitation:float  weather:string\n');
    expect(text).toContain('  metrics:      rocAuc=0.6917\n');
    expect(await steward(false, 'models', 'show', 'imported@1')).toContain('\n  inputs:       x:float32[batch, 3]\n');
  });

  it('includes the inputs in --json', async () => {
    const shown = JSON.parse(await steward(true, 'models', 'show', 'shower@1')) as { version: number; inputs: unknown; metrics: unknown };
    expect(shown.version).toBe(1);
    expect(shown.inputs).toEqual([
      { name: 'precipitation', type: 'float' },
      { name: 'weather', type: 'string' },
    ]);
    // JSON keeps the metric as recorded: only text is rounded.
    expect(shown.metrics).toEqual({ rocAuc: 0.6916695386176573 });
  });
});
