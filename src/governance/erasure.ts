/**
 * Erasure of one entity (GDPR/CCPA): every row keyed by it leaves the offline store (each feature
 * view's table with that join key), the online store and the prediction log, in one transaction
 * with an audit entry that holds no personal data (the key is hashed). The answer lists the model
 * versions trained on data that included the entity (found through lineage: versions downstream of
 * a feature view that held its rows), so their owners can decide to retrain.
 *
 *   await eraseEntity(db, { entity: 'customer_id=c1', actor: 'dpo' })
 */
import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database, type Transaction } from '../db/client.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { layoutFromSpec, type ViewLayout } from '../features/offline-store.js';
import { registeredDefinitions } from '../features/registry.js';
import { datasetLineage, type DatasetLineageNode } from '../lineage/graph.js';
import { JOB_NAMESPACE } from '../lineage/openlineage.js';
import { authorize } from './access.js';
import { appendAuditTx } from '../audit/index.js';

export interface ErasureResult {
  /** sha256 of `key=value`: how the audit trail names the entity. */
  entityHash: string;
  key: string;
  offline: Record<string, number>;
  online: Record<string, number>;
  predictions: number;
  /** Model versions trained on data that included the entity (`name@vN`). */
  modelVersions: string[];
  auditSeq: number;
}

export function parseEntity(entity: string): { key: string; value: string } {
  const at = entity.indexOf('=');
  const key = entity.slice(0, at).trim();
  const value = entity.slice(at + 1);
  if (at <= 0 || !/^[a-z_][a-z0-9_]*$/.test(key) || value === '') {
    throw new ValidationError(`Name the entity as <join key>=<value>, e.g. --entity customer_id=c1 (got "${entity}").`);
  }
  return { key, value };
}

const count = async (tx: Transaction, deleting: SQL) =>
  (await queryRows<{ n: number }>(tx as unknown as Database, sql`with d as (${deleting} returning 1) select count(*)::int as n from d`))[0]?.n ?? 0;

function modelVersionsIn(node: DatasetLineageNode, into: Set<string>): Set<string> {
  const name = node.id.slice(node.id.indexOf('/') + 1);
  if (node.kind === 'dataset' && name.startsWith('model:')) into.add(name.slice('model:'.length));
  for (const child of node.children) modelVersionsIn(child, into);
  return into;
}

/** The most sensitive classification among a registered view's features (tags) and the view's own. */
function layoutSensitivity(view: ViewLayout & { tags?: Record<string, string> }): string {
  const levels = [view.tags?.sensitivity, ...view.features.map((f) => f.tags?.sensitivity)].filter((s): s is string => !!s);
  return levels.includes('pii') ? 'pii' : levels.includes('confidential') ? 'confidential' : (levels[0] ?? 'internal');
}

/**
 * `principal`, when given (an authenticated caller), must be allowed to write every store the
 * erasure touches; a denial erases nothing.
 */
export async function eraseEntity(db: Database, input: { entity: string; actor: string; reason?: string; principal?: string }): Promise<ErasureResult> {
  const { key, value } = parseEntity(input.entity);
  const entityHash = createHash('sha256').update(`${key}=${value}`).digest('hex');
  const views = (await registeredDefinitions(db))
    .filter((d) => d.kind === 'featureView')
    .map((d) => ({ ...layoutFromSpec(d.spec), sensitivity: layoutSensitivity({ ...layoutFromSpec(d.spec), tags: d.spec.tags as Record<string, string> | undefined }) }));
  const keyed = views.filter((v) => v.joinKeys.some((k) => k.name === key));
  if (input.principal) {
    for (const view of keyed) await authorize(db, { principal: input.principal, permission: 'write', resource: `feature_view:${view.name}`, sensitivity: view.sensitivity, context: 'erasure' });
    await authorize(db, { principal: input.principal, permission: 'write', resource: 'dataset:prediction_log', sensitivity: 'confidential', context: 'erasure' });
  }
  // Lineage says which model versions were trained downstream of each view (read before the
  // transaction: with PGlite one connection serves both).
  const trainedOn = new Map<string, Set<string>>();
  for (const view of keyed) {
    const tree = await datasetLineage(db, `${JOB_NAMESPACE}/feature_view:${view.name}`, 'downstream').catch(() => undefined);
    trainedOn.set(view.name, tree ? modelVersionsIn(tree.root, new Set()) : new Set());
  }
  return db.transaction(async (tx) => {
    const offline: Record<string, number> = {};
    const online: Record<string, number> = {};
    for (const view of keyed) {
      const index = view.joinKeys.findIndex((k) => k.name === key);
      const n = await count(tx, sql`delete from ${sql.identifier('features')}.${sql.identifier(view.name)} where ${sql.identifier(key)}::text = ${value}`);
      if (n) offline[view.name] = n;
      const m = await count(tx, sql`delete from feature_online where view = ${view.name} and (entity_key::jsonb ->> ${index}::int) = ${value}`);
      if (m) online[view.name] = m;
    }
    const predictions = await count(tx, sql`delete from prediction_log where exists (select 1 from jsonb_array_elements(inputs) e where e ->> ${key} = ${value})`);
    if (Object.keys(offline).length === 0 && Object.keys(online).length === 0 && predictions === 0) {
      const where = keyed.length ? `feature views ${keyed.map((v) => v.name).join(', ')} and the prediction log` : `the prediction log (no registered feature view has the join key "${key}")`;
      throw new NotFoundError(`No rows for entity ${key}=<value given> in ${where}: nothing was erased. Check the key and value.`, { key });
    }
    const modelVersions = [...new Set(Object.keys(offline).flatMap((view) => [...(trainedOn.get(view) ?? [])]))].sort();
    const entry = await appendAuditTx(tx, {
      actor: input.actor,
      action: 'data.erased',
      subject: `entity:${entityHash}`,
      details: { key, offline, online, predictions, modelVersions, ...(input.reason ? { reason: input.reason } : {}) },
    });
    return { entityHash, key, offline, online, predictions, modelVersions, auditSeq: entry.seq };
  });
}
