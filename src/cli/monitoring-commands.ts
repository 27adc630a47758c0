/**
 * `steward drift ...`: drift reports of monitoring runs, and a one-off check of a window. Like the
 * registry commands these open the database directly and need no Temporal (the drift-retraining
 * pipeline writes the reports; these read them). The report store, the monitoring window and the
 * stack load inside each action.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../errors.js';
import { buildDriftReport, decaySummary, inputDriftCounts, renderDriftReportHtml, reportRows, type DriftReport } from '../monitoring/report.js';
import { LocalArtifactStore } from '../artifacts/index.js';
import { out, printJson, withDatabase, type CommandContext } from './context.js';

export function renderDriftReportText(report: DriftReport): string {
  const lines = [
    `Drift report ${report.id}: ${report.model} version ${report.version}, window ${report.window.from} to ${report.window.to}`,
    `  rows: ${report.rows} scored in ${report.requests} requests (${report.failedRequests} failed), ${report.labelledRows} labelled`,
  ];
  if (!report.enough) lines.push(`  NOT DECIDED: ${report.reason}`);
  else {
    lines.push(
      `  input drift: ${report.datasetDrift === null ? 'not decided' : report.datasetDrift ? 'DRIFT' : 'no drift'} (${inputDriftCounts(report)}; the dataset drifts at a share of ${report.shareThreshold})`,
    );
    lines.push(`  prediction drift: ${report.prediction?.verdict ?? 'not decided'}`);
  }
  lines.push(`  performance decay: ${decaySummary(report.decay)}`);
  if (report.missingFeatures.length) lines.push(`  features missing from the log: ${report.missingFeatures.join(', ')}`);
  if (report.extraColumns.length) lines.push(`  logged columns without a reference: ${report.extraColumns.join(', ')}`);
  for (const u of report.unusableColumns) lines.push(`  unusable column ${u.column}: ${u.reason}`);
  const rows = [['column', 'test', 'statistic', 'score', 'threshold', 'verdict', 'notes'], ...reportRows(report)];
  if (rows.length > 1) {
    const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    lines.push('', ...rows.map((r) => r.map((cell, i) => (i < 6 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd()));
  }
  const charts = [...report.columns, ...(report.prediction ? [report.prediction] : [])].filter((c) => c.svg).length;
  if (charts) lines.push('', `${charts} chart(s) of drifted columns: steward drift report ${report.id} --html --out report.html`);
  return lines.join('\n');
}

function htmlPage(report: DriftReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report ${report.id.replace(/[<>&"]/g, '')}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}tr[data-verdict="drift"]{background:#fde8d8}figure{display:inline-block;margin:.5rem}</style>
</head><body>
${renderDriftReportHtml(report)}
</body></html>
`;
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function parseInstant(value: string, flag: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ValidationError(`${flag} "${value}" is not a date; use ISO 8601, e.g. 2001-06-01 or 2001-06-01T00:00:00Z.`);
  return date;
}

export function registerMonitoringCommands(program: Command, context: () => CommandContext): void {
  const drift = program
    .command('drift')
    .description('Drift reports: input drift, prediction drift and performance decay per monitoring run.')
    .addHelpText(
      'after',
      `
Examples:
  steward drift list rain-tomorrow
  steward drift report <id> [--html --out report.html]
  steward drift check rain-tomorrow --from 2015-06-01 --to 2015-06-08 [--version champion] [--seasonal month] [--above-noise]`,
    );

  drift
    .command('report <id>')
    .description('Show one drift report: per column the test, statistic, threshold and verdict.')
    .option('--html', 'write the report as an HTML page with the charts of drifted columns')
    .option('--out <file>', 'where --html writes (default: stdout)')
    .action(async (id: string, options: { html?: boolean; out?: string }) => {
      const ctx = context();
      const { getDriftReport } = await import('../monitoring/report-store.js');
      const report = await withDatabase(ctx, (db) => getDriftReport(db, id));
      if (options.html) {
        if (options.out) {
          fs.writeFileSync(path.resolve(options.out), htmlPage(report));
          out(ctx.json ? JSON.stringify({ written: path.resolve(options.out) }) : `Wrote ${path.resolve(options.out)}`);
        } else process.stdout.write(htmlPage(report));
      } else if (ctx.json) printJson(report);
      else out(renderDriftReportText(report));
    });

  drift
    .command('list <model>')
    .description('The most recent drift reports of a model, newest first, with the policy’s decision.')
    .option('--limit <n>', 'how many', '20')
    .action(async (model: string, options: { limit: string }) => {
      const ctx = context();
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`--limit must be a whole number of at least 1, got "${options.limit}".`);
      const { listDriftReports } = await import('../monitoring/report-store.js');
      const rows = await withDatabase(ctx, (db) => listDriftReports(db, model, limit));
      if (ctx.json) {
        printJson({ reports: rows.map(({ report: _report, ...row }) => row) });
        return;
      }
      if (rows.length === 0) {
        out(`No drift reports for "${model}" yet.`);
        return;
      }
      const flag = (v: boolean | null) => (v === null ? '-' : v ? 'yes' : 'no');
      for (const r of rows) {
        out(
          `${r.id}  v${r.version}  ${r.windowFrom.toISOString()} .. ${r.windowTo.toISOString()}  rows ${r.rows}${r.enough ? '' : ' (too few)'}  drift ${flag(r.datasetDrift)}  prediction drift ${flag(r.predictionDrift)}  decay ${flag(r.decayed)}  decision ${r.decision ?? '-'}`,
        );
      }
    });

  drift
    .command('check <model>')
    .description('Assess one window of the prediction log against the version’s reference now, and store the report.')
    .requiredOption('--from <instant>', 'start of the window (inclusive)')
    .requiredOption('--to <instant>', 'end of the window (exclusive)')
    .option('--version <selector>', 'version number or alias', 'champion')
    .option('--min-rows <n>', 'fewer scored rows and nothing is decided', '500')
    .option('--seasonal <features>', 'comma-separated features that follow the calendar: tested and reported, not counted toward dataset drift (e.g. month)', '')
    .option('--above-noise', 'a Jensen-Shannon column drifts only above its noise floor (what same-distribution windows of this size measure)')
    .action(async (model: string, options: { from: string; to: string; version: string; minRows: string; seasonal: string; aboveNoise?: boolean }) => {
      const ctx = context();
      const from = parseInstant(options.from, '--from');
      const to = parseInstant(options.to, '--to');
      const artifacts = new LocalArtifactStore(path.join(ctx.config.home, 'artifacts'));
      const [{ monitorWindow }, { saveDriftReport }] = await Promise.all([import('../monitoring/window.js'), import('../monitoring/report-store.js')]);
      const report = await withDatabase(ctx, async (db) => {
        const seasonalFeatures = splitList(options.seasonal);
        const window = await monitorWindow(db, artifacts, {
          model,
          version: options.version,
          from,
          to,
          minRows: Number(options.minRows),
          seasonalFeatures,
          drift: { aboveNoise: options.aboveNoise === true },
        });
        const id = `check-${model}-v${window.version}-${from.toISOString()}-${to.toISOString()}`;
        const built = buildDriftReport({ id, model, version: window.version, from, to }, window.assessment, window.data, window.reference);
        await saveDriftReport(db, built);
        return built;
      });
      if (ctx.json) printJson(report);
      else out(renderDriftReportText(report));
    });
}
