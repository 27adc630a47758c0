/**
 * The training pipeline: load the weather, build the training set through the feature store, train
 * and export the model, register it. Each step's output is typed: `train.output.modelUri` is a
 * string the compiler knows, and a misspelled output is a compile error. Steps run through Temporal
 * (`npm start`, `npx steward run train-rain-tomorrow --wait`): a crash resumes where it stopped,
 * and a step whose code version and inputs are unchanged reuses its cached result.
 */
import { definePipeline, z } from 'steward';
import { buildTrainingSet } from '../steps/build-training-set.js';
import { loadWeather } from '../steps/load-weather.js';
import { registerModel } from '../steps/register-model.js';
import { trainModel } from '../steps/train-model.js';

export const trainRainTomorrow = definePipeline({
  name: 'train-rain-tomorrow',
  description: 'Train and register a model that says whether it rains tomorrow in Seattle',
  params: z.object({
    file: z.string().default('data/seattle-weather.csv'),
    model: z.string().default('rain-tomorrow'),
    testFraction: z.coerce.number().gt(0).lt(1).default(0.2),
    C: z.coerce.number().positive().default(1),
  }),
  steps: (p) => {
    const load = loadWeather.step('load', { file: p.file });
    const trainingSet = buildTrainingSet.step('trainingSet', { datasetUri: load.output.datasetUri });
    const train = trainModel.step('train', { trainingSetUri: trainingSet.output.trainingSetUri, testFraction: p.testFraction, C: p.C });
    const register = registerModel.step('register', {
      modelName: p.model,
      model: train.output,
      trainingSet: trainingSet.output,
      params: { file: p.file, testFraction: p.testFraction, C: p.C },
    });
    return [load, trainingSet, train, register];
  },
});
