/**
 * The project's own code: one step and the small pipeline that runs it, beside what Steward builds
 * from the declarations. Steward's steps train and judge a model; they do not know what a fair
 * baseline is for this data. This step says it: the forecast "tomorrow is like today" (persistence)
 * and how often it is right, over every day and over the most recent share the model is validated
 * on, with the share of wet days per month (the season the model cannot see). A model whose
 * accuracy does not beat persistence on the same days has learned nothing worth deploying.
 *
 *   npx steward run summarize-weather --wait      (while `npx steward dev` runs)
 *
 * Write your own steps the same way: zod schemas for input and output, `run`, and what the step
 * reads beyond its input (`fingerprint`, for the cache; `lineage`, for `steward lineage`).
 */
import path from 'node:path';
import { definePipeline, defineStep, sourceDataset, ValidationError, z } from 'steward';
import { readCsv, readTimes, sha256File } from 'steward/data';
import { WEATHER_FILE } from '../features.js';

const month = z.object({
  /** 1 (January) to 12. */
  month: z.number().int().min(1).max(12),
  days: z.number().int(),
  /** Share of the month's days with precipitation above 0 mm. */
  wetShare: z.number(),
  meanPrecipitation: z.number(),
});

/** A path relative to the project's folder (the worker's, or the working folder in a bare test). */
const resolve = (file: string, root: string | undefined) => path.resolve(root ?? process.cwd(), file);

export const summarizeWeather = defineStep({
  name: 'weather.summarize',
  version: '1',
  description: 'Summarize the weather file: wet days per month, and how often "tomorrow is like today" is right',
  input: z.object({
    /** A CSV with the columns date and precipitation, relative to the project's folder. */
    file: z.string().min(1).default(WEATHER_FILE),
    /** The most recent share of days, as the model's testFraction holds them out. */
    testFraction: z.number().gt(0).lt(1).default(0.2),
  }),
  output: z.object({
    days: z.number().int(),
    from: z.string(),
    to: z.string(),
    wetShare: z.number(),
    persistence: z.object({
      /** Share of days whose wet-or-dry is the day before's, over every day with a day before. */
      accuracy: z.number(),
      /** The same over the most recent `testFraction` of those days: compare with the model's validation accuracy. */
      heldOutAccuracy: z.number(),
      heldOutDays: z.number().int(),
    }),
    months: z.array(month),
  }),
  async run(input, ctx) {
    const table = await readCsv(resolve(input.file, ctx.projectRoot), { columns: ['date', 'precipitation'], types: { date: 'timestamp', precipitation: 'float64' } });
    const times = readTimes(table.getChild('date')!);
    const rain = table.getChild('precipitation')!.toArray() as Float64Array;
    const days = table.numRows;
    if (days < 2) throw new ValidationError(`${input.file} has ${days} day(s) of weather; a summary needs at least 2.`, { file: input.file });
    // Day by day in time order (the file may not be sorted).
    const order = Array.from({ length: days }, (_, i) => i).sort((a, b) => times[a]! - times[b]!);
    const wet = order.map((i) => {
      if (!Number.isFinite(rain[i]!)) throw new ValidationError(`${input.file}: column precipitation has no number on data row ${i + 1}; fill it in or drop the row.`, { file: input.file, column: 'precipitation', row: i + 1 });
      return rain[i]! > 0;
    });

    // Persistence: tomorrow is wet exactly when today is. Held out as the model's split holds out examples.
    const right = wet.slice(1).map((tomorrow, k) => tomorrow === wet[k]);
    const cut = Math.floor(right.length * (1 - input.testFraction));
    const share = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;

    const byMonth = new Map<number, { days: number; wet: number; precipitation: number }>();
    for (const i of order) {
      const m = new Date(times[i]!).getUTCMonth() + 1;
      const entry = byMonth.get(m) ?? { days: 0, wet: 0, precipitation: 0 };
      entry.days += 1;
      entry.wet += rain[i]! > 0 ? 1 : 0;
      entry.precipitation += rain[i]!;
      byMonth.set(m, entry);
    }
    ctx.logger?.info(`Summarized ${days} days of ${input.file}`);
    return {
      days,
      from: new Date(times[order[0]!]!).toISOString().slice(0, 10),
      to: new Date(times[order[days - 1]!]!).toISOString().slice(0, 10),
      wetShare: share(wet),
      persistence: { accuracy: share(right), heldOutAccuracy: share(right.slice(cut)), heldOutDays: right.length - cut },
      months: [...byMonth.entries()].sort(([a], [b]) => a - b).map(([m, e]) => ({ month: m, days: e.days, wetShare: e.wet / e.days, meanPrecipitation: e.precipitation / e.days })),
    };
  },
  // The file is read beyond the input (a path): its content keys the cache, so an edited file is summarized again.
  fingerprint: (input, services) => sha256File(resolve(input.file, services.projectRoot)),
  lineage: (input) => ({ inputs: [sourceDataset(input.file)], outputs: [] }),
});

export const summarizeWeatherPipeline = definePipeline({
  name: 'summarize-weather',
  description: 'Wet days per month in the weather file, and the persistence forecast the model has to beat',
  params: z.object({
    file: z.string().default(WEATHER_FILE),
    testFraction: z.coerce.number().gt(0).lt(1).default(0.2),
  }),
  steps: (p) => [summarizeWeather.step('summary', { file: p.file, testFraction: p.testFraction })],
});
