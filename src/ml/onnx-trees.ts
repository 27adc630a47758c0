/**
 * The ONNX graph of a gradient-boosted tree model, laid out as skl2onnx converts a
 * HistGradientBoostingClassifier or ...Regressor behind an OrdinalEncoder:
 *
 *   numeric  Concat of the raw float inputs: no Imputer or Scaler, since the trees split raw values
 *            and send NaN where each split learned to (gbt/binning.ts)
 *   strings  ai.onnx.ml.LabelEncoder per categorical feature: category → its ordinal code as a
 *            float, anything else (missing, unseen, dropped) → NaN, so it is routed as missing
 *   model    Concat → ai.onnx.ml.TreeEnsembleClassifier (LOGISTIC over the summed leaf values plus
 *            the baseline; outputs `label` int64 [N] and `probabilities` float [N,2]) or
 *            TreeEnsembleRegressor (output `variable` float [N,1])
 *
 * Each split is BRANCH_LEQ on the float32 threshold the model stores, with
 * nodes_missing_value_tracks_true saying whether NaN takes the true (left) branch. The TypeScript
 * model compares the same float32 inputs against the same thresholds, so both route every row
 * alike; they differ only in summing leaf values in float32 rather than float64.
 */
import type { GradientBoostingModel } from './model.js';
import { concatNumeric, encodeModel, float, FLOAT, floats, int, ints, node, string, strings, valueInfo, type NodeProto, type ValueInfoProto } from './onnx-graph.js';

export function buildTreeEnsembleOnnx(model: GradientBoostingModel): Uint8Array {
  const pre = model.preprocessor;
  const numeric = concatNumeric(pre, 'steward:numeric');
  const nodes: NodeProto[] = numeric.nodes;
  const values: ValueInfoProto[] = numeric.values;
  const parts = pre.numeric.length > 0 ? ['steward:numeric'] : [];
  for (const feature of pre.categorical) {
    const encoded = `steward:${feature.name}:code`;
    nodes.push(
      node('LabelEncoder', 'ai.onnx.ml', [feature.name], [encoded], [
        strings('keys_strings', feature.categories),
        floats('values_floats', feature.categories.map((_, code) => code)),
        float('default_float', Number.NaN),
      ]),
    );
    values.push(valueInfo(encoded, FLOAT, ['N', 1]));
    parts.push(encoded);
  }
  const inputs = parts.length === 1 ? parts[0]! : 'steward:inputs';
  if (parts.length > 1) {
    nodes.push(node('Concat', '', parts, [inputs], [int('axis', 1)]));
    values.push(valueInfo(inputs, FLOAT, ['N', pre.numeric.length + pre.categorical.length]));
  }

  const structure = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    missingTracksTrue: [] as number[],
  };
  const leaves = { treeIds: [] as number[], nodeIds: [] as number[], weights: [] as number[] };
  model.trees.forEach((tree, treeId) => {
    tree.feature.forEach((feature, nodeId) => {
      const leaf = feature < 0;
      structure.treeIds.push(treeId);
      structure.nodeIds.push(nodeId);
      structure.featureIds.push(leaf ? 0 : feature);
      structure.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      structure.values.push(tree.threshold[nodeId]!);
      structure.trueIds.push(leaf ? 0 : tree.left[nodeId]!);
      structure.falseIds.push(leaf ? 0 : tree.right[nodeId]!);
      structure.missingTracksTrue.push(tree.missingLeft[nodeId] ? 1 : 0);
      if (leaf) {
        leaves.treeIds.push(treeId);
        leaves.nodeIds.push(nodeId);
        leaves.weights.push(tree.value[nodeId]!);
      }
    });
  });
  const nodeAttributes = [
    ints('nodes_treeids', structure.treeIds),
    ints('nodes_nodeids', structure.nodeIds),
    ints('nodes_featureids', structure.featureIds),
    strings('nodes_modes', structure.modes),
    floats('nodes_values', structure.values),
    ints('nodes_truenodeids', structure.trueIds),
    ints('nodes_falsenodeids', structure.falseIds),
    ints('nodes_missing_value_tracks_true', structure.missingTracksTrue),
    floats('base_values', [model.baseline]),
  ];
  const classIds = leaves.weights.map(() => 0);

  if (model.loss === 'log-loss') {
    // One score column (class 0's ids carry the log-odds of label 1), as skl2onnx writes a binary
    // booster: onnxruntime then reports [1 − σ(score), σ(score)] and label 1 when the score is positive.
    nodes.push(
      node('TreeEnsembleClassifier', 'ai.onnx.ml', [inputs], ['label', 'probabilities'], [
        ...nodeAttributes,
        ints('class_treeids', leaves.treeIds),
        ints('class_nodeids', leaves.nodeIds),
        ints('class_ids', classIds),
        floats('class_weights', leaves.weights),
        ints('classlabels_int64s', [0, 1]),
        string('post_transform', 'LOGISTIC'),
      ]),
    );
    return encodeModel(model.kind, pre, { nodes, values, outputs: 'classifier' });
  }
  nodes.push(
    node('TreeEnsembleRegressor', 'ai.onnx.ml', [inputs], ['variable'], [
      ...nodeAttributes,
      ints('target_treeids', leaves.treeIds),
      ints('target_nodeids', leaves.nodeIds),
      ints('target_ids', classIds),
      floats('target_weights', leaves.weights),
      int('n_targets', 1),
      string('aggregate_function', 'SUM'),
      string('post_transform', 'NONE'),
    ]),
  );
  return encodeModel(model.kind, pre, { nodes, values, outputs: 'regressor' });
}
