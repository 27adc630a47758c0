/**
 * The drift tests other than Kolmogorov-Smirnov (ks.ts), each the scipy function Evidently calls:
 * chi-square (scipy.stats.chisquare), the two-proportion z-test, the Wasserstein distance
 * (scipy.stats.wasserstein_distance), Jensen-Shannon (scipy.spatial.distance.jensenshannon), KL
 * divergence (scipy.stats.entropy) and Evidently's PSI.
 */
import { ValidationError } from '../errors.js';
import { sortedFinite, type NumericSample } from './sample.js';
import { mulberry32 } from '../ml/random.js';
import { chiSquareSf, normalTwoSidedP } from './special.js';

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
}

export interface ZTestResult {
  statistic: number;
  pValue: number;
}

/** How many of a sample's values are the "success" value of a binary column, out of how many. */
export interface Proportion {
  successes: number;
  total: number;
}

/**
 * Pearson's chi-square of observed against expected frequencies, scipy.stats.chisquare(f_obs,
 * f_exp). An expected frequency of 0 against a positive observed one makes the statistic Infinity
 * and the p-value 0, as in scipy.
 */
export function chiSquareTest(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  checkFrequencies('chiSquareTest', observed, expected);
  if (observed.length < 2) throw new ValidationError(`chiSquareTest needs at least two categories, got ${observed.length}.`);
  const observedSum = sum(observed);
  const expectedSum = sum(expected);
  // scipy refuses frequencies whose totals differ: the test compares shapes, not sizes.
  const difference = Math.abs(observedSum - expectedSum) / Math.min(observedSum, expectedSum);
  if (difference > 1e-8) {
    throw new ValidationError(
      `chiSquareTest: observed frequencies sum to ${observedSum} but expected ones to ${expectedSum}; they must agree to a relative 1e-8.`,
    );
  }
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i] ?? 0;
    const e = expected[i] ?? 0;
    statistic += ((o - e) * (o - e)) / e;
  }
  const degreesOfFreedom = observed.length - 1;
  return { statistic, pValue: chiSquareSf(statistic, degreesOfFreedom), degreesOfFreedom };
}

/**
 * Evidently's chi-square drift test: current counts against the reference's proportions scaled to
 * the current sample's size.
 */
export function chiSquareFromCounts(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): ChiSquareResult {
  checkFrequencies('chiSquareFromCounts', referenceCounts, currentCounts);
  const scale = sum(currentCounts) / sum(referenceCounts);
  return chiSquareTest(currentCounts, Float64Array.from(referenceCounts, (count) => count * scale));
}

/**
 * The two-sided z-test for equal proportions with a pooled variance, as Evidently computes it:
 * z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n_ref + 1/n_cur)). The p-value is 2 sf(|z|) rather than
 * Evidently's 2 (1 - cdf(|z|)), the same number except that it does not round to 0 past |z| ~ 8.3.
 * When both samples hold one and the same value there is nothing to compare: z = 0 and p = 1.
 */
export function proportionsZTest(reference: Proportion, current: Proportion): ZTestResult {
  for (const [side, p] of [['reference', reference], ['current', current]] as const) {
    if (!Number.isInteger(p.total) || p.total < 1 || !Number.isInteger(p.successes) || p.successes < 0 || p.successes > p.total) {
      throw new ValidationError(
        `proportionsZTest: the ${side} proportion must be whole successes out of a positive total, got ${p.successes} of ${p.total}.`,
      );
    }
  }
  const n1 = reference.total;
  const n2 = current.total;
  const p1 = reference.successes / n1;
  const p2 = current.successes / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  if (pooled === 0 || pooled === 1) return { statistic: 0, pValue: 1 };
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, pValue: normalTwoSidedP(statistic) };
}

/** The first Wasserstein distance between two samples, scipy.stats.wasserstein_distance(u, v). */
export function wassersteinDistance(u: NumericSample, v: NumericSample): number {
  return wassersteinSorted(sortedFinite(u, 'wassersteinDistance: the first sample'), sortedFinite(v, 'wassersteinDistance: the second sample'));
}

/**
 * The integral of |F_u - F_v| for sorted, finite, non-empty samples: one merge, adding the gap to
 * the next value times the CDF difference so far.
 */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  // Neumaier-compensated, written out: this loop runs over millions of values.
  let total = 0;
  let compensation = 0;
  let i = 0;
  let j = 0;
  while (i < u.length || j < v.length) {
    const a = i < u.length ? (u[i] ?? 0) : Number.POSITIVE_INFINITY;
    const b = j < v.length ? (v[j] ?? 0) : Number.POSITIVE_INFINITY;
    const value = a <= b ? a : b;
    while (i < u.length && u[i] === value) i++;
    while (j < v.length && v[j] === value) j++;
    if (i === u.length && j === v.length) break;
    const next = Math.min(i < u.length ? (u[i] ?? 0) : Number.POSITIVE_INFINITY, j < v.length ? (v[j] ?? 0) : Number.POSITIVE_INFINITY);
    const term = Math.abs(i / u.length - j / v.length) * (next - value);
    const t = total + term;
    compensation += Math.abs(total) >= Math.abs(term) ? total - t + term : term - t + total;
    total = t;
  }
  return total + compensation;
}

/** Evidently's floor on the reference's standard deviation, so a constant reference does not divide by 0. */
export const WASSERSTEIN_MIN_NORM = 0.001;

/**
 * Evidently's normed Wasserstein distance: wasserstein_distance(reference, current) divided by
 * max(population std of the reference, 0.001).
 */
export function normedWasserstein(reference: NumericSample, current: NumericSample): number {
  return normedWassersteinSorted(
    sortedFinite(reference, 'normedWasserstein: the reference sample'),
    sortedFinite(current, 'normedWasserstein: the current sample'),
  );
}

export function normedWassersteinSorted(reference: Float64Array, current: Float64Array): number {
  return wassersteinSorted(reference, current) / Math.max(populationStd(reference), WASSERSTEIN_MIN_NORM);
}

/**
 * numpy.std (ddof=0) by two Neumaier-compensated passes. simple-statistics' standardDeviation would
 * need the typed array copied into a plain array first, a second copy of a million-row column.
 */
function populationStd(values: Float64Array): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? 0;
    const t = sum + value;
    compensation += Math.abs(sum) >= Math.abs(value) ? sum - t + value : value - t + sum;
    sum = t;
  }
  const mean = (sum + compensation) / values.length;
  let squares = 0;
  compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const deviation = (values[i] ?? 0) - mean;
    const square = deviation * deviation;
    const t = squares + square;
    compensation += squares >= square ? squares - t + square : square - t + squares;
    squares = t;
  }
  return Math.sqrt((squares + compensation) / values.length);
}

/**
 * The Jensen-Shannon distance between two frequency vectors, scipy.spatial.distance.jensenshannon:
 * both are normalized to sum to 1 first. Natural logarithm unless a base is given (base 2 bounds it
 * by 1). Where rounding makes the divergence a hair below 0 for identical vectors, scipy returns NaN;
 * this returns 0.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number {
  checkFrequencies('jensenShannonDistance', p, q);
  checkBase('jensenShannonDistance', base);
  const pn = normalize(p);
  const qn = normalize(q);
  let left = 0;
  let right = 0;
  for (let i = 0; i < pn.length; i++) {
    const a = pn[i] ?? 0;
    const b = qn[i] ?? 0;
    const m = (a + b) / 2;
    left += relativeEntropy(a, m);
    right += relativeEntropy(b, m);
  }
  let divergence = left + right;
  if (base !== undefined) divergence /= Math.log(base);
  return Math.sqrt(Math.max(0, divergence / 2));
}

/**
 * The Jensen-Shannon distance that `level` (99 in 100) of windows drawn from the reference's own
 * distribution stay below: what sampling noise alone measures, not drift. Estimated by simulation,
 * deterministic for its inputs: `replicates` pairs of a reference sample of `referenceRows` and a
 * window of `currentRows`, both drawn from the reference's frequencies (counts or shares) bin by bin with conditional binomials
 * (so the cost depends on the number of bins, not of rows). A closed form (chi-square / 8) runs low
 * where bins are rare, which is where the noise is. With 223 categories and 2,000 rows a week the
 * floor is about 0.16 in base 2, above Evidently's 0.1: its rule would call every such week drifted.
 */
export function jensenShannonNoiseFloor(
  referenceFrequencies: ArrayLike<number>,
  currentRows: number,
  referenceRows: number,
  base?: number,
  level = 0.99,
  replicates = 400,
): number {
  checkBase('jensenShannonNoiseFloor', base);
  const shares = Array.from(normalize(referenceFrequencies)).filter((share) => share > 0).sort((a, b) => b - a);
  if (shares.length < 2 || currentRows < 1 || referenceRows < 1) return 0;
  const random = mulberry32(0x5eed ^ shares.length ^ Math.imul(currentRows, 2654435761) ^ Math.imul(referenceRows, 40503));
  const reference = new Float64Array(shares.length);
  const current = new Float64Array(shares.length);
  const distances = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) {
    multinomial(shares, referenceRows, random, reference);
    multinomial(shares, currentRows, random, current);
    distances[r] = jensenShannonDistance(reference, current, base);
  }
  distances.sort();
  return distances[Math.min(replicates - 1, Math.ceil(level * replicates) - 1)] ?? 0;
}

/** Counts of `rows` draws over bins with these shares (summing to 1), one conditional binomial per bin. */
function multinomial(shares: readonly number[], rows: number, random: () => number, out: Float64Array): void {
  let remaining = rows;
  let rest = 1;
  for (let i = 0; i < shares.length; i++) {
    const share = shares[i]!;
    const count = i === shares.length - 1 || rest <= share ? remaining : binomial(remaining, share / rest, random);
    out[i] = count;
    remaining -= count;
    rest -= share;
  }
}

/** One draw of Binomial(n, p): by inversion when the expected count of the rarer outcome is small, else the normal approximation. */
function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const flip = p > 0.5;
  const q = flip ? 1 - p : p;
  let x: number;
  if (n * q < 30) {
    // Inversion: walk the probability mass function up from 0.
    const u = random();
    const ratio = q / (1 - q);
    let mass = Math.exp(n * Math.log1p(-q));
    let cumulative = mass;
    x = 0;
    while (cumulative < u && x < n) {
      mass *= (ratio * (n - x)) / (x + 1);
      x++;
      cumulative += mass;
    }
  } else {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    x = Math.min(n, Math.max(0, Math.round(n * q + z * Math.sqrt(n * q * (1 - q)))));
  }
  return flip ? n - x : x;
}

/**
 * The Kullback-Leibler divergence of q from p, scipy.stats.entropy(p, q): both normalized first;
 * Infinity where q has a zero that p does not. Natural logarithm unless a base is given.
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number {
  checkFrequencies('klDivergence', p, q);
  checkBase('klDivergence', base);
  const pn = normalize(p);
  const qn = normalize(q);
  let divergence = 0;
  for (let i = 0; i < pn.length; i++) divergence += relativeEntropy(pn[i] ?? 0, qn[i] ?? 0);
  return base === undefined ? divergence : divergence / Math.log(base);
}

/**
 * Evidently's population stability index, sum of (r - c) ln(r / c) over bins. Every share must be
 * positive: fill empty bins first (histogram.ts fillEmptyShares), as Evidently does.
 */
export function populationStabilityIndex(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  checkFrequencies('populationStabilityIndex', reference, current);
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] ?? 0;
    const c = current[i] ?? 0;
    if (r === 0 || c === 0) {
      throw new ValidationError(
        `populationStabilityIndex needs positive shares, but the ${r === 0 ? 'reference' : 'current'} share of bin ${i} is 0; fill empty bins first (fillEmptyShares).`,
      );
    }
    psi += (r - c) * Math.log(r / c);
  }
  return psi;
}

/** scipy.special.rel_entr. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

function normalize(values: ArrayLike<number>): Float64Array {
  const total = sum(values);
  return Float64Array.from(values, (value) => value / total);
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] ?? 0;
  return total;
}

function checkFrequencies(fn: string, p: ArrayLike<number>, q: ArrayLike<number>): void {
  if (p.length !== q.length) throw new ValidationError(`${fn}: the two frequency vectors differ in length (${p.length} and ${q.length}).`);
  if (p.length === 0) throw new ValidationError(`${fn}: the frequency vectors are empty.`);
  for (const [name, values] of [['first', p], ['second', q]] as const) {
    let positive = false;
    for (let i = 0; i < values.length; i++) {
      const value = values[i] ?? Number.NaN;
      if (!Number.isFinite(value) || value < 0) {
        throw new ValidationError(`${fn}: frequencies must be finite and non-negative; the ${name} vector has ${value} at index ${i}.`);
      }
      if (value > 0) positive = true;
    }
    if (!positive) throw new ValidationError(`${fn}: the ${name} frequency vector is all zeros.`);
  }
}

function checkBase(fn: string, base: number | undefined): void {
  if (base !== undefined && !(Number.isFinite(base) && base > 0 && base !== 1)) {
    throw new ValidationError(`${fn}: the logarithm base must be a positive number other than 1, got ${base}.`);
  }
}
