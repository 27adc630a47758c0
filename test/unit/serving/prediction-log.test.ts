import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NewPredictionLogRow } from '../../../src/db/schema.js';
import { PredictionLog, type PredictionEntry } from '../../../src/serving/prediction-log.js';

function entry(i: number, extra: Partial<PredictionEntry> = {}): PredictionEntry {
  return {
    requestId: `req-${i}`,
    model: 'flight-delay',
    version: 1,
    arm: 'primary',
    shadow: false,
    records: [{ hour: i, passenger: `person-${i}` }],
    batch: undefined,
    rows: 1,
    scores: Float64Array.of(0.25),
    error: undefined,
    latencyMs: 0.5,
    at: 1_700_000_000_000,
    pii: [],
    ...extra,
  };
}

/** A sink that records what it was given, and can be told to fail. */
function memorySink() {
  const batches: NewPredictionLogRow[][] = [];
  let failing = false;
  return {
    batches,
    fail: (on: boolean) => (failing = on),
    sink: async (rows: NewPredictionLogRow[]) => {
      if (failing) throw new Error('database is down');
      batches.push(rows);
    },
  };
}

afterEach(() => vi.useRealTimers());

describe('the prediction log queue', () => {
  it('writes full batches without waiting for the timer, and the rest on close', async () => {
    const { batches, sink } = memorySink();
    const log = new PredictionLog(sink, { batchSize: 3, flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 7; i++) expect(log.record(entry(i))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    await log.flush();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(log.written).toBe(7);
    log.record(entry(7));
    await log.close();
    expect(batches.flat().map((r) => r.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4', 'req-5', 'req-6', 'req-7']);
    expect(log.record(entry(8))).toBe(false);
    expect(log.dropped).toBe(1);
  });

  it('flushes on its interval', async () => {
    vi.useFakeTimers();
    const { batches, sink } = memorySink();
    const log = new PredictionLog(sink, { batchSize: 100, flushIntervalMs: 1000 });
    log.record(entry(1));
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches).toHaveLength(1);
    await log.close();
  });

  it('drops and counts entries when the queue is full instead of blocking', async () => {
    const { sink } = memorySink();
    const log = new PredictionLog(sink, { capacity: 5, batchSize: 100, flushIntervalMs: 3_600_000 });
    const accepted = Array.from({ length: 8 }, (_, i) => log.record(entry(i)));
    expect(accepted).toEqual([true, true, true, true, true, false, false, false]);
    expect(log.dropped).toBe(3);
    expect(log.queued).toBe(5);
    await log.close();
    expect(log.written).toBe(5);
  });

  it('keeps rows whose insert failed for the next flush, and reports the error', async () => {
    const { batches, sink, fail } = memorySink();
    const errors: string[] = [];
    const log = new PredictionLog(sink, { batchSize: 10, flushIntervalMs: 3_600_000, onError: (e) => errors.push((e as Error).message) });
    log.record(entry(1));
    log.record(entry(2));
    fail(true);
    await log.flush();
    expect(errors).toEqual(['database is down']);
    expect(log.queued).toBe(2);
    fail(false);
    await log.close();
    expect(batches.flat().map((r) => r.requestId)).toEqual(['req-1', 'req-2']);
    expect(log.failed).toBe(0);
  });

  it('stores the sha256 of pii features instead of their values', async () => {
    const { batches, sink } = memorySink();
    const log = new PredictionLog(sink, { piiFeatures: ['passenger'] });
    log.record(entry(1));
    log.record(entry(2, { records: [{ hour: 2, passenger: 'p', seat: '12A' }], pii: ['seat'] }));
    await log.close();
    const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
    expect(batches[0]![0]).toMatchObject({ requestId: 'req-1', inputs: [{ hour: 1, passenger: sha('person-1') }], outputs: [0.25], arm: 'primary', latencyMs: 0.5 });
    expect(batches[0]![1]!.inputs).toEqual([{ hour: 2, passenger: sha('p'), seat: sha('12A') }]);
    expect(JSON.stringify(batches)).not.toContain('person-1');
  });

  it('ends a flush under continuous load: what arrives during it waits for the next one', async () => {
    let i = 0;
    const written: string[] = [];
    // Each insert is slow and, while it runs, a client records as many predictions again.
    const log: PredictionLog = new PredictionLog(
      async (rows) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (let k = 0; k < rows.length; k++) log.record(entry(i++));
        written.push(...rows.map((r) => r.requestId));
      },
      { batchSize: 10, capacity: 1_000_000, flushIntervalMs: 60_000 },
    );
    for (; i < 30; ) log.record(entry(i++));
    await log.flush();
    expect(written).toEqual(Array.from({ length: 30 }, (_, k) => `req-${k}`));
    // A flush asked for during another one covers what was queued when it was asked for.
    const first = log.flush();
    log.record(entry(-1));
    await Promise.all([first, log.flush()]);
    expect(written).toContain('req--1');
    expect(log.queued).toBeGreaterThan(0);
  });
});
