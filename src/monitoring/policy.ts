/**
 * The retraining policy: given one monitoring window's verdicts and the retrains already decided,
 * retrain or hold, with every number that went into the decision. Time is the window's end, not the
 * wall clock, so a replay of past weeks applies the cool-down and the budget as they would have
 * applied then.
 */
import { ValidationError } from '../errors.js';

export interface RetrainPolicy {
  /** Retrain when the dataset drifts (at least the drift share of columns). */
  onDatasetDrift: boolean;
  /** Retrain when the model's output distribution drifts. */
  onPredictionDrift: boolean;
  /** Retrain when performance decayed past the window's decay threshold. */
  onDecay: boolean;
  /** No new retrain within this many hours after the last one. */
  coolDownHours: number;
  /** At most this many retrains within any `periodDays`. */
  maxRetrainsPerPeriod: number;
  periodDays: number;
}

export const DEFAULT_RETRAIN_POLICY: RetrainPolicy = {
  onDatasetDrift: true,
  onPredictionDrift: false,
  onDecay: true,
  coolDownHours: 24 * 6,
  maxRetrainsPerPeriod: 2,
  periodDays: 30,
};

export interface WindowVerdicts {
  enough: boolean;
  datasetDrift: boolean | null;
  predictionDrift: boolean | null;
  decayed: boolean | null;
  /** The window's end: the policy's "now". */
  at: Date;
  /** For the record: what the verdicts rest on. */
  numbers: Record<string, unknown>;
}

export interface PolicyDecision {
  decision: 'retrain' | 'hold';
  /** Why, in words: each trigger that fired, or what held it back. */
  reasons: string[];
  triggers: string[];
  at: string;
  policy: RetrainPolicy;
  /** Retrains decided within the period before `at`, and the last one. */
  retrainsInPeriod: number;
  lastRetrainAt: string | null;
  numbers: Record<string, unknown>;
}

export function checkRetrainPolicy(policy: RetrainPolicy): RetrainPolicy {
  if (!(policy.coolDownHours >= 0)) throw new ValidationError(`coolDownHours must be 0 or more, got ${policy.coolDownHours}.`);
  if (!Number.isInteger(policy.maxRetrainsPerPeriod) || policy.maxRetrainsPerPeriod < 0) {
    throw new ValidationError(`maxRetrainsPerPeriod must be a whole number of 0 or more, got ${policy.maxRetrainsPerPeriod}.`);
  }
  if (!(policy.periodDays > 0)) throw new ValidationError(`periodDays must be positive, got ${policy.periodDays}.`);
  return policy;
}

/** `previous`: the window ends of earlier retrain decisions for this model. */
export function decideRetrain(verdicts: WindowVerdicts, previous: readonly Date[], policy: RetrainPolicy = DEFAULT_RETRAIN_POLICY): PolicyDecision {
  checkRetrainPolicy(policy);
  const at = verdicts.at.getTime();
  const earlier = previous.map((d) => d.getTime()).filter((t) => t < at);
  const inPeriod = earlier.filter((t) => t > at - policy.periodDays * 86_400_000);
  const last = earlier.length ? Math.max(...earlier) : null;
  const base = {
    at: verdicts.at.toISOString(),
    policy,
    retrainsInPeriod: inPeriod.length,
    lastRetrainAt: last === null ? null : new Date(last).toISOString(),
    numbers: verdicts.numbers,
  };
  if (!verdicts.enough) return { ...base, decision: 'hold', triggers: [], reasons: ['The window had too few rows to decide anything.'] };
  const triggers: string[] = [];
  if (policy.onDatasetDrift && verdicts.datasetDrift === true) triggers.push('dataset drift');
  if (policy.onPredictionDrift && verdicts.predictionDrift === true) triggers.push('prediction drift');
  if (policy.onDecay && verdicts.decayed === true) triggers.push('performance decay');
  if (triggers.length === 0) {
    const undecided = policy.onDecay && verdicts.decayed === null ? ' (decay could not be measured)' : '';
    return { ...base, decision: 'hold', triggers, reasons: [`No trigger fired${undecided}.`] };
  }
  const held: string[] = [];
  if (last !== null && at - last < policy.coolDownHours * 3_600_000) {
    held.push(`Cool-down: the last retrain was decided ${((at - last) / 3_600_000).toFixed(1)} hours before, less than ${policy.coolDownHours}.`);
  }
  if (inPeriod.length >= policy.maxRetrainsPerPeriod) {
    held.push(`Budget: ${inPeriod.length} retrain(s) already in the last ${policy.periodDays} days; at most ${policy.maxRetrainsPerPeriod}.`);
  }
  if (held.length) return { ...base, decision: 'hold', triggers, reasons: [`Triggered by ${triggers.join(', ')}, but held.`, ...held] };
  return { ...base, decision: 'retrain', triggers, reasons: [`Triggered by ${triggers.join(', ')}.`] };
}
