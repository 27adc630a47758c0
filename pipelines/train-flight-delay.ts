import { z } from 'zod';
import { definePipeline, output, param } from '../src/pipeline/definition.js';
import { checkFlightQuality, chooseModel, evaluateModel, ingestFlights, profileReference, registerModel, trainModel } from './steps.js';
import { buildTrainingSetFromStore } from './features/steps.js';

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
  steps: [
    ingestFlights.step('load', { source: param('source'), rows: param('rows') }),
    checkFlightQuality.step('quality', { ingestionId: output('load', 'ingestionId'), minRows: param('minRows') }),
    buildTrainingSetFromStore.step(
      'trainingSet',
      { ingestionId: output('load', 'ingestionId'), delayThresholdMinutes: param('delayThresholdMinutes') },
      { after: ['quality'] },
    ),
    trainModel.step('trainLogistic', { trainingSetUri: output('trainingSet', 'uri'), testFraction: param('testFraction'), algorithm: 'logistic-regression', C: param('C') }),
    trainModel.step('trainBoosted', {
      trainingSetUri: output('trainingSet', 'uri'),
      testFraction: param('testFraction'),
      algorithm: 'gradient-boosting',
      maxIter: param('trees'),
      learningRate: param('learningRate'),
    }),
    evaluateModel.step('evaluateLogistic', { modelUri: output('trainLogistic', 'modelUri'), trainingSetUri: output('trainingSet', 'uri'), testFraction: param('testFraction') }),
    evaluateModel.step('evaluateBoosted', { modelUri: output('trainBoosted', 'modelUri'), trainingSetUri: output('trainingSet', 'uri'), testFraction: param('testFraction') }),
    chooseModel.step('choose', {
      candidates: [
        { model: output('trainLogistic'), evaluation: output('evaluateLogistic') },
        { model: output('trainBoosted'), evaluation: output('evaluateBoosted') },
      ],
    }),
    profileReference.step('reference', { model: output('choose', 'model'), trainingSetUri: output('trainingSet', 'uri'), testFraction: param('testFraction') }),
    registerModel.step('register', {
      modelName: param('modelName'),
      model: output('choose', 'model'),
      trainingSet: output('trainingSet'),
      ingestionId: output('load', 'ingestionId'),
      params: {
        C: param('C'),
        trees: param('trees'),
        learningRate: param('learningRate'),
        testFraction: param('testFraction'),
        delayThresholdMinutes: param('delayThresholdMinutes'),
        rows: param('rows'),
      },
      metrics: output('choose', 'metrics'),
      ranking: output('choose', 'ranking'),
      owner: param('owner'),
      reference: output('reference'),
    }),
  ],
});
