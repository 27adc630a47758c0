/**
 * A flight-delay training set in the artifact's shape (examples/flight-delay/features/raw-training-set.ts: departure
 * time, origin, calendar features, distance, origin delay statistics, label), made up from a seed, so
 * that training tests need no ingestion: rows are in departure order, some delay means are missing,
 * and the label depends on the hour, the origin's recent delays and the origin itself.
 */
import { Table, Utf8, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import { mulberry32 } from '../../src/ml/random.js';

const ORIGINS = ['ATL', 'ORD', 'DFW', 'LAX', 'DEN', 'PHX', 'SEA', 'BOI', 'TUS', 'ABQ', 'MSO', 'BZN'];
const START = Date.UTC(2001, 0, 1);

export function syntheticTrainingSet(rows: number, seed = 7): Uint8Array {
  const uniform = mulberry32(seed);
  const departedAt = new Float64Array(rows);
  const hour = new Float64Array(rows);
  const dayOfWeek = new Float64Array(rows);
  const month = new Float64Array(rows);
  const distance = new Float64Array(rows);
  const originDelay7d = new Float64Array(rows);
  const originFlights7d = new Float64Array(rows);
  const label = new Int8Array(rows);
  const origin: string[] = new Array(rows);
  const step = (180 * 86_400_000) / rows;
  for (let i = 0; i < rows; i++) {
    const at = START + i * step;
    const date = new Date(at);
    departedAt[i] = at;
    hour[i] = date.getUTCHours();
    dayOfWeek[i] = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
    month[i] = date.getUTCMonth() + 1;
    // Skewed towards the hubs, so that hub sizes differ.
    const o = Math.floor(ORIGINS.length * uniform() ** 2);
    origin[i] = ORIGINS[o]!;
    distance[i] = 100 + Math.floor(2400 * uniform());
    originDelay7d[i] = i % 53 === 3 ? Number.NaN : 30 * uniform() + o;
    originFlights7d[i] = Math.floor(500 * uniform());
    const risk = -2.2 + 0.09 * hour[i]! + 0.05 * (Number.isNaN(originDelay7d[i]!) ? 10 : originDelay7d[i]!) + (o > 8 ? 0.4 : 0);
    label[i] = uniform() < 1 / (1 + Math.exp(-risk)) ? 1 : 0;
  }
  const table = new Table({
    departedAt: makeVector(departedAt),
    origin: vectorFromArray(origin, new Utf8()),
    hour: makeVector(hour),
    dayOfWeek: makeVector(dayOfWeek),
    month: makeVector(month),
    distance: makeVector(distance),
    originDelay7d: makeVector(originDelay7d),
    originFlights7d: makeVector(originFlights7d),
    label: makeVector(label),
  });
  return tableToIPC(table, 'file');
}
