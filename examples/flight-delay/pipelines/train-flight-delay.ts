import { z } from 'zod';
import { definePipeline } from '../../../src/pipeline/definition.js';
import { buildTrainingSetFromStore, checkFlightQuality, chooseModel, evaluateModel, ingestFlights, profileReference, registerModel, trainModel } from '../steps/index.js';


/**
 * Train a flight-delay classifier on real 2001 flights: load, check data quality, build a
 * point-in-time training set from the feature store (the flight_delay feature service: origin and
 * route delay windows, each flight seeing only feature rows stamped before it departed), train a
 * logistic regression and gradient-boosted trees in parallel (each exported to ONNX and verified),
 * evaluate both ONNX models on the most recent flights, choose the better one, compute its reference
 * statistics for drift monitoring (features over the training rows, predictions over the validation
 * rows) and register it with them.
 */
export const trainFlightDelay = definePipeline({
  name: 'train-flight-delay',
  description: 'Train flight-delay models (delayed > 15 min) on flights-3m: load, quality check, training set, train two models, evaluate, choose, register.',
  params: z.object({
    source: z.string().min(1).default('vega:flights-3m.parquet'),
    rows: z.coerce.number().int().positive().max(3_000_000).default(300_000),
    delayThresholdMinutes: z.coerce.number().int().min(0).default(15),
    testFraction: z.coerce.number().gt(0).lt(1).default(0.2),
    C: z.coerce.number().positive().default(1),
    trees: z.coerce.number().int().positive().max(1_000).default(100),
    learningRate: z.coerce.number().gt(0).max(1).default(0.1),
    minRows: z.coerce.number().int().min(0).default(1_000),
    modelName: z.string().regex(/^[a-z][a-z0-9-]*$/).default('flight-delay'),
    /** The team or person answerable for the model, shown on its model card. */
    owner: z.string().trim().min(1).max(200).optional(),
  }),
  steps: (p) => {
    const load = ingestFlights.step('load', { source: p.source, rows: p.rows });
    const quality = checkFlightQuality.step('quality', { ingestionId: load.output.ingestionId, minRows: p.minRows });
    const trainingSet = buildTrainingSetFromStore.step(
      'trainingSet',
      { ingestionId: load.output.ingestionId, delayThresholdMinutes: p.delayThresholdMinutes },
      { after: [quality.name] },
    );
    const trainLogistic = trainModel.step('trainLogistic', { trainingSetUri: trainingSet.output.uri, testFraction: p.testFraction, algorithm: 'logistic-regression', C: p.C });
    const trainBoosted = trainModel.step('trainBoosted', {
      trainingSetUri: trainingSet.output.uri,
      testFraction: p.testFraction,
      algorithm: 'gradient-boosting',
      maxIter: p.trees,
      learningRate: p.learningRate,
    });
    const evaluateLogistic = evaluateModel.step('evaluateLogistic', { modelUri: trainLogistic.output.modelUri, trainingSetUri: trainingSet.output.uri, testFraction: p.testFraction });
    const evaluateBoosted = evaluateModel.step('evaluateBoosted', { modelUri: trainBoosted.output.modelUri, trainingSetUri: trainingSet.output.uri, testFraction: p.testFraction });
    const choose = chooseModel.step('choose', {
      candidates: [
        { model: trainLogistic.result, evaluation: evaluateLogistic.result },
        { model: trainBoosted.result, evaluation: evaluateBoosted.result },
      ],
    });
    const reference = profileReference.step('reference', { model: choose.output.model, trainingSetUri: trainingSet.output.uri, testFraction: p.testFraction });
    const register = registerModel.step('register', {
      modelName: p.modelName,
      model: choose.output.model,
      trainingSet: trainingSet.result,
      ingestionId: load.output.ingestionId,
      params: {
        C: p.C,
        trees: p.trees,
        learningRate: p.learningRate,
        testFraction: p.testFraction,
        delayThresholdMinutes: p.delayThresholdMinutes,
        rows: p.rows,
      },
      metrics: choose.output.metrics,
      ranking: choose.output.ranking,
      owner: p.owner,
      reference: reference.result,
    });
    return [load, quality, trainingSet, trainLogistic, trainBoosted, evaluateLogistic, evaluateBoosted, choose, reference, register];
  },
});
