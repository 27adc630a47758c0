/**
 * The training pipeline on real flights, real Temporal and each database driver: every step runs,
 * the ONNX model is verified and evaluated, a version is registered; a rerun with unchanged inputs
 * is served from the cache for every step, and a changed hyperparameter reruns only what depends on it.
 */
import { expect, it } from 'vitest';
import type { RunPipelineResult } from '../../src/contracts.js';
import { findPipeline } from '../../src/pipeline/catalog.js';
import { startRun } from '../../src/pipeline/runs.js';
import { loadModelCard } from '../../src/registry/model-card.js';
import { pipelines } from '../support/projects.js';
import { describeEachDriver } from '../support/databases.js';
import { useTemporalWorker } from '../support/temporal.js';

describeEachDriver('train-flight-delay pipeline', (driver) => {
  const harness = useTemporalWorker(driver, `train-${driver}`);
  const run = async (params: Record<string, unknown>) => {
    const { runId } = await startRun(harness.env.client, harness.taskQueue, findPipeline(pipelines, 'train-flight-delay'), params);
    return (await harness.env.client.workflow.getHandle(runId).result()) as RunPipelineResult;
  };
  const cachedSteps = (result: RunPipelineResult) => Object.fromEntries(result.steps.map((s) => [s.name, s.cached]));

  it('loads, checks, builds a training set, trains two models, evaluates their ONNX exports, registers the better', async () => {
    const result = await run({ rows: '20000', modelName: 'delay-test', trees: '20' });
    expect(result.steps.map((s) => [s.name, s.status])).toEqual([
      ['load', 'completed'],
      ['quality', 'completed'],
      ['trainingSet', 'completed'],
      ['trainLogistic', 'completed'],
      ['trainBoosted', 'completed'],
      ['evaluateLogistic', 'completed'],
      ['evaluateBoosted', 'completed'],
      ['choose', 'completed'],
      ['reference', 'completed'],
      ['register', 'completed'],
    ]);
    expect(result.outputs.quality).toMatchObject({ passed: true, rows: 20_000 });
    // Built through the feature store: the flight_delay service, joined point in time.
    expect(result.outputs.trainingSet).toMatchObject({ rows: 20_000, featureService: 'flight_delay', uri: expect.stringMatching(/^artifact:\/\/sha256\/[0-9a-f]{64}$/) });
    const aucs: number[] = [];
    for (const [train, evaluate, algorithm] of [
      ['trainLogistic', 'evaluateLogistic', 'logistic-regression'],
      ['trainBoosted', 'evaluateBoosted', 'gradient-boosting'],
    ] as const) {
      const trained = result.outputs[train] as { algorithm: string; trainRows: number; validationRows: number; onnxMaxAbsDiff: number };
      expect(trained.algorithm).toBe(algorithm);
      expect(trained.trainRows + trained.validationRows).toBe(20_000);
      // The exported ONNX file scores as the TypeScript model does.
      expect(trained.onnxMaxAbsDiff).toBeLessThan(1e-5);
      const evaluation = result.outputs[evaluate] as { rocAuc: number; rows: number };
      expect(evaluation.rows).toBe(trained.validationRows);
      aucs.push(evaluation.rocAuc);
    }
    // Better than chance on the most recent flights, which neither model saw.
    expect(Math.max(...aucs)).toBeGreaterThan(0.5);
    const chosen = result.outputs.choose as { algorithm: string; metrics: { rocAuc: number } };
    expect(chosen.metrics.rocAuc).toBe(Math.max(...aucs));
    expect(result.outputs.register).toMatchObject({ modelName: 'delay-test', version: 1, created: true, algorithm: chosen.algorithm });
    // The version carries what its model card needs: validation set, fairness by hub size, behavioural checks, curves.
    const card = await loadModelCard(harness.database.db, 'delay-test', 1);
    expect(card.unreadable).toEqual([]);
    expect(card.metadata.validation?.rows).toBe((result.outputs.choose as { metrics: { rows: number } }).metrics.rows);
    expect(card.metadata.training).toMatchObject({ label: 'delay > 15 min', to: (result.outputs.choose as { model: { validatedFrom: string } }).model.validatedFrom });
    expect(card.metadata.features?.map((f) => f.sensitivity)).toEqual(Array(7).fill('public'));
    const fairness = card.metadata.fairness!;
    expect(fairness.groups.reduce((n, g) => n + g.size, 0)).toBe(card.metadata.validation!.rows);
    expect(fairness.groups.map((g) => g.group)).toContain(fairness.referenceGroup);
    expect(card.metadata.behaviour?.results.map((r) => [r.kind, r.feature])).toEqual([
      ['directional', 'originDelay7d'],
      ['invariance', 'distance'],
    ]);
    expect(card.metadata.curves?.roc?.fpr.length).toBeGreaterThan(2);
    // Reference statistics for monitoring: every model feature over the training rows, predictions and ROC AUC over the validation rows.
    const trained = (result.outputs.choose as { model: { trainRows: number; validationRows: number } }).model;
    expect(card.metadata.reference).toMatchObject({
      uri: expect.stringMatching(/^artifact:\/\/sha256\//),
      features: ['hour', 'dayOfWeek', 'month', 'distance', 'originDelay7d', 'originFlights7d', 'origin'],
      trainRows: trained.trainRows,
      validationRows: trained.validationRows,
      validationRocAuc: chosen.metrics.rocAuc,
    });
    expect(card.description).toMatch(/^(logistic-regression|gradient-boosting), chosen over (logistic-regression|gradient-boosting) \(0\.\d{4}\) by held-out ROC AUC 0\.\d{4}\.$/);
    const description = await harness.env.client.workflow.getHandle(result.runId).describe();
    expect(description.typedSearchAttributes.get({ name: 'StewardModel', type: 'KEYWORD' })).toBe('delay-test');
  });

  it('serves every step from the cache when nothing changed, and reruns only what a new hyperparameter touches', async () => {
    const again = await run({ rows: '20000', modelName: 'delay-test', trees: '20' });
    expect(Object.values(cachedSteps(again)).every(Boolean)).toBe(true);
    expect(again.outputs.register).toMatchObject({ version: 1 });

    const retuned = await run({ rows: '20000', modelName: 'delay-test', trees: '20', C: '0.05' });
    expect(cachedSteps(retuned)).toEqual({
      load: true,
      quality: true,
      trainingSet: true,
      trainLogistic: false,
      trainBoosted: true,
      evaluateLogistic: false,
      evaluateBoosted: true,
      choose: false,
      reference: !((retuned.outputs.choose as { algorithm: string }).algorithm === 'logistic-regression'),
      register: !((retuned.outputs.choose as { algorithm: string }).algorithm === 'logistic-regression'),
    });
  });
});
