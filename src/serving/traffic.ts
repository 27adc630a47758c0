/**
 * Live traffic for demos and replays: a few HTTP clients posting rows to a scorer's
 * `/predict/{model}` round and round until stopped, counting what was sent and what failed. A
 * deployment's analysis needs requests on every arm; this is how the worked example's demos
 * (`npm run demo:deploy`, the drift replay) give it real requests, rows of a dataset replayed,
 * while a canary runs.
 */
export interface Traffic {
  /** Requests sent so far. */
  readonly sent: number;
  stop(): Promise<{ sent: number; failed: number }>;
}

export function replayTraffic(scorerUrl: string, model: string, rows: readonly Record<string, unknown>[], clients = 4): Traffic {
  if (rows.length === 0) throw new Error('replayTraffic needs at least one row to send.');
  const url = `${scorerUrl.replace(/\/$/, '')}/predict/${encodeURIComponent(model)}`;
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const client = async (c: number) => {
    for (let i = c; !stopped; i += clients) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows[i % rows.length]) }).catch(() => undefined);
      sent++;
      if (!response?.ok) failed++;
      await response?.arrayBuffer().catch(() => undefined);
    }
  };
  const running = Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  return {
    get sent() {
      return sent;
    },
    stop: async () => {
      stopped = true;
      await running;
      return { sent, failed };
    },
  };
}
