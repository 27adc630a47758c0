/**
 * What the registry and the stores hold about a feature view, for `steward features show` and the
 * HTTP API: its registered definition, its offline rows and ingestions, its last materialization
 * and how many entities the online store has for it.
 */
import { and, count, desc, eq, sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/client.js';
import { featureIngestions, featureMaterializations, featureOnline, type FeatureIngestion, type FeatureMaterialization } from '../db/schema.js';
import { layoutFromSpec, tableOf, type ViewLayout } from './offline-store.js';
import { registeredDefinition, type RegisteredDefinition } from './registry.js';

export interface ViewDescription {
  registered: RegisteredDefinition;
  layout: ViewLayout;
  /** Rows of completed ingestions. */
  offlineRows: number;
  ingestions: { complete: number; running: number; failed: number; latest: FeatureIngestion | null };
  lastMaterialization: FeatureMaterialization | null;
  onlineEntities: number;
}

export async function describeView(db: Database, name: string): Promise<ViewDescription> {
  const registered = await registeredDefinition(db, 'featureView', name);
  const statuses = await db
    .select({ status: featureIngestions.status, n: count(), rows: sql<number>`coalesce(sum(${featureIngestions.rows}), 0)::float8` })
    .from(featureIngestions)
    .where(eq(featureIngestions.view, name))
    .groupBy(featureIngestions.status);
  const byStatus = (s: string) => statuses.find((x) => x.status === s);
  const [latest] = await db.select().from(featureIngestions).where(eq(featureIngestions.view, name)).orderBy(desc(featureIngestions.id)).limit(1);
  const [lastMaterialization] = await db
    .select()
    .from(featureMaterializations)
    .where(and(eq(featureMaterializations.view, name)))
    .orderBy(desc(featureMaterializations.id))
    .limit(1);
  const [online] = await db.select({ n: count() }).from(featureOnline).where(eq(featureOnline.view, name));
  return {
    registered,
    layout: layoutFromSpec(registered.spec),
    offlineRows: Number(byStatus('complete')?.rows ?? 0),
    ingestions: {
      complete: Number(byStatus('complete')?.n ?? 0),
      running: Number(byStatus('running')?.n ?? 0),
      failed: Number(byStatus('failed')?.n ?? 0),
      latest: latest ?? null,
    },
    lastMaterialization: lastMaterialization ?? null,
    onlineEntities: Number(online?.n ?? 0),
  };
}

/** Rows physically in a view's table, visible or not (for checks that nothing was left behind). */
export async function storedRows(db: Database, view: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql.raw(`select count(*)::float8 as n from ${tableOf(view)}`));
  return Number(row?.n ?? 0);
}
