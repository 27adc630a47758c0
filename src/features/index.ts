/**
 * Steward's feature store: definitions in code, registered with `apply`; an offline store of typed
 * tables in the database fed by streamed, idempotent ingestion; point-in-time-correct training sets;
 * materialization to an online store read through a cache with TTL statuses; feature statistics.
 *
 * @example
 * const store = createFeatureStore(db, [station, dailyWeather, rainForecast]);
 * await store.apply();
 * await store.ingest('daily_weather', await parquetSource('weather.parquet'));
 * const training = await store.getHistoricalFeatures({ entityRows, entityTimestamp: 'predicted_at', featureService: 'rain_forecast' });
 * await store.materialize({ incremental: true });
 * const online = await store.getOnlineFeatures('rain_forecast', [{ station: 'SEA' }]);
 */
import type { Table } from 'apache-arrow';
import type { Database } from '../db/client.js';
import type { Definition, FeatureService } from './definitions.js';
import { getHistoricalFeatures } from './historical.js';
import { ingest, type IngestOptions, type IngestResult } from './ingestion.js';
import { materialize, type MaterializeOptions, type MaterializeResult } from './materialize.js';
import { OnlineStore, type EntityKey, type OnlineFeatures, type OnlineStoreOptions } from './online-store.js';
import { apply, plan, type ApplyResult, type Plan } from './registry.js';
import type { IngestionSource } from './sources.js';
import { getFeatureStatistics, type ViewStatistics } from './statistics.js';

export type {
  Definition,
  Entity,
  FeatureField,
  FeatureRef,
  FeatureService,
  FeatureSource,
  FeatureValue,
  FeatureView,
  FileFeatureSource,
  FileFormat,
  KeyType,
  OnDemandFeatureView,
  ValueType,
} from './definitions.js';
export { entity, featureRepository, featureService, featureView, onDemandFeatureView, outputName, sensitivityOf } from './definitions.js';
export type { FileSourceOptions, InferredFileSchema, IngestFileResult, ViewFileSource } from './files.js';
export { FILE_BATCH_ROWS, fileFormatOf, inferFileSchema, ingestFile, resolveFilePath, viewFileSource } from './files.js';
export type { HistoricalFeaturesRequest } from './historical.js';
export { getHistoricalFeatures } from './historical.js';
export type { IngestOptions, IngestResult, NonFinitePolicy } from './ingestion.js';
export { ingest } from './ingestion.js';
export type { MaterializeOptions, MaterializeProgress, MaterializeResult } from './materialize.js';
export { materialize } from './materialize.js';
export type { EntityKey, FeatureStatus, OnlineFeatureRow, OnlineFeatures, OnlineStoreOptions } from './online-store.js';
export { OnlineStore } from './online-store.js';
export type { ApplyResult, Plan, PlanItem, Refusal, RegisteredDefinition } from './registry.js';
export { apply, plan, registeredDefinitions } from './registry.js';
export type { ViewDescription } from './inspect.js';
export { describeView } from './inspect.js';
export type { IngestionSource, SourceBatch, SourceKind } from './sources.js';
export { arrowSource, batchSource, parquetSource, tableSource } from './sources.js';
export type { FeatureSummary, ViewStatistics } from './statistics.js';
export type { BuildTrainingSetOptions, LabelDefinition, LabelTransform, TrainingSetProgress, TrainingSetSummary } from './training-set.js';
export { buildTrainingSet } from './training-set.js';
export { getFeatureStatistics } from './statistics.js';

export interface FeatureStore {
  readonly definitions: readonly Definition[];
  readonly online: OnlineStore;
  plan(): Promise<Plan>;
  apply(options?: { dryRun?: boolean }): Promise<ApplyResult>;
  ingest(view: string, source: IngestionSource, options?: IngestOptions): Promise<IngestResult>;
  getHistoricalFeatures(request: { entityRows: Table; entityTimestamp: string; featureService: FeatureService | string }): Promise<Table>;
  /** Materializes and drops the changed views from this store's online cache. */
  materialize(options?: Omit<MaterializeOptions, 'onlineStore'>): Promise<MaterializeResult[]>;
  getOnlineFeatures(featureService: FeatureService | string, entityKeys: readonly EntityKey[], options?: { now?: number }): Promise<OnlineFeatures>;
  statistics(view: string, options?: { materializationId?: number }): Promise<ViewStatistics>;
}

/** One object over a database and a set of definitions; its online cache lives as long as it does. */
export function createFeatureStore(db: Database, definitions: readonly Definition[], options: OnlineStoreOptions = {}): FeatureStore {
  const online = new OnlineStore(db, definitions, options);
  return {
    definitions,
    online,
    plan: () => plan(db, definitions),
    apply: (applyOptions) => apply(db, definitions, applyOptions),
    ingest: (view, source, ingestOptions) => ingest(db, view, source, ingestOptions),
    getHistoricalFeatures: (request) => getHistoricalFeatures(db, { ...request, definitions }),
    materialize: (materializeOptions) => materialize(db, { ...materializeOptions, onlineStore: online }),
    getOnlineFeatures: (service, keys, readOptions) => online.getOnlineFeatures(service, keys, readOptions),
    statistics: (view, statsOptions) => getFeatureStatistics(db, view, statsOptions),
  };
}
