/**
 * Trains a logistic regression on the earlier days of the training set and validates it on the
 * most recent ones (a split in time, as the model will be used), then exports it to ONNX: the export
 * is verified in onnxruntime-node against the TypeScript model on the validation days before it is
 * kept. Every feature column of the training set is used: numbers as numeric features (missing
 * values imputed), strings as categories (one-hot).
 */
import { DataType, type Table } from 'apache-arrow';
import { defineStep, artifactDataset, ValidationError, z } from 'steward';
import { getTable, readTimes } from 'steward/data';
import {
  accuracy,
  brierScore,
  exportOnnx,
  logLoss,
  modelSignature,
  prAuc,
  predictProbabilities,
  rocAuc,
  serializeModel,
  trainLogisticRegression,
  type FeatureFrame,
} from 'steward/ml';
import { LABEL } from './build-training-set.js';

/** Columns of the training set that are not features. */
const NOT_FEATURES = new Set(['station', 'asked_at', LABEL]);

export const trainModel = defineStep({
  name: 'weather.train',
  version: '1',
  description: 'Train a logistic regression, validate it on the latest days, export it to ONNX',
  input: z.object({
    trainingSetUri: z.string(),
    /** Share of the most recent days held out for validation. */
    testFraction: z.number().gt(0).lt(1).default(0.2),
    /** Inverse regularization strength (scikit-learn's C). */
    C: z.number().positive().default(1),
  }),
  output: z.object({
    modelUri: z.string(),
    modelSha256: z.string(),
    specUri: z.string(),
    algorithm: z.string(),
    signature: z.object({ inputs: z.array(z.object({ name: z.string(), type: z.enum(['float', 'string']) })), outputs: z.array(z.string()) }),
    metrics: z.object({ rocAuc: z.number(), prAuc: z.number(), logLoss: z.number(), accuracy: z.number(), brierScore: z.number() }),
    trainRows: z.number().int(),
    trainedFrom: z.string(),
    validationRows: z.number().int(),
    validatedFrom: z.string(),
    validatedTo: z.string(),
    onnxMaxAbsDiff: z.number(),
  }),
  async run(input, ctx) {
    const table = await getTable(ctx.artifacts, input.trainingSetUri);
    const { frame, labels, times } = featureFrame(table);
    const rows = labels.length;
    const cut = Math.floor(rows * (1 - input.testFraction));
    if (cut < 10 || rows - cut < 10) throw new ValidationError(`The training set has ${rows} labelled days; with testFraction ${input.testFraction} one side would have fewer than 10.`);
    const train = slice(frame, 0, cut);
    const test = slice(frame, cut, rows);
    const trainLabels = labels.subarray(0, cut);
    const testLabels = labels.subarray(cut);

    ctx.progress({ stage: 'train', rows: cut });
    const model = trainLogisticRegression(train, trainLabels, { C: input.C, classWeight: 'balanced' });
    const scores = predictProbabilities(model, test);
    ctx.progress({ stage: 'export', rows: rows - cut });
    const { onnx, verification } = await exportOnnx(model, test);
    const [stored, spec] = await Promise.all([ctx.artifacts.put(onnx), ctx.artifacts.put(new TextEncoder().encode(serializeModel(model)))]);
    return {
      modelUri: stored.uri,
      modelSha256: stored.sha256,
      specUri: spec.uri,
      algorithm: model.kind,
      signature: modelSignature(model),
      metrics: {
        rocAuc: rocAuc(testLabels, scores),
        prAuc: prAuc(testLabels, scores),
        logLoss: logLoss(testLabels, scores),
        accuracy: accuracy(testLabels, scores),
        brierScore: brierScore(testLabels, scores),
      },
      trainRows: cut,
      trainedFrom: new Date(times[0]!).toISOString(),
      validationRows: rows - cut,
      validatedFrom: new Date(times[cut]!).toISOString(),
      validatedTo: new Date(times[rows - 1]!).toISOString(),
      onnxMaxAbsDiff: verification.maxAbsDiff,
    };
  },
  lineage: (input, { output }) => ({
    inputs: [artifactDataset(input.trainingSetUri)],
    outputs: output ? [artifactDataset(output.modelUri), artifactDataset(output.specUri)] : [],
  }),
});

/** The training set's labelled rows, in time order, as a frame of its feature columns and 0/1 labels. */
export function featureFrame(table: Table): { frame: FeatureFrame; labels: Uint8Array; times: Float64Array } {
  const label = table.getChild(LABEL);
  if (!label) throw new ValidationError(`The training set has no "${LABEL}" column.`);
  const asked = readTimes(table.getChild('asked_at')!);
  const order = Array.from(asked.keys())
    .filter((i) => label.get(i) !== null)
    .sort((a, b) => asked[a]! - asked[b]!);
  const frame: Required<FeatureFrame> = { numeric: {}, categorical: {} };
  for (const field of table.schema.fields) {
    if (NOT_FEATURES.has(field.name)) continue;
    const vector = table.getChild(field.name)!;
    if (DataType.isFloat(field.type) || DataType.isInt(field.type)) {
      frame.numeric[field.name] = Float64Array.from(order, (i) => (vector.get(i) as number | null) ?? Number.NaN);
    } else if (DataType.isUtf8(field.type) || DataType.isDictionary(field.type)) {
      frame.categorical[field.name] = order.map((i) => (vector.get(i) as string | null) ?? null);
    }
  }
  return {
    frame,
    labels: Uint8Array.from(order, (i) => (label.get(i) ? 1 : 0)),
    times: Float64Array.from(order, (i) => asked[i]!),
  };
}

function slice(frame: FeatureFrame, start: number, end: number): FeatureFrame {
  return {
    numeric: Object.fromEntries(Object.entries(frame.numeric ?? {}).map(([name, values]) => [name, values.slice(start, end)])),
    categorical: Object.fromEntries(Object.entries(frame.categorical ?? {}).map(([name, values]) => [name, values.slice(start, end)])),
  };
}
