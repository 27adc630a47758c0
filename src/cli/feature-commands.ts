/**
 * `steward apply`, `steward materialize` and `steward features ...`: the feature store from the
 * command line. Definitions come from the project's code (steward.config.ts and Steward's built-ins: the code is the source of truth); these
 * commands open the database directly and need no Temporal. The feature store's modules (Arrow,
 * Parquet, the database layer) load inside each action. `features ingest` reads any file files.ts
 * reads (a view's declared file by default); `features preview` shows a file's inferred columns
 * with a featureView(...) declaration to start a project's view from.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { NotFoundError, ValidationError } from '../errors.js';
import {
  describeKind,
  featureRepository,
  FILE_FORMATS,
  formatDuration,
  hashSpec,
  specOf,
  type Definition,
  type FeatureView,
  type FileFormat,
  type KeyType,
} from '../features/definitions.js';
import type { InferredFileSchema, IngestFileResult } from '../features/files.js';
import type { IngestResult, NonFinitePolicy } from '../features/ingestion.js';
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

/** `--format` checked against the formats files.ts reads. */
function fileFormatOption(format: string | undefined): FileFormat | undefined {
  if (format === undefined) return undefined;
  const lower = format.toLowerCase();
  if (!(FILE_FORMATS as readonly string[]).includes(lower)) throw new ValidationError(`--format must be one of ${FILE_FORMATS.join(', ')}, got "${format}".`, { format });
  return lower as FileFormat;
}

/** A feature view the project declares, or an error listing those it has. */
function projectView(definitions: readonly Definition[], name: string): FeatureView {
  const views = featureRepository(definitions).views;
  const view = views.get(name);
  if (!view) {
    const known = [...views.keys()].sort();
    throw new NotFoundError(
      `The project has no feature view "${name}". ${known.length ? `Its feature views: ${known.join(', ')}.` : 'It declares none.'} Declare it in the project's features (steward.config.ts) and run \`steward apply\`.`,
      { view: name },
    );
  }
  return view;
}

/** A path as the user would type it from here: relative when under the working directory. */
function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * Rows done so far on stderr, for files whose length is not known up front (CSV, JSON): redrawn
 * in place on a terminal, otherwise a line at most every second (the first at once).
 */
export function rowCounter(label: string): { update(rows: number, note?: string): void; finish(): void } {
  const tty = process.stderr.isTTY === true;
  let lastAt: number | undefined;
  let drawn = false;
  return {
    update(rows, note = '') {
      const line = `${label}: ${fmt(rows)} rows so far${note ? ` (${note})` : ''}`;
      if (tty) {
        process.stderr.write(`\r${line}\u001b[K`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (lastAt === undefined || now - lastAt >= 1_000) {
        lastAt = now;
        process.stderr.write(`${line}\n`);
      }
    },
    finish() {
      if (tty && drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

function renderIngestion(r: IngestFileResult, file: string): string {
  const batches = `${fmt(r.batches)} batch${r.batches === 1 ? '' : 'es'}`;
  const head = r.reused
    ? `${file} was already ingested into ${r.view}: nothing written.`
    : `Ingested ${fmt(r.rows)} rows into ${r.view} in ${batches} from ${file} (${r.format}).`;
  const skipped = r.reused
    ? `${fmt(r.rows)} rows, ingested before with this content`
    : r.batchesSkipped > 0
      ? `${fmt(r.batchesSkipped)} batch${r.batchesSkipped === 1 ? '' : 'es'} an interrupted attempt had written`
      : 'none';
  const nulls = Object.entries(r.nonFiniteAsNull).map(([c, n]) => `${c}: ${fmt(n)}`);
  return [
    head,
    `  ingestion:     ${r.ingestionId}`,
    `  rows written:  ${r.reused ? 0 : fmt(r.rows)}`,
    `  skipped:       ${skipped}`,
    `  content hash:  ${r.contentHash}`,
    ...(nulls.length ? [`  non-finite stored as null: ${nulls.join(', ')}`] : []),
  ].join('\n');
}

/** A sample value as JSON can carry it: bigints as numbers (text beyond 2^53), dates as ISO text. */
function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

function cellText(value: unknown): string {
  const v = jsonValue(value);
  const text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text.length > 20 ? `${text.slice(0, 19)}…` : text;
}

function renderTable(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const cells = rows.map((row) => columns.map((c) => cellText(row[c])));
  const widths = columns.map((c, i) => Math.max(Math.min(c.length, 20), ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => `  ${values.map((v, i) => v.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [line(columns.map((c) => (c.length > 20 ? `${c.slice(0, 19)}…` : c))), ...cells.map(line)].join('\n');
}

/** A name Steward accepts (lower-case letters, digits and single underscores, starting with a letter), from any column or file name. */
export function stewardName(name: string, fallback: string): string {
  const snake = name
    .normalize('NFKD')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const named = !snake ? fallback : /^[a-z]/.test(snake) ? snake : `c_${snake}`;
  return named.slice(0, 63).replace(/_+$/, '');
}

const RESERVED = new Set(
  'await break case catch class const continue debugger default delete do else enum export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield'.split(' '),
);

/** A JavaScript variable for a Steward name: daily_weather -> dailyWeather. */
function variableFor(name: string, suffix: string, taken: ReadonlySet<string> = new Set()): string {
  const camel = name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return RESERVED.has(camel) || taken.has(camel) ? `${camel}${suffix}` : camel;
}

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface ViewSkeleton {
  /** The view's name and the entity's. */
  view: string;
  entity: string;
  /** TypeScript declaring the entity and the view over the file. */
  code: string;
}

/**
 * A starting declaration for a file: an entity keyed by its first text or whole-number column (one
 * named like an id, key or code first), the first date column as the event time, every other column
 * a feature with its inferred type, and the renames for file columns that are not Steward names.
 */
export function viewSkeleton(schema: InferredFileSchema, options: { path: string; format?: FileFormat }): ViewSkeleton {
  const fileColumns = Object.keys(schema.columns);
  const used = new Set<string>();
  const unique = (wanted: string) => {
    let name = wanted;
    for (let i = 2; used.has(name); i++) name = `${wanted.slice(0, 60)}_${i}`;
    used.add(name);
    return name;
  };
  const names = new Map(fileColumns.map((c) => [c, unique(stewardName(c, 'column'))]));
  const base = path.basename(options.path.replace(/^vega:/, '')).replace(/\.[^.]*$/, '');
  const viewName = stewardName(base, 'my_view');
  const time = fileColumns.find((c) => schema.columns[c] === 'timestamp');
  const candidates = fileColumns.filter((c) => c !== time && (schema.columns[c] === 'string' || schema.columns[c] === 'int64'));
  const key = candidates.find((c) => /(^|_)(id|key|code)$/.test(names.get(c)!)) ?? candidates.find((c) => schema.columns[c] === 'string') ?? candidates[0];
  const keyName = key !== undefined ? names.get(key)! : unique(`${viewName.slice(0, 59)}_key`);
  const keyType: KeyType = key !== undefined && schema.columns[key] === 'int64' ? 'int64' : 'string';
  const timeName = time !== undefined ? names.get(time)! : unique('event_at');
  const features = fileColumns.filter((c) => c !== key && c !== time);
  const renames = [key, time, ...features].filter((c): c is string => c !== undefined && names.get(c) !== c);
  const entityVar = variableFor(keyName, 'Entity');
  const viewVar = variableFor(viewName, 'View', new Set([entityVar]));
  const file = path.basename(options.path.replace(/^vega:/, ''));

  const renameMap = renames.map((c) => `${names.get(c)}: ${quote(c)}`);
  const source = [`kind: 'file'`, `path: ${quote(options.path)}`, ...(options.format ? [`format: '${options.format}'`] : [])];
  if (key === undefined) source.push(`constants: { ${keyName}: 'all' }`);
  const inline = [...source, ...(renameMap.length ? [`columns: { ${renameMap.join(', ')} }`] : [])];
  const sourceText =
    inline.join(', ').length <= 80
      ? `{ ${inline.join(', ')} }`
      : `{\n${[...source.map((s) => `    ${s},`), ...(renameMap.length ? ['    columns: {', ...renameMap.map((r) => `      ${r},`), '    },'] : [])].join('\n')}\n  }`;
  const code = [
    `import { entity, featureView } from 'steward/features';`,
    ``,
    key !== undefined
      ? `// What a row describes: ${quote(key)} (check it; a row per ${keyName} and ${timeName}).`
      : `// ${file} has no text or whole-number column to key rows by: every row gets one key (constants below).`,
    `const ${entityVar} = entity({ name: '${keyName}', joinKeys: { ${keyName}: '${keyType}' } });`,
    ``,
    `export const ${viewVar} = featureView({`,
    `  name: '${viewName}',`,
    `  description: ${quote(`TODO: what a row of ${file} tells`)},`,
    `  owner: 'TODO: the team to ask about this data',`,
    `  entities: [${entityVar}],`,
    time !== undefined
      ? `  eventTimestamp: '${timeName}', // when a row's values became true`
      : `  eventTimestamp: '${timeName}', // TODO: ${file} has no date column; every row needs the time its values became true (ISO 8601)`,
    `  schema: {`,
    ...features.map((c) => `    ${names.get(c)}: '${schema.columns[c]}',`),
    `  },`,
    `  // A relative path is read from the folder of steward.config.ts.`,
    `  source: ${sourceText},`,
    `});`,
    ``,
    `// In steward.config.ts: defineProject({ ..., features: [${entityVar}, ${viewVar}] }), then`,
    `// steward apply && steward features ingest ${viewName}`,
  ].join('\n');
  return { view: viewName, entity: keyName, code };
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

  const features = program
    .command('features')
    .description('The feature store: preview a file, ingest it into a view, and inspect registered views, their details and statistics.');

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
    .description(
      "Load a file into a feature view's offline store: the file the view declares (source: { kind: 'file', path }), or the one given. CSV, JSON, JSON Lines, Parquet or Arrow IPC, streamed in batches; ingesting the same content again writes nothing.",
    )
    .argument('<view>', 'a feature view of the project (steward.config.ts), registered with `steward apply`')
    .argument('[file]', "read this file instead of the view's declared one (relative to the working directory; the view's column mapping still applies)")
    .option('--format <format>', `${FILE_FORMATS.join(', ')} (default: from the file's extension)`)
    .option('--non-finite <policy>', 'NaN and infinity in numeric features: refuse (default) or null', 'refuse')
    .option('--batch-rows <n>', 'rows per transaction (and per read of a CSV or JSON file)', '20000')
    .addHelpText(
      'after',
      `
Bad input (a missing column, a value that does not fit its declared type) stops the ingestion with
the file, row and column; nothing from the file is kept. \`steward features preview <file>\` shows a
file's columns and a view declaration to start from.

Examples:
  steward features ingest daily_weather                      # the file daily_weather declares
  steward features ingest daily_weather data/2024.csv        # another file, same columns
  steward features ingest daily_weather export.txt --format csv --json`,
    )
    .action(async (viewName: string, file: string | undefined, options: { format?: string; nonFinite: string; batchRows: string }) => {
      const ctx = context();
      if (options.nonFinite !== 'refuse' && options.nonFinite !== 'null') throw new ValidationError(`--non-finite must be refuse or null, got ${options.nonFinite}.`);
      const batchRows = Number(options.batchRows);
      if (!Number.isInteger(batchRows) || batchRows < 1) throw new ValidationError(`--batch-rows must be a whole number of rows above 0, got "${options.batchRows}".`);
      const format = fileFormatOption(options.format);
      const [{ viewFileSource }, { ingest }, project] = await Promise.all([import('../features/files.js'), import('../features/ingestion.js'), ctx.project()]);
      const view = projectView(project.features, viewName);
      if (file === undefined && view.source.kind === 'pipeline') {
        throw new ValidationError(
          `Feature view "${view.name}" declares no file to ingest (its rows come from pipeline "${view.source.name}"). Give one: steward features ingest ${view.name} <file>; ` +
            `or declare it in the view, source: { kind: 'file', path: 'data/….csv' }, and run \`steward apply\`.`,
          { view: view.name },
        );
      }
      // The file is opened and its columns checked against the view before the database is opened
      // (seconds with PGlite), so a wrong path or a missing column answers at once.
      const source = await viewFileSource(view, {
        ...(file !== undefined ? { path: file.startsWith('vega:') ? file : path.resolve(file) } : {}),
        ...(format ? { format } : {}),
        root: project.source ? path.dirname(project.source) : process.cwd(),
        batchRows,
      });
      const shown = shownPath(source.path);
      const bar = source.rows !== undefined ? progressBar(() => view.name) : undefined;
      const counter = source.rows === undefined ? rowCounter(`${view.name} <- ${shown}`) : undefined;
      let ingested: IngestResult;
      try {
        ingested = await withDatabase(ctx, (db) =>
          ingest(db, view, source, {
            nonFinite: options.nonFinite as NonFinitePolicy,
            batchRows,
            onProgress: (p) => (bar ? bar.update(p.rowsWritten, p.rowsTotal ?? p.rowsWritten) : counter!.update(p.rowsWritten, `${fmt(p.batches)} batch${p.batches === 1 ? '' : 'es'}`)),
          }),
        );
      } finally {
        bar?.finish();
        counter?.finish();
      }
      const result: IngestFileResult = { ...ingested, sha256: source.sha256, path: source.path, format: source.format };
      if (ctx.json) printJson(result);
      else out(renderIngestion(result, shown));
    });

  features
    .command('preview')
    .description("Show a file's columns with the type each would be declared with, its first rows, and a featureView(...) declaration to paste into the project.")
    .argument('<file>', 'a .csv, .json, .jsonl/.ndjson, .parquet or .arrow/.arrows/.feather file (or vega:<name> for a file of the vega-datasets package)')
    .option('--format <format>', `${FILE_FORMATS.join(', ')} (default: from the file's extension)`)
    .option('--rows <n>', 'rows of a CSV or JSON file read to guess the types (Parquet and Arrow files say theirs)', '1000')
    .addHelpText(
      'after',
      `
A text file's types are guessed: a column of whole numbers is int64, of numbers float64, of
true/false bool, of ISO dates (2012-01-31, 2012-01-31T08:00:00Z) timestamp, anything else string.
The declaration takes the first date column as the event time and the first text or whole-number
column as the entity key: check both before \`steward apply\`.

Examples:
  steward features preview data/weather.csv
  steward features preview data/cars.json --rows 5000 --json`,
    )
    .action(async (file: string, options: { format?: string; rows: string }) => {
      const ctx = context();
      const sampleRows = Number(options.rows);
      if (!Number.isInteger(sampleRows) || sampleRows < 1) throw new ValidationError(`--rows must be a whole number of rows above 0, got "${options.rows}".`);
      const format = fileFormatOption(options.format);
      const { inferFileSchema } = await import('../features/files.js');
      const schema = await inferFileSchema(file, { sampleRows, ...(format ? { format } : {}) });
      const declaredPath = file.startsWith('vega:') ? file : shownPath(schema.path);
      const skeleton = viewSkeleton(schema, { path: declaredPath, ...(format ? { format } : {}) });
      const sample = schema.sample.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)])));
      if (ctx.json) {
        printJson({ path: schema.path, format: schema.format, rows: schema.rows, columns: schema.columns, sample, view: skeleton.view, entity: skeleton.entity, declaration: skeleton.code });
        return;
      }
      const names = Object.keys(schema.columns);
      const width = Math.min(28, Math.max(...names.map((n) => n.length)));
      const typed = schema.format === 'parquet' || schema.format === 'arrow';
      const basis = typed
        ? `types from the file's schema${schema.rows !== undefined ? `; ${fmt(schema.rows)} rows` : ''}`
        : schema.rows !== undefined && schema.rows < sampleRows
          ? `types guessed from all ${fmt(schema.rows)} rows`
          : `types guessed from the first ${fmt(sampleRows)} rows (--rows to read more)`;
      out(`${declaredPath} (${schema.format}): ${names.length} column${names.length === 1 ? '' : 's'}, ${basis}`);
      for (const name of names) out(`  ${name.padEnd(width)}  ${schema.columns[name]}`);
      if (sample.length > 0) {
        out(`\nFirst ${sample.length} row${sample.length === 1 ? '' : 's'}:`);
        out(renderTable(names, schema.sample));
      }
      out(`\nA feature view over it, to paste into the project (check the entity and the event time):\n`);
      out(skeleton.code);
    });
}
