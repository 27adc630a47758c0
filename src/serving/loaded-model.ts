/**
 * One model version ready to score: its verified bytes loaded into an onnxruntime-node session,
 * its signature compiled, and the session warmed by real inferences. A version becomes a
 * LoadedModel only when every step succeeded, so whoever holds one holds a version that is fully
 * loaded; a failure at any step releases what was created and throws a ModelLoadError naming the
 * step and the reason.
 */
import { InferenceSession, type Tensor } from 'onnxruntime-node';
import { NotFoundError, isStewardError } from '../errors.js';
import { inspectOnnxModel } from '../ml/onnx-import.js';
import { ModelLoadError, ScoringError } from './errors.js';
import { piiFeaturesOf, type ModelSource, type SourceVersion } from './model-source.js';
import { compileSignature, type ServingSignature } from './signature.js';
import { feedsOf, type Batch, type Column } from './validation.js';

export interface RunResult {
  /** One score per row (the signature's score output and column). */
  scores: Float64Array;
  /** Every tensor output, when asked for. */
  outputs?: InferenceSession.ReturnType;
}

/**
 * onnxruntime's intra-op threads spin-wait for work after every run by default. In Node the
 * session runs on the event loop's thread, which also parses and answers HTTP; spinning threads
 * take CPU from it (on 2 cores under load, batch-1 runs took 2-3x longer and 10,000-row runs
 * 1.5-2x). Without spinning the threads sleep between runs.
 */
export const DEFAULT_SESSION_OPTIONS: InferenceSession.SessionOptions = { extra: { session: { intra_op: { allow_spinning: '0' } } } } as InferenceSession.SessionOptions;

export interface LoadOptions {
  /** Session options for onnxruntime-node (threads, graph optimization), over DEFAULT_SESSION_OPTIONS. */
  session?: InferenceSession.SessionOptions;
  /** Rows of the larger warm-up batch (default 64); a batch of one row is run first, three times. */
  warmRows?: number;
}

export class LoadedModel {
  /** Requests running on the session now; a retired version is released when this reaches 0. */
  private running = 0;
  private retired = false;
  private released = false;
  private readonly scoreFetch: string[];
  /** How long reading, checking and warming took. */
  loadMs = 0;

  constructor(
    readonly model: string,
    readonly version: number,
    readonly artifactUri: string,
    readonly session: InferenceSession,
    readonly signature: ServingSignature,
    /** Features tagged pii in the version's metadata. */
    readonly pii: readonly string[],
    readonly loadedAt: Date,
  ) {
    this.scoreFetch = [signature.score.output];
  }

  /** Runs a validated batch. The session is held until the run returns, even if the version is retired meanwhile. */
  async run(batch: Batch, allOutputs = false): Promise<RunResult> {
    if (this.released) throw new ScoringError(`${this.model} v${this.version} was unloaded; retry the request.`);
    this.running++;
    try {
      let results: InferenceSession.ReturnType;
      try {
        results = await this.session.run(feedsOf(this.signature, batch), allOutputs ? this.signature.outputs.map((o) => o.name) : this.scoreFetch);
      } catch (error) {
        throw new ScoringError(`${this.model} v${this.version} failed to score ${batch.rows} row(s): ${(error as Error).message}`, { model: this.model, version: this.version });
      }
      const scores = this.readScores(results[this.signature.score.output] as Tensor, batch.rows);
      return allOutputs ? { scores, outputs: results } : { scores };
    } finally {
      if (--this.running === 0 && this.retired) this.release();
    }
  }

  private readScores(tensor: Tensor, rows: number): Float64Array {
    const { output, column, width } = this.signature.score;
    const dims = tensor.dims;
    if (dims[0] !== rows || (dims.length === 2 ? dims[1] : 1) !== width) {
      throw new ScoringError(`${this.model} v${this.version} returned "${output}" as [${dims.join(', ')}] for ${rows} row(s); expected [${rows}${width > 1 || dims.length === 2 ? `, ${width}` : ''}].`);
    }
    const data = tensor.data as ArrayLike<number | bigint>;
    const scores = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = Number(data[i * width + column]);
      if (v - v !== 0) throw new ScoringError(`${this.model} v${this.version} produced a score of ${v} for row ${i}; a score must be a finite number.`, { model: this.model, version: this.version, row: i });
      scores[i] = v;
    }
    return scores;
  }

  /** Stops taking new work; the session is released once the requests already running finish. */
  retire(): void {
    this.retired = true;
    if (this.running === 0) this.release();
  }

  get isReleased(): boolean {
    return this.released;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    // Releasing twice or after a failed run is harmless; a failure here must not reach a request.
    void this.session.release().catch(() => {});
  }
}

/** Loads, checks and warms a version; nothing is left open when it throws. */
export async function loadModel(source: ModelSource, model: string, selector: string | number, options: LoadOptions = {}): Promise<LoadedModel> {
  const started = performance.now();
  // A selector that names nothing is the caller's mistake (404), not a load failure.
  const found = await source.resolve(model, selector);
  return loadVersion(source, found, options, started);
}

export async function loadVersion(source: ModelSource, found: SourceVersion, options: LoadOptions = {}, started = performance.now()): Promise<LoadedModel> {
  const label = `${found.model} v${found.version}`;
  const fail = (step: string, error: unknown): never => {
    if (error instanceof ModelLoadError || error instanceof NotFoundError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(`Could not load ${label}: ${step} failed: ${reason}`, {
      model: found.model,
      version: found.version,
      step,
      reason,
      ...(isStewardError(error) ? { code: error.code } : {}),
    });
  };
  let bytes: Uint8Array;
  let producer: string;
  try {
    bytes = await source.read(found);
  } catch (error) {
    return fail('reading the artifact', error);
  }
  try {
    producer = inspectOnnxModel(bytes).producerName;
  } catch (error) {
    return fail('reading the ONNX model', error);
  }
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, { ...DEFAULT_SESSION_OPTIONS, ...options.session });
  } catch (error) {
    return fail('creating the onnxruntime session', error);
  }
  try {
    let signature: ServingSignature;
    try {
      signature = compileSignature({ inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata, registered: found.signature, producer });
    } catch (error) {
      return fail('checking the signature', error);
    }
    const loaded = new LoadedModel(found.model, found.version, found.artifactUri, session, signature, piiFeaturesOf(found.metadata), new Date());
    try {
      await warm(loaded, options.warmRows ?? 64);
    } catch (error) {
      return fail('the warm-up inference', error);
    }
    loaded.loadMs = performance.now() - started;
    return loaded;
  } catch (error) {
    await session.release().catch(() => {});
    throw error;
  }
}

/**
 * Real inferences before the version takes traffic, so the first request does not pay for
 * onnxruntime's lazy allocations: one row three times, then a larger batch. Zeros, '' and false
 * are valid for every input a Steward model takes; a model that cannot score them is not ready.
 */
async function warm(model: LoadedModel, rows: number): Promise<void> {
  const batchOf = (n: number): Batch => ({
    rows: n,
    columns: model.signature.inputs.map((spec): Column => {
      const size = n * spec.width;
      switch (spec.type) {
        case 'float32':
          return new Float32Array(size);
        case 'float64':
          return new Float64Array(size);
        case 'int32':
          return new Int32Array(size);
        case 'int64':
          return new BigInt64Array(size);
        case 'bool':
          return new Uint8Array(size);
        case 'string':
          return new Array<string>(size).fill('');
      }
    }),
  });
  const one = batchOf(1);
  for (let i = 0; i < 3; i++) await model.run(one);
  const many = Math.min(rows, model.signature.maxRows);
  if (many > 1) await model.run(batchOf(many), true);
}
