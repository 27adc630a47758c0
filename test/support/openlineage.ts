/**
 * The OpenLineage RunEvent JSON Schema (test/fixtures/openlineage/run-event.schema.json, written
 * from the 2-0-2 spec) compiled once with ajv (draft 2020-12) and ajv-formats.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

// ajv-formats is CommonJS with a `default` property: NodeNext sees the module object.
const addFormats = formats.default;

const schemaPath = fileURLToPath(new URL('../fixtures/openlineage/run-event.schema.json', import.meta.url));

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);

/** The schema's complaints about `event`, empty when it is a valid RunEvent. */
export function runEventErrors(event: unknown): string[] {
  return validate(event) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** The parts of a stored Steward run event the tests read, typed. */
export interface EventView {
  eventType: string;
  run: {
    runId: string;
    facets: {
      parent: { run: { runId: string }; job: { namespace: string; name: string } };
      steward_step: { workflowId: string; attempt: number; cached?: boolean; startedBy?: string };
      errorMessage?: { message: string; programmingLanguage: string };
    };
  };
  job: { namespace: string; name: string; facets: { sourceCodeLocation: { type: string; version: string } } };
  inputs: Array<{
    namespace: string;
    name: string;
    facets?: { schema?: { fields: Array<{ name: string; type: string }> } };
    inputFacets?: {
      dataQualityAssertions?: { assertions: Array<{ assertion: string; success: boolean; column?: string }> };
      dataQualityMetrics?: { rowCount: number };
    };
  }>;
  outputs: Array<{
    namespace: string;
    name: string;
    facets?: { schema?: { fields: Array<{ name: string; type: string }> } };
    outputFacets?: { outputStatistics?: { rowCount: number } };
  }>;
}

export const eventOf = (stored: { event: unknown }): EventView => stored.event as EventView;
