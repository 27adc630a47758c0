/**
 * Models for the scorer's tests, made the way users make them: flight-delay-shaped classifiers
 * trained by Steward's own trainers and exported to ONNX (so every version is a real graph that
 * onnxruntime-node runs), plus hand-built graphs for the failure cases (a model whose score is NaN
 * for some inputs). `memorySource` serves them to a ModelHost without a registry; the integration
 * suites register them in a real one instead.
 */
import onnxProto from 'onnx-proto';
import { trainLogisticRegression } from '../../src/ml/linear.js';
import { exportOnnx } from '../../src/ml/onnx-export.js';
import { mulberry32 } from '../../src/ml/random.js';
import { NotFoundError } from '../../src/errors.js';
import type { Database } from '../../src/db/client.js';
import { sha256Hex, type ArtifactStore } from '../../src/artifacts/index.js';
import { registerModelVersion } from '../../src/registry/models.js';
import type { ModelSource, SourceVersion } from '../../src/serving/model-source.js';

const { onnx } = onnxProto;
const { FLOAT } = onnx.TensorProto.DataType;

export const FIXTURE_NUMERIC = ['hour', 'distance'] as const;
export const FIXTURE_CATEGORICAL = ['origin'] as const;
export const FIXTURE_AIRPORTS = ['ATL', 'ORD', 'SFO', 'JFK'];

/** The signature the flight-delay trainer registers, for the fixture's features. */
export const FIXTURE_SIGNATURE = {
  inputs: [...FIXTURE_NUMERIC.map((name) => ({ name, type: 'float' })), ...FIXTURE_CATEGORICAL.map((name) => ({ name, type: 'string' }))],
  outputs: ['label', 'probabilities'],
};

/**
 * A logistic regression on synthetic flights (late flights: evening departures from ORD), exported
 * to ONNX by Steward. `seed` and `lean` give versions that answer differently for the same rows.
 */
export async function trainFixtureModel(seed = 1, lean = 0): Promise<Uint8Array> {
  const random = mulberry32(seed);
  const n = 400;
  const hour = new Float64Array(n);
  const distance = new Float64Array(n);
  const origin: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    hour[i] = Math.floor(random() * 24);
    distance[i] = 100 + random() * 2000;
    origin.push(FIXTURE_AIRPORTS[i % FIXTURE_AIRPORTS.length]!);
    const logit = (hour[i]! - 14) / 3 + (origin[i] === 'ORD' ? 1 : 0) + lean + (random() - 0.5);
    labels.push(logit > 0 ? 1 : 0);
  }
  const frame = { numeric: { hour, distance }, categorical: { origin } };
  const model = trainLogisticRegression(frame, labels, { C: 1 });
  return (await exportOnnx(model, frame)).onnx;
}

/** A graph whose score is sqrt(x): it loads and warms (sqrt(0) = 0) but scores NaN for negative x. */
export function sqrtModel(): Uint8Array {
  const info = (name: string) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } } });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 15 }],
      producerName: 'serving-tests',
      graph: { name: 'sqrt', node: [{ opType: 'Sqrt', domain: '', input: ['x'], output: ['score'] }], input: [info('x')], output: [info('score')] },
    }),
  ).finish();
}

export const SQRT_SIGNATURE = { inputs: [{ name: 'x', type: 'float32' }], outputs: [{ name: 'score', type: 'float32' }] };

export interface MemoryVersion {
  version: number;
  bytes: Uint8Array;
  signature: unknown;
  metadata?: unknown;
}

/**
 * Versions and aliases held in memory: the registry's contract (resolve by number or alias, 404s
 * naming what is missing) without a database, for unit tests of the host.
 */
export class MemorySource implements ModelSource {
  readonly versions = new Map<string, MemoryVersion[]>();
  readonly aliases = new Map<string, number>();

  add(model: string, version: MemoryVersion): this {
    this.versions.set(model, [...(this.versions.get(model) ?? []), version]);
    return this;
  }

  alias(model: string, alias: string, version: number): this {
    this.aliases.set(`${model}@${alias}`, version);
    return this;
  }

  async resolve(model: string, selector: string | number): Promise<SourceVersion> {
    const number = typeof selector === 'number' || /^[0-9]+$/.test(selector) ? Number(selector) : this.aliases.get(`${model}@${selector}`);
    if (number === undefined) throw new NotFoundError(`Model "${model}" has no alias "${selector}".`);
    const found = this.versions.get(model)?.find((v) => v.version === number);
    if (!found) throw new NotFoundError(`Model "${model}" has no version ${number}.`);
    return { model, version: number, artifactUri: `artifact://sha256/${sha256Hex(found.bytes)}`, signature: found.signature, metadata: found.metadata };
  }

  async read(version: SourceVersion): Promise<Uint8Array> {
    return this.versions.get(version.model)!.find((v) => v.version === version.version)!.bytes;
  }
}

/** A flight-shaped request row. */
export function fixtureRow(i: number): { hour: number; distance: number; origin: string } {
  return { hour: i % 24, distance: 200 + ((i * 37) % 1800), origin: FIXTURE_AIRPORTS[i % FIXTURE_AIRPORTS.length]! };
}

/** Registers a version the way the training pipeline does: the artifact in the store, the version in the registry. */
export async function registerFixture(db: Database, artifacts: ArtifactStore, model: string, bytes: Uint8Array, signature: unknown): Promise<number> {
  const artifact = await artifacts.put(bytes);
  const { version } = await registerModelVersion(db, {
    modelName: model,
    artifactUri: artifact.uri,
    artifactSha256: artifact.sha256,
    trainingSetUri: `artifact://sha256/${'0'.repeat(64)}`,
    metrics: { rocAuc: 0.7 },
    signature,
    runId: `serving-test-${artifact.sha256.slice(0, 12)}`,
    algorithm: 'logistic-regression',
  });
  return version.version;
}
