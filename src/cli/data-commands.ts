/**
 * `steward lineage ...`: lineage of datasets and model versions from the OpenLineage events every
 * pipeline step records. Upstream of a dataset or model version walks back to raw sources; downstream
 * of a dataset lists every step that read it and what they wrote ("if I change this dataset, what
 * breaks?"). Model versions registered before lineage was recorded fall back to the registry's lineage.
 *
 * `steward catalog ...`: the data catalog, registered from code (raw tables, the feature store's
 * definitions) each time it is read, so it is never behind the code; owners edit descriptions.
 *
 * `steward quality list`: the stored results of data-quality gates, with each expectation's observed value.
 *
 * `steward data erase --entity <key>=<value>`: erasure of one entity (offline, online, prediction log).
 *
 * `steward access ...`: grants of permissions on resources to roles, and what a principal may do
 * (operators; opens the database; every change is in the audit trail).
 *
 * The services (and the database layer under them) load inside each action.
 */
import { Option, type Command } from 'commander';
import { NotFoundError, ValidationError, isStewardError } from '../errors.js';
import type { Permission } from '../governance/access.js';
import type { CatalogEdit } from '../governance/catalog.js';
import type { CatalogDatasetRow } from '../db/schema.js';
import type { Database } from '../db/client.js';
import type { QualityReport } from '../governance/expectations.js';
import { operator } from './governance-commands.js';
import type { Direction } from '../lineage/graph.js';
import { completeHelp, out, printJson, withDatabase, type CommandContext } from './context.js';

const MODEL_REF = /^[a-z][a-z0-9-]*@[a-z0-9_-]+$/;

export function registerDataCommands(program: Command, context: () => CommandContext): void {
  program
    .command('lineage')
    .description('Show where a dataset or model version came from (--upstream, the default) or what depends on a dataset (--downstream), from the OpenLineage events of every pipeline step.')
    .argument('[ref]', 'a dataset (feature_view:daily_weather, a table a project writes, a source file, an artifact URI, namespace/name) or a model version (<model>@<version|alias>)')
    .option('--upstream', 'what the dataset or model version was made from (default)', false)
    .option('--downstream [ref]', 'what read the dataset and everything made from it')
    .option('--dot', 'print Graphviz DOT instead of a text tree', false)
    .option('--list', 'list every dataset lineage was recorded for', false)
    .addHelpText(
      'after',
      `
Examples:
  steward lineage rain-tomorrow@champion
  steward lineage feature_view:daily_weather --downstream
  steward lineage rain-tomorrow@3 --dot | dot -Tsvg > lineage.svg
  steward lineage --list`,
    )
    .action(async (ref: string | undefined, options: { upstream: boolean; downstream?: string | boolean; dot: boolean; list: boolean }) => {
      const ctx = context();
      const { datasetLineage, listLineageDatasets, renderDatasetLineageDot, renderDatasetLineageText } = await import('../lineage/graph.js');
      if (options.list) {
        const datasets = await withDatabase(ctx, listLineageDatasets);
        if (ctx.json) printJson({ datasets });
        else out(datasets.length ? datasets.join('\n') : 'No lineage recorded yet: run a pipeline.');
        return;
      }
      const target = typeof options.downstream === 'string' ? options.downstream : ref;
      if (target === undefined) throw new ValidationError('Name a dataset or a model version, e.g. `steward lineage feature_view:<view> --downstream` or `steward lineage <model>@champion` (`steward lineage --list` lists the datasets).');
      if (typeof options.downstream === 'string' && ref !== undefined) throw new ValidationError('Give the dataset once: either as the argument or after --downstream.');
      if (options.upstream && options.downstream !== undefined) throw new ValidationError('Choose one direction: --upstream or --downstream.');
      const direction: Direction = options.downstream !== undefined ? 'downstream' : 'upstream';
      await withDatabase(ctx, async (db) => {
        try {
          const tree = await datasetLineage(db, target, direction);
          if (ctx.json) printJson(options.dot ? { ...tree, dot: renderDatasetLineageDot(tree) } : tree);
          else if (options.dot) process.stdout.write(renderDatasetLineageDot(tree));
          else out(renderDatasetLineageText(tree));
        } catch (error) {
          // Versions and sources from before step lineage was recorded: the registry still knows them.
          const registryKnows = direction === 'upstream' ? MODEL_REF.test(target) : true;
          if (!(isStewardError(error) && error instanceof NotFoundError && registryKnows)) throw error;
          const { downstreamLineage, modelLineage, modelVersionsIn, renderLineageDot, renderLineageText } = await import('../registry/lineage.js');
          const tree = await (direction === 'downstream' ? downstreamLineage(db, target) : modelLineage(db, target)).catch(() => {
            throw error;
          });
          if (ctx.json) printJson(options.dot ? { ...tree, dot: renderLineageDot(tree) } : tree);
          else if (options.dot) process.stdout.write(renderLineageDot(tree));
          else {
            out(renderLineageText(tree));
            if (tree.direction === 'downstream') {
              const affected = modelVersionsIn(tree);
              out(`\n${affected.length} model version${affected.length === 1 ? '' : 's'} trained on ${target}${affected.length ? `: ${affected.join(', ')}` : '.'}`);
            }
          }
        }
      });
    });

  const asOption = () => new Option('--as <name>', 'who is making the change, for the audit trail (default: operator:<OS user>)');
  const access = program
    .command('access')
    .summary('Who may do what to data and models: permissions on resources granted to roles. pii and confidential resources need a grant.');
  // The permissions and resource kinds come from the access module, which loads the database layer.
  completeHelp(access, async () => {
    const { PERMISSIONS, RESOURCE_KINDS } = await import('../governance/access.js');
    access.description(
      `Who may do what to data and models: permissions (${PERMISSIONS.join(', ')}) on resources (${RESOURCE_KINDS.map((k) => `${k}:<name>`).join(', ')}) granted to roles. pii and confidential resources need a grant; every decision on them is audited.`,
    );
  });
  for (const [name, description] of [
    ['grant', 'Grant a role a permission (or *) on a resource (kind:name, kind:* or *).'],
    ['revoke', 'Take a grant back.'],
  ] as const) {
    access
      .command(name)
      .description(description)
      .argument('<role>')
      .argument('<permission>')
      .argument('<resource>')
      .addOption(asOption())
      .addHelpText('after', `\nExample:\n  steward access ${name} data-scientist train-on feature_view:customer_profile`)
      .action(async (role: string, permission: string, resource: string, o: { as?: string }) => {
        const ctx = context();
        const input = { role, permission, resource, actor: operator(o.as) };
        const { grantAccess, revokeAccess } = await import('../governance/access.js');
        const result = await withDatabase(ctx, (db) => (name === 'grant' ? grantAccess(db, input).then(() => true) : revokeAccess(db, input)));
        if (ctx.json) printJson({ [name === 'grant' ? 'granted' : 'revoked']: result, role, permission, resource });
        else if (name === 'grant') out(`Granted ${role}: ${permission} on ${resource}.`);
        else if (result) out(`Revoked ${role}: ${permission} on ${resource}.`);
        else throw new NotFoundError(`No grant ${role}: ${permission} on ${resource} to revoke; \`steward access list\` shows the grants.`);
      });
  }
  access
    .command('list')
    .description('List the grants.')
    .action(async () => {
      const ctx = context();
      const { listGrants } = await import('../governance/access.js');
      const grants = await withDatabase(ctx, listGrants);
      if (ctx.json) printJson({ grants });
      else out(grants.length ? grants.map((g) => `${g.role.padEnd(16)} ${g.permission.padEnd(9)} ${g.resource}  (by ${g.grantedBy})`).join('\n') : 'No grants: only non-sensitive resources are usable.');
    });
  access
    .command('check')
    .description('Would a principal be allowed? (A check on a sensitive resource is audited like any decision.)')
    .argument('<principal>')
    .argument('<permission>')
    .argument('<resource>')
    .option('--sensitivity <level>', 'the resource\'s classification: public, internal, confidential or pii')
    .action(async (principal: string, permission: string, resource: string, o: { sensitivity?: string }) => {
      const ctx = context();
      const { decideAccess } = await import('../governance/access.js');
      const decision = await withDatabase(ctx, (db) => decideAccess(db, { principal, permission: permission as Permission, resource, sensitivity: o.sensitivity, context: 'steward access check' }));
      if (ctx.json) printJson({ principal, permission, resource, ...decision });
      else out(`${decision.allowed ? 'allowed' : 'denied'}: ${principal} ${permission} ${resource} (${decision.reason})`);
    });

  /** What the code declares, registered before every read: the catalog is never behind the code. */
  const synced = async (db: Database) => {
    const [{ builtinCatalog, catalogFromDefinitions, registerCatalog }, project] = await Promise.all([import('../governance/catalog.js'), context().project()]);
    await registerCatalog(db, [...builtinCatalog(), ...project.catalog, ...catalogFromDefinitions(project.features)]);
    return db;
  };
  const line = (r: CatalogDatasetRow) => `${r.name.padEnd(36)} ${r.kind.padEnd(14)} ${r.sensitivity.padEnd(12)} ${r.owner.padEnd(14)} ${r.description.slice(0, 60)}`;
  const catalog = program.command('catalog').description('The data catalog: datasets (raw sources, feature views, training sets, prediction logs), their columns, owners, sensitivity, tags and retention.');
  catalog
    .command('list')
    .description('List every dataset.')
    .action(async () => {
      const ctx = context();
      const { listCatalog } = await import('../governance/catalog.js');
      const rows = await withDatabase(ctx, async (db) => listCatalog(await synced(db)));
      if (ctx.json) printJson({ datasets: rows });
      else out([`${'NAME'.padEnd(36)} ${'KIND'.padEnd(14)} ${'SENSITIVITY'.padEnd(12)} ${'OWNER'.padEnd(14)} DESCRIPTION`, ...rows.map(line)].join('\n'));
    });
  catalog
    .command('show')
    .description('Show a dataset: description, owner, sensitivity, tags, retention and its columns.')
    .argument('<name>', 'e.g. feature_view:daily_weather, training_set:rain_forecast (steward catalog list lists them)')
    .action(async (name: string) => {
      const ctx = context();
      const { showCatalogEntry } = await import('../governance/catalog.js');
      const row = await withDatabase(ctx, async (db) => showCatalogEntry(await synced(db), name));
      if (ctx.json) {
        printJson(row);
        return;
      }
      out(`${row.name}  (${row.kind})\n${row.description}\n`);
      out(`owner        ${row.owner}\nsensitivity  ${row.sensitivity}\ntags         ${row.tags.join(', ') || '-'}\nretention    ${row.retention ?? '-'}\nedited       ${row.edited.join(', ') || '-'} (by ${row.updatedBy})\n\ncolumns:`);
      for (const c of row.columns) out(`  ${c.name.padEnd(32)} ${c.type.padEnd(26)} ${c.sensitivity && c.sensitivity !== 'public' ? `[${c.sensitivity}] ` : ''}${c.description ?? ''}`);
    });
  catalog
    .command('search')
    .description('Find datasets whose name, description, tags, owner or columns mention the text.')
    .argument('<text>')
    .action(async (text: string) => {
      const ctx = context();
      const { searchCatalog } = await import('../governance/catalog.js');
      const hits = await withDatabase(ctx, async (db) => searchCatalog(await synced(db), text));
      if (ctx.json) printJson({ query: text, datasets: hits });
      else out(hits.length ? hits.map((h) => `${line(h)}\n    matched: ${h.matched.join(', ')}`).join('\n') : `No dataset mentions "${text}".`);
    });
  catalog
    .command('edit')
    .description("Change a dataset's description, owner, sensitivity, tags or retention (its owner only); code registration keeps the edit.")
    .argument('<name>')
    .option('--description <text>')
    .option('--owner <principal>', 'hand the dataset to another owner')
    .option('--sensitivity <level>', 'public, internal, confidential or pii')
    .option('--tags <tags>', 'comma-separated')
    .option('--retention <text>', "e.g. '2 years'")
    .requiredOption('--as <principal>', 'who is editing (must be the owner)')
    .action(async (name: string, o: { description?: string; owner?: string; sensitivity?: string; tags?: string; retention?: string; as: string }) => {
      const ctx = context();
      const changes: CatalogEdit = {
        description: o.description,
        owner: o.owner,
        sensitivity: o.sensitivity as CatalogEdit['sensitivity'],
        tags: o.tags?.split(',').map((t) => t.trim()).filter(Boolean),
        retention: o.retention,
      };
      const { editCatalogEntry } = await import('../governance/catalog.js');
      const row = await withDatabase(ctx, async (db) => editCatalogEntry(await synced(db), name, changes, o.as));
      if (ctx.json) printJson(row);
      else out(`Updated ${row.name}: ${row.edited.join(', ')} now owner-edited.`);
    });

  const data = program.command('data').description('Personal data: erasure on request (GDPR/CCPA).');
  data
    .command('erase')
    .description("Erase one entity's rows from the offline and online feature stores and the prediction log, in one transaction; the audit trail records it with the key hashed, and the model versions trained on its data are listed.")
    .requiredOption('--entity <key=value>', 'the entity, by join key and value, e.g. customer_id=c1')
    .option('--reason <text>', 'why (a request reference), for the audit trail')
    .addOption(asOption())
    .addHelpText('after', '\nWith STEWARD_TOKEN set, the token\'s principal is the actor and needs write on the feature views and the prediction log.\n\nExample:\n  steward data erase --entity customer_id=c1 --reason "request #42" --as dpo')
    .action(async (o: { entity: string; reason?: string; as?: string }) => {
      const ctx = context();
      const [{ authenticate }, { eraseEntity }] = await Promise.all([import('../governance/identity.js'), import('../governance/erasure.js')]);
      const erased = await withDatabase(ctx, async (db) => {
        // With STEWARD_TOKEN the caller is authenticated and must hold write on every store touched.
        const principal = ctx.config.token ? (await authenticate(db, ctx.config.token)).name : undefined;
        return eraseEntity(db, { entity: o.entity, actor: principal ?? operator(o.as), reason: o.reason, ...(principal ? { principal } : {}) });
      });
      if (ctx.json) {
        printJson(erased);
        return;
      }
      const counts = (rows: Record<string, number>) => Object.entries(rows).map(([view, n]) => `${view} ${n}`).join(', ') || 'none';
      out(`Erased entity ${erased.key}=… (audit entry ${erased.auditSeq}, entity sha256 ${erased.entityHash.slice(0, 16)}…)`);
      out(`  offline store   ${counts(erased.offline)}\n  online store    ${counts(erased.online)}\n  prediction log  ${erased.predictions}`);
      out(
        erased.modelVersions.length
          ? `Model versions trained on data that included it (consider retraining): ${erased.modelVersions.join(', ')}`
          : 'No recorded model version was trained on data that included it.',
      );
    });

  program
    .command('quality')
    .description('Stored results of data-quality gates (expectation suites run as pipeline steps), newest first.')
    .option('--dataset <name>', 'only this dataset, e.g. feature_view:daily_weather')
    .option('--limit <n>', 'how many suite runs', '5')
    .action(async (o: { dataset?: string; limit: string }) => {
      const ctx = context();
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`--limit must be a whole number of at least 1, got "${o.limit}".`);
      const { listQualityResults } = await import('../governance/expectations.js');
      const rows = await withDatabase(ctx, (db) => listQualityResults(db, { dataset: o.dataset, limit }));
      if (ctx.json) {
        printJson({ results: rows });
        return;
      }
      if (rows.length === 0) out('No data-quality results recorded yet.');
      for (const row of rows) {
        const report = row.results[0] as unknown as QualityReport;
        out(`${row.checkedAt.toISOString()}  ${row.suite} on ${row.dataset}  ${row.passed ? 'passed' : 'FAILED'}  (${row.rows} rows, run ${row.runId ?? '-'})`);
        for (const r of report.results) out(`  ${r.passed ? 'ok  ' : 'FAIL'}  ${r.expectation}: observed ${r.observed}${!r.passed && r.samples.length ? `, e.g. ${JSON.stringify(r.samples[0])}` : ''}`);
      }
    });
}
