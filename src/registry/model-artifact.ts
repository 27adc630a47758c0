/**
 * The checks a model artifact passes before a version may point at it: the URI names the hash the
 * caller declares, the stored bytes still hash to it, they parse as an ONNX model, and the model's
 * inputs and outputs are the ones the declared signature promises. A version whose artifact fails
 * any of these would fail only later, at serving time, where the cause is much harder to see.
 */
import { isStewardError, ValidationError } from '../errors.js';
import { inspectOnnxModel, type OnnxValueInfo } from '../ml/onnx-import.js';
import type { ArtifactStore } from '../artifacts/index.js';

const CONTENT_ADDRESSED = /^artifact:\/\/sha256\/([0-9a-f]{64})$/;

/** A content-addressed URI and the declared hash must agree; other URI schemes are not checked here. */
export function checkArtifactReference(modelName: string, artifactUri: string, artifactSha256: string): void {
  const hash = CONTENT_ADDRESSED.exec(artifactUri)?.[1];
  if (hash !== undefined && hash !== artifactSha256) {
    throw new ValidationError(`Cannot register ${modelName}: the artifact URI ${artifactUri} names sha256 ${hash}, but the declared artifactSha256 is ${artifactSha256}.`, {
      model: modelName,
      artifactUri,
      artifactSha256,
    });
  }
}

interface DeclaredField {
  name: string;
  /** Normalized to onnxruntime-node's element type names; undefined when the signature gives none. */
  type: string | undefined;
}

/** Trainers write 'float' and 'string'; imported models carry onnxruntime-node's own names. */
const TYPE_ALIASES: Record<string, string> = { float: 'float32', double: 'float64', int: 'int32', long: 'int64', boolean: 'bool' };

function declaredFields(value: unknown): DeclaredField[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((entry: unknown) => {
    if (typeof entry === 'string') return { name: entry, type: undefined };
    const field = (entry ?? {}) as { name?: unknown; type?: unknown; elementType?: unknown };
    const type = typeof field.elementType === 'string' ? field.elementType : typeof field.type === 'string' ? field.type : undefined;
    return { name: String(field.name ?? ''), type: type === undefined ? undefined : (TYPE_ALIASES[type] ?? type) };
  });
}

function compare(side: 'inputs' | 'outputs', declared: DeclaredField[] | undefined, actual: OnnxValueInfo[]): string[] {
  if (declared === undefined) return [`the signature declares no ${side} list`];
  const problems: string[] = [];
  const actualByName = new Map(actual.map((a) => [a.name, a]));
  const declaredNames = new Set(declared.map((d) => d.name));
  const missing = declared.filter((d) => !actualByName.has(d.name)).map((d) => d.name);
  const undeclared = actual.filter((a) => !declaredNames.has(a.name)).map((a) => a.name);
  if (missing.length) problems.push(`declared ${side} ${missing.map((n) => `"${n}"`).join(', ')} are not in the model`);
  if (undeclared.length) problems.push(`model ${side} ${undeclared.map((n) => `"${n}"`).join(', ')} are not declared`);
  for (const d of declared) {
    const a = actualByName.get(d.name);
    if (a && d.type !== undefined && a.elementType !== null && a.elementType !== d.type) {
      problems.push(`${side.slice(0, -1)} "${d.name}" is declared ${d.type} but the model has ${a.elementType}`);
    }
  }
  return problems;
}

/**
 * Reads the artifact through the store (which verifies its hash) and compares the ONNX model's
 * signature with the declared one. Every refusal is a ValidationError naming the model and the fault.
 */
export async function verifyModelArtifact(
  artifacts: ArtifactStore,
  input: { modelName: string; artifactUri: string; artifactSha256: string; signature: unknown },
): Promise<void> {
  checkArtifactReference(input.modelName, input.artifactUri, input.artifactSha256);
  const refuse = (problem: string, details: Record<string, unknown> = {}) =>
    new ValidationError(`Cannot register ${input.modelName} from ${input.artifactUri}: ${problem}`, { model: input.modelName, artifactUri: input.artifactUri, ...details });
  let bytes: Uint8Array;
  try {
    bytes = await artifacts.get(input.artifactUri);
  } catch (error) {
    if (isStewardError(error) && !error.retryable) throw refuse(error.message, error.details);
    throw error;
  }
  let model;
  try {
    model = inspectOnnxModel(bytes);
  } catch (error) {
    throw refuse(`the artifact is not a readable ONNX model. ${(error as Error).message}`);
  }
  const signature = (input.signature ?? {}) as { inputs?: unknown; outputs?: unknown };
  const problems = [...compare('inputs', declaredFields(signature.inputs), model.inputs), ...compare('outputs', declaredFields(signature.outputs), model.outputs)];
  if (problems.length) {
    throw refuse(`the model does not match its declared signature: ${problems.join('; ')}.`, {
      declared: input.signature,
      actual: { inputs: model.inputs, outputs: model.outputs },
    });
  }
}
