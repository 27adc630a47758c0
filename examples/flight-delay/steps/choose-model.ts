/** Champion-challenger among a run's candidates: the best held-out ROC AUC wins. */
import { z } from 'zod';
import { ValidationError } from '../../../src/errors.js';
import { artifactDataset } from '../../../src/lineage/datasets.js';
import { defineStep } from '../../../src/pipeline/step.js';
import { evaluationSchema } from './evaluate-model.js';
import { algorithmSchema, trainedModelSchema } from './train-model.js';

export const rankingSchema = z.array(z.object({ algorithm: z.string(), rocAuc: z.number() }));

export const chooseModel = defineStep({
  name: 'chooseFlightModel',
  version: '1',
  description: 'Choose the candidate with the best held-out ROC AUC.',
  input: z.object({
    /** Each candidate: a trainModel output and its evaluateModel output. */
    candidates: z.array(z.object({ model: trainedModelSchema, evaluation: evaluationSchema })),
  }),
  output: z.object({
    model: trainedModelSchema,
    /** The chosen candidate's whole evaluation. */
    metrics: evaluationSchema,
    algorithm: algorithmSchema,
    /** Every candidate, best first. */
    ranking: rankingSchema,
  }),
  run: async (input) => {
    if (input.candidates.length === 0) throw new ValidationError('chooseModel needs at least one candidate.');
    const ranked = [...input.candidates].sort((a, b) => b.evaluation.rocAuc - a.evaluation.rocAuc);
    const best = ranked[0]!;
    return {
      model: best.model,
      metrics: best.evaluation,
      algorithm: best.model.algorithm,
      ranking: ranked.map((c) => ({ algorithm: c.model.algorithm, rocAuc: c.evaluation.rocAuc })),
    };
  },
  lineage: (input) => ({ inputs: input.candidates.map((c) => artifactDataset(c.model.modelUri)) }),
});
