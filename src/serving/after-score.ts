/**
 * What follows a scored request, off its response: the prediction log entry, and the shadow
 * version's copy of the request (validated and scored like a request, logged and counted, never
 * returned to the caller or thrown).
 */
import type { Logger } from '../platform/logger.js';
import type { Hosted } from './host-state.js';
import type { ScoreRequest } from './model-host.js';
import type { PredictionLog } from './prediction-log.js';
import type { ServingSignature } from './signature.js';
import type { Batch } from './validation.js';

export function logPrediction(
  log: PredictionLog | undefined,
  hosted: Hosted,
  request: ScoreRequest,
  arm: string,
  shadow: boolean,
  batch: Batch | undefined,
  scores: Float64Array | undefined,
  error: string | undefined,
  latencyMs: number,
): void {
  if (!log) return;
  const loaded = hosted.loaded;
  log.record({
    requestId: request.requestId,
    model: loaded.model,
    version: loaded.version,
    arm,
    shadow,
    records: request.records,
    batch: request.records || !batch ? undefined : { signature: loaded.signature, batch },
    rows: batch?.rows ?? request.records?.length ?? 0,
    scores,
    error,
    latencyMs,
    at: Date.now(),
    pii: loaded.pii,
  });
}

/** Scores the shadow's copy; the primary's decoded batch is reused when both versions take the same inputs. */
export async function shadowScore(
  hosted: Hosted,
  request: ScoreRequest,
  primarySignature: ServingSignature,
  primaryBatch: Batch,
  options: { log?: PredictionLog; logger?: Pick<Logger, 'warn'> },
): Promise<void> {
  const loaded = hosted.loaded;
  // Retired since the request was answered: nothing to compare with any more.
  if (loaded.isReleased) return;
  const started = performance.now();
  let batch: Batch;
  try {
    batch = loaded.signature.key === primarySignature.key ? primaryBatch : request.decode(loaded.signature);
  } catch (error) {
    hosted.rejected();
    logPrediction(options.log, hosted, request, 'shadow', true, undefined, undefined, (error as Error).message, performance.now() - started);
    return;
  }
  try {
    const { scores } = await loaded.run(batch);
    const latencyMs = performance.now() - started;
    hosted.succeeded(latencyMs, scores);
    logPrediction(options.log, hosted, request, 'shadow', true, batch, scores, undefined, latencyMs);
  } catch (error) {
    hosted.failed();
    options.logger?.warn(`Shadow ${loaded.model} v${loaded.version} failed on request ${request.requestId}: ${(error as Error).message}`);
    logPrediction(options.log, hosted, request, 'shadow', true, batch, undefined, (error as Error).message, performance.now() - started);
  }
}
