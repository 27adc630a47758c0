/**
 * The flight-delay steps' computation gives the same bytes and numbers in a CPU pool thread as
 * inline (STEWARD_CPU_THREADS=0): the model file, its JSON, the evaluation and the reference
 * profile, for both algorithms, with the same seed. Also: progress and errors cross the thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { evaluateFlightDelayModel, profileFlightDelayReference, trainFlightDelayModel, type TrainOptions } from '../../../examples/flight-delay/ml/flight-delay-model.js';
import { CpuPool } from '../../../src/platform/cpu-pool.js';
import { LocalArtifactStore } from '../../../src/artifacts/index.js';
import { syntheticTrainingSet } from '../../support/synthetic-training-set.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-offload-'));
const artifacts = new LocalArtifactStore(dir);
const threaded = new CpuPool({ threads: 2 });
const inline = new CpuPool({ threads: 0 });

afterAll(async () => {
  await threaded.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const algorithms: TrainOptions[] = [
  { algorithm: 'logistic-regression', testFraction: 0.2, C: 0.5 },
  { algorithm: 'gradient-boosting', testFraction: 0.2, maxIter: 15, learningRate: 0.2 },
];

describe('flight-delay training, evaluation and profiling in a CPU thread', () => {
  it.each(algorithms)('gives the same model bytes, evaluation and reference as inline ($algorithm)', async (options) => {
    const { uri } = await artifacts.put(syntheticTrainingSet(6_000));
    const progress: unknown[] = [];
    const [inThread, onCaller] = await Promise.all([
      trainFlightDelayModel(artifacts, uri, options, { pool: threaded, onProgress: (p) => progress.push(p) }),
      trainFlightDelayModel(artifacts, uri, options, { pool: inline }),
    ]);
    expect(inThread).toEqual(onCaller);
    expect(inThread).toMatchObject({ algorithm: options.algorithm, trainRows: 4_800, validationRows: 1_200 });
    // Content-addressed: the same URI is the same bytes.
    expect(inThread.modelUri).toBe(onCaller.modelUri);
    expect(inThread.specUri).toBe(onCaller.specUri);
    expect(progress[0]).toEqual({ phase: 'training', algorithm: options.algorithm, rows: 4_800 });
    expect(progress.at(-1)).toEqual({ phase: 'exporting', algorithm: options.algorithm });
    if (options.algorithm === 'gradient-boosting') expect(progress).toContainEqual({ phase: 'training', algorithm: options.algorithm, trees: 15, of: 15 });

    const [evaluatedInThread, evaluatedOnCaller] = await Promise.all([
      evaluateFlightDelayModel(artifacts, inThread.modelUri, uri, { testFraction: 0.2 }, { pool: threaded }),
      evaluateFlightDelayModel(artifacts, inThread.modelUri, uri, { testFraction: 0.2 }, { pool: inline }),
    ]);
    expect(evaluatedInThread).toEqual(evaluatedOnCaller);
    expect(evaluatedInThread.rows).toBe(1_200);
    expect(evaluatedInThread.rocAuc).toBeGreaterThan(0.6);

    const [profiledInThread, profiledOnCaller] = await Promise.all([
      profileFlightDelayReference(artifacts, inThread.modelUri, uri, { testFraction: 0.2 }, { pool: threaded }),
      profileFlightDelayReference(artifacts, inThread.modelUri, uri, { testFraction: 0.2 }, { pool: inline }),
    ]);
    expect(profiledInThread).toEqual(profiledOnCaller);
    expect(profiledInThread.validationRocAuc).toBe(evaluatedInThread.rocAuc);
  }, 60_000);

  it('reports bad options from the thread as the ValidationError they are inline', async () => {
    const { uri } = await artifacts.put(syntheticTrainingSet(500));
    for (const pool of [threaded, inline]) {
      const error = await trainFlightDelayModel(artifacts, uri, { algorithm: 'gradient-boosting', testFraction: 1.5 }, { pool }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ message: 'testFraction must be between 0 and 1, got 1.5.', retryable: false });
    }
  });
});
