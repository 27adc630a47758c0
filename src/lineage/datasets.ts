/**
 * How Steward names the datasets in its lineage, so every step that reads or writes one names it
 * the same way: raw source files (`file` namespace, named as the step's `source` parameter), tables
 * a project writes, feature views, training sets and models as content-addressed artifact URIs,
 * model versions `model:<name>@v<N>` and deployments `deployment:<model>@<alias>` (namespace `steward`).
 */
import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { viewsOfService, type FeatureService, type FeatureView, type OnDemandFeatureView } from '../features/definitions.js';
import { JOB_NAMESPACE, datasetVersionFacet, outputStatisticsFacet, schemaFacet, type Dataset, type Facets, type SchemaField } from './openlineage.js';

const withFacets = (dataset: Dataset, facets: Facets): Dataset => ({ ...dataset, facets: { ...dataset.facets, ...facets } });

/** A table's columns as a schema facet's fields (SQL types). */
export function tableFields(table: PgTable): SchemaField[] {
  return Object.values(getTableColumns(table)).map((column) => ({ name: column.name, type: column.getSQLType() }));
}

export function sourceDataset(source: string): Dataset {
  return { namespace: 'file', name: source };
}

/** A table a project writes (raw rows it ingests, say), with its schema; `version` names one load of it (an ingestion id). */
export function tableDataset(name: string, table: PgTable, version?: string): Dataset {
  const dataset: Dataset = { namespace: JOB_NAMESPACE, name, facets: { schema: schemaFacet(tableFields(table)) } };
  return version ? withFacets(dataset, { version: datasetVersionFacet(version) }) : dataset;
}

export function featureViewDataset(view: FeatureView | OnDemandFeatureView | string): Dataset {
  if (typeof view === 'string') return { namespace: JOB_NAMESPACE, name: `feature_view:${view}` };
  const fields = view.features.map((f) => ({ name: f.name, type: f.type, ...(f.description ? { description: f.description } : {}) }));
  const keys = view.kind === 'featureView' ? view.joinKeys.map((k) => ({ name: k.name, type: k.type })) : [];
  return { namespace: JOB_NAMESPACE, name: `feature_view:${view.name}`, facets: { schema: schemaFacet([...keys, ...fields]) } };
}

/** The stored views a feature service reads (on-demand views are computed from them, not stored). */
export function serviceViewDatasets(service: FeatureService): Dataset[] {
  return viewsOfService(service).map(featureViewDataset);
}

export function artifactDataset(uri: string, facets: Facets = {}): Dataset {
  return { namespace: JOB_NAMESPACE, name: uri, ...(Object.keys(facets).length ? { facets } : {}) };
}

export function modelVersionDataset(modelName: string, version: number): Dataset {
  return { namespace: JOB_NAMESPACE, name: `model:${modelName}@v${version}` };
}

export function deploymentDataset(modelName: string, alias: string): Dataset {
  return { namespace: JOB_NAMESPACE, name: `deployment:${modelName}@${alias}` };
}

export const rowCountFacets = (rows: number, size?: number): Facets => ({ outputStatistics: outputStatisticsFacet(rows, size) });
