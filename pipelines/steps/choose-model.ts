/**
 * Chooses among a run's candidates (each a trainModel output and its evaluateModel output): the best
 * on `selectBy`, any metric of the task (default its primary metric: ROC AUC for classification,
 * RMSE for regression), higher or lower being better as the metric says. Ties go to the earlier
 * candidate, so the choice is stable.
 */
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { artifactDataset } from '../../src/lineage/datasets.js';
import { metricOfTask } from '../../src/ml/tabular/score.js';
import { isBetter } from '../../src/ml/tabular/task.js';
import { defineStep } from '../../src/pipeline/step.js';
import { evaluationSchema } from './evaluate-model.js';
import { taskSchema, trainedModelSchema } from './train-model.js';

export const candidateSchema = z.object({ model: trainedModelSchema, evaluation: evaluationSchema });

/** Every candidate, best first, with its value of the selection metric. */
export const rankingSchema = z.array(z.object({ algorithm: z.string(), metric: z.string(), value: z.number() }));

export const chooseModelInput = z.object({
  task: taskSchema,
  /** A metric of the task (default: its primary metric). */
  selectBy: z.string().min(1).optional(),
  candidates: z.array(candidateSchema),
});

export const chosenModelSchema = z.object({
  model: trainedModelSchema,
  /** The chosen candidate's whole evaluation. */
  evaluation: evaluationSchema,
  /** Its metrics (evaluation.metrics), at hand for release criteria and registration. */
  metrics: z.record(z.string(), z.number()),
  ranking: rankingSchema,
});

export type Candidate = z.output<typeof candidateSchema>;
export type ChooseModelInput = z.input<typeof chooseModelInput>;
export type ChosenModel = z.output<typeof chosenModelSchema>;

/** The best candidate on the metric, and every candidate ranked; pure, so pipelines and tests can call it. */
export function chooseCandidate(input: z.output<typeof chooseModelInput>): ChosenModel {
  const { task, candidates } = input;
  const metric = metricOfTask(task, input.selectBy, 'selectBy');
  if (candidates.length === 0) throw new ValidationError('chooseModel needs at least one candidate (a trainModel output and its evaluation).');
  candidates.forEach((c, i) => {
    const name = `Candidate ${i + 1} (${c.model.algorithm})`;
    if (c.model.task !== task || c.evaluation.task !== task) {
      throw new ValidationError(`${name} is a ${c.model.task} model evaluated as ${c.evaluation.task}, but the choice is among ${task} models.`, { candidate: i, task });
    }
    if (typeof c.evaluation.metrics[metric] !== 'number' || !Number.isFinite(c.evaluation.metrics[metric])) {
      throw new ValidationError(`${name} has no finite "${metric}" in its evaluation; its metrics are ${Object.keys(c.evaluation.metrics).join(', ')}.`, { candidate: i, metric });
    }
  });
  const ranked = candidates.map((c, i) => ({ c, i })).sort((a, b) => {
    const x = a.c.evaluation.metrics[metric]!;
    const y = b.c.evaluation.metrics[metric]!;
    return isBetter(task, metric, x, y) ? -1 : isBetter(task, metric, y, x) ? 1 : a.i - b.i;
  });
  const best = ranked[0]!.c;
  return {
    model: best.model,
    evaluation: best.evaluation,
    metrics: best.evaluation.metrics,
    ranking: ranked.map(({ c }) => ({ algorithm: c.model.algorithm, metric, value: c.evaluation.metrics[metric]! })),
  };
}

export const chooseModel = defineStep({
  name: 'chooseModel',
  version: '1',
  description: "Choose the candidate with the best held-out value of the task's selection metric.",
  input: chooseModelInput,
  output: chosenModelSchema,
  run: async (input) => chooseCandidate(input),
  lineage: (input) => ({ inputs: input.candidates.map((c) => artifactDataset(c.model.modelUri)) }),
});
