/**
 * What each step implementation reads and writes, for its OpenLineage run events. Declared here by
 * implementation name (the `uses` of pipelines/steps.ts and pipelines/features/steps.ts) and attached
 * to implementations that declare nothing themselves, so the step runtime can emit lineage for every
 * step: raw sources -> raw flights -> feature views -> training sets -> models -> model versions ->
 * deployments.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import { modelVersions } from '../src/db/schema.js';
import { viewsOfService, type FeatureService } from '../src/features/definitions.js';
import { factsFromMetadata } from '../src/governance/approvals.js';
import { viewSensitivity } from '../src/governance/catalog.js';
import { qualityFacets, readQualityReport, type QualityReport } from '../src/governance/expectations.js';
import {
  artifactDataset,
  deploymentDataset,
  featureViewDataset,
  modelVersionDataset,
  rawFlightsDataset,
  rowCountFacets,
  serviceViewDatasets,
  sourceDataset,
} from '../src/lineage/datasets.js';
import type { InputDataset, OutputDataset } from '../src/lineage/openlineage.js';
import type { StepLineage } from '../src/lineage/step-events.js';
import type { StepAccess, StepImplementations } from '../src/pipeline/step-runtime.js';
import { flightDelayService } from '../pipelines/features/flights.js';

type Declaration = (input: never, result: { output?: never; error?: unknown }) => StepLineage | Promise<StepLineage>;

interface Out {
  [key: string]: unknown;
}

const trainingSetOutput = (o: { uri: string; bytes?: number; rows?: number; features?: string[]; label?: string }): OutputDataset => ({
  ...artifactDataset(o.uri),
  ...(o.rows !== undefined ? { outputFacets: rowCountFacets(o.rows, o.bytes) } : {}),
});

/** The report of a quality step: from the stored results when it passed, from the error when it failed. */
async function qualityReportOf(db: Database, result: { output?: Out; error?: unknown }): Promise<QualityReport | undefined> {
  if (typeof result.output?.resultKey === 'string') return readQualityReport(db, result.output.resultKey);
  const details = (result.error as { details?: { report?: QualityReport } } | undefined)?.details;
  return details?.report;
}

export function stepDatasetDeclarations(db: Database): Record<string, Declaration> {
  const declarations = {
    ingestFlights: (input: { source: string }, { output }: { output?: { ingestionId: string; rows: number } }) => ({
      inputs: [sourceDataset(input.source)],
      outputs: output ? [{ ...rawFlightsDataset(output.ingestionId), outputFacets: rowCountFacets(output.rows) }] : [],
    }),
    summarizeDelays: (input: { ingestionId: string }) => ({ inputs: [rawFlightsDataset(input.ingestionId)] }),
    checkFlightQuality: async (input: { ingestionId: string }, result: { output?: Out; error?: unknown }) => {
      const report = await qualityReportOf(db, result);
      const dataset: InputDataset = { ...rawFlightsDataset(input.ingestionId), ...(report ? { inputFacets: qualityFacets(report) } : {}) };
      return { inputs: [dataset] };
    },
    computeFlightFeatures: (input: { ingestionId: string }, { output }: { output?: { views: Array<{ view: string; rows: number }> } }) => ({
      inputs: [rawFlightsDataset(input.ingestionId)],
      outputs: (output?.views ?? []).map((v) => ({ ...featureViewDataset(v.view), outputFacets: rowCountFacets(v.rows) })),
    }),
    ingestFeatures: (input: { view: string; source: string }, { output }: { output?: { rows: number } }) => ({
      inputs: [sourceDataset(input.source)],
      outputs: [{ ...featureViewDataset(input.view), ...(output ? { outputFacets: rowCountFacets(output.rows) } : {}) }],
    }),
    buildTrainingSet: (input: { ingestionId: string }, { output }: { output?: { uri: string; bytes: number; rows: number } }) => ({
      inputs: [rawFlightsDataset(input.ingestionId)],
      outputs: output ? [trainingSetOutput(output)] : [],
    }),
    // The step computes the service's views from raw flights, then joins each flight (entity rows and
    // labels) to them point in time: the views are its outputs and its inputs (graph.ts shows two stages).
    buildTrainingSetFromStore: (input: { ingestionId: string }, { output }: { output?: { uri: string; bytes: number; rows: number } }) => ({
      inputs: [rawFlightsDataset(input.ingestionId), ...serviceViewDatasets(flightDelayService)],
      outputs: output ? [trainingSetOutput(output), ...serviceViewDatasets(flightDelayService)] : [],
    }),
    trainModel: (input: { trainingSetUri: string }, { output }: { output?: { modelUri: string; specUri: string } }) => ({
      inputs: [artifactDataset(input.trainingSetUri)],
      outputs: output ? [artifactDataset(output.modelUri), artifactDataset(output.specUri)] : [],
    }),
    evaluateModel: (input: { modelUri: string; trainingSetUri: string }) => ({
      inputs: [artifactDataset(input.modelUri), artifactDataset(input.trainingSetUri)],
    }),
    chooseModel: (input: { candidates: Array<{ model: { modelUri: string } }> }) => ({
      inputs: input.candidates.map((c) => artifactDataset(c.model.modelUri)),
    }),
    profileReference: (input: { model?: { modelUri?: string }; trainingSetUri?: string }) => ({
      inputs: [input.model?.modelUri, input.trainingSetUri].filter((uri): uri is string => typeof uri === 'string').map((uri) => artifactDataset(uri)),
    }),
    registerModel: (
      input: { model: { modelUri: string }; trainingSet: { uri: string } },
      { output }: { output?: { modelName: string; version: number } },
    ) => ({
      inputs: [artifactDataset(input.model.modelUri), artifactDataset(input.trainingSet.uri)],
      outputs: output ? [modelVersionDataset(output.modelName, output.version)] : [],
    }),
    validateModel: (input: { modelName: string; version: number }) => ({ inputs: [modelVersionDataset(input.modelName, input.version)] }),
    promoteModel: (input: { modelName: string; version: number; alias: string }) => ({
      inputs: [modelVersionDataset(input.modelName, input.version)],
      outputs: [deploymentDataset(input.modelName, input.alias)],
    }),
  };
  return declarations as unknown as Record<string, Declaration>;
}

const trainOnViews = (service: FeatureService): StepAccess[] =>
  viewsOfService(service).map((view) => ({ permission: 'train-on', resource: `feature_view:${view.name}`, sensitivity: viewSensitivity(view) }));

/** A model is as sensitive as the features it was trained on: pii when any was. */
async function modelSensitivity(db: Database, modelName: string, version: number): Promise<string> {
  const [row] = await db.select({ metadata: modelVersions.metadata }).from(modelVersions).where(and(eq(modelVersions.modelName, modelName), eq(modelVersions.version, version)));
  return row && factsFromMetadata(row.metadata).piiFeatures.length > 0 ? 'pii' : 'internal';
}

type AccessDeclaration = (input: never) => StepAccess[] | Promise<StepAccess[]>;

/** What the run's principal needs for each step, checked by the step runtime before the step runs. */
export function stepAccessDeclarations(db: Database): Record<string, AccessDeclaration> {
  const declarations = {
    ingestFlights: (): StepAccess[] => [{ permission: 'write', resource: 'dataset:raw_flights', sensitivity: 'internal' }],
    buildTrainingSet: (): StepAccess[] => [{ permission: 'train-on', resource: 'dataset:raw_flights', sensitivity: 'internal' }],
    buildTrainingSetFromStore: (): StepAccess[] => [{ permission: 'train-on', resource: 'dataset:raw_flights', sensitivity: 'internal' }, ...trainOnViews(flightDelayService)],
    registerModel: (input: { modelName: string }): StepAccess[] => [{ permission: 'write', resource: `model:${input.modelName}` }],
    promoteModel: async (input: { modelName: string; version: number }): Promise<StepAccess[]> => [
      { permission: 'deploy', resource: `model:${input.modelName}`, sensitivity: await modelSensitivity(db, input.modelName, input.version) },
    ],
  };
  return declarations as unknown as Record<string, AccessDeclaration>;
}

/** The implementations with their dataset and access declarations attached (an implementation's own win). */
export function withStepLineage(db: Database, steps: StepImplementations): StepImplementations {
  const datasets = stepDatasetDeclarations(db);
  const access = stepAccessDeclarations(db);
  return Object.fromEntries(
    Object.entries(steps).map(([name, implementation]) => [
      name,
      {
        ...implementation,
        ...(!implementation.lineage && datasets[name] ? { lineage: datasets[name] } : {}),
        ...(!implementation.access && access[name] ? { access: access[name] } : {}),
      },
    ]),
  );
}
