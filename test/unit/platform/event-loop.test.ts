/**
 * PGlite never gives the event loop a turn between queries unless told to: with
 * yieldBetweenQueries, other callbacks run while a run of queries is in progress, and the queries'
 * results are unchanged.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { yieldBetweenQueries } from '../../../src/platform/event-loop.js';

const clients: PGlite[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

/** Runs `queries` queries (half in a transaction) while counting the loop turns that happen meanwhile. */
async function turnsDuring(client: PGlite, queries: number): Promise<{ turns: number; sum: number }> {
  let turns = 0;
  let running = true;
  const turn = () => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  // Let the counter start, then count only the turns taken during the queries.
  await new Promise((resolve) => setImmediate(resolve));
  turns = 0;
  let sum = 0;
  for (let i = 0; i < queries / 2; i++) sum += (await client.query<{ n: number }>('select $1::int + 1 as n', [i])).rows[0]!.n;
  await client.transaction(async (tx) => {
    for (let i = 0; i < queries / 2; i++) sum += (await tx.query<{ n: number }>('select $1::int + 1 as n', [i])).rows[0]!.n;
  });
  const counted = turns;
  running = false;
  return { turns: counted, sum };
}

describe('yieldBetweenQueries', () => {
  it('lets the event loop turn between PGlite queries, inside transactions too', async () => {
    const plain = await PGlite.create();
    const yielding = await PGlite.create();
    clients.push(plain, yielding);
    yieldBetweenQueries(yielding, 0);

    const before = await turnsDuring(plain, 200);
    const after = await turnsDuring(yielding, 200);
    // PGlite alone settles every query in microtasks: nothing else runs until the last one is done.
    expect(before.turns).toBe(0);
    expect(after.turns).toBeGreaterThanOrEqual(200);
    expect(after.sum).toBe(before.sum);
    // Starting PGlite (WebAssembly) takes seconds on a busy machine.
  }, 120_000);
});
