/**
 * Import of ONNX models made outside Steward (skl2onnx, PyTorch, hand-written graphs). A model is
 * accepted only when onnxruntime-node, the runtime that will serve it, can load it and score
 * generated rows: its signature is read with onnx-proto, its IR version, opsets and operator
 * domains are checked against what onnxruntime-node 1.30 runs, then a session is created and a
 * smoke inference run. Every refusal is a ValidationError that names what is wrong (the operator,
 * the domain, the input) and what to do about it, because the person importing usually did not
 * build the graph. `steward models import` and `POST /api/models/:name/versions` show these
 * messages as they are (src/registry/model-import.ts).
 *
 * @example
 * ```ts
 * const { signature, smoke } = await importOnnxModel(fs.readFileSync('model.onnx'));
 * signature.inputs; // [{ name: 'X', kind: 'tensor', elementType: 'float32', shape: ['batch', 3] }]
 * smoke.outputs; // [{ name: 'probability', elementType: 'float32', shape: [8, 1] }]
 * ```
 */
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ValidationError } from '../errors.js';

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.ModelProto;
type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/**
 * What onnxruntime-node 1.30 loads, found by loading one-node models stamped with each version: IR
 * 14 and opsets above these are refused ("Current official support for domain ai.onnx is till
 * opset 26"). Default-domain opsets below 7 load with a warning that support is not guaranteed,
 * so they are refused too.
 */
export const ONNXRUNTIME_SUPPORT = {
  maxIrVersion: 13,
  opsets: {
    '': { min: 7, max: 26 },
    'ai.onnx.ml': { min: 1, max: 5 },
  },
} as const;

const DEFAULT_SMOKE_ROWS = 8;

export type OnnxValueKind = 'tensor' | 'sequence' | 'map' | 'optional' | 'sparse-tensor' | 'unknown';

export interface OnnxValueInfo {
  name: string;
  /** onnxruntime-node feeds and returns only tensors; the other kinds are listed so a refusal can name them. */
  kind: OnnxValueKind;
  /** A tensor's element type as onnxruntime-node names it ('float32', 'int64', 'string', ...); null for other kinds. */
  elementType: string | null;
  /** Per dimension: its size when fixed, its name when symbolic, -1 when neither; null when the rank is not declared. */
  shape: (number | string)[] | null;
}

export interface OnnxSignature {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Opsets the model imports; domain '' is the default ONNX domain (ai.onnx). */
  opsets: { domain: string; version: number }[];
  /** Domains of the operators the model uses, in nested graphs and model-local functions too, sorted. */
  domains: string[];
  /** Inputs a caller feeds (graph inputs that are not initializers). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxSmokeResult {
  /** Rows generated along each input's first dimension, unless the input fixes that dimension. */
  rows: number;
  /** Tensor outputs with the shapes onnxruntime-node returned. */
  outputs: { name: string; elementType: string; shape: number[] }[];
}

export interface OnnxImport {
  signature: OnnxSignature;
  smoke: OnnxSmokeResult;
}

export interface OnnxImportOptions {
  /** Rows of generated input for the smoke inference. Default 8. */
  smokeRows?: number;
}

/** ONNX TensorProto.DataType codes, by onnxruntime-node's names; onnx-proto's schema stops at 16. */
const ELEMENT_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

/** Reads a model's signature without running it; throws a ValidationError when the bytes are not an ONNX model. */
export function inspectOnnxModel(bytes: Uint8Array): OnnxSignature {
  return signatureOf(decode(bytes));
}

/**
 * Checks that onnxruntime-node can serve the model, loads it and scores generated rows: zeros in
 * the first row, ones in the second, spread values after that (integers take 0 and 1, so they stay
 * valid as indices; strings are empty). Only tensor outputs are fetched: onnxruntime-node cannot
 * return the others (a ZipMap's sequence of maps), and the signature lists them by kind.
 */
export async function importOnnxModel(bytes: Uint8Array, options: OnnxImportOptions = {}): Promise<OnnxImport> {
  const smokeRows = options.smokeRows ?? DEFAULT_SMOKE_ROWS;
  if (!Number.isInteger(smokeRows) || smokeRows < 1) throw new ValidationError(`smokeRows must be a whole number of at least 1, got ${smokeRows}.`);
  const model = decode(bytes);
  const signature = signatureOf(model);
  checkRuntimeSupport(model, signature);

  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes);
  } catch (error) {
    throw loadError(error);
  }
  try {
    const feeds = Object.fromEntries(signature.inputs.map((input) => [input.name, smokeTensor(input, smokeRows)]));
    const fetched = signature.outputs.filter((o) => o.kind === 'tensor');
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds, fetched.map((o) => o.name));
    } catch (error) {
      throw new ValidationError(
        `Smoke inference on ${smokeRows} generated rows failed in onnxruntime-node: ${messageOf(error)} The model loads but cannot score inputs of its declared types and shapes (zeros, ones, then values in [0, 1)); check the declared input shapes against what the graph computes with.`,
        { cause: messageOf(error) },
      );
    }
    const outputs = fetched.map((declared) => {
      const tensor = results[declared.name] as Tensor;
      checkReturnedShape(declared, tensor.dims);
      return { name: declared.name, elementType: tensor.type, shape: [...tensor.dims] };
    });
    return { signature, smoke: { rows: smokeRows, outputs } };
  } finally {
    await session.release();
  }
}

const NOT_ONNX_ADVICE =
  "Check that the file is an ONNX model (not a pickle, a .pt checkpoint, a SavedModel or text): export it with your framework's ONNX exporter (torch.onnx.export, skl2onnx, tf2onnx).";
const REEXPORT_OPSET = 'Export it again with a target opset in that range (opset_version in torch.onnx.export, target_opset in skl2onnx and tf2onnx).';

/**
 * Files people mistake for ONNX models, by their first bytes: what the file is and what to do.
 * Consulted only once the bytes have failed to parse as a model with a graph, so a real model is
 * never refused for how it starts.
 */
const NOT_ONNX_FORMATS: Array<{ test: (b: Uint8Array) => boolean; what: string; todo: string }> = [
  {
    test: (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04,
    what: 'a zip archive (a PyTorch .pt/.pth checkpoint or a Keras .keras file?)',
    todo: 'Export the model to ONNX (torch.onnx.export for PyTorch, tf2onnx for Keras) and import the .onnx file.',
  },
  {
    test: (b) => b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5,
    what: 'a Python pickle (a model saved with pickle or joblib?)',
    todo: 'Convert the model to ONNX (skl2onnx for scikit-learn: to_onnx(model, X[:1])) and import the .onnx file.',
  },
  { test: (b) => b[0] === 0x1f && b[1] === 0x8b, what: 'gzip-compressed', todo: 'Decompress it (gunzip) and import the .onnx file inside.' },
  {
    test: (b) => [0x89, 0x48, 0x44, 0x46].every((v, i) => b[i] === v),
    what: 'an HDF5 file (a Keras .h5 model?)',
    todo: 'Convert the model to ONNX with tf2onnx and import the .onnx file.',
  },
  {
    test: (b) => {
      const head = b.subarray(0, 512);
      return head.every((c) => c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c !== 0x7f));
    },
    what: 'text',
    todo: 'An ONNX model is binary protobuf: check that you gave the .onnx file itself, not a text description, a listing or a link to it.',
  },
];

function notOnnx(bytes: Uint8Array): ValidationError | undefined {
  const format = NOT_ONNX_FORMATS.find((f) => f.test(bytes));
  return format && new ValidationError(`The file is not an ONNX model: its ${bytes.length} bytes are ${format.what}. ${format.todo}`, { format: format.what });
}

function decode(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw new ValidationError('ONNX model is empty (0 bytes). Check that you gave the exported .onnx file and that the export finished writing it.');
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw (
      notOnnx(bytes) ??
      // protobufjs throws a RangeError when a length prefix points past the end: what cutting a file short does.
      (error instanceof RangeError
        ? new ValidationError(
            `ONNX model is truncated or corrupt: a field runs past the end of its ${bytes.length} bytes. If the file was cut short (an interrupted export, copy or download), export or copy it again; if it is not an ONNX model, export one with your framework's ONNX exporter (torch.onnx.export, skl2onnx, tf2onnx).`,
            { cause: error.message },
          )
        : new ValidationError(`ONNX model is corrupt: its ${bytes.length} bytes do not parse as an ONNX protobuf (${messageOf(error)}). ${NOT_ONNX_ADVICE}`, {
            cause: messageOf(error),
          }))
    );
  }
  if (!model.graph) {
    throw notOnnx(bytes) ?? new ValidationError(`ONNX model has no graph: its ${bytes.length} bytes parse as protobuf but hold no ONNX graph. ${NOT_ONNX_ADVICE}`);
  }
  return model;
}

function signatureOf(model: ModelProto): OnnxSignature {
  const graph = model.graph as GraphProto;
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const domains = new Set(allNodes(model).map((n) => n.domain ?? ''));
  return {
    irVersion: Number(model.irVersion),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    opsets: model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: Number(o.version) })),
    domains: [...domains].sort(),
    // Before IR 4 every initializer is also a graph input, and from IR 4 such an input is an
    // overridable default: either way it holds weights, not something a caller feeds.
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name)).map(valueInfo),
    outputs: (graph.output ?? []).map(valueInfo),
  };
}

function valueInfo(value: ValueInfoProto): OnnxValueInfo {
  const name = value.name ?? '';
  // Decoded messages carry protobufjs's oneof getters (`value`), which the I-interfaces leave out.
  const type = value.type as onnxProto.onnx.TypeProto | null | undefined;
  switch (type?.value) {
    case 'tensorType': {
      const tensor = type.tensorType!;
      const shape = tensor.shape?.dim?.map((d) => {
        const dim = d as onnxProto.onnx.TensorShapeProto.Dimension;
        return dim.value === 'dimParam' ? String(dim.dimParam) : dim.value === 'dimValue' ? Number(dim.dimValue) : -1;
      });
      return { name, kind: 'tensor', elementType: ELEMENT_TYPES[tensor.elemType ?? 0] ?? `type ${tensor.elemType}`, shape: shape ?? null };
    }
    case 'sequenceType':
      return { name, kind: 'sequence', elementType: null, shape: null };
    case 'mapType':
      return { name, kind: 'map', elementType: null, shape: null };
    case 'optionalType':
      return { name, kind: 'optional', elementType: null, shape: null };
    case 'sparseTensorType':
      return { name, kind: 'sparse-tensor', elementType: null, shape: null };
    default:
      return { name, kind: 'unknown', elementType: null, shape: null };
  }
}

/** Every node: the main graph's, those in control-flow subgraphs (If, Loop, Scan) and those in model-local functions. */
function allNodes(model: ModelProto): NodeProto[] {
  const nodes: NodeProto[] = [];
  const visit = (list: readonly NodeProto[] | null | undefined): void => {
    for (const n of list ?? []) {
      nodes.push(n);
      for (const attribute of n.attribute ?? []) {
        if (attribute.g) visit(attribute.g.node);
        for (const g of attribute.graphs ?? []) visit(g.node);
      }
    }
  };
  visit(model.graph?.node);
  for (const f of model.functions ?? []) visit(f.node);
  return nodes;
}

function checkRuntimeSupport(model: ModelProto, signature: OnnxSignature): void {
  if (signature.irVersion > ONNXRUNTIME_SUPPORT.maxIrVersion) {
    throw new ValidationError(
      `ONNX model has IR version ${signature.irVersion}; onnxruntime-node 1.30 loads IR versions up to ${ONNXRUNTIME_SUPPORT.maxIrVersion}. Export it again with an exporter and onnx package that write IR ${ONNXRUNTIME_SUPPORT.maxIrVersion} or older.`,
    );
  }
  if (signature.opsets.length === 0) {
    throw new ValidationError('ONNX model imports no opset, so the versions of its operators are unknown. Export it again: every ONNX exporter writes the opsets the graph uses (opset_import).');
  }
  for (const { domain, version } of signature.opsets) {
    const range = supportedRange(domain);
    if (range && (version < range.min || version > range.max)) {
      throw new ValidationError(
        `ONNX model imports opset ${version} of domain ${displayDomain(domain)}; onnxruntime-node 1.30 runs opsets ${range.min} to ${range.max} of it. ${REEXPORT_OPSET}`,
        { domain, version },
      );
    }
  }

  // A node may call a function the model itself defines, in any domain; onnxruntime inlines it.
  const local = new Set((model.functions ?? []).map((f) => `${f.domain ?? ''}\u0000${f.name ?? ''}`));
  const refused = new Set<string>();
  for (const n of allNodes(model)) {
    const domain = n.domain ?? '';
    if (!supportedRange(domain) && !local.has(`${domain}\u0000${n.opType ?? ''}`)) refused.add(`"${n.opType}" (domain ${displayDomain(domain)})`);
  }
  if (refused.size > 0) {
    throw new ValidationError(
      `ONNX model uses operator(s) onnxruntime-node cannot run: ${[...refused].join(', ')}. Only operators of the default ONNX domain and ai.onnx.ml are supported: export the model without custom or contrib operators.`,
      { operators: [...refused] },
    );
  }

  const external = externalTensors(model);
  if (external.tensors > 0) {
    throw new ValidationError(
      `ONNX model keeps ${external.tensors} tensor(s) in external data file(s) (${external.files.map((f) => `"${f}"`).join(', ')}), which an import of one file cannot carry. Save it as one file (onnx.save_model(model, path, save_as_external_data=False)) and import that.`,
      { externalFiles: external.files },
    );
  }

  if (signature.inputs.length === 0) {
    throw new ValidationError(
      'ONNX model declares no inputs, so there is nothing to feed it: every graph input is missing or is an initializer (a constant). Export it again with the features as graph inputs.',
    );
  }
  for (const input of signature.inputs) {
    if (input.kind !== 'tensor') {
      throw new ValidationError(
        `Input "${input.name}" is ${input.kind === 'unknown' ? 'of no declared type' : `a ${input.kind}`}; onnxruntime-node feeds only tensors. Export the model with tensor inputs (one per feature, or one [N, features] matrix).`,
        { input: input.name },
      );
    }
    if (!Object.hasOwn(FEEDERS, input.elementType ?? '')) {
      throw new ValidationError(
        `Input "${input.name}" has element type ${input.elementType}, which onnxruntime-node cannot feed from JavaScript. Export the model with a float32, float64, int32, int64, string or bool input (what Steward's scorer feeds), casting inside the graph.`,
        { input: input.name },
      );
    }
  }
  if (signature.outputs.length === 0) {
    throw new ValidationError('ONNX model declares no outputs, so nothing it computes can be read. Export it again with its predictions as graph outputs.');
  }
  if (!signature.outputs.some((o) => o.kind === 'tensor')) {
    throw new ValidationError(
      `ONNX model has no tensor output (${signature.outputs.map((o) => `"${o.name}" is a ${o.kind}`).join(', ')}); onnxruntime-node returns only tensors. For a scikit-learn classifier converted by skl2onnx, convert it with options={id(model): {'zipmap': False}} so the probabilities are a tensor.`,
    );
  }
}

/** Tensors (initializers, also in subgraphs and Constant nodes) whose data lives in files beside the model. */
function externalTensors(model: ModelProto): { tensors: number; files: string[] } {
  const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;
  const tensors: onnxProto.onnx.ITensorProto[] = [];
  const visitGraph = (graph: GraphProto | null | undefined): void => {
    if (!graph) return;
    tensors.push(...(graph.initializer ?? []));
    for (const n of graph.node ?? []) {
      for (const attribute of n.attribute ?? []) {
        if (attribute.t) tensors.push(attribute.t);
        tensors.push(...(attribute.tensors ?? []));
        visitGraph(attribute.g);
        for (const g of attribute.graphs ?? []) visitGraph(g);
      }
    }
  };
  visitGraph(model.graph);
  const external = tensors.filter((t) => t.dataLocation === EXTERNAL);
  const files = new Set(external.map((t) => t.externalData?.find((e) => e.key === 'location')?.value ?? '(unnamed)'));
  return { tensors: external.length, files: [...files].sort() };
}

function supportedRange(domain: string): { min: number; max: number } | undefined {
  if (domain === '' || domain === 'ai.onnx') return ONNXRUNTIME_SUPPORT.opsets[''];
  if (domain === 'ai.onnx.ml') return ONNXRUNTIME_SUPPORT.opsets['ai.onnx.ml'];
  return undefined;
}

function displayDomain(domain: string): string {
  return domain === '' ? 'ai.onnx' : domain;
}

/** Turns onnxruntime's load errors, which quote C++ source locations, into what the importer needs to know. */
function loadError(error: unknown): ValidationError {
  const message = messageOf(error);
  const unregistered = /No Op registered for (\S+) with domain_version of (\d+)/.exec(message);
  if (unregistered) {
    const domain = /In Node, \("[^"]*", [^,]+, "([^"]*)"/.exec(message)?.[1] ?? '';
    return new ValidationError(
      `onnxruntime-node cannot run operator "${unregistered[1]}": no such operator exists in opset ${unregistered[2]} of domain ${displayDomain(domain)}. Check the operator's name and the opsets that define it (https://onnx.ai/onnx/operators/), then export again with standard operators.`,
      { operator: unregistered[1], domain, cause: message },
    );
  }
  const noKernel = /Could not find an implementation for (\S+)\((\d+)\) node/.exec(message);
  if (noKernel) {
    return new ValidationError(
      `onnxruntime-node has no implementation of operator "${noKernel[1]}" (opset ${noKernel[2]}) for the element types the model gives it. Export the model so that operator works on types onnxruntime supports (float32 always is), casting where needed.`,
      {
      operator: noKernel[1],
      cause: message,
    });
  }
  return new ValidationError(
    `onnxruntime-node could not load the ONNX model: ${message} Run onnx.checker.check_model(model, full_check=True) in Python on the file: it names the node at fault.`,
    { cause: message },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The golden-ratio sequence: spread over [0, 1), the same on every run, and needing no seed. */
function spread(i: number): number {
  return ((i + 1) * 0.6180339887498949) % 1;
}

/** Generated values by flat index: zeros in the first row, ones in the second, then spread ones. */
interface SmokeValues {
  real(i: number): number;
  /** 0 or 1, so integers stay valid as indices and flags. */
  integer(i: number): number;
  /** IEEE half bits: 0x3c00 is 1, and the 10 mantissa bits above it spread values over [1, 2). */
  half(i: number): number;
}

type Feeder = (size: number, values: SmokeValues, dims: number[]) => Tensor;

/** Element types onnxruntime-node can build a tensor of from JavaScript, and how the smoke inference fills one. */
const FEEDERS: Record<string, Feeder> = {
  string: (n, _, dims) => new Tensor('string', Array.from({ length: n }, () => ''), dims),
  float32: (n, v, dims) => new Tensor('float32', Float32Array.from({ length: n }, (_, i) => v.real(i)), dims),
  float64: (n, v, dims) => new Tensor('float64', Float64Array.from({ length: n }, (_, i) => v.real(i)), dims),
  float16: (n, v, dims) => new Tensor('float16', Uint16Array.from({ length: n }, (_, i) => v.half(i)), dims),
  int8: (n, v, dims) => new Tensor('int8', Int8Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  uint8: (n, v, dims) => new Tensor('uint8', Uint8Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  bool: (n, v, dims) => new Tensor('bool', Uint8Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  int16: (n, v, dims) => new Tensor('int16', Int16Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  uint16: (n, v, dims) => new Tensor('uint16', Uint16Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  int32: (n, v, dims) => new Tensor('int32', Int32Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  uint32: (n, v, dims) => new Tensor('uint32', Uint32Array.from({ length: n }, (_, i) => v.integer(i)), dims),
  int64: (n, v, dims) => new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(v.integer(i))), dims),
  uint64: (n, v, dims) => new Tensor('uint64', BigUint64Array.from({ length: n }, (_, i) => BigInt(v.integer(i))), dims),
};

/** Symbolic dimensions are `rows` when first and 1 elsewhere; an undeclared rank is fed as one value per row. */
function smokeTensor(input: OnnxValueInfo, rows: number): Tensor {
  const dims = (input.shape ?? [-1]).map((d, axis) => (typeof d === 'number' && d >= 0 ? d : axis === 0 ? rows : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  const rowCount = dims[0] ?? 1;
  const rowOf = (i: number): number => Math.floor((i * rowCount) / size);
  const values: SmokeValues = {
    real: (i) => (rowOf(i) < 2 ? rowOf(i) : spread(i)),
    integer: (i) => (rowOf(i) < 2 ? rowOf(i) : Math.floor(spread(i) * 2)),
    half: (i) => (rowOf(i) === 0 ? 0 : rowOf(i) === 1 ? 0x3c00 : 0x3c00 + Math.floor(spread(i) * 1024)),
  };
  return FEEDERS[input.elementType as string]!(size, values, dims);
}

/** A fixed dimension the graph declares must be what it returns; a mismatch means the graph's declared signature is wrong. */
function checkReturnedShape(declared: OnnxValueInfo, returned: readonly number[]): void {
  if (!declared.shape) return;
  const mismatch =
    declared.shape.length !== returned.length || declared.shape.some((d, axis) => typeof d === 'number' && d >= 0 && d !== returned[axis]);
  if (mismatch) {
    throw new ValidationError(
      `Output "${declared.name}" is declared as [${declared.shape.join(', ')}] but smoke inference returned [${returned.join(', ')}]. Callers rely on the declared shape: fix the output's shape in the graph, or export the model again.`,
      { output: declared.name },
    );
  }
}
