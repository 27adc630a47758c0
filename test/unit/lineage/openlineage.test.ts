/**
 * OpenLineage helpers: UUIDv5 matches RFC 9562's published example, step run ids are stable per
 * (workflow, Temporal run, step) and differ between steps, and the pipeline run id is Temporal's.
 */
import { describe, expect, it } from 'vitest';
import { facet, pipelineRunUuid, stepRunUuid, uuidV5 } from '../../../src/lineage/openlineage.js';
import { runEventErrors } from '../../support/openlineage.js';

describe('OpenLineage helpers', () => {
  it('derives UUIDv5 as RFC 9562 does', () => {
    // RFC 9562 appendix A.4: the DNS namespace and www.example.com.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives each step run one id across attempts and the pipeline run its Temporal run id', () => {
    const temporalRun = '0b6f4a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b';
    expect(stepRunUuid('wf-1', temporalRun, 'load')).toBe(stepRunUuid('wf-1', temporalRun, 'load'));
    expect(stepRunUuid('wf-1', temporalRun, 'load')).not.toBe(stepRunUuid('wf-1', temporalRun, 'quality'));
    expect(stepRunUuid('wf-1', temporalRun, 'load')).not.toBe(stepRunUuid('wf-1', '1b6f4a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b', 'load'));
    expect(pipelineRunUuid('wf-1', temporalRun.toUpperCase())).toBe(temporalRun);
    expect(pipelineRunUuid('wf-1', undefined)).toBe(uuidV5('pipeline/wf-1'));
  });

  it('builds facets with producer and schema URL, and the schema fixture refuses facets without them', () => {
    expect(facet('1-1-1/SchemaDatasetFacet.json', { fields: [] })._schemaURL).toBe('https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet');
    const event = {
      eventType: 'START',
      eventTime: '2024-01-01T00:00:00.000Z',
      run: { runId: uuidV5('x') },
      job: { namespace: 'steward', name: 'p.s', facets: { bad: { fields: [] } } },
      inputs: [{ namespace: 'steward', name: 'raw_flights', inputFacets: { q: { _producer: 'not a uri', _schemaURL: 'https://x' } } }],
      outputs: [],
      producer: 'https://github.com/steward-mlops/steward/tree/0.1.0',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    };
    expect(runEventErrors(event)).toEqual([
      "/job/facets/bad must have required property '_producer'",
      "/job/facets/bad must have required property '_schemaURL'",
      '/inputs/0/inputFacets/q/_producer must match format "uri"',
    ]);
    expect(runEventErrors({ ...event, eventType: 'DONE', job: { namespace: 'steward', name: 'p.s' }, inputs: [] })).toEqual(['/eventType must be equal to one of the allowed values']);
  });
});
