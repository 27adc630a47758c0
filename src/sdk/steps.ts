/**
 * `steward/steps`: Steward's built-in steps and the generic pipelines a declared model gets, for a
 * project that composes its own pipelines from them (a step of its own before training, another
 * release path). Each step is typed: `.step(name, input)` places it in a pipeline.
 *
 * @example
 * import { definePipeline, z } from 'steward';
 * import { buildTrainingSet, trainModel } from 'steward/steps';
 * export const quickTrain = definePipeline({
 *   name: 'quick-train', params: z.object({}),
 *   steps: () => {
 *     const set = buildTrainingSet.step('set', { service: 'rain_forecast', task: 'binary-classification', label: { kind: 'future', view: 'daily_weather', feature: 'precipitation', horizon: '1d', transform: { gt: 0 } } });
 *     return [set, trainModel.step('train', { trainingSet: set.result, algorithm: 'linear' })];
 *   },
 * });
 */
export {
  applyFeatures,
  buildTrainingSet,
  builtinSteps,
  checkExpectations,
  chooseModel,
  compareModels,
  evaluateModel,
  ingestFile,
  materializeFeatures,
  monitorDrift,
  profileReference,
  promoteModel,
  recordPurpose,
  registerModel,
  retrainPolicy,
  scoreBatch,
  trainModel,
  validateModel,
} from '../../pipelines/steps/index.js';
export { modelPipelines, trainPipeline, releasePipeline, driftRetrainPipeline } from '../../pipelines/models.js';
