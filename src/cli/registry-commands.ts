/**
 * `steward models ...`: the model registry from the command line. These commands open the database
 * directly and need no Temporal (so, with the embedded PGlite database, not while `steward dev`
 * holds it; the HTTP API's `POST /api/models/:name/versions` imports through the running stack).
 * The registry's modules (and the database layer under them) load inside each action.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { ModelHistoryEvent } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import type { AliasChange } from '../registry/aliases.js';
import { LocalArtifactStore } from '../artifacts/index.js';
import type { VersionSummary } from '../registry/lookup.js';
import type { ModelImportResult } from '../registry/model-import.js';
import type { OnnxValueInfo } from '../ml/onnx-import.js';
import { completeHelp, out, printJson, withDatabase, type CommandContext } from './context.js';

interface ChangeOptions {
  reason: string;
  actor?: string;
}

/** The OS user, unless --actor names someone else; containers without a passwd entry have no user name. */
function actorOf(options: { actor?: string }): string {
  if (options.actor !== undefined) return options.actor;
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

function parseVersion(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new ValidationError(`Version "${text}" is not a version number (1, 2, ...).`, { version: text });
  return Number(text);
}

function renderVersion(v: VersionSummary): string {
  const aliases = v.aliases.length ? `  @${v.aliases.join(' @')}` : '';
  return `v${v.version}  ${v.status.padEnd(16)} ${v.createdAt.toISOString()}  run ${v.runId}${aliases}`;
}

function renderEvent(e: ModelHistoryEvent): string {
  const change =
    e.kind === 'transition'
      ? `${e.from} -> ${e.to}`
      : e.kind === 'alias_set'
        ? `@${e.alias} ${e.from === null ? '' : `v${e.from} `}-> v${e.to}`
        : e.kind === 'alias_unset'
          ? `@${e.alias} removed (was v${e.from})`
          : 'registered';
  return `${e.at.toISOString()}  v${e.version}  ${e.kind.padEnd(11)} ${change}  by ${e.actor}: ${e.reason}${e.workflowId ? `  [${e.workflowId}]` : ''}`;
}

function renderAliasChange(c: AliasChange): string {
  if (c.version === null) return `Removed ${c.modelName}@${c.alias} (was v${c.previous}).`;
  if (!c.changed) return `${c.modelName}@${c.alias} already points at v${c.version}; nothing changed.`;
  return c.previous === null ? `${c.modelName}@${c.alias} now points at v${c.version}.` : `${c.modelName}@${c.alias} moved from v${c.previous} to v${c.version}.`;
}

function renderValue(v: OnnxValueInfo): string {
  return v.kind === 'tensor' ? `${v.name} ${v.elementType} [${(v.shape ?? ['?']).join(', ')}]` : `${v.name} (${v.kind})`;
}

function renderImport(r: ModelImportResult, file: string): string {
  const head = r.created
    ? `Registered ${r.modelName} v${r.version} (${r.status}) from ${file}: ${r.artifactUri}`
    : `${file} is already ${r.modelName} v${r.version} (${r.status}); nothing changed.`;
  return [
    head,
    `  inputs:   ${r.signature.inputs.map(renderValue).join(', ')}`,
    `  outputs:  ${r.signature.outputs.map(renderValue).join(', ')}`,
    `  checked:  loaded in onnxruntime-node and scored ${r.smoke.rows} generated rows (${r.smoke.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')})`,
  ].join('\n');
}

/** The file's bytes, refusing before reading what cannot be imported: no such file, a directory, too big. */
async function readOnnxFile(file: string, request: { modelName: string; source: string; description?: string }): Promise<Uint8Array> {
  const { checkModelImportRequest } = await import('../registry/model-import.js');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ValidationError(`Cannot import ${file}: there is no such file (looked in ${path.resolve(file)}).`, { file });
    throw new ValidationError(`Cannot import ${file}: ${(error as Error).message}`, { file });
  }
  if (stat.isDirectory()) {
    throw new ValidationError(`Cannot import ${file}: it is a directory (a TensorFlow SavedModel?). Give the .onnx file; convert a SavedModel with tf2onnx first.`, { file });
  }
  checkModelImportRequest(request, stat.size);
  return new Uint8Array(fs.readFileSync(file));
}

export function registerModelCommands(program: Command, context: () => CommandContext): void {
  const models = program
    .command('models')
    .description('Inspect and manage registered models: versions, lifecycle, aliases, history and model cards.')
    .addHelpText(
      'after',
      `
Examples:
  steward models versions rain-tomorrow
  steward models transition rain-tomorrow 3 validated --reason "offline metrics beat the baseline"
  steward models alias set rain-tomorrow champion 3 --reason "approved in review #42"
  steward models card rain-tomorrow@champion --html --out card.html
  steward models import fraud.onnx --name fraud-scorer --description "gradient boosting from the fraud team"`,
    );
  // The statuses come from the registry, which loads the database layer: only for `steward models ...`.
  completeHelp(models, async () => {
    const { MODEL_STATUSES } = await import('../registry/lifecycle.js');
    models.addHelpText('after', `Lifecycle: ${MODEL_STATUSES.join(', ')}. Changes record --actor (default: your OS user name) and --reason.`);
    const status = transition.registeredArguments.find((argument) => argument.name() === 'status');
    if (status) status.description = `one of: ${MODEL_STATUSES.join(', ')}`;
  });

  models
    .command('list')
    .description('List registered models with their latest version and aliases.')
    .action(async () => {
      const ctx = context();
      const { listModels } = await import('../registry/lookup.js');
      const all = await withDatabase(ctx, listModels);
      if (ctx.json) printJson({ models: all });
      else if (all.length === 0) out('No models registered yet. Train one with `steward run train-<model> --wait` (steward pipelines lists them).');
      else for (const m of all) {
        const aliases = Object.entries(m.aliases).map(([alias, version]) => `@${alias}=v${version}`);
        out(`${m.name}  ${m.versions} version${m.versions === 1 ? '' : 's'}  latest v${m.latestVersion} (${m.latestStatus})${aliases.length ? `  ${aliases.join(' ')}` : ''}`);
      }
    });

  models
    .command('show')
    .description("Show a model (its versions) or one version of it, with the inputs /predict takes.")
    .argument('<ref>', '<model>, <model>@<version> or <model>@<alias>')
    .action(async (ref: string) => {
      const ctx = context();
      const [{ listVersions, parseModelRef, resolveVersion }, { decimal, signatureFields }] = await Promise.all([import('../registry/lookup.js'), import('../registry/model-card.js')]);
      const { model, selector } = parseModelRef(ref);
      await withDatabase(ctx, async (db) => {
        if (selector === undefined) {
          const versions = await listVersions(db, model);
          if (ctx.json) printJson({ model, versions });
          else out([model, ...versions.map((v) => `  ${renderVersion(v)}`)].join('\n'));
          return;
        }
        const version = await resolveVersion(db, model, selector);
        const summary = (await listVersions(db, model)).find((v) => v.version === version.version)!;
        // What a /predict row must carry: the signature's inputs, by name and type.
        const inputs = signatureFields((summary.signature as { inputs?: unknown } | null)?.inputs);
        if (ctx.json) {
          printJson({ ...summary, inputs });
          return;
        }
        out(`${model} ${renderVersion(summary)}`);
        if (summary.description) out(`  description:  ${summary.description}`);
        out(`  owner:        ${(summary.metadata as { owner?: string }).owner ?? 'not recorded'}`);
        out(`  algorithm:    ${summary.algorithm ?? 'not recorded'}`);
        out(`  inputs:       ${inputs.length ? inputs.map((i) => `${i.name}:${i.type || '?'}`).join('  ') : 'none declared'}`);
        out(`  artifact:     ${summary.artifactUri}`);
        out(`  training set: ${summary.trainingSetUri}`);
        out(`  metrics:      ${Object.entries(summary.metrics as Record<string, number>).map(([k, v]) => `${k}=${decimal(v)}`).join('  ')}`);
      });
    });

  models
    .command('versions')
    .description("List a model's versions with their status and aliases.")
    .argument('<model>', 'the model name')
    .action(async (model: string) => {
      const ctx = context();
      const { listVersions } = await import('../registry/lookup.js');
      const versions = await withDatabase(ctx, (db) => listVersions(db, model));
      if (ctx.json) printJson({ model, versions });
      else for (const v of versions) out(renderVersion(v));
    });

  const alias = models.command('alias').description('Move named pointers (champion, challenger, ...) between versions.');
  alias
    .command('set')
    .description('Point <alias> at <version>, moving it if it points elsewhere. Protected aliases (champion, production, $STEWARD_PROTECTED_ALIASES) move only onto a version approved through a sign-off, by an actor allowed to deploy the model.')
    .argument('<model>', 'the model name')
    .argument('<alias>', 'e.g. champion')
    .argument('<version>', 'the version number')
    .requiredOption('--reason <text>', 'why the alias moves')
    .option('--actor <name>', 'who moves it (default: your OS user name)')
    .action(async (model: string, name: string, version: string, options: ChangeOptions) => {
      const ctx = context();
      const { setAlias } = await import('../registry/aliases.js');
      const change = await withDatabase(ctx, (db) =>
        setAlias(db, { modelName: model, alias: name, version: parseVersion(version), actor: actorOf(options), reason: options.reason, protectedAliases: ctx.config.registry.protectedAliases }),
      );
      if (ctx.json) printJson(change);
      else out(renderAliasChange(change));
    });
  alias
    .command('unset')
    .description('Remove <alias> from the model.')
    .argument('<model>', 'the model name')
    .argument('<alias>', 'e.g. challenger')
    .requiredOption('--reason <text>', 'why the alias is removed')
    .option('--actor <name>', 'who removes it (default: your OS user name)')
    .action(async (model: string, name: string, options: ChangeOptions) => {
      const ctx = context();
      const { unsetAlias } = await import('../registry/aliases.js');
      const change = await withDatabase(ctx, (db) => unsetAlias(db, { modelName: model, alias: name, actor: actorOf(options), reason: options.reason }));
      if (ctx.json) printJson(change);
      else out(renderAliasChange(change));
    });

  const transition = models
    .command('transition')
    .description('Move a version to another lifecycle status (not to approved: only a sign-off approves).')
    .argument('<model>', 'the model name')
    .argument('<version>', 'the version number')
    .argument('<status>', 'the status to move to (listed in `steward models --help`)')
    .requiredOption('--reason <text>', 'why the version moves')
    .option('--actor <name>', 'who moves it (default: your OS user name)')
    .action(async (model: string, version: string, status: string, options: ChangeOptions) => {
      const ctx = context();
      if (status === 'approved') {
        // Protected aliases and deployments trust `approved`: only a sign-off may grant it.
        throw new ValidationError(
          `A version becomes approved only through a sign-off, never by hand: run a release pipeline (e.g. \`steward run release-<model>\`; steward pipelines lists them) whose approval gate reviewers decide with \`steward approvals approve <id> --role <role>\`.`,
          { model, version, status },
        );
      }
      const { transitionModelVersion } = await import('../registry/lifecycle.js');
      const updated = await withDatabase(ctx, (db) =>
        transitionModelVersion(db, { modelName: model, version: parseVersion(version), to: status, actor: actorOf(options), reason: options.reason }),
      );
      if (ctx.json) printJson(updated);
      else out(`${model} v${updated.version} is now ${updated.status}.`);
    });

  models
    .command('history')
    .description("Print a model's history, oldest first: registrations, transitions and alias moves.")
    .argument('<model>', 'the model name')
    .action(async (model: string) => {
      const ctx = context();
      const [{ requireModel }, { modelHistoryOf }] = await Promise.all([import('../registry/lookup.js'), import('../registry/history.js')]);
      const events = await withDatabase(ctx, async (db) => {
        await requireModel(db, model);
        return modelHistoryOf(db, model);
      });
      if (ctx.json) printJson({ model, events });
      else for (const e of events) out(renderEvent(e));
    });

  models
    .command('import')
    .description(
      'Register an ONNX model made outside Steward as a version of <model>. The file is checked and smoke-tested in onnxruntime-node first; a refused file writes nothing. Importing the same file again gives the same version.',
    )
    .argument('<file>', 'the .onnx file (one self-contained file, at most 256 MiB)')
    .requiredOption('--name <model>', 'the model the version belongs to (lowercase letters, digits and dashes; created by its first version)')
    .option('--description <text>', 'what this version is, shown with the version and on its model card')
    .option('--actor <name>', 'who imports it, for the history (default: your OS user name)')
    .addHelpText(
      'after',
      `
The version is registered with the inputs and outputs the model declares, no metrics and no training set
(the model was trained elsewhere). Over the HTTP API: POST /api/models/<model>/versions with the file as
an application/octet-stream body.`,
    )
    .action(async (file: string, options: { name: string; description?: string; actor?: string }) => {
      const ctx = context();
      const [{ checkChange }, { prepareModelImport, registerModelImport }] = await Promise.all([import('../registry/history.js'), import('../registry/model-import.js')]);
      const actor = actorOf(options);
      checkChange({ actor, reason: 'import' });
      const request = { modelName: options.name, source: file, ...(options.description !== undefined ? { description: options.description } : {}) };
      // Everything about the file is checked before the database is opened: a refused file writes nothing.
      const prepared = await prepareModelImport(request, await readOnnxFile(file, request));
      const artifacts = new LocalArtifactStore(path.join(ctx.config.home, 'artifacts'));
      const result = await withDatabase(ctx, (db) => registerModelImport(db, artifacts, prepared, { actor }));
      if (ctx.json) printJson(result);
      else out(renderImport(result, file));
    });

  models
    .command('card')
    .description('Render the model card of a version as Markdown (or a self-contained HTML page).')
    .argument('<ref>', '<model>@<version> or <model>@<alias>')
    .option('--html', 'render HTML instead of Markdown', false)
    .option('--out <file>', 'write the card to a file instead of stdout')
    .action(async (ref: string, options: { html: boolean; out?: string }) => {
      const ctx = context();
      const [{ parseModelRef, resolveModelRef }, { renderModelCard }] = await Promise.all([import('../registry/lookup.js'), import('../registry/model-card.js')]);
      const format = options.html ? 'html' : 'markdown';
      const { card, version } = await withDatabase(ctx, async (db) => {
        const resolved = await resolveModelRef(db, ref);
        return { version: resolved.version, card: await renderModelCard(db, resolved.modelName, resolved.version, { format }) };
      });
      const model = parseModelRef(ref).model;
      if (options.out) {
        fs.writeFileSync(options.out, card);
        if (ctx.json) printJson({ model, version, format, out: options.out });
        else out(`Wrote the model card of ${model} v${version} to ${options.out}.`);
      } else if (ctx.json) printJson({ model, version, format, card });
      else process.stdout.write(card);
    });
}
