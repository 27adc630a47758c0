/**
 * The data catalog: what datasets exist (raw sources, feature views, training sets, prediction
 * logs), what their columns mean, who owns them, how sensitive they are, their tags and retention.
 *
 * Entries are registered from code: the tables Steward itself writes here, a project's own tables
 * from its declarations (`catalog` in steward.config.ts), and every feature view and feature service
 * (the training sets built from it) from the feature store's definitions.
 * Registration is idempotent and leaves alone what an owner edited (`steward catalog edit`); an edit
 * by anyone but the owner is refused. Names match the datasets of the lineage events
 * (`prediction_log`, `feature_view:<name>`), so catalog and lineage describe the same things.
 */
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { catalogDatasets, predictionLog, type CatalogDatasetRow } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { outputName, sensitivityOf, type Definition, type FeatureView } from '../features/definitions.js';
import { tableFields } from '../lineage/datasets.js';
import { appendAuditTx } from '../audit/index.js';
import { PermissionDeniedError } from './identity.js';

export type CatalogKind = CatalogDatasetRow['kind'];
export type CatalogSensitivity = CatalogDatasetRow['sensitivity'];
export type CatalogColumn = CatalogDatasetRow['columns'][number];

export interface CatalogEntry {
  name: string;
  kind: CatalogKind;
  description: string;
  owner: string;
  sensitivity: CatalogSensitivity;
  tags: string[];
  retention: string | null;
  columns: CatalogColumn[];
}

const EDITABLE = ['description', 'owner', 'sensitivity', 'tags', 'retention'] as const;
export type CatalogEdit = Partial<Pick<CatalogEntry, (typeof EDITABLE)[number]>>;

const RANK = ['public', 'internal', 'unclassified', 'confidential', 'pii'];
const asCatalogSensitivity = (s: string): CatalogSensitivity => (s === 'public' || s === 'confidential' || s === 'pii' ? s : 'internal');

/** A view's classification: the most sensitive of its own tag and its features'. */
export function viewSensitivity(view: FeatureView): string {
  return view.features.map((f) => sensitivityOf(view, f.name)).reduce((a, b) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a), view.tags.sensitivity ?? 'public');
}

export const describeColumns = (fields: Array<{ name: string; type: string }>, descriptions: Record<string, string>): CatalogColumn[] =>
  fields.map((f) => ({ ...f, ...(descriptions[f.name] ? { description: descriptions[f.name] } : {}) }));

/** The tables Steward itself writes. */
export function builtinCatalog(): CatalogEntry[] {
  return [
    {
      name: 'prediction_log',
      kind: 'prediction_log',
      description: 'Every prediction the scorer served: model version, request, inputs and output.',
      owner: 'ml-platform',
      sensitivity: 'confidential',
      tags: ['serving', 'monitoring'],
      retention: '90 days',
      columns: describeColumns(tableFields(predictionLog), {
        request_id: 'the caller-supplied or generated request id',
        inputs: 'the features the model was given',
      }),
    },
  ];
}

/** Feature views and the training sets built from each feature service, from the store's definitions. */
export function catalogFromDefinitions(definitions: readonly Definition[]): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  const tagsOf = (tags: Readonly<Record<string, string>>) => Object.entries(tags).map(([k, v]) => `${k}:${v}`);
  for (const d of definitions) {
    if (d.kind === 'featureView') {
      entries.push({
        name: `feature_view:${d.name}`,
        kind: 'feature_view',
        description: d.description,
        owner: d.owner,
        sensitivity: asCatalogSensitivity(viewSensitivity(d)),
        tags: tagsOf(d.tags),
        retention: d.ttlMs === undefined ? null : `ttl ${d.ttlMs / 3_600_000}h`,
        columns: [
          ...d.joinKeys.map((k) => ({ name: k.name, type: k.type, description: 'join key' })),
          { name: d.eventTimestamp, type: 'timestamp', description: 'event time' },
          ...d.features.map((f) => ({ name: f.name, type: f.type, ...(f.description ? { description: f.description } : {}), sensitivity: sensitivityOf(d, f.name) })),
        ],
      });
    }
    if (d.kind === 'featureService') {
      const columns = d.projections.flatMap((p) =>
        p.features.map((f) => ({ name: outputName(p.view.name, f), type: p.view.features.find((x) => x.name === f)?.type ?? 'unknown', sensitivity: sensitivityOf(p.view, f) })),
      );
      const worst = columns.map((c) => c.sensitivity).reduce((a, b) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a), 'public');
      entries.push({
        name: `training_set:${d.name}`,
        kind: 'training_set',
        description: `Training sets built point in time from feature service ${d.name} v${d.version}${d.description ? `: ${d.description}` : ''}`,
        owner: d.owner,
        sensitivity: asCatalogSensitivity(worst),
        tags: ['training-set', ...tagsOf(d.tags)],
        retention: null,
        columns,
      });
    }
  }
  return entries;
}

/** Registers entries from code: new ones are added, changed ones updated except where an owner edited. */
export async function registerCatalog(db: Database, entries: readonly CatalogEntry[], actor = 'steward'): Promise<{ created: string[]; updated: string[]; unchanged: number }> {
  const result = { created: [] as string[], updated: [] as string[], unchanged: 0 };
  await db.transaction(async (tx) => {
    for (const entry of entries) {
      const [existing] = await tx.select().from(catalogDatasets).where(eq(catalogDatasets.name, entry.name));
      if (!existing) {
        await tx.insert(catalogDatasets).values({ ...entry, updatedBy: actor });
        result.created.push(entry.name);
        continue;
      }
      const fromCode: Partial<CatalogEntry> = { kind: entry.kind, columns: entry.columns };
      for (const field of EDITABLE) if (!existing.edited.includes(field)) Object.assign(fromCode, { [field]: entry[field] });
      const changed = Object.entries(fromCode).some(([k, v]) => JSON.stringify(v) !== JSON.stringify(existing[k as keyof CatalogDatasetRow]));
      if (!changed) {
        result.unchanged++;
        continue;
      }
      await tx.update(catalogDatasets).set({ ...fromCode, updatedBy: actor, updatedAt: new Date() }).where(eq(catalogDatasets.name, entry.name));
      result.updated.push(entry.name);
    }
  });
  return result;
}

export async function listCatalog(db: Database): Promise<CatalogDatasetRow[]> {
  return db.select().from(catalogDatasets).orderBy(asc(catalogDatasets.kind), asc(catalogDatasets.name));
}

export async function showCatalogEntry(db: Database, name: string): Promise<CatalogDatasetRow> {
  const [row] = await db.select().from(catalogDatasets).where(eq(catalogDatasets.name, name));
  if (row) return row;
  const all = await listCatalog(db);
  const alike = all.filter((r) => r.name.includes(name) || name.includes(r.name.replace(/^[a-z_]+:/, ''))).map((r) => r.name);
  throw new NotFoundError(`No dataset "${name}" in the catalog.${alike.length ? ` Did you mean ${alike.join(', ')}?` : ' `steward catalog list` shows them.'}`, { name });
}

/** Datasets whose name, description, tags or columns mention `text` (case-insensitive). */
export async function searchCatalog(db: Database, text: string): Promise<Array<CatalogDatasetRow & { matched: string[] }>> {
  const needle = text.trim().toLowerCase();
  if (!needle) throw new ValidationError('Search for some text, e.g. `steward catalog search delay`.');
  const hits: Array<CatalogDatasetRow & { matched: string[] }> = [];
  for (const row of await listCatalog(db)) {
    const matched: string[] = [];
    if (row.name.toLowerCase().includes(needle)) matched.push('name');
    if (row.description.toLowerCase().includes(needle)) matched.push('description');
    if (row.tags.some((t) => t.toLowerCase().includes(needle))) matched.push('tags');
    for (const c of row.columns) if (`${c.name} ${c.description ?? ''}`.toLowerCase().includes(needle)) matched.push(`column ${c.name}`);
    if (row.owner.toLowerCase().includes(needle)) matched.push('owner');
    if (matched.length) hits.push({ ...row, matched });
  }
  return hits;
}

/** An owner's edit of the descriptive fields; anyone else is refused with a 403. */
export async function editCatalogEntry(db: Database, name: string, changes: CatalogEdit, actor: string): Promise<CatalogDatasetRow> {
  const fields = Object.keys(changes).filter((k) => changes[k as keyof CatalogEdit] !== undefined) as Array<(typeof EDITABLE)[number]>;
  if (fields.length === 0) throw new ValidationError(`Say what to change: ${EDITABLE.map((f) => `--${f}`).join(', ')}.`);
  if (changes.sensitivity && !['public', 'internal', 'confidential', 'pii'].includes(changes.sensitivity)) {
    throw new ValidationError(`Sensitivity must be public, internal, confidential or pii, got "${changes.sensitivity}".`);
  }
  const current = await showCatalogEntry(db, name);
  if (current.owner !== actor) {
    throw new PermissionDeniedError(`Permission denied: ${actor} may not write dataset ${name}: only its owner (${current.owner}) edits its catalog entry.`, {
      principal: actor,
      permission: 'write',
      resource: `dataset:${name}`,
    });
  }
  return db.transaction(async (tx) => {
    const edited = [...new Set([...current.edited, ...fields])].sort();
    const [row] = await tx
      .update(catalogDatasets)
      .set({ ...Object.fromEntries(fields.map((f) => [f, changes[f]])), edited, updatedBy: actor, updatedAt: new Date() })
      .where(eq(catalogDatasets.name, name))
      .returning();
    await appendAuditTx(tx, {
      actor,
      action: 'catalog.edited',
      subject: `dataset:${name}`,
      details: { changes: Object.fromEntries(fields.map((f) => [f, { from: current[f], to: changes[f] }])) },
    });
    return row!;
  });
}
