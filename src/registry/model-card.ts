/**
 * Model cards: what a reviewer needs to judge a version on one page: what it is for and who owns
 * it, what it learned from and over which window, the features it takes (with their sensitivity),
 * how well it did and on which validation set, how it treats subgroups, whether it behaves as
 * expected, what monitoring found since, where it came from, and who approved it. Rendered as Markdown for a repository or as a
 * self-contained HTML page (model-card-render.ts). A section the version has no data for says so:
 * an empty fairness section must read as "not measured", never as "nothing to report".
 *
 * @example
 * const html = await renderModelCard(db, 'flight-delay', 'champion', { format: 'html' });
 */
import { metricLabel } from '../ml/tabular/task.js';
import { and, desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { driftReports, type ModelHistoryEvent } from '../db/schema.js';
import { versionHistoryOf } from './history.js';
import { modelLineage, type LineageTree } from './lineage.js';
import { aliasesOf, resolveVersion } from './lookup.js';
import { modelCardHtml, modelCardMarkdown, type Block, type CardSection } from './model-card-render.js';
import { readVersionMetadata, type FairnessMetadata, type ReadMetadata, type VersionMetadata } from './version-metadata.js';

export { escapeHtml } from './model-card-render.js';

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
 * Signatures come from different trainers: the flight model lists outputs as bare names, an
 * imported ONNX model gives element types and shapes.
 */
function signatureFields(value: unknown): SignatureField[] {
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
        ['Owner', card.metadata.owner ?? 'not recorded'],
        ['Registered at', card.registeredAt.toISOString()],
        ['Produced by run', card.runId],
        ['Artifact', card.artifactUri],
      ],
    },
  ];
}

function purpose(card: ModelCard): Block[] {
  const blocks: Block[] = [card.metadata.purpose ? { kind: 'text', text: card.metadata.purpose } : missing(card, 'purpose', 'purpose')];
  if (card.description) blocks.push({ kind: 'text', label: 'This version', text: card.description });
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
    { kind: 'table', id: 'metrics', header: ['Metric', 'Value'], rows: card.metrics.map((m) => [m.name, String(m.value)]), empty: 'No metrics were recorded.' },
  ];
  const curves = card.metadata.curves;
  if (curves?.roc) blocks.push({ kind: 'chart', title: 'ROC curve', xLabel: 'false positive rate', yLabel: 'true positive rate', x: curves.roc.fpr, y: curves.roc.tpr });
  if (curves?.calibration) {
    blocks.push({ kind: 'chart', title: 'Calibration', xLabel: 'mean predicted probability', yLabel: 'observed delay rate', x: curves.calibration.probPred, y: curves.calibration.probTrue, markers: true });
  }
  return blocks;
}

function fairnessVerdict(f: FairnessMetadata): string {
  const impact = f.minDisparateImpactRatio;
  const rule = impact === null ? 'not computable' : impact >= 0.8 ? 'passes the four-fifths rule' : 'fails the four-fifths rule: below 0.8';
  return `Lowest disparate impact ratio ${fixed(impact)} (${rule}); largest equal opportunity gap ${fixed(f.maxEqualOpportunityGap)}.`;
}

function fairness(card: ModelCard): Block[] {
  const f = card.metadata.fairness;
  if (!f) return [missing(card, 'fairness', 'fairness report')];
  return [
    { kind: 'text', label: `Groups: ${f.groupColumn}`, text: `${f.groupDescription} Reference group: ${f.referenceGroup}; predicted positive at a score >= ${f.threshold}.` },
    {
      kind: 'table',
      id: 'fairness',
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
    },
    { kind: 'text', text: fairnessVerdict(f) },
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
