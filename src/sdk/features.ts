/**
 * `steward/features`: the feature store as a project declares and uses it. Entities, feature views
 * (with TTL and sensitivity), on-demand views and feature services are declared in code and listed
 * in the project's `features`; `steward apply` registers them. Steps read the store through
 * `createFeatureStore(ctx.db, ctx.features)`: point-in-time training sets, ingestion, the online
 * store. Data-quality expectations are declared here too, beside the data they guard.
 *
 * Arrow tables cross this boundary: apache-arrow is a peer dependency (one copy, the project's).
 */
export {
  entity,
  featureView,
  onDemandFeatureView,
  featureService,
  outputName,
  createFeatureStore,
  getHistoricalFeatures,
  ingest,
  materialize,
  arrowSource,
  batchSource,
  parquetSource,
  tableSource,
  type Definition,
  type Entity,
  type FeatureField,
  type FeatureRef,
  type FeatureService,
  type FeatureSource,
  type FeatureStore,
  type FeatureValue,
  type FeatureView,
  type KeyType,
  type OnDemandFeatureView,
  type ValueType,
  type HistoricalFeaturesRequest,
  type IngestOptions,
  type IngestResult,
  type IngestionSource,
} from '../features/index.js';
// Files into views, and labelled training sets (what the built-in ingestFile and buildTrainingSet steps run).
export { ingestFile, inferFileSchema, type FileFormat } from '../features/files.js';
export type { FileFeatureSource } from '../features/definitions.js';
export { buildTrainingSet, type LabelDefinition, type LabelTransform, type TrainingSetSummary } from '../features/training-set.js';
export { expect, expectationSuite, runExpectations, type Expectation, type ExpectationSuite, type QualityReport } from '../governance/expectations.js';
// A declared suite checked outside a pipeline, feature views included (as the checkExpectations step does).
export { checkDatasetExpectations, type CheckExpectationsResult } from '../governance/dataset-checks.js';
