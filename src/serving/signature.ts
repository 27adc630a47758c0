/**
 * What a loaded model version accepts and answers, compiled once at load time from the session's
 * own metadata (the truth of what will run) and checked against the signature the version was
 * registered with: a version whose registered inputs disagree with its graph is refused before it
 * serves a single request.
 *
 * Every ONNX input is one named feature. Rank-1 ([N]) and [N,1] inputs take one value per row;
 * [N,k] inputs take k values per row (a JSON array). Steward's exports take one [N,1] float input
 * per numeric feature and one [N,1] string input per categorical feature, and impute missing
 * numbers (NaN, or null in JSON) and missing categories ('' or null); for other producers missing
 * values are refused unless the registered signature says `allowMissing: true` for the input.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { ValidationError } from '../errors.js';

export type ElementType = 'float32' | 'float64' | 'int32' | 'int64' | 'string' | 'bool';

/** Open Inference Protocol v2 datatypes by onnxruntime-node's element type names. */
export const OIP_DATATYPES: Readonly<Record<string, string>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  string: 'BYTES',
  bool: 'BOOL',
};

const FEEDABLE: ReadonlySet<string> = new Set<ElementType>(['float32', 'float64', 'int32', 'int64', 'string', 'bool']);

export interface InputSpec {
  name: string;
  type: ElementType;
  /** The OIP datatype a v2 request must give for this input. */
  datatype: string;
  /** The declared shape, -1 where a dimension is not fixed. */
  shape: number[];
  /** Values per row: 1 for [N] and [N,1], k for [N,k]. */
  width: number;
  /** Numeric inputs: NaN/null accepted as missing. String inputs: null accepted and fed as ''. */
  allowMissing: boolean;
}

export interface OutputSpec {
  name: string;
  type: string;
  datatype: string;
  shape: number[];
}

/** The output and column whose value is "the prediction" for statistics, logs and /predict. */
export interface ScoreSpec {
  output: string;
  column: number;
  /** Columns of the output per row (1 for [N] and [N,1]). */
  width: number;
}

export interface ServingSignature {
  inputs: readonly InputSpec[];
  /** Input position by name. */
  index: ReadonlyMap<string, number>;
  outputs: readonly OutputSpec[];
  score: ScoreSpec;
  /** Most rows one request may carry: the batch dimension when the graph fixes it, else unbounded. */
  maxRows: number;
  /** Equal keys mean two versions take exactly the same inputs, so one decoded request serves both. */
  key: string;
}

export interface SignatureSources {
  inputMetadata: readonly InferenceSession.ValueMetadata[];
  outputMetadata: readonly InferenceSession.ValueMetadata[];
  /** As registered in model_versions.signature. */
  registered: unknown;
  /** The ONNX model's producer_name ('steward' for Steward's exports). */
  producer: string;
}

interface DeclaredInput {
  name: string;
  type: string | undefined;
  allowMissing: boolean | undefined;
}

/** Trainers write 'float' and 'string'; imported models carry onnxruntime-node's names. */
const TYPE_ALIASES: Record<string, string> = { float: 'float32', double: 'float64', int: 'int32', long: 'int64', boolean: 'bool' };

export function compileSignature(sources: SignatureSources): ServingSignature {
  const declared = declaredInputs(sources.registered);
  const problems: string[] = [];
  const byName = new Map(declared.map((d) => [d.name, d]));
  const inputs: InputSpec[] = [];
  let maxRows = Number.POSITIVE_INFINITY;
  for (const meta of sources.inputMetadata) {
    if (!meta.isTensor) throw new ValidationError(`Input "${meta.name}" is not a tensor; the scorer feeds only tensors.`);
    if (!FEEDABLE.has(meta.type)) throw new ValidationError(`Input "${meta.name}" has element type ${meta.type}; the scorer feeds ${[...FEEDABLE].join(', ')}.`);
    const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
    if (shape.length < 1 || shape.length > 2) {
      throw new ValidationError(`Input "${meta.name}" has rank ${shape.length} ([${meta.shape.join(', ')}]); the scorer serves inputs of rank 1 ([N]) or 2 ([N, k]).`);
    }
    const width = shape.length === 2 ? shape[1]! : 1;
    if (width < 1) throw new ValidationError(`Input "${meta.name}" does not fix its second dimension ([${meta.shape.join(', ')}]); the scorer needs to know how many values a row has.`);
    if (shape[0]! >= 0) maxRows = Math.min(maxRows, shape[0]!);
    const registered = byName.get(meta.name);
    if (!registered) problems.push(`model input "${meta.name}" is not in the registered signature`);
    else if (registered.type !== undefined && (TYPE_ALIASES[registered.type] ?? registered.type) !== meta.type) {
      problems.push(`input "${meta.name}" is registered as ${registered.type} but the model takes ${meta.type}`);
    }
    const type = meta.type as ElementType;
    const defaultMissing = sources.producer === 'steward' && (type === 'float32' || type === 'float64' || type === 'string');
    inputs.push({ name: meta.name, type, datatype: OIP_DATATYPES[type]!, shape, width, allowMissing: registered?.allowMissing ?? defaultMissing });
  }
  const actual = new Set(sources.inputMetadata.map((m) => m.name));
  const extra = declared.filter((d) => !actual.has(d.name)).map((d) => `"${d.name}"`);
  if (extra.length > 0) problems.push(`registered input(s) ${extra.join(', ')} are not inputs of the model`);
  if (problems.length > 0) throw new ValidationError(`The model does not match its registered signature: ${problems.join('; ')}.`, { problems });

  const outputs: OutputSpec[] = sources.outputMetadata
    .filter((m) => m.isTensor)
    .map((m) => {
      const meta = m as InferenceSession.TensorValueMetadata;
      return { name: meta.name, type: meta.type, datatype: OIP_DATATYPES[meta.type] ?? meta.type.toUpperCase(), shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
    });
  const score = scoreSpec(outputs, sources.registered);
  const key = inputs.map((i) => `${i.name}:${i.type}:${i.shape.join('x')}:${i.allowMissing ? 1 : 0}`).join('|');
  return { inputs, index: new Map(inputs.map((input, i) => [input.name, i])), outputs, score, maxRows, key };
}

function declaredInputs(registered: unknown): DeclaredInput[] {
  const list = (registered as { inputs?: unknown } | null | undefined)?.inputs;
  if (!Array.isArray(list)) throw new ValidationError('The registered signature lists no inputs, so requests cannot be checked against it; re-register the version with its signature.');
  return list.map((entry: unknown) => {
    if (typeof entry === 'string') return { name: entry, type: undefined, allowMissing: undefined };
    const field = (entry ?? {}) as { name?: unknown; type?: unknown; elementType?: unknown; allowMissing?: unknown };
    const type = typeof field.elementType === 'string' ? field.elementType : typeof field.type === 'string' ? field.type : undefined;
    return { name: String(field.name ?? ''), type, allowMissing: typeof field.allowMissing === 'boolean' ? field.allowMissing : undefined };
  });
}

/**
 * The registered `score: { output, column }` when given; otherwise a classifier's P(class 1)
 * ('probabilities' [N,2], column 1), else the first numeric output with one value per row, else
 * column 1 of the first numeric output with two.
 */
function scoreSpec(outputs: readonly OutputSpec[], registered: unknown): ScoreSpec {
  const numeric = outputs.filter((o) => o.type !== 'string' && o.shape.length >= 1 && o.shape.length <= 2);
  const widthOf = (o: OutputSpec) => (o.shape.length === 2 ? o.shape[1]! : 1);
  const declared = (registered as { score?: { output?: unknown; column?: unknown } } | null | undefined)?.score;
  if (declared && typeof declared.output === 'string') {
    const output = numeric.find((o) => o.name === declared.output);
    const column = typeof declared.column === 'number' ? declared.column : 0;
    if (!output) throw new ValidationError(`The registered score output "${declared.output}" is not a numeric output of rank 1 or 2 of the model (outputs: ${outputs.map((o) => `"${o.name}"`).join(', ')}).`);
    const width = widthOf(output);
    if (!Number.isInteger(column) || column < 0 || (width > 0 && column >= width)) throw new ValidationError(`The registered score column ${column} is outside output "${output.name}" (${width} columns).`);
    return { output: output.name, column, width };
  }
  const probabilities = numeric.find((o) => o.name === 'probabilities' && widthOf(o) === 2);
  if (probabilities) return { output: probabilities.name, column: 1, width: 2 };
  const floats = numeric.filter((o) => o.type === 'float32' || o.type === 'float64');
  const single = floats.find((o) => widthOf(o) === 1) ?? numeric.find((o) => widthOf(o) === 1);
  if (single) return { output: single.name, column: 0, width: 1 };
  const pair = floats.find((o) => widthOf(o) === 2);
  if (pair) return { output: pair.name, column: 1, width: 2 };
  throw new ValidationError(
    `Cannot tell which output is the model's score (outputs: ${outputs.map((o) => `"${o.name}" [${o.shape.join(', ')}]`).join(', ')}); register the version with signature.score = { output, column }.`,
  );
}
