/**
 * `steward serve` and `steward score batch`: registered models online (HTTP) and over files. Both
 * read the registry and the artifact store; `serve` keeps the database open for alias polling,
 * the prediction log and ground truth, `score batch` only while it loads the model. The scorer
 * (fastify, onnxruntime-node, the database layer) loads when one of them runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Database } from '../db/client.js';
import type { Enricher } from '../serving/enrichment.js';
import { ValidationError } from '../errors.js';
import { LocalArtifactStore } from '../artifacts/index.js';
import { out, printJson, withDatabase, type CommandContext } from './context.js';

const collect = (value: string, previous: string[]) => [...previous, value];

function wholeNumber(text: string, what: string, min: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min) throw new ValidationError(`${what} must be a whole number of at least ${min}, got "${text}".`);
  return Number(text);
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

interface ServeOptions {
  port: string;
  host: string;
  model: string[];
  poll: string;
  pii?: string;
  log: boolean;
  bodyLimit: string;
  adminTokenFile?: string;
  threads?: string;
  enrich: string[];
}

interface BatchOptions {
  model: string;
  in: string;
  out: string;
  batchSize: string;
  keep?: string;
  scoreColumn: string;
}

export function registerServingCommands(program: Command, context: () => CommandContext): void {
  program
    .command('serve')
    .description('Serve registered models over HTTP: Open Inference Protocol v2, /predict, /metrics and the admin API.')
    .option('-m, --model <ref>', 'a model to serve as <name>@<alias> or <name>@<version> (repeatable); an alias is followed', collect, [])
    .option('--port <n>', 'port to listen on', '8000')
    .option('--host <address>', 'interface to bind', '127.0.0.1')
    .option('--poll <seconds>', 'check followed aliases every N seconds; 0 reloads only on POST /admin/models/{name}/reload', '10')
    .option('--pii <features>', 'comma-separated feature names stored as sha256 hashes in the prediction log')
    .option('--no-log', 'do not write the prediction log')
    .option('--body-limit <bytes>', 'largest request body; larger ones get 413', '1048576')
    .option('--admin-token-file <path>', 'require Authorization: Bearer <the file content> on /admin routes')
    .option('--threads <n>', "onnxruntime's intra-op threads per model version (default: onnxruntime's choice)")
    .option('--enrich <model>', 'let /predict rows of <model> carry `entities` instead of the features the online store serves (repeatable; mappings in the project enrichments, steward.config.ts)', collect, [])
    .addHelpText(
      'after',
      `
Examples:
  steward serve --model rain-tomorrow@champion
  curl -s localhost:8000/predict/rain-tomorrow -H 'content-type: application/json' \\
    -d '{"daily_weather__precipitation": 0.8, "daily_weather__temp_max": 11.7, "daily_weather__temp_min": 5.6, "daily_weather__wind": 3.4, "daily_weather__weather": "rain"}'
  steward serve --model rain-tomorrow@champion --enrich rain-tomorrow   # an enrichment for it in steward.config.ts; after steward apply and materialize
  curl -s localhost:8000/predict/rain-tomorrow -H 'content-type: application/json' \\
    -d '{"entities": {"station": "SEA"}}'
  curl -s -X PUT localhost:8000/admin/models/rain-tomorrow/routing -H 'content-type: application/json' \\
    -d '{"strategy": "canary", "primary": 3, "candidate": 4, "percent": 5}'
  curl -s localhost:8000/admin/models/rain-tomorrow/stats`,
    )
    .action(async (options: ServeOptions) => serve(context(), options));

  const score = program.command('score').description('Score data with a registered model.');
  score
    .command('batch')
    .description('Score a Parquet or Arrow IPC file into an Arrow IPC (.arrow, .arrows) or Parquet file, streamed in batches.')
    .requiredOption('--model <ref>', '<name>@<alias> or <name>@<version>')
    .requiredOption('--in <file>', 'input .parquet, .arrow or .arrows with a column per model feature')
    .requiredOption('--out <file>', 'output .arrow, .arrows or .parquet')
    .option('--batch-size <n>', 'rows per inference', '65536')
    .option('--keep <columns>', 'comma-separated input columns copied beside the score (e.g. an id)')
    .option('--score-column <name>', 'name of the score column', 'score')
    .addHelpText('after', '\nExample:\n  steward score batch --model rain-tomorrow@champion --in weather.parquet --out scores.arrow --keep date')
    .action(async (options: BatchOptions) => scoreBatch(context(), options));
}

/** One Enricher per --enrich model, over this deployment's feature definitions and the online store. */
async function enrichersFor(ctx: CommandContext, models: readonly string[], db: Database): Promise<Record<string, Enricher> | undefined> {
  if (models.length === 0) return undefined;
  const [{ enrichments, features }, { createFeatureStore }, { Enricher }] = await Promise.all([ctx.project(), import('../features/index.js'), import('../serving/enrichment.js')]);
  const store = createFeatureStore(db, features);
  return Object.fromEntries(
    models.map((model) => {
      const config = enrichments[model];
      if (!config) throw new ValidationError(`--enrich ${model}: no enrichment is defined for it; defined: ${Object.keys(enrichments).join(', ') || 'none'} (a project's enrichments in steward.config.ts).`);
      return [model, new Enricher(store, config)];
    }),
  );
}

async function serve(ctx: CommandContext, options: ServeOptions): Promise<void> {
  const { config, logger } = ctx;
  const port = wholeNumber(options.port, '--port', 0);
  const pollSeconds = Number(options.poll);
  if (!(pollSeconds >= 0)) throw new ValidationError(`--poll must be a number of seconds (0 to disable), got "${options.poll}".`);
  const bodyLimit = wholeNumber(options.bodyLimit, '--body-limit', 1024);
  const adminToken = options.adminTokenFile ? fs.readFileSync(options.adminTokenFile, 'utf8').trim() : undefined;
  if (adminToken === '') throw new ValidationError(`${options.adminTokenFile} is empty; put the admin token in it.`);
  const { parseModelRef } = await import('../registry/lookup.js');
  for (const ref of options.model) parseModelRef(ref);
  const session = options.threads === undefined ? undefined : { intraOpNumThreads: wholeNumber(options.threads, '--threads', 1) };

  const [{ openDatabase }, { ScorerMetrics }, { ModelHost }, { registrySource }, { PredictionLog, databaseSink }, { createScorerServer }] = await Promise.all([
    import('../db/client.js'),
    import('../serving/metrics.js'),
    import('../serving/model-host.js'),
    import('../serving/model-source.js'),
    import('../serving/prediction-log.js'),
    import('../serving/server.js'),
  ]);
  const database = await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir });
  const metrics = new ScorerMetrics();
  const log = options.log
    ? new PredictionLog(databaseSink(database.db), { piiFeatures: list(options.pii), onError: (e) => logger.warn(`Prediction log write failed: ${(e as Error).message}`) })
    : undefined;
  if (log) metrics.watchPredictionLog(log);
  const host = new ModelHost({ source: registrySource(database.db, new LocalArtifactStore(path.join(config.home, 'artifacts'))), metrics, log, logger, load: { session } });
  const enrich = await enrichersFor(ctx, options.enrich, database.db);
  const app = createScorerServer({ host, metrics, db: database.db, bodyLimit, adminToken, logger, enrich });
  try {
    for (const ref of options.model) {
      const change = await host.deploy(ref, { pollMs: pollSeconds > 0 ? pollSeconds * 1000 : undefined });
      logger.info(`Serving ${ref} (v${(change.routing as { version: number }).version}).`);
    }
    const address = await app.listen({ host: options.host, port });
    if (ctx.json) printJson({ url: address, models: host.list().map((m) => ({ name: m.name, routing: m.routing, follows: m.follows })) });
    else {
      out(`Steward scorer on ${address} (database: ${database.driver}; prediction log: ${log ? 'on' : 'off'})`);
      out(`  POST ${address}/predict/{model}   POST ${address}/v2/models/{model}/infer   GET ${address}/metrics`);
      if (options.model.length === 0) out(`  No models yet: PUT ${address}/admin/models/{name}/routing or POST ${address}/admin/models/{name}/reload {"ref": "champion"}`);
      out('Ctrl-C stops it.');
    }
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
  } finally {
    await app.close();
    await host.close();
    await log?.close();
    await database.close();
  }
}

async function scoreBatch(ctx: CommandContext, options: BatchOptions): Promise<void> {
  const batchSize = wholeNumber(options.batchSize, '--batch-size', 1);
  const [{ parseModelRef }, { loadModel }, { registrySource }, { scoreFile }] = await Promise.all([
    import('../registry/lookup.js'),
    import('../serving/loaded-model.js'),
    import('../serving/model-source.js'),
    import('../serving/batch.js'),
  ]);
  const { model: name, selector } = parseModelRef(options.model);
  if (selector === undefined) throw new ValidationError(`"${options.model}" names no version: use <model>@<version> or <model>@<alias>.`);
  const artifacts = new LocalArtifactStore(path.join(ctx.config.home, 'artifacts'));
  const model = await withDatabase(ctx, (db) => loadModel(registrySource(db, artifacts), name, selector));
  const bar = progressBar(process.stderr);
  try {
    const result = await scoreFile(model, { input: options.in, output: options.out, batchSize, keep: list(options.keep), scoreColumn: options.scoreColumn, onProgress: bar.update });
    bar.done();
    if (ctx.json) printJson(result);
    else {
      out(
        `Scored ${result.rows.toLocaleString('en-US')} rows with ${result.model} v${result.version} in ${result.seconds.toFixed(1)} s ` +
          `(${Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s) -> ${result.output}`,
      );
    }
  } finally {
    bar.done();
    model.retire();
  }
}

/** A progress bar on a terminal, a line every few seconds otherwise (logs, CI). */
function progressBar(stream: NodeJS.WriteStream) {
  const started = performance.now();
  let last = 0;
  let drawn = false;
  const render = (done: number, total: number | undefined) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = `${Math.round(done / Math.max(seconds, 1e-3)).toLocaleString('en-US')} rows/s`;
    const count = `${done.toLocaleString('en-US')}${total !== undefined ? ` / ${total.toLocaleString('en-US')}` : ''} rows`;
    if (total === undefined || total === 0) return `${count}  ${rate}`;
    const width = 30;
    const filled = Math.round((done / total) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((100 * done) / total).toFixed(0).padStart(3)}%  ${count}  ${rate}`;
  };
  return {
    update: (done: number, total: number | undefined) => {
      const now = performance.now();
      if (now - last < (stream.isTTY ? 100 : 5000) && done !== total) return;
      last = now;
      if (stream.isTTY) {
        stream.write(`\r${render(done, total)}\u001b[K`);
        drawn = true;
      } else stream.write(`${render(done, total)}\n`);
    },
    done: () => {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
