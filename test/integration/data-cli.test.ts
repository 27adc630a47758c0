/**
 * The governance commands as a user runs them, each a fresh `steward` process on an embedded
 * database seeded beforehand: lineage as a tree, JSON and DOT (and an unknown dataset refused),
 * the catalog, access grants and checks, and erasure (and a second erasure of the same entity refused).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Float64, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { apply, ingest, tableSource } from '../../src/features/index.js';
import { artifactDataset, deploymentDataset, featureViewDataset, modelVersionDataset, sourceDataset } from '../../src/lineage/datasets.js';
import type { StepLineage } from '../../src/lineage/step-events.js';
import { createLineageSink } from '../../src/lineage/store.js';
import { runStepWithCache } from '../../src/pipeline/step-runtime.js';
import { stewardBin } from '../support/processes.js';
import { customer, profile } from '../support/customer-features.js';
import { rawFlightsDataset } from '../../examples/flight-delay/data/schema.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}


describe('steward lineage, catalog, access and data erase', { timeout: 600_000 }, () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  function steward(...args: string[]): Promise<CliResult> {
    const child = spawn(process.execPath, [stewardBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }
  async function json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const result = await steward('--json', ...args);
    expect(result.code, `${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  }
  async function jsonError(...args: string[]): Promise<{ code: string; message: string }> {
    const result = await steward('--json', ...args);
    expect(result.code, `${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(1);
    return (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;
  }

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-data-cli-'));
    env = { STEWARD_HOME: home, DATABASE_URL: '', TEMPORAL_ADDRESS: '', STEWARD_TOKEN: '' };
    // Seeded in this process, then closed: the embedded database admits one process at a time.
    const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
    try {
      const db = handle.db;
      const chain: Array<[string, StepLineage]> = [
        ['load', { inputs: [sourceDataset('vega:flights-3m.parquet')], outputs: [rawFlightsDataset('ing-1')] }],
        ['trainingSet', { inputs: [rawFlightsDataset('ing-1'), featureViewDataset('customer_profile')], outputs: [artifactDataset('artifact://sha256/set')] }],
        ['register', { inputs: [artifactDataset('artifact://sha256/set')], outputs: [modelVersionDataset('churn', 1)] }],
        ['promote', { inputs: [modelVersionDataset('churn', 1)], outputs: [deploymentDataset('churn', 'champion')] }],
      ];
      for (const [step, lineage] of chain) {
        await runStepWithCache(
          db,
          { [step]: { run: async () => ({}), lineage: () => lineage } },
          { runId: 'wf-cli', pipeline: 'train-churn', step, uses: step, version: '1', input: {}, cache: false },
          { attempt: 1, heartbeat: () => {}, signal: new AbortController().signal },
          createLineageSink(db),
        );
      }
      await apply(db, [customer, profile]);
      const rows = new Table({
        customer_id: vectorFromArray(['c1', 'c2'], new Utf8()),
        event_at: vectorFromArray([new Date(0), new Date(0)], new TimestampMillisecond()),
        spend: vectorFromArray([10, 20], new Float64()),
        home_zip: vectorFromArray(['10115', '80331'], new Utf8()),
      });
      await ingest(db, 'customer_profile', tableSource(rows, { description: 'test rows' }));
    } finally {
      await handle.close();
    }
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('shows lineage upstream as a tree, downstream as DOT, and refuses an unknown dataset', async () => {
    const tree = await steward('lineage', 'churn@1');
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toContain('model version churn@v1  [upstream]\n└─ job train-churn.register (1 run)\n   └─ artifact artifact://sha256/set');
    expect(tree.stdout).toContain('dataset file/vega:flights-3m.parquet');
    const dot = await steward('lineage', 'raw_flights', '--downstream', '--dot');
    expect(dot.stdout).toContain('"job:train-churn.promote" -> "dataset:steward/deployment:churn@champion";');
    const downstream = await json<{ direction: string; dataset: string }>('lineage', 'feature_view:customer_profile', '--downstream');
    expect(downstream).toMatchObject({ direction: 'downstream', dataset: 'steward/feature_view:customer_profile' });
    expect(await jsonError('lineage', 'flights_raw')).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('Unknown dataset "flights_raw"') });
  });

  it('lists, shows and searches the catalog registered from code', async () => {
    const list = await json<{ datasets: Array<{ name: string }> }>('catalog', 'list');
    expect(list.datasets.map((d) => d.name)).toEqual(expect.arrayContaining(['raw_flights', 'prediction_log', 'feature_view:origin_delays', 'training_set:flight_delay']));
    expect(await json('catalog', 'show', 'raw_flights')).toMatchObject({ kind: 'raw', owner: 'data-platform', sensitivity: 'internal' });
    const search = await json<{ datasets: Array<{ name: string; matched: string[] }> }>('catalog', 'search', 'airport');
    expect(search.datasets.map((d) => d.name)).toContain('raw_flights');
  });

  it('grants and checks access, then erases an entity once', async () => {
    expect(await json('access', 'check', 'nobody', 'train-on', 'feature_view:customer_profile', '--sensitivity', 'pii')).toMatchObject({ allowed: false, audited: true });
    await json('access', 'grant', 'analyst', 'read', 'feature_view:*', '--as', 'admin');
    expect((await json<{ grants: Array<{ role: string }> }>('access', 'list')).grants.map((g) => g.role)).toEqual(['analyst']);
    const erased = await json<{ offline: Record<string, number>; modelVersions: string[]; entityHash: string }>('data', 'erase', '--entity', 'customer_id=c1', '--as', 'dpo');
    expect(erased).toMatchObject({ offline: { customer_profile: 1 }, modelVersions: ['churn@v1'] });
    expect(await jsonError('data', 'erase', '--entity', 'customer_id=c1', '--as', 'dpo')).toMatchObject({ code: 'NOT_FOUND' });
    const text = await steward('data', 'erase', '--entity', 'customer_id=c2', '--as', 'dpo');
    expect(text.stdout).toContain('Model versions trained on data that included it (consider retraining): churn@v1');
    expect(text.stdout).not.toContain('c2');
  });
});
