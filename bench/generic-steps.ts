/**
 * npm run bench:generic-steps [-- --rows N] [--repeats N]     (STEWARD_CPU_THREADS sets the pool, as for a worker)
 *
 * The generic steps cost no more than the flight-specific ones they replace (issue 20: within 1.1x):
 * real flights (the first N of vega-datasets flights-3m, default 200,000) are ingested into a fresh
 * PGlite database and turned into the flight training set artifact by examples/flight-delay/features/raw-training-set.ts;
 * on those same bytes each algorithm (logistic regression, gradient-boosted trees) is trained,
 * evaluated and profiled through the flight-specific functions (examples/flight-delay/ml/flight-delay-model.ts) and
 * through the generic ones (src/ml/tabular) given TabularColumns naming the same flight columns,
 * with the same parameters, the same CPU pool and the same artifact store. The two sides alternate
 * which goes first and each figure is the best of the repeats (default 3). Each call is timed whole,
 * as its step would be: reading the artifacts, the pool task, storing the result.
 *
 * Evaluation is reported twice. The flight evaluation always computes fairness by origin hub size
 * and two behavioural checks on 2,000 rows. "like-for-like" gives the generic evaluation the same
 * work: fairness over the same hub-size grouping, declared as a column of the training set
 * (`originHubSize`, classed with the flight report's own hubSizes() from the training rows' origins
 * and added to the artifact both sides read), the same directional check and one invariance check
 * of the same cost (a declaration swaps in values; "plus one mile" is not declarable), permutation
 * importance off. "full" is what a declared model gets by default: the same plus permutation
 * importance (5 shuffles of every feature on 5,000 rows), work the flight evaluation never did.
 *
 * Quality is checked, not just time: both sides must reach the same held-out ROC AUC (within 0.001)
 * and fairness ratio, and where both hold out the same rows they must write byte-identical models
 * (ONNX and JSON) and identical reference feature profiles. The flight split cuts at floor(0.8 n);
 * the generic one holds out every example sharing the boundary's time, so when flights share that
 * minute the bench drops the last few rows until the two cuts coincide (and says so). The process
 * exits non-zero on a quality mismatch only; times are printed, never asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Table, Utf8, vectorFromArray, tableFromIPC, tableToIPC, type Vector } from 'apache-arrow';
import { ingestFlights } from '../examples/flight-delay/data/flights.js';
import { openDatabase } from '../src/db/client.js';
import { buildFlightTrainingSet, CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../examples/flight-delay/features/raw-training-set.js';
import { evaluateFlightDelayModel, profileFlightDelayReference, trainFlightDelayModel, type Evaluation, type TrainOptions as FlightTrainOptions } from '../examples/flight-delay/ml/flight-delay-model.js';
import { hubSizes } from '../examples/flight-delay/ml/flight-delay-report.js';
import { evaluateTabularModel, trainTabularModel, type AlgorithmParams, type TabularColumns, type TabularEvaluation, type TrainingSetRef } from '../src/ml/tabular/index.js';
import { profileTabularReference } from '../src/monitoring/index.js';
import type { BehaviourDeclaration, FairnessDeclaration } from '../src/pipeline/model.js';
import { CpuPool, cpuThreadsSetting } from '../src/platform/cpu-pool.js';
import { createLogger } from '../src/platform/logger.js';
import { LocalArtifactStore } from '../src/artifacts/index.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROWS = Number(option('--rows') ?? 200_000);
const REPEATS = Number(option('--repeats') ?? 3);
if (!Number.isInteger(ROWS) || ROWS < 1_000) throw new Error(`--rows must be a whole number of at least 1,000, got ${option('--rows')}.`);
if (!Number.isInteger(REPEATS) || REPEATS < 1) throw new Error(`--repeats must be a whole number of at least 1, got ${option('--repeats')}.`);

const TEST_FRACTION = 0.2;
const DELAY_THRESHOLD_MINUTES = 15;
const TARGET_RATIO = 1.1;
const AUC_TOLERANCE = 0.001;
const HUB_COLUMN = 'originHubSize';
/** Rows of the warm-up run that loads every task's module in the pool thread before anything is timed. */
const WARM_UP_ROWS = 5_000;

/** The flight training set's columns, declared as any training set's would be. */
const COLUMNS: TabularColumns = { label: 'label', time: 'departedAt', numeric: [...NUMERIC_FEATURES], categorical: [...CATEGORICAL_FEATURES] };

/** Each algorithm with the parameters the flight trainer uses, on both sides. */
const ALGORITHMS: ReadonlyArray<{ label: string; flight: FlightTrainOptions; generic: { algorithm: 'linear' | 'gradient-boosting'; params: AlgorithmParams } }> = [
  {
    label: 'linear (logistic)',
    flight: { algorithm: 'logistic-regression', C: 1, testFraction: TEST_FRACTION },
    generic: { algorithm: 'linear', params: { C: 1, classWeight: 'balanced' } },
  },
  {
    label: 'gradient boosting',
    flight: { algorithm: 'gradient-boosting', maxIter: 100, learningRate: 0.1, testFraction: TEST_FRACTION },
    generic: { algorithm: 'gradient-boosting', params: { maxIter: 100, learningRate: 0.1, seed: 0 } },
  },
];

/** The flight report's grouping and checks, as a declared model states them. */
const FAIRNESS: FairnessDeclaration[] = [{ column: HUB_COLUMN, description: 'Origin airport classed by its share of the training departures (FAA hub thresholds).' }];
const BEHAVIOUR: BehaviourDeclaration[] = [
  {
    kind: 'directional',
    name: 'a worse week of delays at the origin (+15 min average) never lowers the risk by more than 0.02',
    feature: 'originDelay7d',
    delta: 15,
    direction: 'non-decreasing',
    tolerance: 0.02,
  },
  { kind: 'invariance', name: 'a 1,000-mile route moves the risk by at most 0.01', feature: 'distance', values: [1_000], tolerance: 0.01 },
];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-generic-'));
const artifacts = new LocalArtifactStore(path.join(scratch, 'artifacts'));
const pool = new CpuPool({ threads: cpuThreadsSetting(process.env.STEWARD_CPU_THREADS) });
const cpu = { pool };

try {
  // --- the training set --------------------------------------------------------------------------
  console.log(`Ingesting ${ROWS.toLocaleString('en-US')} flights from flights-3m.parquet into PGlite and building the flight training set...`);
  const database = await openDatabase({ url: undefined, pgliteDir: path.join(scratch, 'pglite'), logger: createLogger('warn') });
  let built: { uri: string; rows: number };
  try {
    const { ingestionId } = await ingestFlights(database.db, 'vega:flights-3m.parquet', { rows: ROWS, cpu });
    built = await buildFlightTrainingSet(database.db, artifacts, ingestionId, { delayThresholdMinutes: DELAY_THRESHOLD_MINUTES });
  } finally {
    await database.close();
  }
  const prepared = prepareTrainingSet(tableFromIPC(await artifacts.get(built.uri)));
  const set = await artifacts.put(tableToIPC(prepared.table, 'file'));
  const trainingSet: TrainingSetRef = { uri: set.uri, task: 'binary-classification', columns: COLUMNS };
  const n = prepared.table.numRows;
  console.log(
    `${n.toLocaleString('en-US')} rows (${Math.floor(n * (1 - TEST_FRACTION)).toLocaleString('en-US')} train, ${(n - Math.floor(n * (1 - TEST_FRACTION))).toLocaleString('en-US')} held out)` +
      (prepared.dropped > 0 ? `; dropped the last ${prepared.dropped} of ${built.rows.toLocaleString('en-US')} so both splits cut between two departure times` : '') +
      `. CPU pool: ${pool.threads} thread(s), best of ${REPEATS}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores.`,
  );

  // Every task's module is loaded (and compiled) in the pool's thread once: do it outside the timings.
  const warmUp = await artifacts.put(tableToIPC(prepareTrainingSet(prepared.table.slice(0, WARM_UP_ROWS)).table, 'file'));
  const warmUpSet: TrainingSetRef = { ...trainingSet, uri: warmUp.uri };
  for (const algorithm of ALGORITHMS) {
    const flight = await trainFlightDelayModel(artifacts, warmUp.uri, algorithm.flight, cpu);
    await evaluateFlightDelayModel(artifacts, flight.modelUri, warmUp.uri, { testFraction: TEST_FRACTION }, cpu);
    await profileFlightDelayReference(artifacts, flight.modelUri, warmUp.uri, { testFraction: TEST_FRACTION }, cpu);
    const generic = await trainTabularModel(artifacts, warmUpSet, { ...algorithm.generic, testFraction: TEST_FRACTION }, cpu);
    await evaluateTabularModel(artifacts, generic, warmUpSet, { testFraction: TEST_FRACTION, fairness: FAIRNESS, behaviour: BEHAVIOUR }, cpu);
    await profileTabularReference(artifacts, generic, warmUpSet, { testFraction: TEST_FRACTION }, cpu);
  }

  // --- timing ------------------------------------------------------------------------------------
  type Side = 'flight' | 'generic' | 'genericFull';
  const best = new Map<string, number>();
  const record = (key: string, seconds: number) => best.set(key, Math.min(best.get(key) ?? Infinity, seconds));
  const timed = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const value = await fn();
    record(key, (performance.now() - start) / 1000);
    return value;
  };
  /** Both (or all three) sides, in an order that alternates with the repeat. */
  const inTurn = async (repeat: number, sides: Side[], run: (side: Side) => Promise<void>) => {
    for (const side of repeat % 2 === 0 ? sides : [...sides].reverse()) await run(side);
  };

  const results = ALGORITHMS.map(() => ({} as {
    flightModel?: Awaited<ReturnType<typeof trainFlightDelayModel>>;
    genericModel?: Awaited<ReturnType<typeof trainTabularModel>>;
    flightEvaluation?: Evaluation;
    genericEvaluation?: TabularEvaluation;
    genericFullEvaluation?: TabularEvaluation;
    flightProfile?: { uri: string; validationRocAuc: number };
    genericProfile?: { uri: string; validationRocAuc?: number };
  }));

  for (let repeat = 0; repeat < REPEATS; repeat++) {
    console.log(`Repeat ${repeat + 1} of ${REPEATS} (${repeat % 2 === 0 ? 'flight-specific' : 'generic'} first)...`);
    for (const [a, algorithm] of ALGORITHMS.entries()) {
      const r = results[a]!;
      await inTurn(repeat, ['flight', 'generic'], async (side) => {
        if (side === 'flight') r.flightModel = await timed(`train/${a}/flight`, () => trainFlightDelayModel(artifacts, set.uri, algorithm.flight, cpu));
        else r.genericModel = await timed(`train/${a}/generic`, () => trainTabularModel(artifacts, trainingSet, { ...algorithm.generic, testFraction: TEST_FRACTION }, cpu));
      });
    }
    for (const [a] of ALGORITHMS.entries()) {
      const r = results[a]!;
      await inTurn(repeat, ['flight', 'generic', 'genericFull'], async (side) => {
        if (side === 'flight') r.flightEvaluation = await timed(`evaluate/${a}/flight`, () => evaluateFlightDelayModel(artifacts, r.flightModel!.modelUri, set.uri, { testFraction: TEST_FRACTION }, cpu));
        else {
          const importance = side === 'genericFull';
          const evaluation = await timed(`evaluate/${a}/${side}`, () =>
            evaluateTabularModel(artifacts, r.genericModel!, trainingSet, { testFraction: TEST_FRACTION, fairness: FAIRNESS, behaviour: BEHAVIOUR, importance }, cpu),
          );
          if (importance) r.genericFullEvaluation = evaluation;
          else r.genericEvaluation = evaluation;
        }
      });
    }
    for (const [a] of ALGORITHMS.entries()) {
      const r = results[a]!;
      await inTurn(repeat, ['flight', 'generic'], async (side) => {
        if (side === 'flight') r.flightProfile = await timed(`profile/${a}/flight`, () => profileFlightDelayReference(artifacts, r.flightModel!.modelUri, set.uri, { testFraction: TEST_FRACTION }, cpu));
        else r.genericProfile = await timed(`profile/${a}/generic`, () => profileTabularReference(artifacts, r.genericModel!, trainingSet, { testFraction: TEST_FRACTION }, cpu));
      });
    }
  }

  // --- the table ---------------------------------------------------------------------------------
  const seconds = (key: string) => best.get(key)!;
  const rows: Array<{ phase: string; algorithm: string; flight: number; generic: number }> = [];
  for (const [a, algorithm] of ALGORITHMS.entries()) {
    rows.push({ phase: 'train', algorithm: algorithm.label, flight: seconds(`train/${a}/flight`), generic: seconds(`train/${a}/generic`) });
    rows.push({ phase: 'evaluate, like-for-like', algorithm: algorithm.label, flight: seconds(`evaluate/${a}/flight`), generic: seconds(`evaluate/${a}/generic`) });
    rows.push({ phase: 'evaluate, full (+importance)', algorithm: algorithm.label, flight: seconds(`evaluate/${a}/flight`), generic: seconds(`evaluate/${a}/genericFull`) });
    rows.push({ phase: 'profile', algorithm: algorithm.label, flight: seconds(`profile/${a}/flight`), generic: seconds(`profile/${a}/generic`) });
  }
  const sum = (phases: string[], side: 'flight' | 'generic') => rows.filter((r) => phases.includes(r.phase)).reduce((total, r) => total + r[side], 0);
  for (const [label, evaluate] of [
    ['all steps, like-for-like', 'evaluate, like-for-like'],
    ['all steps, full', 'evaluate, full (+importance)'],
  ] as const) {
    const phases = ['train', evaluate, 'profile'];
    rows.push({ phase: label, algorithm: 'both', flight: sum(phases, 'flight'), generic: sum(phases, 'generic') });
  }

  console.log(`\n${'phase'.padEnd(30)}${'algorithm'.padEnd(20)}${'flight s'.padStart(10)}${'generic s'.padStart(11)}${'ratio'.padStart(8)}  within ${TARGET_RATIO}x`);
  for (const r of rows) {
    const ratio = r.generic / r.flight;
    console.log(`${r.phase.padEnd(30)}${r.algorithm.padEnd(20)}${r.flight.toFixed(2).padStart(10)}${r.generic.toFixed(2).padStart(11)}${`${ratio.toFixed(2)}x`.padStart(8)}  ${ratio <= TARGET_RATIO ? 'yes' : 'NO'}`);
  }
  console.log(
    `like-for-like: the generic evaluation declares fairness over ${HUB_COLUMN} and two behavioural checks, importance off; full: the same with permutation importance (the default), which the flight evaluation never computes.`,
  );

  // --- quality -----------------------------------------------------------------------------------
  console.log('\nQuality (flight-specific vs generic, on the same rows):');
  const failures: string[] = [];
  for (const [a, algorithm] of ALGORITHMS.entries()) {
    const r = results[a]!;
    const flight = r.flightModel!;
    const generic = r.genericModel!;
    const sameSplit = flight.trainRows === generic.trainRows && flight.validationRows === generic.validationRows;
    const sameOnnx = flight.modelSha256 === generic.modelSha256;
    const sameSpec = flight.specUri === generic.specUri;
    const aucDiff = r.genericEvaluation!.metrics.rocAuc! - r.flightEvaluation!.rocAuc;
    const fullAucDiff = r.genericFullEvaluation!.metrics.rocAuc! - r.flightEvaluation!.rocAuc;
    const fairnessDiff = (r.genericEvaluation!.fairness[0] as { minDisparateImpactRatio: number | null }).minDisparateImpactRatio! - r.flightEvaluation!.fairness.minDisparateImpactRatio!;
    const flightReference = JSON.parse(new TextDecoder().decode(await artifacts.get(r.flightProfile!.uri))) as { features: unknown; prediction: unknown };
    const genericReference = JSON.parse(new TextDecoder().decode(await artifacts.get(r.genericProfile!.uri))) as { features: unknown; prediction: unknown };
    const sameProfile = JSON.stringify([flightReference.features, flightReference.prediction]) === JSON.stringify([genericReference.features, genericReference.prediction]);
    const profileAucDiff = r.genericProfile!.validationRocAuc! - r.flightProfile!.validationRocAuc;
    const yes = (same: boolean) => (same ? 'identical' : 'differs');
    console.log(`  ${algorithm.label}:`);
    console.log(`    split            ${sameSplit ? `same (${flight.trainRows} train, ${flight.validationRows} held out)` : `differs (train ${flight.trainRows} vs ${generic.trainRows})`}`);
    console.log(`    model bytes      ONNX ${yes(sameOnnx)} (${flight.modelSha256.slice(0, 12)} vs ${generic.modelSha256.slice(0, 12)}), JSON ${yes(sameSpec)}`);
    console.log(`    held-out ROC AUC ${r.flightEvaluation!.rocAuc.toFixed(6)} vs ${r.genericEvaluation!.metrics.rocAuc!.toFixed(6)} (diff ${aucDiff.toExponential(1)}; full evaluation ${fullAucDiff.toExponential(1)})`);
    console.log(`    hub-size fairness min disparate impact ratio diff ${fairnessDiff.toExponential(1)}`);
    console.log(`    reference        features and prediction profiles ${yes(sameProfile)}, validation ROC AUC diff ${profileAucDiff.toExponential(1)}`);
    for (const [what, diff] of [
      ['evaluation ROC AUC', aucDiff],
      ['full evaluation ROC AUC', fullAucDiff],
      ['reference ROC AUC', profileAucDiff],
    ] as const) {
      if (!(Math.abs(diff) <= AUC_TOLERANCE)) failures.push(`${algorithm.label}: ${what} differs by ${diff} (> ${AUC_TOLERANCE})`);
    }
    if (sameSplit) {
      if (!sameOnnx || !sameSpec) failures.push(`${algorithm.label}: the same rows and parameters gave different model bytes`);
      if (!sameProfile) failures.push(`${algorithm.label}: the same model and rows gave different reference feature profiles`);
      if (!(Math.abs(fairnessDiff) <= 1e-12)) failures.push(`${algorithm.label}: the same model and grouping gave a different disparate impact ratio (${fairnessDiff})`);
    } else {
      failures.push(`${algorithm.label}: the two sides held out different rows, so their models cannot be compared byte for byte`);
    }
  }
  if (failures.length > 0) {
    console.error(`\nQuality mismatch:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`Both sides give equal models (identical bytes, |ROC AUC diff| <= ${AUC_TOLERANCE}).`);
  }
} finally {
  await pool.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}

/**
 * The flight training set both sides read: the rows cut so that the flight split (floor of 80%) and
 * the generic one (every example at the boundary's time held out) coincide, plus the origin's hub
 * size classed from the training rows, as a column the generic evaluation's fairness can name.
 */
function prepareTrainingSet(table: Table): { table: Table; dropped: number } {
  const times = table.getChild(COLUMNS.time)!.toArray() as Float64Array;
  let rows = table.numRows;
  const cut = (m: number) => Math.floor(m * (1 - TEST_FRACTION));
  while (rows > 2 && times[cut(rows)] === times[cut(rows) - 1]) rows--;
  const trimmed = rows === table.numRows ? table : table.slice(0, rows);
  const origins = trimmed.getChild('origin')!.toArray() as string[];
  const hubs = hubSizes(origins.slice(0, cut(rows)), origins);
  const columns: Record<string, Vector> = Object.fromEntries(trimmed.schema.fields.map((f) => [f.name, trimmed.getChild(f.name)!]));
  columns[HUB_COLUMN] = vectorFromArray(hubs, new Utf8());
  return { table: new Table(columns), dropped: table.numRows - rows };
}
