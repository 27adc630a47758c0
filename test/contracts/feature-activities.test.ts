/**
 * The feature store's step implementations run as the pipeline runtime runs them (step cache,
 * heartbeats), on both drivers and real flights: apply, the flight feature pipeline, materialization
 * and the training set built through the store, whose outputs are those the trainer's step reads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyFeatures, materializeFeatures } from '../../pipelines/steps/index.js';
import { buildTrainingSet, buildTrainingSetFromStore, computeFlightFeatures } from '../../examples/flight-delay/steps/index.js';
import { featureDefinitions } from '../../examples/flight-delay/features/index.js';
import { ingestFlights } from '../../examples/flight-delay/data/flights.js';
import { runStepWithCache, type StepImplementations, type StepServices } from '../../src/pipeline/step-runtime.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { flightSampleFile } from '../support/flight-sample.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-feature-steps-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describeEachDriver('feature store steps', (driver) => {
  const db = useTestDatabase(driver);
  const steps: StepImplementations = Object.fromEntries([applyFeatures, computeFlightFeatures, materializeFeatures, buildTrainingSetFromStore].map((s) => [s.name, s.implementation]));
  let services: StepServices;
  let ingestionId: string;
  const heartbeats: unknown[] = [];

  beforeAll(async () => {
    // The flight example's definitions, as a worker serving its project has them.
    services = { db: db.handle.db, artifacts: new LocalArtifactStore(path.join(tmp, driver)), writeOptions: {}, features: featureDefinitions };
    ({ ingestionId } = await ingestFlights(db.handle.db, await flightSampleFile()));
  }, 300_000);

  const run = (uses: string, input: unknown, cache = true) =>
    runStepWithCache(
      db.handle.db,
      steps,
      { runId: 'run-1', step: uses, uses, version: '1', input, cache },
      { attempt: 1, heartbeat: (details) => heartbeats.push(details), signal: new AbortController().signal, services },
    );

  it('applies the definitions once; an unchanged rerun is a cache hit', async () => {
    const first = await run('applyFeatures', {});
    expect(first.output.created).toEqual(expect.arrayContaining(['featureView:origin_delays', 'featureService:flight_delay']));
    expect((await run('applyFeatures', {})).cached).toBe(true);
  });

  it('computes the flight views with heartbeats, materializes them, and builds the training set the trainer reads', async () => {
    const features = await run('computeFlightFeatures', { ingestionId });
    expect((features.output.views as Array<{ view: string; reused: boolean }>).map((v) => [v.view, v.reused])).toEqual([
      ['origin_delays', false],
      ['route_delays', false],
    ]);
    expect(heartbeats.length).toBeGreaterThan(0);
    const materialized = await run('materializeFeatures', { incremental: true }, false);
    expect((materialized.output.materializations as Array<{ view: string; rowsRead: number }>).map((m) => m.view)).toEqual(['origin_delays', 'route_delays']);
    const training = await run('buildTrainingSetFromStore', { ingestionId, delayThresholdMinutes: 15 });
    expect(Object.keys(training.output).sort()).toEqual(Object.keys(buildTrainingSetFromStore.declaration.output.shape).sort());
    for (const name of Object.keys(buildTrainingSet.declaration.output.shape)) expect(training.output).toHaveProperty(name);
    expect(training.output.rows).toBe(features.output.flights);
  });
});
