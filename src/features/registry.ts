/**
 * The feature registry: `plan` compares definitions in code with what the database has registered
 * (create / change / unchanged, like `terraform plan`), and `apply` carries the plan out in one
 * transaction: new versions of changed definitions, a typed offline table for each new feature view
 * and a column for each added feature. Changes that stored rows or trained models cannot follow
 * (a feature's type, a join key, a timestamp column, a removed feature, a service's features
 * changing under the same version) are refused with the column named and what to do instead.
 */
import { desc, sql } from 'drizzle-orm';
import type { Database, Transaction } from '../db/client.js';
import { featureDefinitions } from '../db/schema.js';
import { NotFoundError, ValidationError } from '../errors.js';
import {
  canonicalJson,
  describeKind,
  featureRepository,
  formatDuration,
  hashSpec,
  specOf,
  type Definition,
  type DefinitionKind,
  type FeatureField,
  type JoinKey,
} from './definitions.js';
import { addColumnStatement, createTableStatements, layoutFromSpec } from './offline-store.js';

export interface PlanItem {
  kind: DefinitionKind;
  name: string;
  action: 'create' | 'change' | 'unchanged';
  /** The registered version (null when new) and the version apply writes. */
  fromVersion: number | null;
  toVersion: number;
  /** What changes, one phrase each: `ttl 7d -> 14d`, `add feature x (float64)`. */
  changes: string[];
}

export interface Refusal {
  kind: DefinitionKind;
  name: string;
  column?: string;
  reason: string;
}

export interface Plan {
  items: PlanItem[];
  refusals: Refusal[];
}

export interface RegisteredDefinition {
  kind: DefinitionKind;
  name: string;
  version: number;
  hash: string;
  spec: Record<string, unknown>;
  appliedAt: Date;
}

/** The latest version of every registered definition. */
export async function registeredDefinitions(db: Database | Transaction): Promise<RegisteredDefinition[]> {
  const rows = await db.select().from(featureDefinitions).orderBy(featureDefinitions.kind, featureDefinitions.name, desc(featureDefinitions.version));
  const latest = new Map<string, RegisteredDefinition>();
  for (const row of rows) if (!latest.has(`${row.kind}:${row.name}`)) latest.set(`${row.kind}:${row.name}`, row);
  return [...latest.values()];
}

export async function registeredDefinition(db: Database | Transaction, kind: DefinitionKind, name: string): Promise<RegisteredDefinition> {
  const found = (await registeredDefinitions(db)).find((d) => d.kind === kind && d.name === name);
  if (!found) {
    throw new NotFoundError(`No ${describeKind(kind)} "${name}" is registered. Define it in code and run \`steward apply\`.`, { kind, name });
  }
  return found;
}

/** Checks that the code's definition is the registered one, so reads and writes agree with the stored tables. */
export async function requireApplied(db: Database | Transaction, definitions: readonly Definition[]): Promise<void> {
  const registered = new Map((await registeredDefinitions(db)).map((d) => [`${d.kind}:${d.name}`, d]));
  for (const d of definitions) {
    const found = registered.get(`${d.kind}:${d.name}`);
    const what = `${describeKind(d.kind)} "${d.name}"`;
    if (!found) throw new NotFoundError(`The ${what} is not registered. Run \`steward apply\` first.`, { kind: d.kind, name: d.name });
    if (found.hash !== hashSpec(specOf(d))) {
      throw new ValidationError(
        `The ${what} in code differs from its registered version ${found.version}. Run \`steward apply\` (or \`steward apply --dry-run\` to see the change).`,
        { kind: d.kind, name: d.name, version: found.version },
      );
    }
  }
}

export async function plan(db: Database | Transaction, definitions: readonly Definition[]): Promise<Plan> {
  const repo = featureRepository(definitions);
  const registered = new Map((await registeredDefinitions(db)).map((d) => [`${d.kind}:${d.name}`, d]));
  const items: PlanItem[] = [];
  const refusals: Refusal[] = [];
  for (const definition of repo.definitions) {
    const spec = specOf(definition);
    const previous = registered.get(`${definition.kind}:${definition.name}`);
    if (!previous) {
      items.push({ kind: definition.kind, name: definition.name, action: 'create', fromVersion: null, toVersion: 1, changes: [] });
      continue;
    }
    if (previous.hash === hashSpec(spec)) {
      items.push({ kind: definition.kind, name: definition.name, action: 'unchanged', fromVersion: previous.version, toVersion: previous.version, changes: [] });
      continue;
    }
    const comparison = compare(definition.kind, previous.spec, spec);
    for (const r of comparison.refusals) refusals.push({ kind: definition.kind, name: definition.name, ...r });
    items.push({
      kind: definition.kind,
      name: definition.name,
      action: 'change',
      fromVersion: previous.version,
      toVersion: previous.version + 1,
      changes: comparison.changes,
    });
  }
  return { items, refusals };
}

export interface ApplyResult extends Plan {
  applied: boolean;
}

/** Registers the definitions (or, with dryRun, only plans); refuses the whole apply if any change is refused. */
export async function apply(db: Database, definitions: readonly Definition[], options: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  if (options.dryRun) return { ...(await plan(db, definitions)), applied: false };
  const repo = featureRepository(definitions);
  return db.transaction(async (tx) => {
    // One apply at a time: two racing applies would both see "create".
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('steward.feature-registry'))`);
    const result = await plan(tx, repo.definitions);
    if (result.refusals.length > 0) throw refusalError(result.refusals);
    for (const item of result.items) {
      if (item.action === 'unchanged') continue;
      const definition = repo.definitions.find((d) => d.kind === item.kind && d.name === item.name)!;
      const spec = specOf(definition);
      if (definition.kind === 'featureView') {
        if (item.action === 'create') {
          for (const statement of createTableStatements(definition)) await tx.execute(sql.raw(statement));
        } else {
          const previous = await registeredDefinition(tx, 'featureView', definition.name);
          const had = new Set(layoutFromSpec(previous.spec).features.map((f) => f.name));
          for (const field of definition.features) if (!had.has(field.name)) await tx.execute(sql.raw(addColumnStatement(definition.name, field)));
        }
      }
      await tx.insert(featureDefinitions).values({ kind: item.kind, name: item.name, version: item.toVersion, hash: hashSpec(spec), spec });
    }
    return { ...result, applied: true };
  });
}

export function refusalError(refusals: readonly Refusal[]): ValidationError {
  const lines = refusals.map((r) => `- ${describeKind(r.kind)} "${r.name}"${r.column ? `, column "${r.column}"` : ''}: ${r.reason}`);
  return new ValidationError(`Refused to apply ${refusals.length === 1 ? 'a change' : `${refusals.length} changes`}; nothing was changed:\n${lines.join('\n')}`, {
    refusals,
  });
}

type Spec = Record<string, unknown>;

function compare(kind: DefinitionKind, before: Spec, after: Spec): { changes: string[]; refusals: Omit<Refusal, 'kind' | 'name'>[] } {
  const changes: string[] = [];
  const refusals: Omit<Refusal, 'kind' | 'name'>[] = [];
  const same = (key: string) => canonicalJson(before[key]) === canonicalJson(after[key]);
  const note = (key: string, show: (v: unknown) => string = (v) => JSON.stringify(v)) => {
    if (!same(key)) changes.push(`${key} ${show(before[key])} -> ${show(after[key])}`);
  };
  if (kind === 'entity' || kind === 'featureView') {
    const keysBefore = before.joinKeys as JoinKey[];
    const keysAfter = after.joinKeys as JoinKey[];
    if (!same('joinKeys')) {
      const changed = keysAfter.find((k, i) => keysBefore[i]?.name !== k.name || keysBefore[i]?.type !== k.type) ?? keysBefore[keysAfter.length];
      const was = keysBefore.map((k) => `${k.name} ${k.type}`).join(', ');
      const now = keysAfter.map((k) => `${k.name} ${k.type}`).join(', ');
      refusals.push({
        column: changed?.name,
        reason: `join keys change from (${was}) to (${now}); stored rows and online keys are keyed by the old ones. Define a new ${kind === 'entity' ? 'entity' : 'feature view'} under another name instead.`,
      });
    }
  }
  if (kind === 'featureView') {
    for (const key of ['eventTimestamp', 'createdTimestamp'] as const) {
      if (!same(key)) {
        refusals.push({
          column: String(after[key] ?? before[key]),
          reason: `the ${key === 'eventTimestamp' ? 'event' : 'created'} timestamp column changes from ${JSON.stringify(before[key])} to ${JSON.stringify(after[key])}; the stored table keeps its columns. Create a new feature view instead.`,
        });
      }
    }
    note('ttlMs', (v) => (v === null ? 'none' : formatDuration(v as number)));
    for (const key of ['entities', 'source', 'owner', 'description', 'tags', 'online']) note(key);
  }
  if (kind === 'featureView' || kind === 'onDemandFeatureView') {
    compareFeatures(before.features as FeatureField[], after.features as FeatureField[], kind, changes, refusals);
  }
  if (kind === 'onDemandFeatureView') {
    note('inputs');
    if (!same('transform')) changes.push('transform changed');
    for (const key of ['owner', 'description', 'tags']) note(key);
  }
  if (kind === 'featureService') {
    const [from, to] = [before.version as number, after.version as number];
    if (to < from) refusals.push({ reason: `version goes back from ${from} to ${to}; versions only increase.` });
    else if (to === from && !same('features')) {
      refusals.push({
        reason: `its features change but its version stays ${from}; models trained on version ${from} expect its features as they were. Bump the version to ${from + 1}.`,
      });
    }
    note('version');
    if (!same('features')) changes.push('features changed');
    for (const key of ['owner', 'description', 'tags']) note(key);
  }
  if (kind === 'entity') note('description');
  return { changes, refusals };
}

function compareFeatures(
  before: FeatureField[],
  after: FeatureField[],
  kind: DefinitionKind,
  changes: string[],
  refusals: Omit<Refusal, 'kind' | 'name'>[],
): void {
  const next = new Map(after.map((f) => [f.name, f]));
  for (const field of before) {
    const now = next.get(field.name);
    if (!now) {
      refusals.push({
        column: field.name,
        reason: `feature "${field.name}" would be removed; stored rows and models trained on it still use it. Keep it, or define a new ${kind === 'featureView' ? 'feature view' : 'on-demand view'} without it.`,
      });
    } else if (now.type !== field.type) {
      refusals.push({
        column: field.name,
        reason: `feature "${field.name}" changes type from ${field.type} to ${now.type}; stored values cannot be reinterpreted. Add a feature under a new name (e.g. ${field.name}_v2) instead.`,
      });
    } else if (canonicalJson(now) !== canonicalJson(field)) {
      changes.push(`feature ${field.name}: description or tags changed`);
    }
  }
  const had = new Set(before.map((f) => f.name));
  for (const field of after) if (!had.has(field.name)) changes.push(`add feature ${field.name} (${field.type})`);
}
