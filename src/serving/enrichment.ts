/**
 * Optional feature enrichment for /predict: a row may carry `entities` (its join keys, e.g.
 * `{ "origin": "ORD", "destination": "SFO" }`) instead of the features a feature service serves,
 * and the scorer reads them from the online store, one getOnlineFeatures call for all rows of the
 * request, and merges them into the row before the usual validation. The caller makes one round
 * trip, and the model reads the same store values, computed by the same code, as its training set.
 *
 * A model input takes, in order: the service feature the config maps it to; else the service
 * feature of the same name (its output name `view__feature`, or a feature name only one view of
 * the service has); else the entity join key of the same name (e.g. `origin`). Other inputs come
 * from the row as sent.
 *
 * Decisions:
 * - A row that sends a value for an input the store (or its entities) provides is refused, not
 *   silently overridden either way: two sources for one feature is how online/offline skew starts.
 * - A null value (expired by the view's TTL, no row for the entity, or null in the store) is passed
 *   on as missing only if the model version accepts missing values for that input (or the mapping
 *   gives `ifNull`, e.g. 0 for a count whose absent row means "none", as in training); otherwise
 *   the request is refused naming the row, the input, the store feature, the entity and the status.
 * - Inputs are matched against the signature of the version that scores the request (canary and
 *   shadow versions included), so the plan is compiled per signature.
 */
import { ConfigError, ValidationError } from '../errors.js';
import { featureRepository, outputName, resolveService, viewsOfService, type Definition, type FeatureValue } from '../features/definitions.js';
import type { EntityKey, FeatureStatus, OnlineFeatureRow, OnlineFeatures } from '../features/online-store.js';
import type { ServingSignature } from './signature.js';
import { batchFromRecords, type Batch } from './validation.js';

/** A service feature by output name (`origin_delays__mean_delay_7d`) or by a feature name unique in the service, optionally with the value a null becomes. */
export type FeatureMapping = string | { feature: string; ifNull?: FeatureValue };

export interface EnricherConfig {
  featureService: string;
  /** Model input -> service feature; unlisted inputs match by name (see the module doc). */
  features?: Readonly<Record<string, FeatureMapping>>;
}

/** What the enricher needs of a feature store (a FeatureStore from createFeatureStore has it). */
export interface OnlineFeatureReader {
  readonly definitions: readonly Definition[];
  getOnlineFeatures(featureService: string, entityKeys: readonly EntityKey[]): Promise<OnlineFeatures>;
}

type Source = { input: string; allowMissing: boolean } & ({ kind: 'feature'; output: string; ifNull: FeatureValue | undefined } | { kind: 'entity'; key: string });

const STATUS_TEXT: Readonly<Record<FeatureStatus, string>> = {
  expired: "expired (the entity's latest row is older than the view's TTL)",
  missing: 'missing (the online store has no row for this entity)',
  present: 'null in the online store',
};

export class Enricher {
  readonly service: string;
  /** Output names by output name and by unique feature name; null where a feature name is ambiguous. */
  private readonly names = new Map<string, string | null>();
  private readonly joinKeys: ReadonlySet<string>;
  private readonly mapped = new Map<string, { output: string; ifNull: FeatureValue | undefined }>();
  private readonly plans = new Map<string, Source[]>();

  /** Refuses (ConfigError) an unknown service or a mapping to a feature the service does not serve. */
  constructor(
    private readonly store: OnlineFeatureReader,
    config: EnricherConfig,
  ) {
    const service = resolveService(featureRepository(store.definitions), config.featureService);
    this.service = service.name;
    for (const projection of service.projections) {
      for (const feature of projection.features) {
        const output = outputName(projection.view.name, feature);
        this.names.set(output, output);
        this.names.set(feature, this.names.has(feature) ? null : output);
      }
    }
    this.joinKeys = new Set(viewsOfService(service).flatMap((view) => view.joinKeys.map((key) => key.name)));
    for (const [input, mapping] of Object.entries(config.features ?? {})) {
      const { feature, ifNull } = typeof mapping === 'string' ? { feature: mapping, ifNull: undefined } : mapping;
      const output = this.names.get(feature);
      if (!output) {
        const why = output === null ? 'is a feature of more than one of its views; name it as view__feature' : 'is not one of its features';
        throw new ConfigError(`Enrichment of "${input}" from feature service "${this.service}": "${feature}" ${why} (${this.outputs().join(', ')}).`);
      }
      this.mapped.set(input, { output, ifNull });
    }
  }

  /**
   * A decoder for a /predict request whose rows carry `entities`, after one online read for all of
   * them; undefined when no row carries any, so the request is scored exactly as sent.
   */
  async decoder(records: readonly unknown[], single: boolean): Promise<((signature: ServingSignature) => Batch) | undefined> {
    let carrying = 0;
    for (const record of records) if (isObject(record) && Object.hasOwn(record, 'entities')) carrying++;
    if (carrying === 0) return undefined;
    if (carrying !== records.length) throw new ValidationError(`${carrying} of ${records.length} rows carry "entities"; in one request every row does or none does.`);
    const rows = records as ReadonlyArray<Record<string, unknown>>;
    const online = await this.store.getOnlineFeatures(
      this.service,
      rows.map((row, i) => entityKeyOf(row.entities, rowLabel(i, single))),
    );
    return decodeEnriched(this, rows, online.rows, single);
  }

  /** Each row as the model takes it: as sent, without `entities`, plus what the store and the entities provide. */
  merge(signature: ServingSignature, records: ReadonlyArray<Record<string, unknown>>, online: readonly OnlineFeatureRow[], single: boolean): Record<string, unknown>[] {
    const plan = this.planFor(signature);
    return records.map((record, i) => {
      const label = rowLabel(i, single);
      const merged: Record<string, unknown> = {};
      for (const key of Object.keys(record)) if (key !== 'entities') merged[key] = record[key];
      const row = online[i]!;
      for (const source of plan) {
        if (Object.hasOwn(merged, source.input)) {
          const from = source.kind === 'entity' ? `the entity key "${source.key}"` : `feature "${source.output}" of feature service "${this.service}"`;
          throw new ValidationError(`${label}feature "${source.input}" comes from ${from} when a row carries "entities"; do not send it too.`, { feature: source.input });
        }
        merged[source.input] = source.kind === 'entity' ? row.entity[source.key] : this.valueOf(source, row, label);
      }
      return merged;
    });
  }

  private valueOf(source: Extract<Source, { kind: 'feature' }>, row: OnlineFeatureRow, label: string): FeatureValue {
    const value = row.values[source.output] ?? source.ifNull ?? null;
    if (value === null && !source.allowMissing) {
      const status = row.statuses[source.output]!;
      throw new ValidationError(
        `${label}feature "${source.input}" (${source.output} from feature service "${this.service}") is ${STATUS_TEXT[status]} for entity ${JSON.stringify(row.entity)}; this model does not accept missing values for it.`,
        { feature: source.input, storeFeature: source.output, entity: row.entity, status },
      );
    }
    return value;
  }

  /** Which inputs of this signature the store and the entities provide, compiled once per signature. */
  private planFor(signature: ServingSignature): Source[] {
    let plan = this.plans.get(signature.key);
    if (plan) return plan;
    for (const input of this.mapped.keys()) {
      if (!signature.index.has(input)) {
        throw new ConfigError(`Enrichment maps model input "${input}", which this model version does not take (it takes ${signature.inputs.map((i) => `"${i.name}"`).join(', ')}).`);
      }
    }
    plan = [];
    for (const spec of signature.inputs) {
      const base = { input: spec.name, allowMissing: spec.allowMissing };
      const mapped = this.mapped.get(spec.name);
      const output = mapped?.output ?? this.names.get(spec.name);
      if (output === null) throw new ConfigError(`Model input "${spec.name}" matches features of several views of feature service "${this.service}"; map it to one as view__feature.`);
      if (output !== undefined) plan.push({ ...base, kind: 'feature', output, ifNull: mapped?.ifNull });
      else if (this.joinKeys.has(spec.name)) plan.push({ ...base, kind: 'entity', key: spec.name });
    }
    this.plans.set(signature.key, plan);
    return plan;
  }

  private outputs(): string[] {
    return [...this.names.entries()].filter(([name, output]) => name === output).map(([name]) => name);
  }
}

/** Made by a function so the closure is anonymous (see validation.ts's decoders). */
function decodeEnriched(
  enricher: Enricher,
  records: ReadonlyArray<Record<string, unknown>>,
  online: readonly OnlineFeatureRow[],
  single: boolean,
): (signature: ServingSignature) => Batch {
  return (signature) => batchFromRecords(signature, enricher.merge(signature, records, online, single), single);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rowLabel(row: number, single: boolean): string {
  return single ? '' : `Row ${row}: `;
}

/** The row's `entities` as an entity key; the store checks the join keys its views need and their types. */
function entityKeyOf(entities: unknown, label: string): EntityKey {
  if (!isObject(entities)) throw new ValidationError(`${label}"entities" must be an object of join keys such as { "origin": "ORD" }, got ${JSON.stringify(entities)}.`);
  for (const [key, value] of Object.entries(entities)) {
    if (typeof value !== 'string' && typeof value !== 'number') throw new ValidationError(`${label}entity key "${key}" must be a string or a number, got ${JSON.stringify(value)}.`);
  }
  return entities as EntityKey;
}
