/**
 * Online reads: the features of a service for many entities in one call, from the online table
 * (`feature_online`, one row per view and entity) through an in-process read-through cache. Every
 * value comes with a status: `present`, `expired` (its row is as old as the view's TTL or older: the
 * value is null, unlike Feast, which serves stale values) or `missing` (no row for the entity).
 * On-demand views are computed from the served values with the same function as offline. The
 * online store holds each entity's latest row only, so it answers for now, not for a past time
 * (getHistoricalFeatures does that); at any time after the rows it holds were created, the two agree.
 *
 * The cache keeps rows (and misses) per view. A materialization through the same store drops the
 * view's entries at once; to see materializations made by other processes, the store checks the
 * latest materialization of each view in the background at most every `revalidateMs`, so a read
 * never waits on that check.
 */
import { eq, sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/client.js';
import { featureMaterializations } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import {
  applyTransform,
  featureRepository,
  outputName,
  resolveService,
  viewsOfService,
  type Definition,
  type FeatureRepository,
  type FeatureService,
  type FeatureValue,
  type FeatureView,
  type OnDemandFeatureView,
} from './definitions.js';
import { requireApplied } from './registry.js';

export type FeatureStatus = 'present' | 'expired' | 'missing';
export type EntityKey = Readonly<Record<string, string | number | bigint>>;

export interface OnlineFeatureRow {
  entity: EntityKey;
  /** By output name (`view__feature`). */
  values: Record<string, FeatureValue>;
  /** By output name; shared (and frozen) between rows with the same statuses. */
  statuses: Readonly<Record<string, FeatureStatus>>;
}

export interface OnlineFeatures {
  service: string;
  version: number;
  /** Output names in the service's order. */
  features: string[];
  rows: OnlineFeatureRow[];
}

export interface OnlineStoreOptions {
  /** Cached entities per view (default 100,000); the oldest are dropped first. */
  cacheEntries?: number;
  /** How often to look for materializations by other processes, in ms (default 1,000). */
  revalidateMs?: number;
  clock?: () => number;
}

interface CachedRow {
  eventMs: number;
  values: Record<string, FeatureValue>;
}

const MISSING = null;

interface ServicePlan {
  service: FeatureService;
  views: FeatureView[];
  /** Per view (by index in `views`), the features the service wants and their output names. */
  outputs: Array<{ view: number; features: string[]; names: string[] }>;
  onDemand: Array<{ view: OnDemandFeatureView; features: string[]; names: string[]; inputs: Array<{ arg: string; view: number; feature: string }> }>;
  names: string[];
  /** Rows whose views have the same statuses share one frozen statuses object (at most 3^views of them). */
  statuses: Map<string, Readonly<Record<string, FeatureStatus>>>;
}

export class OnlineStore {
  private readonly repo: FeatureRepository;
  private readonly cache = new Map<string, Map<string, CachedRow | typeof MISSING>>();
  private readonly versions = new Map<string, number>();
  private readonly plans = new Map<string, Promise<ServicePlan>>();
  private readonly cacheEntries: number;
  private readonly revalidateMs: number;
  private readonly clock: () => number;
  private lastCheck = -Infinity;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    definitions: readonly Definition[],
    options: OnlineStoreOptions = {},
  ) {
    this.repo = featureRepository(definitions);
    this.cacheEntries = options.cacheEntries ?? 100_000;
    this.revalidateMs = options.revalidateMs ?? 1_000;
    this.clock = options.clock ?? Date.now;
  }

  /** Drops cached rows of a view (or of every view). */
  invalidate(view?: string): void {
    if (view === undefined) this.cache.clear();
    else this.cache.delete(view);
  }

  /** Waits for a background revalidation still running (tests, shutdown). */
  async settle(): Promise<void> {
    await this.checking;
  }

  async getOnlineFeatures(service: FeatureService | string, entityKeys: readonly EntityKey[], options: { now?: number } = {}): Promise<OnlineFeatures> {
    const plan = await this.planFor(service);
    const now = options.now ?? this.clock();
    this.revalidate();
    const keys = entityKeys.map((entity, row) => plan.views.map((view) => entityKeyOf(view, entity, row)));
    await this.fill(plan.views, keys);

    const caches = plan.views.map((view) => this.cache.get(view.name)!);
    const found = new Array<CachedRow | null>(plan.views.length);
    const status = new Array<FeatureStatus>(plan.views.length);
    const rows: OnlineFeatureRow[] = new Array(entityKeys.length);
    for (let r = 0; r < entityKeys.length; r++) {
      const values: Record<string, FeatureValue> = {};
      let signature = '';
      for (let v = 0; v < plan.views.length; v++) {
        const row = caches[v]!.get(keys[r]![v]!) ?? null;
        const ttl = plan.views[v]!.ttlMs;
        found[v] = row;
        status[v] = row === null ? 'missing' : ttl !== undefined && row.eventMs <= now - ttl ? 'expired' : 'present';
        signature += status[v]![0];
      }
      for (const { view, features, names } of plan.outputs) {
        const row = status[view] === 'present' ? found[view]! : null;
        for (let f = 0; f < features.length; f++) values[names[f]!] = row === null ? null : (row.values[features[f]!] ?? null);
      }
      for (const { view, features, names, inputs } of plan.onDemand) {
        const args: Record<string, FeatureValue> = {};
        for (const input of inputs) args[input.arg] = status[input.view] === 'present' ? (found[input.view]!.values[input.feature] ?? null) : null;
        const result = applyTransform(view, args);
        for (let f = 0; f < features.length; f++) values[names[f]!] = result[features[f]!]!;
      }
      let statuses = plan.statuses.get(signature);
      if (!statuses) plan.statuses.set(signature, (statuses = Object.freeze(statusesOf(plan, status))));
      rows[r] = { entity: entityKeys[r]!, values, statuses };
    }
    return { service: plan.service.name, version: plan.service.version, features: plan.names, rows };
  }

  private planFor(service: FeatureService | string): Promise<ServicePlan> {
    const resolved = resolveService(this.repo, service);
    let plan = this.plans.get(resolved.name);
    if (!plan) {
      plan = (async () => {
        const views = viewsOfService(resolved);
        const onDemand = resolved.projections.filter((p) => p.view.kind === 'onDemandFeatureView');
        await requireApplied(this.db, [resolved, ...views, ...onDemand.map((p) => p.view)]);
        for (const view of views) {
          if (!view.online) {
            throw new ValidationError(`Feature service "${resolved.name}" reads feature view "${view.name}", which is offline only (online: false).`, {
              service: resolved.name,
              view: view.name,
            });
          }
        }
        const index = (name: string) => views.findIndex((v) => v.name === name);
        const named = (view: string, features: readonly string[]) => ({ features: [...features], names: features.map((f) => outputName(view, f)) });
        return {
          service: resolved,
          views,
          outputs: resolved.projections.filter((p) => p.view.kind === 'featureView').map((p) => ({ view: index(p.view.name), ...named(p.view.name, p.features) })),
          onDemand: onDemand.map((p) => {
            const view = p.view as OnDemandFeatureView;
            const inputs = Object.entries(view.inputs).map(([arg, ref]) => ({ arg, view: index(ref.view.name), feature: ref.feature }));
            return { view, inputs, ...named(view.name, p.features) };
          }),
          names: resolved.projections.flatMap((p) => p.features.map((f) => outputName(p.view.name, f))),
          statuses: new Map(),
        };
      })();
      plan.catch(() => this.plans.delete(resolved.name));
      this.plans.set(resolved.name, plan);
    }
    return plan;
  }

  /** Loads into the cache every (view, key) not cached yet, in one query. */
  private async fill(views: readonly FeatureView[], keys: string[][]): Promise<void> {
    const wanted: Array<{ view: string; key: string }> = [];
    views.forEach((view, v) => {
      let cached = this.cache.get(view.name);
      if (!cached) this.cache.set(view.name, (cached = new Map()));
      const asked = new Set<string>();
      for (const rowKeys of keys) {
        const key = rowKeys[v]!;
        if (!cached.has(key) && !asked.has(key)) {
          asked.add(key);
          wanted.push({ view: view.name, key });
        }
      }
    });
    if (wanted.length === 0) return;
    const found = await queryRows<{ view: string; entity_key: string; event_ms: number | string; values: Record<string, FeatureValue> }>(
      this.db,
      sql`select o.view, o.entity_key, (extract(epoch from o.event_at) * 1000)::float8 as event_ms, o.values
          from feature_online o
          join jsonb_to_recordset(${JSON.stringify(wanted.map((w) => ({ v: w.view, k: w.key })))}::jsonb) as w(v text, k text)
            on o.view = w.v and o.entity_key = w.k`,
    );
    const hits = new Map(found.map((f) => [`${f.view}\u0000${f.entity_key}`, f]));
    for (const { view, key } of wanted) {
      const hit = hits.get(`${view}\u0000${key}`);
      this.remember(view, key, hit ? { eventMs: Number(hit.event_ms), values: hit.values } : MISSING);
    }
  }

  private remember(view: string, key: string, row: CachedRow | typeof MISSING): void {
    const cached = this.cache.get(view)!;
    if (cached.size >= this.cacheEntries) cached.delete(cached.keys().next().value!);
    cached.set(key, row);
  }

  /** In the background, drops views whose latest materialization changed since the last look. */
  private revalidate(): void {
    const now = Date.now();
    if (this.checking || now - this.lastCheck < this.revalidateMs) return;
    this.lastCheck = now;
    this.checking = (async () => {
      try {
        const latest = await this.db
          .select({ view: featureMaterializations.view, id: sql<number>`max(${featureMaterializations.id})::int` })
          .from(featureMaterializations)
          .where(eq(featureMaterializations.status, 'complete'))
          .groupBy(featureMaterializations.view);
        for (const { view, id } of latest) {
          const known = this.versions.get(view);
          if (known !== undefined && known !== Number(id)) this.invalidate(view);
          this.versions.set(view, Number(id));
        }
      } catch {
        // A failed look is retried after the next interval; reads keep serving the cache meanwhile.
      } finally {
        this.checking = undefined;
      }
    })();
  }
}

/** Each output's status: its view's, or for an on-demand output the worst of its inputs' views (missing, then expired). */
function statusesOf(plan: ServicePlan, status: readonly FeatureStatus[]): Record<string, FeatureStatus> {
  const statuses: Record<string, FeatureStatus> = {};
  for (const { view, names } of plan.outputs) for (const name of names) statuses[name] = status[view]!;
  for (const { names, inputs } of plan.onDemand) {
    const of = inputs.map((i) => status[i.view]!);
    const combined: FeatureStatus = of.includes('missing') ? 'missing' : of.includes('expired') ? 'expired' : 'present';
    for (const name of names) statuses[name] = combined;
  }
  return statuses;
}

/** The online key of an entity for a view: its join key values as a JSON array, after checking their types. */
function entityKeyOf(view: FeatureView, entity: EntityKey, row: number): string {
  const values = view.joinKeys.map((key) => {
    const value = entity[key.name];
    if (value === undefined || value === null) {
      throw new ValidationError(`Entity key ${row} has no "${key.name}", a join key of feature view "${view.name}"; it has ${Object.keys(entity).join(', ') || 'nothing'}.`, {
        view: view.name,
        column: key.name,
        row,
      });
    }
    if (key.type === 'string') {
      if (typeof value !== 'string') {
        throw new ValidationError(`Entity key ${row}: "${key.name}" must be a string for feature view "${view.name}", got ${typeof value} ${String(value)}.`, {
          view: view.name,
          column: key.name,
          row,
        });
      }
      return value;
    }
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      throw new ValidationError(`Entity key ${row}: "${key.name}" must be a whole number (${key.type}) for feature view "${view.name}", got ${JSON.stringify(String(value))}.`, {
        view: view.name,
        column: key.name,
        row,
      });
    }
    return n;
  });
  return JSON.stringify(values);
}
