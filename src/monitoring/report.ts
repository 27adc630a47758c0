/**
 * The drift report of one monitoring run: per column the test, statistic, threshold and verdict (or
 * why none), the columns and values that could not be used, prediction drift and performance decay,
 * and for every drifted column a small inline SVG comparing the reference's distribution with the
 * window's. Built once from a window's assessment and stored as JSON (report-store.ts); shown by
 * `steward drift report <id>` and embedded as HTML by renderDriftReportHtml (reviewer page, model card).
 */
import { metricLabel } from '../ml/tabular/task.js';
import { escapeHtml } from '../registry/model-card-render.js';
import type { ColumnDriftResult } from './drift.js';
import type { ColumnReference } from './reference.js';
import type { ReferenceProfile } from './reference.js';
import type { DecayResult, WindowAssessment, WindowData } from './window.js';

/** Categories shown in a chart; the rest are summed as "other". */
const CHART_CATEGORIES = 12;

export interface ChartData {
  kind: 'numeric' | 'categorical';
  /** Bin or category labels, in order. */
  labels: string[];
  reference: number[];
  current: number[];
  /** Share of current values below the reference's minimum and above its maximum (numeric only). */
  outside: { below: number; above: number } | null;
}

export type Verdict = 'drift' | 'no drift' | 'undecided';

export interface ReportColumn {
  column: string;
  kind: string | null;
  test: string | null;
  statistic: number | null;
  pValue: number | null;
  distance: number | null;
  threshold: number | null;
  /** Jensen-Shannon's noise floor at these sizes (ColumnDriftResult.noiseFloor); absent in older reports. */
  noiseFloor?: number | null;
  verdict: Verdict;
  /** Tested and reported, but not counted toward dataset drift (absent in reports stored before seasonal columns existed). */
  seasonal?: boolean;
  reason: string | null;
  counts: ColumnDriftResult['counts'];
  unseenCategories: string[];
  unseenCategoryCount: number;
  chart: ChartData | null;
  svg: string | null;
}

export interface DriftReport {
  id: string;
  model: string;
  version: number;
  window: { from: string; to: string };
  rows: number;
  requests: number;
  failedRequests: number;
  labelledRows: number;
  enough: boolean;
  reason: string | null;
  datasetDrift: boolean | null;
  decidedColumns: number;
  driftedColumns: number;
  driftShare: number | null;
  shareThreshold: number | null;
  /** Columns left out of the share because they follow the calendar (absent in older reports). */
  seasonalColumns?: string[];
  columns: ReportColumn[];
  prediction: ReportColumn | null;
  decay: DecayResult;
  missingFeatures: string[];
  extraColumns: string[];
  unusableColumns: Array<{ column: string; reason: string }>;
}

export interface ReportContext {
  id: string;
  model: string;
  version: number;
  from: Date;
  to: Date;
}

export function buildDriftReport(context: ReportContext, assessment: WindowAssessment, data: WindowData, reference: ReferenceProfile): DriftReport {
  const seasonal = assessment.inputDrift?.seasonalColumns ?? [];
  const column = (result: ColumnDriftResult, ref: ColumnReference | undefined, values: ArrayLike<number | string | null> | undefined): ReportColumn => {
    const verdict: Verdict = result.drifted === null ? 'undecided' : result.drifted ? 'drift' : 'no drift';
    const chart = verdict === 'drift' && ref !== undefined && values !== undefined ? chartData(ref, values) : null;
    return {
      column: result.column,
      kind: result.kind,
      test: result.test,
      statistic: result.statistic,
      pValue: result.pValue,
      distance: result.distance,
      threshold: result.threshold,
      noiseFloor: result.noiseFloor,
      verdict,
      seasonal: seasonal.includes(result.column),
      reason: result.reason,
      counts: result.counts,
      unseenCategories: result.unseenCategories,
      unseenCategoryCount: result.unseenCategoryCount,
      chart,
      svg: chart === null ? null : chartSvg(result.column, chart),
    };
  };
  const drift = assessment.inputDrift;
  return {
    id: context.id,
    model: context.model,
    version: context.version,
    window: { from: context.from.toISOString(), to: context.to.toISOString() },
    rows: assessment.rows,
    requests: assessment.requests,
    failedRequests: assessment.failedRequests,
    labelledRows: assessment.labelledRows,
    enough: assessment.enough,
    reason: assessment.reason,
    datasetDrift: drift?.datasetDrift ?? null,
    decidedColumns: drift?.decidedColumns ?? 0,
    driftedColumns: drift?.driftedColumns ?? 0,
    driftShare: drift?.share ?? null,
    shareThreshold: drift?.shareThreshold ?? null,
    seasonalColumns: seasonal,
    columns: (drift?.columns ?? []).map((c) => column(c, reference.features[c.column], data.columns[c.column])),
    prediction: assessment.predictionDrift ? column(assessment.predictionDrift, reference.prediction, data.scores) : null,
    decay: assessment.decay,
    missingFeatures: assessment.missingFeatures,
    extraColumns: assessment.extraColumns,
    unusableColumns: assessment.unusableColumns,
  };
}

/** Reference and current shares over the reference's chart bins, or over the most common categories. */
export function chartData(reference: ColumnReference, values: ArrayLike<number | string | null>): ChartData | null {
  if (reference.kind === 'numeric') {
    const { edges, counts } = reference.histogram;
    if (edges.length < 2) return null;
    const bins = counts.length;
    const current = new Array<number>(bins).fill(0);
    let below = 0;
    let above = 0;
    let used = 0;
    const first = edges[0]!;
    const last = edges[bins]!;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      used++;
      if (v < first) below++;
      else if (v > last) above++;
      else {
        let bin = last > first ? Math.min(bins - 1, Math.floor(((v - first) / (last - first)) * bins)) : 0;
        while (bin > 0 && v < edges[bin]!) bin--;
        current[bin]!++;
      }
    }
    const referenceTotal = counts.reduce((a, b) => a + b, 0);
    return {
      kind: 'numeric',
      labels: edges.slice(0, bins).map((e) => formatNumber(e)),
      reference: counts.map((c) => c / referenceTotal),
      current: current.map((c) => (used === 0 ? 0 : c / used)),
      outside: { below: used === 0 ? 0 : below / used, above: used === 0 ? 0 : above / used },
    };
  }
  const currentCounts = new Map<string, number>();
  let used = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'string') continue;
    used++;
    currentCounts.set(v, (currentCounts.get(v) ?? 0) + 1);
  }
  const referenceTotal = Object.values(reference.counts).reduce((a, b) => a + b, 0) + reference.otherCount;
  const share = (name: string) => ({ r: (reference.counts[name] ?? 0) / referenceTotal, c: used === 0 ? 0 : (currentCounts.get(name) ?? 0) / used });
  const names = [...new Set([...Object.keys(reference.counts), ...currentCounts.keys()])];
  const ranked = names
    .map((name) => ({ name, ...share(name) }))
    .sort((a, b) => Math.max(b.r, b.c) - Math.max(a.r, a.c) || (a.name < b.name ? -1 : 1));
  const shown = ranked.slice(0, CHART_CATEGORIES);
  const rest = ranked.slice(CHART_CATEGORIES);
  const labels = shown.map((s) => s.name);
  const ref = shown.map((s) => s.r);
  const cur = shown.map((s) => s.c);
  if (rest.length > 0 || reference.otherCount > 0) {
    labels.push('other');
    ref.push(rest.reduce((a, s) => a + s.r, 0) + reference.otherCount / referenceTotal);
    cur.push(rest.reduce((a, s) => a + s.c, 0));
  }
  return { kind: 'categorical', labels, reference: ref, current: cur, outside: null };
}

function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

const WIDTH = 360;
const HEIGHT = 150;
const REFERENCE_COLOUR = '#4c78a8';
const CURRENT_COLOUR = '#f58518';

/** Paired bars per bin or category: the reference's share and the window's. No scripts, every string escaped. */
export function chartSvg(column: string, chart: ChartData): string {
  const left = 34;
  const bottom = 28;
  const top = 18;
  const plotWidth = WIDTH - left - 6;
  const plotHeight = HEIGHT - top - bottom;
  const n = chart.labels.length;
  const peak = Math.max(1e-9, ...chart.reference, ...chart.current);
  const slot = plotWidth / Math.max(1, n);
  const bar = Math.max(1, slot / 2 - 1);
  const y = (share: number) => top + plotHeight - (share / peak) * plotHeight;
  const bars = chart.labels
    .map((label, i) => {
      const x = left + i * slot;
      const r = chart.reference[i] ?? 0;
      const c = chart.current[i] ?? 0;
      const tip = `${escapeHtml(label)}: reference ${(r * 100).toFixed(1)}%, current ${(c * 100).toFixed(1)}%`;
      return (
        `<rect x="${x.toFixed(1)}" y="${y(r).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotHeight - y(r)).toFixed(1)}" fill="${REFERENCE_COLOUR}"><title>${tip}</title></rect>` +
        `<rect x="${(x + bar).toFixed(1)}" y="${y(c).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotHeight - y(c)).toFixed(1)}" fill="${CURRENT_COLOUR}"><title>${tip}</title></rect>`
      );
    })
    .join('');
  const every = Math.max(1, Math.ceil(n / 6));
  const ticks = chart.labels
    .map((label, i) => (i % every === 0 ? `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${HEIGHT - bottom + 12}" text-anchor="middle">${escapeHtml(label)}</text>` : ''))
    .join('');
  const outside = chart.outside && (chart.outside.below > 0 || chart.outside.above > 0)
    ? `<text x="${WIDTH - 6}" y="${HEIGHT - 4}" text-anchor="end">outside the reference range: ${(chart.outside.below * 100).toFixed(1)}% below, ${(chart.outside.above * 100).toFixed(1)}% above</text>`
    : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="9" data-column="${escapeHtml(column)}">` +
    `<title>${escapeHtml(column)}: reference vs current</title>` +
    `<text x="${left}" y="11" font-size="10"><tspan fill="${REFERENCE_COLOUR}">■ reference</tspan> <tspan fill="${CURRENT_COLOUR}">■ current</tspan> (share of rows, peak ${(peak * 100).toFixed(1)}%)</text>` +
    `<line x1="${left}" y1="${top + plotHeight}" x2="${WIDTH - 6}" y2="${top + plotHeight}" stroke="#888"/>` +
    bars +
    ticks +
    outside +
    `</svg>`
  );
}

function formatScore(c: ReportColumn): string {
  const score = c.pValue ?? c.distance;
  if (score === null) return '';
  return `${c.pValue !== null ? 'p = ' : ''}${score < 1e-4 && score > 0 ? score.toExponential(2) : score.toFixed(4)}`;
}

/** One line per column, as the CLI prints them. */
export function reportRows(report: DriftReport): string[][] {
  const all = [...report.columns, ...(report.prediction ? [{ ...report.prediction, column: `${report.prediction.column} (model output)` }] : [])];
  return all.map((c) => [
    c.column,
    c.test ?? '',
    c.statistic === null ? '' : formatNumber(Number(c.statistic.toPrecision(4))),
    formatScore(c),
    c.threshold === null ? '' : String(c.threshold),
    c.verdict,
    [c.seasonal ? 'seasonal: not counted toward dataset drift' : null, noiseNote(c), c.reason, c.unseenCategoryCount > 0 ? `unseen: ${c.unseenCategories.slice(0, 5).join(', ')}${c.unseenCategoryCount > 5 ? ` (+${c.unseenCategoryCount - 5})` : ''}` : null, countsNote(c)]
      .filter((s) => s)
      .join('; '),
  ]);
}

/** Says when a distance is no larger than what windows of this size drawn from the reference itself measure. */
function noiseNote(c: ReportColumn): string | null {
  if (c.noiseFloor === undefined || c.noiseFloor === null || c.distance === null || c.distance > c.noiseFloor) return null;
  const rows = c.counts.current?.used;
  return `within sampling noise: 99% of same-distribution windows${rows === undefined ? '' : ` of ${rows} rows`} measure up to ${c.noiseFloor.toFixed(4)}`;
}

function countsNote(c: ReportColumn): string | null {
  const current = c.counts.current;
  if (!current) return null;
  const parts = [current.missing ? `${current.missing} null` : '', current.nan ? `${current.nan} NaN` : '', current.infinite ? `${current.infinite} infinite` : ''].filter(Boolean);
  return parts.length ? `current: ${parts.join(', ')} left out` : null;
}

/** "3 of 6 decided columns drifted", and which seasonal columns were left out of that count. */
export function inputDriftCounts(report: DriftReport): string {
  const seasonal = report.seasonalColumns ?? [];
  const left = seasonal.length ? `, not counting seasonal ${seasonal.join(', ')}` : '';
  return `${report.driftedColumns} of ${report.decidedColumns} decided columns drifted${left}`;
}

export function decaySummary(decay: DecayResult): string {
  if (!decay.decided) return `not decided: ${decay.reason}`;
  const label = metricLabel(decay.metric ?? 'rocAuc');
  const change = (decay.direction ?? 'higher') === 'higher' ? 'drop' : 'rise';
  return `${label} ${decay.current!.toFixed(4)} on ${decay.labelledRows} labelled rows vs ${decay.reference.toFixed(4)} at validation (${change} ${decay.drop!.toFixed(4)}, threshold ${decay.threshold}${decay.relative ? ' of the validation value' : ''}): ${decay.decayed ? 'DECAYED' : 'no decay'}`;
}

/**
 * The report as an HTML fragment (a <section>, no scripts, every string escaped) for the reviewer
 * page and the model card to embed; wrap it with a page of your own to view it alone.
 */
export function renderDriftReportHtml(report: DriftReport): string {
  const facts: Array<[string, string]> = [
    ['Model', `${report.model} version ${report.version}`],
    ['Window', `${report.window.from} to ${report.window.to}`],
    ['Rows', `${report.rows} scored (${report.requests} requests, ${report.failedRequests} failed), ${report.labelledRows} labelled`],
    [
      'Input drift',
      report.enough
        ? report.datasetDrift === null
          ? 'not decided (no column could be)'
          : `${report.datasetDrift ? 'DRIFT' : 'no drift'}: ${inputDriftCounts(report)} (threshold share ${report.shareThreshold})`
        : `not decided: ${report.reason}`,
    ],
    ['Prediction drift', report.prediction ? report.prediction.verdict : 'not decided'],
    ['Performance decay', decaySummary(report.decay)],
  ];
  if (report.missingFeatures.length) facts.push(['Features missing from the log', report.missingFeatures.join(', ')]);
  if (report.extraColumns.length) facts.push(['Logged columns without a reference', report.extraColumns.join(', ')]);
  for (const u of report.unusableColumns) facts.push([`Unusable column ${u.column}`, u.reason]);
  const header = ['column', 'test', 'statistic', 'score', 'threshold', 'verdict', 'notes'];
  const rows = reportRows(report);
  const table = `<table data-table="drift-columns">\n<thead><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr></thead>\n<tbody>\n${rows
    .map((r) => `<tr data-verdict="${escapeHtml(r[5] ?? '')}">${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n')}\n</tbody>\n</table>`;
  const charts = [...report.columns, ...(report.prediction ? [report.prediction] : [])]
    .filter((c) => c.svg)
    .map((c) => `<figure data-chart="${escapeHtml(c.column)}">${c.svg}<figcaption>${escapeHtml(c.column)}: ${escapeHtml(c.test ?? '')} ${escapeHtml(formatScore(c))} (threshold ${c.threshold})</figcaption></figure>`)
    .join('\n');
  return `<section class="drift-report" id="drift-${escapeHtml(report.id)}">
<h2>Drift report ${escapeHtml(report.id)}</h2>
<table data-table="drift-facts"><tbody>
${facts.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</tbody></table>
${table}
${charts ? `<h3>Drifted columns</h3>\n${charts}` : ''}
</section>`;
}
