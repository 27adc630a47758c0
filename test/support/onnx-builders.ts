/**
 * Hand-built ONNX files for tests of importing models made outside Steward: value infos with
 * symbolic, fixed or unknown dimensions, and whole models from nodes, inputs, outputs, initializers
 * and functions.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** A dimension: a symbolic name, a fixed size, or null for unknown. */
export type Dim = string | number | null;

export function tensorInfo(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : d === null ? {} : { dimValue: d })) } } } };
}

export function buildModel(spec: {
  nodes: onnxProto.onnx.INodeProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers?: onnxProto.onnx.ITensorProto[];
  opsets?: { domain: string; version: number }[];
  irVersion?: number;
  functions?: onnxProto.onnx.IFunctionProto[];
}): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: spec.irVersion ?? 8,
      opsetImport: spec.opsets ?? [{ domain: '', version: 15 }],
      producerName: 'test-builder',
      producerVersion: '0.0.1',
      functions: spec.functions ?? [],
      graph: { name: 'g', node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer: spec.initializers ?? [] },
    }),
  ).finish();
}
