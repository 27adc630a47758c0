/**
 * Champion against challenger on the same recent labelled data: the rows the champion served in a
 * window that have ground truth by now, scored again by both versions' ONNX models in
 * onnxruntime-node, so the two ROC AUCs are measured on exactly the same rows.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Database } from '../db/client.js';
import { ValidationError } from '../errors.js';
import { rocAuc } from '../ml/metrics/index.js';
import type { ArtifactStore } from '../registry/artifacts.js';
import { resolveVersion } from '../registry/lookup.js';
import { readPredictionWindow } from './window.js';

export interface ChallengeInput {
  model: string;
  /** Version number or alias of the champion (whose logged traffic is replayed). */
  champion: string | number;
  challenger: number;
  from: Date;
  to: Date;
  /** Fewer labelled rows than this and no comparison is made. */
  minLabelledRows: number;
}

export interface ChallengeResult {
  rows: number;
  positives: number;
  champion: { version: number; rocAuc: number };
  challenger: { version: number; rocAuc: number };
  /** challenger - champion. */
  improvement: number;
}

export async function compareOnWindow(db: Database, artifacts: ArtifactStore, input: ChallengeInput): Promise<ChallengeResult> {
  const champion = await resolveVersion(db, input.model, input.champion);
  const challenger = await resolveVersion(db, input.model, input.challenger);
  const window = await readPredictionWindow(db, { model: input.model, version: champion.version, from: input.from, to: input.to });
  const labelled: number[] = [];
  window.labels.forEach((label, i) => {
    if (label === label) labelled.push(i);
  });
  const labels = Uint8Array.from(labelled, (i) => (window.labels[i]! > 0.5 ? 1 : 0));
  const positives = labels.reduce((a, b) => a + b, 0);
  if (labelled.length < input.minLabelledRows || positives === 0 || positives === labelled.length) {
    throw new ValidationError(
      `Cannot compare ${input.model} v${challenger.version} with v${champion.version}: the window ${input.from.toISOString()} to ${input.to.toISOString()} has ${labelled.length} labelled rows (${positives} positive); at least ${input.minLabelledRows} with both outcomes are needed.`,
      { labelled: labelled.length, positives },
    );
  }
  const score = async (version: typeof champion): Promise<number> => {
    // The registry checked the declared signature against the ONNX file at registration.
    const types = new Map(((version.signature as { inputs?: Array<{ name: string; type: string }> }).inputs ?? []).map((i) => [i.name, i.type] as const));
    const session = await InferenceSession.create(await artifacts.get(version.artifactUri));
    try {
      const feeds: Record<string, Tensor> = {};
      for (const name of session.inputNames) {
        const values = window.columns[name];
        if (!values) throw new ValidationError(`The logged requests carry no "${name}", which ${input.model} v${version.version} needs.`, { input: name });
        feeds[name] = types.get(name) === 'string'
          ? new Tensor('string', labelled.map((i) => (typeof values[i] === 'string' ? (values[i] as string) : '')), [labelled.length, 1])
          : new Tensor('float32', Float32Array.from(labelled, (i) => (typeof values[i] === 'number' ? (values[i] as number) : Number.NaN)), [labelled.length, 1]);
      }
      const { probabilities } = await session.run(feeds);
      const flat = probabilities!.data as Float32Array;
      return rocAuc(labels, Float64Array.from(labelled, (_, k) => flat[2 * k + 1]!));
    } finally {
      await session.release();
    }
  };
  const championAuc = await score(champion);
  const challengerAuc = await score(challenger);
  return {
    rows: labelled.length,
    positives,
    champion: { version: champion.version, rocAuc: championAuc },
    challenger: { version: challenger.version, rocAuc: challengerAuc },
    improvement: challengerAuc - championAuc,
  };
}
