/**
 * ONNX export of a model with its preprocessing, laid out the way skl2onnx lays out a scikit-learn
 * Pipeline. Every graph takes the same inputs: one float [N,1] tensor per numeric feature and one
 * string [N,1] tensor per categorical feature (a missing category is the empty string), named
 * after the features. A linear model, as Pipeline(ColumnTransformer(SimpleImputer+StandardScaler,
 * OneHotEncoder), LogisticRegression):
 *
 *   numeric  Concat → ai.onnx.ml.Imputer (NaN → training mean) → ai.onnx.ml.Scaler
 *   strings  ai.onnx.ml.OneHotEncoder (unknown → all zeros) → Reshape to [N, categories]
 *   model    Concat → ai.onnx.ml.LinearClassifier (LOGISTIC) with outputs `label` int64 [N] and
 *            `probabilities` float [N,2], or ai.onnx.ml.LinearRegressor with output `variable` float [N,1]
 *
 * Gradient-boosted trees are laid out in onnx-trees.ts, with the same outputs.
 *
 * An export is only handed out after onnxruntime-node has loaded it and reproduced the TypeScript
 * model's predictions on held-out rows: the graph computes in float32, so agreement is to a
 * tolerance, reported with the export.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ValidationError } from '../errors.js';
import { predictGradientBoosting } from './gradient-boosting.js';
import { predictProbabilities, predictValues } from './linear.js';
import type { LinearModel, Model, Preprocessor } from './model.js';
import {
  concatNumeric,
  encodeModel,
  float,
  FLOAT,
  floats,
  int,
  INT64,
  ints,
  node,
  string,
  strings,
  valueInfo,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx-graph.js';
import { buildTreeEnsembleOnnx } from './onnx-trees.js';
import { checkFeatureNames, frameRows, type CategoricalValue, type FeatureFrame } from './preprocessing.js';

export { ONNX_IR_VERSION, ONNX_OPSETS } from './onnx-graph.js';

/** Largest difference allowed between ONNX and TypeScript predictions (for regression, relative to max(1, |prediction|)). */
export const DEFAULT_ONNX_TOLERANCE = 1e-5;

export interface OnnxVerification {
  /** Held-out rows scored by both. */
  rows: number;
  output: 'probabilities' | 'variable';
  maxAbsDiff: number;
  /** The bound maxAbsDiff was held to. */
  allowedDiff: number;
  /** Rows whose ONNX `label` differs from the TypeScript one (only possible within the tolerance of p = 0.5). */
  labelMismatches: number;
}

export interface OnnxExport {
  onnx: Uint8Array;
  verification: OnnxVerification;
}

/**
 * Builds the ONNX model, runs it in onnxruntime-node on `heldOut` and compares with the TypeScript
 * predictions; throws a ValidationError carrying the figures when they differ by more than the tolerance.
 */
export async function exportOnnx(model: Model, heldOut: FeatureFrame, options: { tolerance?: number } = {}): Promise<OnnxExport> {
  const tolerance = options.tolerance ?? DEFAULT_ONNX_TOLERANCE;
  if (!(tolerance > 0)) throw new ValidationError(`tolerance must be positive, got ${tolerance}.`);
  const rows = frameRows(heldOut);
  if (rows === 0) throw new ValidationError('ONNX verification needs at least one held-out row.');
  const bytes = model.kind === 'gradient-boosting' ? buildTreeEnsembleOnnx(model) : buildLinearOnnx(model);
  const verification = await verify(model, bytes, heldOut, tolerance);
  if (!(verification.maxAbsDiff <= verification.allowedDiff)) {
    throw new ValidationError(
      `ONNX export disagrees with the TypeScript ${model.kind} on ${rows} held-out rows: max abs difference in ${verification.output} is ${verification.maxAbsDiff.toExponential(3)}, above ${verification.allowedDiff.toExponential(3)}.`,
      { ...verification },
    );
  }
  return { onnx: bytes, verification };
}

/** The inputs an exported model takes for a frame: float32 [N,1] per numeric feature, string [N,1] per categorical one. */
export function onnxFeeds(pre: Preprocessor, frame: FeatureFrame): Record<string, Tensor> {
  checkFeatureNames(pre, frame);
  const rows = frameRows(frame);
  const feeds: Record<string, Tensor> = {};
  for (const { name } of pre.numeric) {
    feeds[name] = new Tensor('float32', Float32Array.from(frame.numeric?.[name] as Float64Array), [rows, 1]);
  }
  for (const { name } of pre.categorical) {
    const values = frame.categorical?.[name] as readonly CategoricalValue[];
    feeds[name] = new Tensor('string', Array.from(values, (v) => (typeof v === 'string' ? v : '')), [rows, 1]);
  }
  return feeds;
}

function buildLinearOnnx(model: LinearModel): Uint8Array {
  const pre = model.preprocessor;
  const numeric = concatNumeric(pre, 'steward:numeric');
  const nodes: NodeProto[] = numeric.nodes;
  const values: ValueInfoProto[] = numeric.values;
  const initializers: TensorProto[] = [];
  const parts: string[] = [];

  if (pre.numeric.length > 0) {
    const width = pre.numeric.length;
    nodes.push(
      node('Imputer', 'ai.onnx.ml', ['steward:numeric'], ['steward:numeric_imputed'], [
        floats('imputed_value_floats', pre.numeric.map((f) => f.mean)),
        float('replaced_value_float', Number.NaN),
      ]),
      node('Scaler', 'ai.onnx.ml', ['steward:numeric_imputed'], ['steward:numeric_scaled'], [
        floats('offset', pre.numeric.map((f) => f.mean)),
        floats('scale', pre.numeric.map((f) => 1 / f.std)),
      ]),
    );
    values.push(valueInfo('steward:numeric_imputed', FLOAT, ['N', width]), valueInfo('steward:numeric_scaled', FLOAT, ['N', width]));
    parts.push('steward:numeric_scaled');
  }
  for (const feature of pre.categorical) {
    const encoded = `steward:${feature.name}:onehot`;
    const shape = `steward:${feature.name}:shape`;
    const width = feature.categories.length;
    initializers.push({ name: shape, dataType: INT64, dims: [2], int64Data: [-1, width] });
    nodes.push(
      node('OneHotEncoder', 'ai.onnx.ml', [feature.name], [`${encoded}3d`], [strings('cats_strings', feature.categories), int('zeros', 1)]),
      // OneHotEncoder appends the category axis to the [N,1] input; Reshape drops the middle 1.
      node('Reshape', '', [`${encoded}3d`, shape], [encoded]),
    );
    values.push(valueInfo(`${encoded}3d`, FLOAT, ['N', 1, width]), valueInfo(encoded, FLOAT, ['N', width]));
    parts.push(encoded);
  }
  const features = parts.length === 1 ? parts[0]! : 'steward:features';
  if (parts.length > 1) {
    nodes.push(node('Concat', '', parts, [features], [int('axis', 1)]));
    values.push(valueInfo(features, FLOAT, ['N', pre.numeric.length + pre.categorical.reduce((sum, f) => sum + f.categories.length, 0)]));
  }

  if (model.kind === 'logistic-regression') {
    // Two rows of coefficients, −w and w, as skl2onnx writes a binary LogisticRegression: LOGISTIC
    // then maps the scores to [1 − p, p] and the label is the larger one.
    nodes.push(
      node('LinearClassifier', 'ai.onnx.ml', [features], ['label', 'probabilities'], [
        floats('coefficients', [...model.coefficients.map((w) => -w), ...model.coefficients]),
        floats('intercepts', [-model.intercept, model.intercept]),
        ints('classlabels_ints', [0, 1]),
        int('multi_class', 0),
        string('post_transform', 'LOGISTIC'),
      ]),
    );
    return encodeModel(model.kind, pre, { nodes, initializers, values, outputs: 'classifier' });
  }
  nodes.push(
    node('LinearRegressor', 'ai.onnx.ml', [features], ['variable'], [
      floats('coefficients', model.coefficients),
      floats('intercepts', [model.intercept]),
      int('targets', 1),
      string('post_transform', 'NONE'),
    ]),
  );
  return encodeModel(model.kind, pre, { nodes, initializers, values, outputs: 'regressor' });
}

async function verify(model: Model, bytes: Uint8Array, heldOut: FeatureFrame, tolerance: number): Promise<OnnxVerification> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes);
  } catch (error) {
    throw new ValidationError(`onnxruntime-node could not load the exported ${model.kind}: ${(error as Error).message}`);
  }
  try {
    const results = await session.run(onnxFeeds(model.preprocessor, heldOut));
    const expected = typescriptPredictions(model, heldOut);
    if (results.probabilities) {
      const probabilities = results.probabilities.data as Float32Array;
      const labels = results.label?.data as BigInt64Array;
      let maxAbsDiff = 0;
      let labelMismatches = 0;
      expected.forEach((p, i) => {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(probabilities[2 * i]! - (1 - p)), Math.abs(probabilities[2 * i + 1]! - p));
        if (Number(labels[i]) !== (p > 0.5 ? 1 : 0)) labelMismatches++;
      });
      return { rows: expected.length, output: 'probabilities', maxAbsDiff, allowedDiff: tolerance, labelMismatches };
    }
    const variable = results.variable?.data as Float32Array;
    let maxAbsDiff = 0;
    let scale = 1;
    expected.forEach((v, i) => {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(variable[i]! - v));
      scale = Math.max(scale, Math.abs(v));
    });
    // float32 carries about seven significant digits, so a regression's bound scales with its predictions.
    return { rows: expected.length, output: 'variable', maxAbsDiff, allowedDiff: tolerance * scale, labelMismatches: 0 };
  } finally {
    await session.release();
  }
}

/** P(label = 1) for a classifier, the predicted value for a regressor. */
function typescriptPredictions(model: Model, frame: FeatureFrame): Float64Array {
  switch (model.kind) {
    case 'logistic-regression':
      return predictProbabilities(model, frame);
    case 'linear-regression':
      return predictValues(model, frame);
    case 'gradient-boosting':
      return predictGradientBoosting(model, frame);
  }
}
