/**
 * OpenLineage run events (spec 2-0-2) as Steward emits them for pipeline steps: the event and facet
 * shapes, the producer and schema URLs, deterministic run ids, and the facets Steward attaches
 * (parent run, error message, schema, row counts, data-quality results, source code version).
 *
 * A step run's id is a UUIDv5 of the workflow id, the Temporal run id and the step name, so every
 * attempt of one step run shares an id and a retried activity re-emits the same run.
 */
import { createHash } from 'node:crypto';

export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const PRODUCER = 'https://github.com/steward-mlops/steward/tree/0.1.0';
/** The namespace of every Steward job, and of the datasets Steward keeps itself. */
export const JOB_NAMESPACE = 'steward';

export type EventType = 'START' | 'RUNNING' | 'COMPLETE' | 'ABORT' | 'FAIL' | 'OTHER';

export interface Facet {
  _producer: string;
  _schemaURL: string;
  [key: string]: unknown;
}

export type Facets = Record<string, Facet>;

export interface Dataset {
  namespace: string;
  name: string;
  facets?: Facets;
}

export interface InputDataset extends Dataset {
  inputFacets?: Facets;
}

export interface OutputDataset extends Dataset {
  outputFacets?: Facets;
}

export interface RunEvent {
  eventType: EventType;
  eventTime: string;
  run: { runId: string; facets?: Facets };
  job: { namespace: string; name: string; facets?: Facets };
  inputs: InputDataset[];
  outputs: OutputDataset[];
  producer: string;
  schemaURL: string;
}

const SPEC_FACETS = 'https://openlineage.io/spec/facets';

/** A facet of the standard OpenLineage facet catalogue, by its schema file and definition name. */
export function facet(schema: string, body: Record<string, unknown>): Facet {
  const definition = schema.replace(/^\d+-\d+-\d+\//, '').replace(/\.json$/, '');
  return { _producer: PRODUCER, _schemaURL: `${SPEC_FACETS}/${schema}#/$defs/${definition}`, ...body };
}

/** A Steward-specific facet (prefixed `steward_` where it is attached). */
export function stewardFacet(name: string, body: Record<string, unknown>): Facet {
  return { _producer: PRODUCER, _schemaURL: `${PRODUCER}/facets/${name}.json`, ...body };
}

// --- the facets Steward attaches -------------------------------------------------------------

export interface SchemaField {
  name: string;
  type: string;
  description?: string;
}

export const schemaFacet = (fields: SchemaField[]) => facet('1-1-1/SchemaDatasetFacet.json', { fields });
export const outputStatisticsFacet = (rowCount: number, size?: number) =>
  facet('1-0-2/OutputStatisticsOutputDatasetFacet.json', { rowCount, ...(size !== undefined ? { size } : {}) });
export const dataQualityMetricsFacet = (rowCount: number, columnMetrics: Record<string, { nullCount?: number; min?: number; max?: number; distinctCount?: number }> = {}) =>
  facet('1-0-2/DataQualityMetricsInputDatasetFacet.json', { rowCount, columnMetrics });
export const dataQualityAssertionsFacet = (assertions: Array<{ assertion: string; success: boolean; column?: string }>) =>
  facet('1-0-1/DataQualityAssertionsDatasetFacet.json', { assertions });
export const datasetVersionFacet = (datasetVersion: string) => facet('1-0-1/DatasetVersionDatasetFacet.json', { datasetVersion });
export const parentRunFacet = (parent: { runId: string; namespace: string; name: string }) =>
  facet('1-0-1/ParentRunFacet.json', { run: { runId: parent.runId }, job: { namespace: parent.namespace, name: parent.name } });
export const errorMessageFacet = (message: string, stackTrace?: string) =>
  facet('1-0-1/ErrorMessageRunFacet.json', { message, programmingLanguage: 'TypeScript', ...(stackTrace ? { stackTrace } : {}) });
export const jobTypeFacet = () => facet('2-0-3/JobTypeJobFacet.json', { processingType: 'BATCH', integration: 'STEWARD', jobType: 'STEP' });
export const sourceCodeLocationFacet = (location: { type: string; url: string; version?: string }) =>
  facet('1-0-1/SourceCodeLocationJobFacet.json', location);

// --- deterministic run ids -------------------------------------------------------------------

/** The namespace UUID under which Steward derives its run ids (a fixed random UUID). */
const STEWARD_UUID_NAMESPACE = 'a3b8f0c2-6d1e-4c55-9f3a-2e7b1d4c8a90';

/** RFC 9562 UUID version 5 (SHA-1, name-based): the same name always gives the same id. */
export function uuidV5(name: string, namespace: string = STEWARD_UUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The pipeline run's id: Temporal's run id when it is a UUID (it always is under Temporal),
 * otherwise one derived from the workflow id (a step run outside Temporal, e.g. in a test).
 */
export function pipelineRunUuid(workflowId: string, workflowRunId: string | undefined): string {
  return workflowRunId && UUID.test(workflowRunId) ? workflowRunId.toLowerCase() : uuidV5(`pipeline/${workflowId}`);
}

export function stepRunUuid(workflowId: string, workflowRunId: string | undefined, step: string): string {
  return uuidV5(`step/${workflowId}/${workflowRunId ?? ''}/${step}`);
}

/** How a dataset is addressed in queries and in the stored event lists: `namespace/name`. */
export const datasetKey = (d: { namespace: string; name: string }) => `${d.namespace}/${d.name}`;
