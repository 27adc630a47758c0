/**
 * Registry content for card and CLI tests: a complete set of model card metadata (as the training
 * pipeline records it, with figures small enough to check by hand), and text built to break
 * HTML, Markdown, URLs and SQL if anything were left unescaped.
 */
import type { Database } from '../../src/db/client.js';
import { transitionModelVersion } from '../../src/registry/lifecycle.js';
import { registerModelVersion, type RegisterInput } from '../../src/registry/models.js';
import type { VersionMetadata } from '../../src/registry/version-metadata.js';

export const HOSTILE = {
  // No quotes inside: escaping quotes alone must not be what defuses them.
  script: '<script>window.__pwned = 1</script>',
  image: '<img src=x onerror=window.__pwned=2>',
  markdown: '| [click](javascript:alert(1)) ]',
  sql: "x'); drop table model_versions; --",
};
export const HOSTILE_TEXT = `${HOSTILE.script} ${HOSTILE.image} ${HOSTILE.markdown} ${HOSTILE.sql} & more`;

export const hex = (seed: string) => seed.padEnd(64, '0');
export const artifactUri = (seed: string) => `artifact://sha256/${hex(seed)}`;

export const SIGNATURE = {
  inputs: [
    { name: 'distance', type: 'float' },
    { name: 'origin', type: 'string' },
  ],
  outputs: ['label', 'probabilities'],
};

export function fullMetadata(): VersionMetadata {
  return {
    purpose: 'Flags flights likely to leave more than 15 minutes late.',
    owner: 'ops-analytics',
    training: { from: '2001-01-01T00:00:00.000Z', to: '2001-03-07T00:00:00.000Z', rows: 16_000, label: 'delay > 15 min', source: 'vega:flights-3m.parquet' },
    features: [
      { name: 'distance', type: 'float', description: 'Route distance in miles.', sensitivity: 'public', tags: ['route'] },
      { name: 'origin', type: 'string', description: 'Origin airport.', sensitivity: 'internal', tags: ['location', 'high-cardinality'] },
    ],
    validation: { description: 'The most recent 20% of flights.', rows: 4_000, positives: 900, from: '2001-03-07T00:00:00.000Z', to: '2001-03-31T23:00:00.000Z' },
    fairness: {
      groupColumn: 'origin hub size',
      groupDescription: 'Origin airports by share of departures.',
      referenceGroup: 'large hub',
      threshold: 0.5,
      groups: [
        { group: 'large hub', size: 3000, positives: 700, predictedPositives: 1000, selectionRate: 1 / 3, tpr: 0.6, fpr: 0.25, precision: 0.42, disparateImpactRatio: 1, equalOpportunityDifference: 0 },
        { group: 'medium hub', size: 900, positives: 190, predictedPositives: 240, selectionRate: 240 / 900, tpr: 0.55, fpr: 0.19, precision: 0.44, disparateImpactRatio: 0.8, equalOpportunityDifference: -0.05 },
        { group: 'nonhub', size: 100, positives: 0, predictedPositives: 20, selectionRate: 0.2, tpr: null, fpr: 0.2, precision: 0, disparateImpactRatio: 0.6, equalOpportunityDifference: null },
      ],
      minDisparateImpactRatio: 0.6,
      maxEqualOpportunityGap: 0.05,
    },
    behaviour: {
      description: '2,000 validation rows.',
      results: [
        { name: 'worse origin week never lowers the risk', kind: 'directional', feature: 'originDelay7d', passed: true, rowsTested: 1990, violations: 0, samples: [] },
        {
          name: 'one mile of distance moves the risk by at most 0.01',
          kind: 'invariance',
          feature: 'distance',
          passed: false,
          rowsTested: 2000,
          violations: 3,
          samples: [{ row: 17, from: 733, to: 734, before: 0.21, after: 0.25 }],
        },
      ],
    },
    curves: {
      roc: { fpr: [0, 0.1, 0.4, 1], tpr: [0, 0.3, 0.7, 1] },
      calibration: { probPred: [0.1, 0.5, 0.9], probTrue: [0.12, 0.45, 0.8], counts: [2000, 1500, 500] },
    },
  };
}

/** Registers a version straight through the registry, as the pipeline's register step would. */
export async function registerSample(db: Database, modelName: string, seed: string, extra: Partial<RegisterInput> = {}): Promise<number> {
  const { version } = await registerModelVersion(db, {
    modelName,
    artifactUri: artifactUri(seed),
    artifactSha256: hex(seed),
    trainingSetUri: artifactUri('ts'),
    metrics: { rocAuc: 0.7125, brier: 0.18 },
    signature: SIGNATURE,
    runId: `run-${modelName}-${seed}`,
    algorithm: 'logistic-regression',
    ...extra,
  });
  return version.version;
}

/**
 * Moves a version to `approved` as its sign-off would (validated, pending_approval, approved), for
 * tests that need it to be served as `champion` or `production`: protected aliases move only onto
 * approved versions (src/registry/aliases.ts).
 */
export async function approveVersion(db: Database, modelName: string, version: number): Promise<void> {
  for (const to of ['validated', 'pending_approval', 'approved']) {
    await transitionModelVersion(db, { modelName, version, to, actor: 'test-reviewer', reason: `test fixture: ${to}` });
  }
}
