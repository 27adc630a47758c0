/**
 * `steward apply`, `steward materialize` and `steward features ...`: the feature store from the
 * command line. Definitions come from the project's code (steward.config.ts and Steward's built-ins: the code is the source of truth); these
 * commands open the database directly and need no Temporal. The feature store's modules (Arrow,
 * Parquet, the database layer) and the definitions load inside each action.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { NotFoundError, ValidationError } from '../errors.js';
import { describeKind, formatDuration, hashSpec, specOf } from '../features/definitions.js';
import type { NonFinitePolicy } from '../features/ingestion.js';
import type { MaterializeProgress } from '../features/materialize.js';
import type { Plan, PlanItem } from '../features/registry.js';
import type { FeatureSummary } from '../features/statistics.js';
import { out, printJson, withDatabase, type CommandContext } from './context.js';

const fmt = (n: number) => n.toLocaleString('en-US');
const num = (x: number | null | undefined) => (x === null || x === undefined ? '-' : Number.isInteger(x) ? fmt(x) : x.toPrecision(4));

function renderPlanItem(item: PlanItem): string {
  const what = `${describeKind(item.kind)} ${item.name}`;
  if (item.action === 'create') return `  + ${what} (v1)`;
  if (item.action === 'unchanged') return `  = ${what} v${item.toVersion}`;
  return `  ~ ${what} v${item.fromVersion} -> v${item.toVersion}: ${item.changes.join('; ') || 'details changed'}`;
}

export function renderPlan(plan: Plan): string {
  const tally = (action: PlanItem['action']) => plan.items.filter((i) => i.action === action).length;
  return [`Plan: ${tally('create')} to create, ${tally('change')} to change, ${tally('unchanged')} unchanged.`, ...plan.items.map(renderPlanItem)].join('\n');
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, a line per tenth of the work otherwise
 * (so logs of CI runs stay short). Stdout keeps only the result.
 */
export function progressBar(label: () => string): { update(done: number, total: number, note?: string): void; finish(): void } {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total, note = '') {
      const share = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
      const line = `${label()} [${bar}] ${String(Math.floor(share * 100)).padStart(3)}% ${fmt(done)}/${fmt(total)} rows${note ? `, ${note}` : ''}`;
      if (tty) {
        process.stderr.write(`\r${line}\u001b[K`);
        drawn = true;
      } else if (Math.floor(share * 10) !== lastTenth) {
        lastTenth = Math.floor(share * 10);
        process.stderr.write(`${line}\n`);
      }
    },
    finish() {
      if (tty && drawn) process.stderr.write('\n');
      drawn = false;
      lastTenth = -1;
    },
  };
}

function renderSummary(name: string, s: FeatureSummary): string {
  const nulls = `${(100 * s.nullFraction).toFixed(1)}% null`;
  if (s.kind === 'categorical') {
    const top = s.top.slice(0, 3).map((t) => `${t.value} ${(100 * t.share).toFixed(1)}%`);
    return `  ${name.padEnd(24)} ${fmt(s.count).padStart(10)}  ${nulls.padStart(11)}  distinct ${s.distinctIsLowerBound ? '>=' : ''}${fmt(s.distinct)}  top ${top.join(', ')}`;
  }
  return (
    `  ${name.padEnd(24)} ${fmt(s.count).padStart(10)}  ${nulls.padStart(11)}  min ${num(s.min)}  p50 ${num(s.quantiles.p50)}  max ${num(s.max)}` +
    `  mean ${num(s.mean)}  std ${num(s.std)}`
  );
}

export function registerFeatureCommands(program: Command, context: () => CommandContext): void {
  program
    .command('apply')
    .description('Register the feature definitions of the project (steward.config.ts) and Steward built-ins with the database, printing the plan (like terraform plan).')
    .option('--dry-run', 'print the plan without applying it', false)
    .addHelpText('after', '\nIncompatible changes (a feature type, a join key, a removed feature, a service changing under one version) are refused with the reason.')
    .action(async (options: { dryRun: boolean }) => {
      const ctx = context();
      const [{ apply, refusalError }, { features }] = await Promise.all([import('../features/registry.js'), ctx.project()]);
      const result = await withDatabase(ctx, (db) => apply(db, features, { dryRun: options.dryRun }));
      if (result.refusals.length > 0) {
        if (!ctx.json) out(renderPlan(result));
        throw refusalError(result.refusals);
      }
      if (ctx.json) printJson(result);
      else out(`${renderPlan(result)}\n${result.applied ? 'Applied.' : 'Dry run: nothing was applied.'}`);
    });

  program
    .command('materialize')
    .description('Copy the latest feature rows of each entity from the offline store to the online store, computing statistics.')
    .option('--view <name...>', 'only these feature views (default: every online view)')
    .option('--incremental', 'only what was ingested since the last materialization', false)
    .option('--batch-rows <n>', 'offline rows read per batch (memory is bounded by this)', '20000')
    .action(async (options: { view?: string[]; incremental: boolean; batchRows: string }) => {
      const ctx = context();
      const { materialize } = await import('../features/materialize.js');
      let current: MaterializeProgress | undefined;
      const bar = progressBar(() => (current ? current.view : ''));
      const results = await withDatabase(ctx, (db) =>
        materialize(db, {
          views: options.view,
          incremental: options.incremental,
          batchRows: Number(options.batchRows),
          onProgress: (p) => {
            if (current && current.view !== p.view) bar.finish();
            current = p;
            bar.update(p.rowsRead, p.rowsTotal, `${fmt(p.entitiesWritten)} entities`);
          },
        }),
      );
      bar.finish();
      if (ctx.json) printJson({ materializations: results });
      else if (results.length === 0) out('No online feature views are registered. Declare some in the project features (steward.config.ts) and run `steward apply`.');
      else for (const r of results) out(`${r.view}: ${r.mode}, ${fmt(r.rowsRead)} rows read, ${fmt(r.entitiesWritten)} entities written (materialization ${r.materializationId}).`);
    });

  const features = program.command('features').description('Inspect the feature store: registered views, their details and statistics.');

  features
    .command('list')
    .description('List registered definitions, marking those whose code differs from the registered version.')
    .action(async () => {
      const ctx = context();
      const [{ registeredDefinitions }, { features }] = await Promise.all([import('../features/registry.js'), ctx.project()]);
      const registered = await withDatabase(ctx, registeredDefinitions);
      const inCode = new Map(features.map((d) => [`${d.kind}:${d.name}`, hashSpec(specOf(d))]));
      const rows = registered.map((d) => ({
        kind: d.kind,
        name: d.name,
        version: d.version,
        appliedAt: d.appliedAt,
        code: !inCode.has(`${d.kind}:${d.name}`) ? 'not in code' : inCode.get(`${d.kind}:${d.name}`) === d.hash ? 'same' : 'differs',
      }));
      if (ctx.json) printJson({ definitions: rows });
      else if (rows.length === 0) out('Nothing is registered yet. Run `steward apply`.');
      else for (const r of rows) out(`${describeKind(r.kind).padEnd(24)} ${r.name.padEnd(24)} v${r.version}  applied ${r.appliedAt.toISOString()}${r.code === 'same' ? '' : `  (code ${r.code}${r.code === 'differs' ? ': run steward apply' : ''})`}`);
    });

  features
    .command('show')
    .description('Show a feature view: its definition, offline rows, ingestions, last materialization and online entities.')
    .argument('<view>', 'a feature view name')
    .action(async (name: string) => {
      const ctx = context();
      const { describeView } = await import('../features/inspect.js');
      const d = await withDatabase(ctx, (db) => describeView(db, name));
      if (ctx.json) {
        printJson(d);
        return;
      }
      const spec = d.registered.spec as { owner: string; description: string; tags: Record<string, string>; source: Record<string, string> };
      const m = d.lastMaterialization;
      const lines = [
        `${name} v${d.registered.version} (applied ${d.registered.appliedAt.toISOString()})`,
        `  ${spec.description}`,
        `  owner:       ${spec.owner}`,
        `  tags:        ${Object.entries(spec.tags).map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`,
        `  source:      ${Object.values(spec.source).join(' ')}`,
        `  join keys:   ${d.layout.joinKeys.map((k) => `${k.name} (${k.type})`).join(', ')}`,
        `  timestamps:  event ${d.layout.eventTimestamp}${d.layout.createdTimestamp ? `, created ${d.layout.createdTimestamp}` : ''}`,
        `  ttl:         ${d.layout.ttlMs === undefined ? 'none' : formatDuration(d.layout.ttlMs)}${d.layout.online ? '' : '  (offline only)'}`,
        `  features:`,
        ...d.layout.features.map((f) => `    ${f.name.padEnd(22)} ${f.type.padEnd(9)} ${(f.tags.sensitivity ?? spec.tags.sensitivity ?? 'unclassified').padEnd(13)} ${f.description}`),
        `  offline:     ${fmt(d.offlineRows)} rows from ${d.ingestions.complete} ingestion(s)` +
          (d.ingestions.running || d.ingestions.failed ? `; ${d.ingestions.running} running, ${d.ingestions.failed} failed (their rows are not read)` : ''),
        `  online:      ${fmt(d.onlineEntities)} entities` +
          (m ? `; last materialization ${m.id} ${m.mode} ${m.status} ${(m.finishedAt ?? m.startedAt).toISOString()} (${fmt(m.rowsRead)} rows)` : '; never materialized'),
      ];
      out(lines.join('\n'));
    });

  features
    .command('stats')
    .description("Print a view's feature statistics from its latest materialization (the drift and model card reference).")
    .argument('<view>', 'a feature view name')
    .option('--materialization <id>', 'a specific materialization instead of the latest')
    .action(async (name: string, options: { materialization?: string }) => {
      const ctx = context();
      const id = options.materialization === undefined ? undefined : Number(options.materialization);
      if (id !== undefined && !Number.isInteger(id)) throw new ValidationError(`--materialization must be a number, got ${options.materialization}.`);
      const { getFeatureStatistics } = await import('../features/statistics.js');
      const stats = await withDatabase(ctx, (db) => getFeatureStatistics(db, name, { materializationId: id }));
      if (ctx.json) printJson(stats);
      else {
        out(`${name}: ${fmt(stats.rows)} rows, materialization ${stats.materializationId} (${stats.mode}, ${stats.computedAt.toISOString()})`);
        for (const [feature, summary] of Object.entries(stats.features)) out(renderSummary(feature, summary));
      }
    });

  features
    .command('ingest')
    .description('Load a Parquet or Arrow IPC file into a feature view, in batches; ingesting the same file again writes nothing.')
    .argument('<view>', 'a feature view name')
    .argument('<file>', 'a .parquet, .arrow, .arrows or .feather file')
    .option('--non-finite <policy>', 'NaN and infinity in numeric features: refuse (default) or null', 'refuse')
    .option('--batch-rows <n>', 'rows per transaction', '20000')
    .action(async (view: string, file: string, options: { nonFinite: string; batchRows: string }) => {
      const ctx = context();
      if (options.nonFinite !== 'refuse' && options.nonFinite !== 'null') throw new ValidationError(`--non-finite must be refuse or null, got ${options.nonFinite}.`);
      const batchRows = Number(options.batchRows);
      if (!Number.isInteger(batchRows) || batchRows < 1) throw new ValidationError(`--batch-rows must be a whole number of rows above 0, got "${options.batchRows}".`);
      const ext = path.extname(file).toLowerCase();
      const format = ext === '.parquet' ? 'parquet' : ['.arrow', '.arrows', '.feather', '.ipc'].includes(ext) ? 'arrow' : undefined;
      if (!format) {
        throw new ValidationError(`Cannot ingest ${file}: ${ext ? `"${ext}" files are not supported` : 'it has no extension'}; convert it to Parquet or Arrow IPC (.parquet, .arrow, .arrows, .feather).`, { file });
      }
      // Checked before the database is opened (seconds with PGlite), so a mistyped path answers at once.
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat) throw new NotFoundError(`File not found: ${file}. Check the path.`, { file });
      if (!stat.isFile()) throw new ValidationError(`${file} is a directory, not a ${ext === '.parquet' ? 'Parquet' : 'Arrow IPC'} file; give the path of one file.`, { file });
      const [{ arrowSource, parquetSource }, { ingest }] = await Promise.all([import('../features/sources.js'), import('../features/ingestion.js')]);
      const open = format === 'parquet' ? parquetSource : arrowSource;
      const bar = progressBar(() => view);
      const result = await withDatabase(ctx, async (db) =>
        ingest(db, view, await open(file), {
          nonFinite: options.nonFinite as NonFinitePolicy,
          batchRows,
          onProgress: (p) => bar.update(p.rowsWritten, p.rowsTotal ?? p.rowsWritten),
        }),
      );
      bar.finish();
      if (ctx.json) printJson(result);
      else if (result.reused) out(`${file} was already ingested into ${view} (ingestion ${result.ingestionId}, ${fmt(result.rows)} rows); nothing written.`);
      else {
        const nulls = Object.entries(result.nonFiniteAsNull).map(([c, n]) => `${c}: ${n}`);
        out(`Ingested ${fmt(result.rows)} rows into ${view} in ${result.batches} batches (ingestion ${result.ingestionId})${nulls.length ? `; non-finite stored as null: ${nulls.join(', ')}` : ''}.`);
      }
    });
}
