/**
 * Model cards: what a reviewer needs to judge a version on one page: what it is for, what it may
 * and may not be used for, and who owns it, what it learned from and over which window, the
 * features it takes (with their sensitivity), how well it did and on which validation set (a
 * regressor's residuals and predicted against actual values), how it treats subgroups (every
 * declared group column, a classifier's rates or a regressor's errors, against the declared
 * bound), whether it behaves as expected, what monitoring found since, where it came from, and who
 * approved it. Rendered as Markdown for a repository or as a self-contained HTML page
 * (model-card-render.ts). A section the version has no data for says so: an empty fairness section
 * must read as "not measured", never as "nothing to report".
 *
 * @example
 * const html = await renderModelCard(db, 'rain-tomorrow', 'champion', { format: 'html' });
 */
import { metricLabel } from '../ml/tabular/task.js';
import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { driftReports, type ModelHistoryEvent } from '../db/schema.js';
import { versionHistoryOf } from './history.js';
import { modelLineage, type LineageTree } from './lineage.js';
import { aliasesOf, resolveVersion } from './lookup.js';
import { decimal, modelCardHtml, modelCardMarkdown, type Block, type CardSection } from './model-card-render.js';
import { readVersionMetadata, type FairnessMetadata, type FairnessReportMetadata, type ReadMetadata, type VersionMetadata } from './version-metadata.js';

export { decimal, escapeHtml } from './model-card-render.js';

export interface SignatureField {
  name: string;
  /** Empty when the signature does not say. */
  type: string;
}

export interface ModelCard {
  model: string;
  version: number;
  status: string;
  aliases: string[];
  algorithm: string | null;
  description: string | null;
  metadata: VersionMetadata;
  /** Metadata sections that were recorded but could not be read. */
  unreadable: ReadMetadata['unreadable'];
  inputs: SignatureField[];
  outputs: SignatureField[];
  metrics: Array<{ name: string; value: number }>;
  artifactUri: string;
  trainingSetUri: string;
  runId: string;
  registeredAt: Date;
  lineage: LineageTree;
  history: ModelHistoryEvent[];
  /** The most recent drift reports of this version (src/monitoring), newest window first. */
  monitoring: Array<{ id: string; windowFrom: Date; windowTo: Date; rows: number; enough: boolean; datasetDrift: boolean | null; predictionDrift: boolean | null; decayed: boolean | null; decision: string | null }>;
}

export interface ModelCardOptions {
  format: 'markdown' | 'html';
}

/** The statuses an approval moves a version into or out of. */
const APPROVAL_STATUSES = new Set(['pending_approval', 'approved', 'rejected']);

export async function loadModelCard(db: Database, model: string, versionOrAlias: string | number): Promise<ModelCard> {
  const version = await resolveVersion(db, model, versionOrAlias);
  const aliases = (await aliasesOf(db, model)).filter((a) => a.version === version.version).map((a) => a.alias);
  const signature = (version.signature ?? {}) as { inputs?: unknown; outputs?: unknown };
  const { metadata, unreadable } = readVersionMetadata(version.metadata);
  return {
    model,
    version: version.version,
    status: version.status,
    aliases,
    algorithm: version.algorithm,
    description: version.description,
    metadata,
    unreadable,
    inputs: signatureFields(signature.inputs),
    outputs: signatureFields(signature.outputs),
    metrics: Object.entries(version.metrics as Record<string, number>)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    artifactUri: version.artifactUri,
    trainingSetUri: version.trainingSetUri,
    runId: version.runId,
    registeredAt: version.createdAt,
    lineage: await modelLineage(db, `${model}@${version.version}`),
    history: await versionHistoryOf(db, model, version.version),
    monitoring: await db
      .select({
        id: driftReports.id,
        windowFrom: driftReports.windowFrom,
        windowTo: driftReports.windowTo,
        rows: driftReports.rows,
        enough: driftReports.enough,
        datasetDrift: driftReports.datasetDrift,
        predictionDrift: driftReports.predictionDrift,
        decayed: driftReports.decayed,
        decision: driftReports.decision,
      })
      .from(driftReports)
      .where(and(eq(driftReports.modelName, model), eq(driftReports.version, version.version)))
      .orderBy(desc(driftReports.windowTo))
      .limit(10),
  };
}

export async function renderModelCard(db: Database, model: string, versionOrAlias: string | number, options: ModelCardOptions): Promise<string> {
  const card = await loadModelCard(db, model, versionOrAlias);
  return options.format === 'html' ? modelCardHtml(cardTitle(card), cardSections(card)) : modelCardMarkdown(cardTitle(card), cardSections(card));
}

export const cardTitle = (card: ModelCard) => `Model card: ${card.model} v${card.version}`;

/**
 * The fields of a signature's `inputs` or `outputs`. Signatures come from different trainers: a
 * Steward model gives names and types (and may list outputs as bare names), an imported ONNX model
 * gives element types and shapes (`float[?, 3]`).
 */
export function signatureFields(value: unknown): SignatureField[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return { name: String(entry), type: '' };
    const field = entry as { name?: unknown; type?: unknown; elementType?: unknown; shape?: unknown };
    const type = String(field.type ?? field.elementType ?? '');
    const shape = Array.isArray(field.shape) ? `[${field.shape.join(', ')}]` : '';
    return { name: String(field.name ?? ''), type: `${type}${shape}` };
  });
}

function eventChange(event: ModelHistoryEvent): string {
  switch (event.kind) {
    case 'registered':
      return `registered as ${event.to}`;
    case 'transition':
      return `${event.from} → ${event.to}`;
    case 'alias_set':
      return event.from === null ? `alias ${event.alias} set to v${event.to}` : `alias ${event.alias} moved v${event.from} → v${event.to}`;
    case 'alias_unset':
      return `alias ${event.alias} removed from v${event.from}`;
  }
}

const HISTORY_HEADER = ['At', 'Change', 'Actor', 'Reason', 'Workflow'];
const historyRows = (events: ModelHistoryEvent[]) => events.map((e) => [e.at.toISOString(), eventChange(e), e.actor, e.reason, e.workflowId ?? '']);

const fixed = (value: number | null | undefined, digits = 4) => (value === null || value === undefined ? 'n/a' : value.toFixed(digits));
const whole = (n: number) => n.toLocaleString('en-US');
/** A feature value as a reviewer reads it: six significant digits are plenty to see what moved. */
const shown = (v: number | string | null) => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v));

/** A note for a section whose data was never recorded, or was recorded but cannot be read. */
function missing(card: ModelCard, section: keyof VersionMetadata, what: string): Block {
  const problem = card.unreadable.find((u) => u.section === section);
  return { kind: 'note', text: problem ? `The recorded ${what} could not be read (${problem.problem}).` : `No ${what} was recorded for this version.` };
}

/** What the version predicts, from its reference profile, else from what its evaluation recorded. */
function taskOf(card: ModelCard): string | undefined {
  const m = card.metadata;
  return m.reference?.task ?? m.fairnessReports?.[0]?.task ?? (m.curves?.residuals || m.curves?.predictedVsActual ? 'regression' : m.curves?.roc || m.fairness ? 'binary-classification' : undefined);
}

function overview(card: ModelCard): Block[] {
  return [
    {
      kind: 'facts',
      rows: [
        ['Model', card.model],
        ['Version', String(card.version)],
        ['Status', card.status],
        ['Aliases', card.aliases.join(', ') || 'none'],
        ['Algorithm', card.algorithm ?? 'not recorded'],
        ['Task', taskOf(card) ?? 'not recorded'],
        ['Owner', card.metadata.owner ?? 'not recorded'],
        ['Registered at', card.registeredAt.toISOString()],
        ['Produced by run', card.runId],
        ['Artifact', card.artifactUri],
      ],
    },
  ];
}

function purpose(card: ModelCard): Block[] {
  const m = card.metadata;
  const blocks: Block[] = [m.purpose ? { kind: 'text', text: m.purpose } : missing(card, 'purpose', 'purpose')];
  if (card.description) blocks.push({ kind: 'text', label: 'This version', text: card.description });
  // Both are optional in a declaration: shown when recorded, noted only when recorded but unreadable.
  for (const [section, title] of [
    ['intendedUse', 'Intended use'],
    ['limitations', 'Limitations'],
  ] as const) {
    const text = m[section];
    if (text) blocks.push({ kind: 'subheading', text: title }, { kind: 'text', text });
    else if (card.unreadable.some((u) => u.section === section)) blocks.push({ kind: 'subheading', text: title }, missing(card, section, title.toLowerCase()));
  }
  return blocks;
}

function trainingData(card: ModelCard): Block[] {
  const t = card.metadata.training;
  const rows: Array<[string, string]> = [['Training set', card.trainingSetUri]];
  if (t) {
    rows.push(['Window', `${t.from} to ${t.to}`], ['Rows', whole(t.rows)]);
    if (t.label) rows.push(['Label', t.label]);
    if (t.source) rows.push(['Source', t.source]);
  }
  return t ? [{ kind: 'facts', rows }] : [{ kind: 'facts', rows }, missing(card, 'training', 'training window')];
}

function features(card: ModelCard): Block[] {
  const described = new Map((card.metadata.features ?? []).map((f) => [f.name, f]));
  const names = [...new Set([...card.inputs.map((i) => i.name), ...described.keys()])];
  const typeOf = new Map(card.inputs.map((i) => [i.name, i.type]));
  const rows = names.map((name) => {
    const f = described.get(name);
    return [name, typeOf.get(name) || f?.type || '', f?.sensitivity ?? 'not tagged', f?.tags?.join(', ') ?? '', f?.description ?? ''];
  });
  const blocks: Block[] = [{ kind: 'table', id: 'features', header: ['Feature', 'Type', 'Sensitivity', 'Tags', 'Description'], rows, empty: 'The signature declares no inputs.' }];
  if (!card.metadata.features) blocks.push(missing(card, 'features', 'feature description or sensitivity tagging'));
  blocks.push({ kind: 'subheading', text: 'Outputs' }, { kind: 'table', id: 'outputs', header: ['Name', 'Type'], rows: card.outputs.map((f) => [f.name, f.type]), empty: 'The signature declares no outputs.' });
  return blocks;
}

function metrics(card: ModelCard): Block[] {
  const v = card.metadata.validation;
  const blocks: Block[] = [
    v
      ? { kind: 'text', label: 'Validation set', text: `${v.description} ${whole(v.rows)} rows${v.positives === undefined ? '' : `, ${whole(v.positives)} positive`}.` }
      : missing(card, 'validation', 'validation set description'),
    { kind: 'table', id: 'metrics', header: ['Metric', 'Value'], rows: card.metrics.map((m) => [m.name, decimal(m.value)]), empty: 'No metrics were recorded.' },
  ];
  const curves = card.metadata.curves;
  if (curves?.roc) blocks.push({ kind: 'chart', title: 'ROC curve', xLabel: 'false positive rate', yLabel: 'true positive rate', x: curves.roc.fpr, y: curves.roc.tpr });
  if (curves?.calibration) {
    blocks.push({ kind: 'chart', title: 'Calibration', xLabel: 'mean predicted probability', yLabel: 'observed positive rate', x: curves.calibration.probPred, y: curves.calibration.probTrue, markers: true });
  }
  return [...blocks, ...regressionCurves(card)];
}

/** `0.05` -> `5%`: a quantile as the residual table heads it. */
const percent = (q: number) => `${Number((q * 100).toPrecision(4))}%`;

/** A regressor's residual summary and its predicted against actual values per decile of the predictions. */
function regressionCurves(card: ModelCard): Block[] {
  const { residuals, predictedVsActual: pva } = card.metadata.curves ?? {};
  const blocks: Block[] = [];
  if (residuals) {
    const { q, values } = residuals.quantiles;
    blocks.push(
      { kind: 'subheading', text: 'Residuals (actual − predicted)' },
      {
        kind: 'table',
        id: 'residuals',
        header: ['Mean', 'Std. dev.', ...q.map(percent)],
        rows: [[decimal(residuals.mean), decimal(residuals.std), ...q.map((_, i) => (values[i] === undefined ? 'n/a' : decimal(values[i])))]],
        empty: 'No residuals were recorded.',
      },
    );
  }
  if (pva) {
    blocks.push(
      { kind: 'subheading', text: 'Predicted against actual, per decile of the predictions' },
      {
        kind: 'table',
        id: 'predicted-vs-actual',
        header: ['Decile', 'Rows', 'Mean predicted', 'Mean actual'],
        rows: pva.predicted.map((p, i) => [String(i + 1), pva.counts[i] === undefined ? 'n/a' : whole(pva.counts[i]), decimal(p), pva.actual[i] === undefined ? 'n/a' : decimal(pva.actual[i])]),
        empty: 'No predictions were recorded.',
      },
    );
    const all = [...pva.predicted, ...pva.actual];
    if (all.length) {
      const range: [number, number] = [Math.min(...all), Math.max(...all)];
      blocks.push({ kind: 'chart', title: 'Predicted against actual', xLabel: 'mean predicted value', yLabel: 'mean actual value', x: pva.predicted, y: pva.actual, markers: true, range });
    }
  }
  return blocks;
}

function fairnessVerdict(f: FairnessMetadata): string {
  const impact = f.minDisparateImpactRatio;
  const rule = impact === null ? 'not computable' : impact >= 0.8 ? 'passes the four-fifths rule' : 'fails the four-fifths rule: below 0.8';
  return `Lowest disparate impact ratio ${fixed(impact)} (${rule}); largest equal opportunity gap ${fixed(f.maxEqualOpportunityGap)}.`;
}

/** A classifier's rates per group, the reference group marked. */
function classificationTable(id: string, f: FairnessMetadata): Block {
  return {
    kind: 'table',
    id,
    header: ['Group', 'Rows', 'Positives', 'Selection rate', 'TPR', 'FPR', 'Precision', 'Disparate impact', 'Equal opportunity diff.'],
    rows: f.groups.map((g) => [
      g.group === f.referenceGroup ? `${g.group} (reference)` : g.group,
      whole(g.size),
      whole(g.positives),
      fixed(g.selectionRate),
      fixed(g.tpr),
      fixed(g.fpr),
      fixed(g.precision),
      fixed(g.disparateImpactRatio),
      fixed(g.equalOpportunityDifference),
    ]),
    empty: 'The report has no groups.',
  };
}

/** One declared group column's report: a classifier's rates or a regressor's errors per group, and the verdict against the declared bound. */
function fairnessReport(report: FairnessReportMetadata): Block[] {
  const id = `fairness:${report.column}`;
  const verdict = report.passed ? 'passed' : 'FAILED';
  if (report.task === 'binary-classification') {
    const impact = report.minDisparateImpactRatio;
    return [
      { kind: 'subheading', text: `Groups: ${report.groupColumn}` },
      { kind: 'text', text: `${report.groupDescription} Reference group: ${report.referenceGroup}; predicted positive at a score >= ${report.threshold}.` },
      classificationTable(id, report),
      {
        kind: 'text',
        text: `${verdict}: lowest disparate impact ratio ${fixed(impact)} against a declared minimum of ${decimal(report.minAllowedDisparateImpactRatio)}${impact === null ? ' (not computable: the reference group has no predicted positives)' : ''}; largest equal opportunity gap ${fixed(report.maxEqualOpportunityGap)}.`,
      },
    ];
  }
  return [
    { kind: 'subheading', text: `Groups: ${report.groupColumn}` },
    { kind: 'text', text: report.groupDescription },
    {
      kind: 'table',
      id,
      header: ['Group', 'Rows', 'RMSE', 'MAE', 'RMSE / overall'],
      rows: [
        ...report.groups.map((g) => [g.group, whole(g.size), decimal(g.rmse), decimal(g.mae), fixed(g.errorRatio)]),
        ['(all rows)', whole(report.overall.rows), decimal(report.overall.rmse), decimal(report.overall.mae), fixed(1)],
      ],
      empty: 'The report has no groups.',
    },
    {
      kind: 'text',
      text: `${verdict}: the worst group, ${report.worstGroup}, has ${fixed(report.maxErrorRatio)} times the overall RMSE ${decimal(report.overall.rmse)}; at most ${decimal(report.maxAllowedErrorRatio)} is allowed.`,
    },
  ];
}

function fairness(card: ModelCard): Block[] {
  const reports = card.metadata.fairnessReports;
  // Every declared column's report when recorded; `fairness`, a classifier's worst one among them, would repeat one.
  if (reports?.length) return reports.flatMap(fairnessReport);
  const unreadableReports = card.unreadable.some((u) => u.section === 'fairnessReports') ? [missing(card, 'fairnessReports', 'fairness reports')] : [];
  const f = card.metadata.fairness;
  if (!f) return [missing(card, 'fairness', 'fairness report'), ...unreadableReports];
  return [
    { kind: 'text', label: `Groups: ${f.groupColumn}`, text: `${f.groupDescription} Reference group: ${f.referenceGroup}; predicted positive at a score >= ${f.threshold}.` },
    classificationTable('fairness', f),
    { kind: 'text', text: fairnessVerdict(f) },
    ...unreadableReports,
  ];
}

function behaviour(card: ModelCard): Block[] {
  const b = card.metadata.behaviour;
  if (!b) return [missing(card, 'behaviour', 'behavioural check')];
  const failed = b.results.filter((r) => !r.passed).length;
  return [
    { kind: 'text', text: `${b.description} ${b.results.length - failed} of ${b.results.length} checks passed.` },
    {
      kind: 'table',
      id: 'behaviour',
      header: ['Check', 'Kind', 'Feature', 'Result', 'Rows tested', 'Violations', 'Worst violation'],
      rows: b.results.map((r) => {
        const worst = r.samples[0];
        const example = worst ? `row ${worst.row}: ${shown(worst.from)} → ${shown(worst.to)} moved the score ${fixed(worst.before)} → ${fixed(worst.after)}` : '';
        return [r.name, r.kind, r.feature, r.passed ? 'passed' : 'FAILED', whole(r.rowsTested), whole(r.violations), example];
      }),
      empty: 'No checks were declared.',
    },
  ];
}

function monitoring(card: ModelCard): Block[] {
  const r = card.metadata.reference;
  const flag = (v: boolean | null) => (v === null ? 'not decided' : v ? 'yes' : 'no');
  return [
    r
      ? {
          kind: 'facts',
          rows: [
            ['Reference statistics', `${r.features.length} features over ${whole(r.trainRows)} training rows; predictions over ${whole(r.validationRows)} validation rows`],
            ['Decay is measured against', r.primaryMetric && r.validationMetric !== undefined ? `validation ${metricLabel(r.primaryMetric)} ${r.validationMetric.toFixed(4)}` : r.validationRocAuc !== undefined ? `validation ROC AUC ${r.validationRocAuc.toFixed(4)}` : 'no recorded validation metric'],
            ...(r.emptyFeatures?.length ? [['Features with no training values', r.emptyFeatures.join(', ')] as [string, string]] : []),
          ],
        }
      : missing(card, 'reference', 'reference profile for drift monitoring'),
    {
      kind: 'table',
      id: 'drift-reports',
      header: ['Report', 'Window', 'Rows', 'Input drift', 'Prediction drift', 'Decay', 'Decision'],
      rows: card.monitoring.map((m) => [
        m.id,
        `${m.windowFrom.toISOString()} to ${m.windowTo.toISOString()}`,
        m.enough ? whole(m.rows) : `${whole(m.rows)} (too few to decide)`,
        flag(m.datasetDrift),
        flag(m.predictionDrift),
        flag(m.decayed),
        m.decision ?? 'none yet',
      ]),
      empty: 'No monitoring run has checked this version yet.',
    },
  ];
}

function approvals(card: ModelCard): Block[] {
  const steps = card.history.filter((e) => e.kind === 'transition' && (APPROVAL_STATUSES.has(e.from ?? '') || APPROVAL_STATUSES.has(e.to ?? '')));
  return [
    {
      kind: 'table',
      id: 'approvals',
      header: HISTORY_HEADER,
      rows: historyRows(steps),
      empty: `No approval step recorded: the version has not been submitted for approval (it is ${card.status}).`,
    },
  ];
}

export function cardSections(card: ModelCard): CardSection[] {
  return [
    { id: 'overview', title: 'Overview', blocks: overview(card) },
    { id: 'purpose', title: 'Purpose', blocks: purpose(card) },
    { id: 'training-data', title: 'Training data', blocks: trainingData(card) },
    { id: 'features', title: 'Features', blocks: features(card) },
    { id: 'metrics', title: 'Metrics', blocks: metrics(card) },
    { id: 'fairness', title: 'Fairness', blocks: fairness(card) },
    { id: 'behaviour', title: 'Behavioural checks', blocks: behaviour(card) },
    { id: 'monitoring', title: 'Monitoring', blocks: monitoring(card) },
    { id: 'lineage', title: 'Lineage', blocks: [{ kind: 'tree', root: card.lineage.root }] },
    { id: 'approvals', title: 'Approval history', blocks: approvals(card) },
    { id: 'history', title: 'History', blocks: [{ kind: 'table', id: 'history', header: HISTORY_HEADER, rows: historyRows(card.history), empty: 'No events recorded.' }] },
  ];
}
