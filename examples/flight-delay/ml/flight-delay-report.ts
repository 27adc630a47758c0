/**
 * What the flight-delay evaluation records for the model card beyond its metrics: the validation
 * set it measured, a fairness report across origin airport hub sizes, behavioural checks, and the
 * ROC and calibration curves, all on the held-out (most recent) flights scored by the ONNX model.
 *
 * Fairness groups: flights-3m has no passenger attributes, so the question a reviewer can ask is
 * whether the model serves small airports as well as the big hubs. Each origin is classed by its
 * share of departures in the training rows with the FAA's hub thresholds (large >= 1%, medium
 * >= 0.25%, small >= 0.05%, nonhub below; the FAA uses enplanements, the training rows count
 * departures). Airports absent from the training rows are nonhubs. The reference group is the
 * largest group of the validation set, so the ratios compare every group with the bulk of traffic.
 */
import { rocCurve } from '../../../src/ml/tabular/evaluate.js';

export { rocCurve };
import type { InferenceSession } from 'onnxruntime-node';
import type { BehaviourMetadata, CurvesMetadata, FairnessMetadata, VersionMetadata } from '../../../src/registry/version-metadata.js';
import { directional, invariance, runBehaviouralChecks } from '../../../src/ml/behaviour.js';
import { fairnessReport } from '../../../src/ml/fairness.js';
import { calibrationCurve } from '../../../src/ml/metrics/index.js';
import { selectRows, type CategoricalValue, type FeatureFrame } from '../../../src/ml/preprocessing.js';
import { onnxScorer } from '../../../src/ml/scoring.js';

export const HUB_SIZES = [
  { name: 'large hub', minShare: 0.01 },
  { name: 'medium hub', minShare: 0.0025 },
  { name: 'small hub', minShare: 0.0005 },
  { name: 'nonhub', minShare: 0 },
] as const;

/** Rows the behavioural checks score: each check scores a perturbed copy, so a sample keeps evaluation quick. */
export const BEHAVIOUR_SAMPLE_ROWS = 2_000;
const CALIBRATION_BINS = 10;

/** Expectations a reviewer of a delay model would hold, with tolerances that ignore numerical noise. */
export const FLIGHT_DELAY_CHECKS = [
  directional({
    name: 'a worse week of delays at the origin (+15 min average) never lowers the risk by more than 0.02',
    feature: 'originDelay7d',
    delta: 15,
    expect: 'non-decreasing',
    tolerance: 0.02,
  }),
  invariance({
    name: 'a one-mile change in distance moves the risk by at most 0.01',
    feature: 'distance',
    transform: (miles) => (miles as number) + 1,
    tolerance: 0.01,
  }),
];

export interface FlightDelayReport {
  validation: { description: string; rows: number; positives: number; from: string; to: string };
  fairness: FairnessMetadata;
  behaviour: BehaviourMetadata;
  curves: CurvesMetadata;
}

/** The hub size of every validation row's origin, from the origins' share of the training rows. */
export function hubSizes(trainOrigins: readonly CategoricalValue[], origins: readonly CategoricalValue[]): string[] {
  const departures = new Map<string, number>();
  for (const origin of trainOrigins) departures.set(origin ?? '', (departures.get(origin ?? '') ?? 0) + 1);
  const total = trainOrigins.length;
  return origins.map((origin) => {
    const share = total === 0 ? 0 : (departures.get(origin ?? '') ?? 0) / total;
    return HUB_SIZES.find((h) => share >= h.minShare)!.name;
  });
}


function evenlySpaced(rows: number, count: number): number[] {
  if (rows <= count) return Array.from({ length: rows }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * rows) / count));
}

export async function flightDelayReport(
  session: InferenceSession,
  data: { trainOrigins: readonly CategoricalValue[]; frame: FeatureFrame; labels: Uint8Array; scores: Float64Array; from: string; to: string; testFraction: number },
): Promise<FlightDelayReport> {
  const { frame, labels, scores } = data;
  const rows = labels.length;
  const positives = labels.reduce((n, l) => n + l, 0);

  const groups = hubSizes(data.trainOrigins, frame.categorical?.origin ?? []);
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const referenceGroup = [...sizes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
  const fairness = fairnessReport(labels, scores, groups, { referenceGroup, threshold: 0.5 });
  fairness.groups.sort((a, b) => HUB_SIZES.findIndex((h) => h.name === a.group) - HUB_SIZES.findIndex((h) => h.name === b.group));

  const sample = evenlySpaced(rows, BEHAVIOUR_SAMPLE_ROWS);
  const results = await runBehaviouralChecks(onnxScorer(session, { output: 'probabilities', column: 1 }), selectRows(frame, sample), FLIGHT_DELAY_CHECKS);
  // Sample rows are reported as rows of the validation set.
  for (const r of results) for (const s of r.samples) s.row = sample[s.row]!;

  const calibration = calibrationCurve(labels, scores, { nBins: CALIBRATION_BINS });
  return {
    validation: {
      description: `The most recent ${Math.round(data.testFraction * 100)}% of the training set's flights (departed ${data.from} to ${data.to}), which training never saw, scored by the registered ONNX model in onnxruntime-node.`,
      rows,
      positives,
      from: data.from,
      to: data.to,
    },
    fairness: {
      groupColumn: 'origin hub size',
      groupDescription:
        "Origin airport classed by its share of the training rows' departures with the FAA hub thresholds: large hub >= 1%, medium >= 0.25%, small >= 0.05%, nonhub below (or absent from training). The reference is the largest group in the validation set.",
      ...fairness,
    },
    behaviour: {
      description: `${sample.length.toLocaleString('en-US')} validation rows spread evenly over time, each scored as is and once per perturbed copy.`,
      results: results.map((r) => ({ ...r, samples: r.samples.map((s) => ({ ...s, from: s.from ?? null, to: s.to ?? null })) })),
    },
    curves: {
      roc: rocCurve(labels, scores),
      calibration: { probPred: [...calibration.probPred], probTrue: [...calibration.probTrue], counts: [...calibration.counts] },
    },
  };
}

/** Every input of the flight-delay model, described and tagged; BTS on-time data is public, so none is sensitive. */
export const FLIGHT_DELAY_FEATURES: ReadonlyArray<{ name: string; description: string; tags: string[] }> = [
  { name: 'hour', description: 'Scheduled departure hour (UTC).', tags: ['calendar'] },
  { name: 'dayOfWeek', description: 'ISO day of week of the departure, 1 = Monday.', tags: ['calendar'] },
  { name: 'month', description: 'Month of the departure.', tags: ['calendar'] },
  { name: 'distance', description: 'Route distance in miles.', tags: ['route'] },
  { name: 'originDelay7d', description: "Mean delay (minutes) of the origin's flights in the 7 days before this departure; missing when there were none.", tags: ['point-in-time', 'aggregate'] },
  { name: 'originFlights7d', description: "Number of the origin's flights in the 7 days before this departure.", tags: ['point-in-time', 'aggregate'] },
  { name: 'origin', description: 'Origin airport (IATA code).', tags: ['location', 'high-cardinality'] },
];

export interface FlightDelayMetadataInput {
  model: { algorithm: string; trainRows: number; validatedFrom: string; signature: { inputs: Array<{ name: string; type: string }> } };
  trainingSet: { from: string; label: string };
  /** The chosen candidate's evaluation (Evaluation), as it comes through the pipeline. */
  evaluation: Partial<FlightDelayReport>;
  ranking?: Array<{ algorithm: string; rocAuc: number }>;
  owner?: string;
  source?: string;
}

/** The model card's metadata for a registered flight-delay version, and a one-line description of why it was chosen. */
export function flightDelayVersionMetadata(input: FlightDelayMetadataInput): { description: string; metadata: VersionMetadata } {
  const { model, trainingSet, evaluation, ranking = [] } = input;
  const others = ranking.filter((c) => c.algorithm !== model.algorithm);
  const own = ranking.find((c) => c.algorithm === model.algorithm);
  const auc = (x: number) => x.toFixed(4);
  const description =
    own && others.length
      ? `${model.algorithm}, chosen over ${others.map((c) => `${c.algorithm} (${auc(c.rocAuc)})`).join(', ')} by held-out ROC AUC ${auc(own.rocAuc)}.`
      : `${model.algorithm} trained by the train-flight-delay pipeline.`;
  const types = new Map(model.signature.inputs.map((i) => [i.name, i.type]));
  return {
    description,
    metadata: {
      purpose: `Estimates the probability that a flight departs ${trainingSet.label.replace(/^delay /, 'with a delay ')}, from its calendar, route and the origin airport's trailing 7-day delays, so operations can flag flights at risk before departure. Trained on 2001 US domestic flights; not validated for other years or carriers' schedules.`,
      ...(input.owner ? { owner: input.owner } : {}),
      training: { from: trainingSet.from, to: model.validatedFrom, rows: model.trainRows, label: trainingSet.label, ...(input.source ? { source: input.source } : {}) },
      features: FLIGHT_DELAY_FEATURES.filter((f) => types.has(f.name)).map((f) => ({ ...f, type: types.get(f.name), sensitivity: 'public' as const })),
      ...(evaluation.validation ? { validation: evaluation.validation } : {}),
      ...(evaluation.fairness ? { fairness: evaluation.fairness } : {}),
      ...(evaluation.behaviour ? { behaviour: evaluation.behaviour } : {}),
      ...(evaluation.curves ? { curves: evaluation.curves } : {}),
    },
  };
}
