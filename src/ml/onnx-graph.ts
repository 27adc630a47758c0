/**
 * Pieces every Steward ONNX graph shares: the opsets, the inputs (one float [N,1] tensor per
 * numeric feature and one string [N,1] tensor per categorical feature, named after the features),
 * the classifier and regressor outputs skl2onnx gives, and attribute and node builders.
 *
 * Every value a node produces is typed: graph outputs in `output`, every other one in `value_info`
 * (element type and shape, N for the rows). ONNX's own shape inference cannot type what several
 * ai.onnx.ml operators return (OneHotEncoder, Scaler and Imputer have no inference function in
 * onnx 1.12), so without these entries `onnx.checker.check_model(full_check=True)` stops at the
 * first standard operator that reads one (Concat, Reshape). `encodeModel` refuses a graph that
 * leaves a value untyped; test/unit/ml/onnx-checker.test.ts runs the checker on every export.
 */
import onnxProto from 'onnx-proto';
import { ValidationError } from '../errors.js';
import type { Preprocessor } from './model.js';

const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX 1.10's IR and opsets (what onnx-proto's schema describes), all loaded by onnxruntime-node. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSETS = [
  { domain: '', version: 15 },
  { domain: 'ai.onnx.ml', version: 2 },
] as const;

export const { FLOAT, INT64, STRING } = onnx.TensorProto.DataType;

/** The numeric inputs side by side as one float [N, numeric features] tensor, or nothing without numeric features. */
export function concatNumeric(pre: Preprocessor, output: string): { nodes: NodeProto[]; values: ValueInfoProto[] } {
  if (pre.numeric.length === 0) return { nodes: [], values: [] };
  return { nodes: [node('Concat', '', pre.numeric.map((f) => f.name), [output], [int('axis', 1)])], values: [valueInfo(output, FLOAT, ['N', pre.numeric.length])] };
}

/** Encodes the graph after checking that no feature name collides with a name the graph uses. */
export function encodeModel(
  kind: string,
  pre: Preprocessor,
  graph: { nodes: NodeProto[]; initializers?: TensorProto[]; values: ValueInfoProto[]; outputs: 'classifier' | 'regressor' },
): Uint8Array {
  const initializers = graph.initializers ?? [];
  const inputs = [...pre.numeric.map((f) => valueInfo(f.name, FLOAT, ['N', 1])), ...pre.categorical.map((f) => valueInfo(f.name, STRING, ['N', 1]))];
  const outputs =
    graph.outputs === 'classifier' ? [valueInfo('label', INT64, ['N']), valueInfo('probabilities', FLOAT, ['N', 2])] : [valueInfo('variable', FLOAT, ['N', 1])];
  checkUniqueNames([...inputs.map((v) => v.name ?? ''), ...graph.nodes.flatMap((n) => n.output ?? []), ...initializers.map((t) => t.name ?? '')]);
  checkTyped(graph.nodes, [...outputs, ...graph.values]);
  const proto = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: ONNX_OPSETS.map((o) => ({ ...o })),
    producerName: 'steward',
    docString: `Steward ${kind} with its preprocessing.`,
    metadataProps: [{ key: 'steward.kind', value: kind }],
    graph: {
      name: `steward_${kind.replaceAll('-', '_')}`,
      node: graph.nodes,
      initializer: initializers,
      input: inputs,
      output: outputs,
      valueInfo: graph.values,
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Every node output is a graph output or has exactly one value_info entry, and no entry names anything else: a bug in an exporter, not in the user's data. */
function checkTyped(nodes: readonly NodeProto[], typed: readonly ValueInfoProto[]): void {
  const produced = nodes.flatMap((n) => n.output ?? []);
  const declared = typed.map((v) => v.name ?? '');
  const untyped = produced.filter((name) => !declared.includes(name));
  const stray = declared.filter((name, i) => !produced.includes(name) || declared.indexOf(name) !== i);
  if (untyped.length > 0 || stray.length > 0) {
    throw new Error(`ONNX exporter bug: untyped node outputs [${untyped.join(', ')}], value_info entries without a single producing node [${stray.join(', ')}].`);
  }
}

function checkUniqueNames(names: string[]): void {
  const seen = new Set<string>();
  const clashes = names.filter((name) => (seen.has(name) ? true : (seen.add(name), false)));
  if (clashes.length > 0) {
    throw new ValidationError(`Cannot export to ONNX: feature name(s) ${clashes.map((n) => `"${n}"`).join(', ')} clash with names the graph uses; rename the feature(s).`);
  }
}

export function node(opType: string, domain: string, input: string[], output: string[], attribute: AttributeProto[] = []): NodeProto {
  return { opType, domain, name: `${opType}:${output[0]}`, input, output, attribute };
}

/** A tensor's element type and shape; a string dimension is symbolic (N: the rows). */
export function valueInfo(name: string, elemType: number, dims: (string | number)[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

const AttributeType = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

export function int(name: string, i: number): AttributeProto {
  return { name, type: AttributeType.INT, i };
}
export function ints(name: string, values: number[]): AttributeProto {
  return { name, type: AttributeType.INTS, ints: values };
}
export function float(name: string, f: number): AttributeProto {
  return { name, type: AttributeType.FLOAT, f };
}
export function floats(name: string, values: number[]): AttributeProto {
  return { name, type: AttributeType.FLOATS, floats: values };
}
export function string(name: string, s: string): AttributeProto {
  return { name, type: AttributeType.STRING, s: utf8.encode(s) };
}
export function strings(name: string, values: string[]): AttributeProto {
  return { name, type: AttributeType.STRINGS, strings: values.map((s) => utf8.encode(s)) };
}
