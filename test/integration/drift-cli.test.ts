/**
 * `steward drift ...` as a user runs it: the real binary in a child process against an embedded
 * PGlite seeded with a drift report built from a real assessment (a drifted distance column, an
 * unseen airport, decay). `report` prints the per-column verdicts, `--json` the stored report,
 * `--html --out` a page with the drifted columns' charts; `list` the report with its decision; bad
 * ids and dates are refused with what to do. No Temporal is needed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { profileColumn, profileColumns, type ReferenceProfile } from '../../src/monitoring/index.js';
import { buildDriftReport, type DriftReport } from '../../src/monitoring/report.js';
import { recordDriftDecision, saveDriftReport } from '../../src/monitoring/report-store.js';
import { assessWindow } from '../../src/monitoring/window.js';
import { stewardBin } from '../support/processes.js';

describe('steward drift', { timeout: 300_000 }, () => {
  let home: string;
  const steward = (...args: string[]) => {
    const child = spawn(process.execPath, [stewardBin, ...args], { env: { ...process.env, STEWARD_HOME: home, DATABASE_URL: '', TEMPORAL_ADDRESS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  };
  let stored: DriftReport;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-drift-cli-'));
    const n = 5_000;
    const distance = Float64Array.from({ length: n }, (_, i) => 200 + ((i * 7919) % 1500));
    const origin = Array.from({ length: n }, (_, i) => ['ATL', 'ORD', 'DFW'][i % 3]!);
    const scores = Float64Array.from(distance, (d) => (d - 200) / 1500);
    const profiled = profileColumns({ distance, origin });
    const reference: ReferenceProfile = {
      format: 'steward.reference/v1',
      features: profiled.columns,
      emptyFeatures: [],
      prediction: profileColumn(scores)!,
      validation: { rows: n, positives: n / 2, rocAuc: 0.9, logLoss: 0.4, from: '2001-02-01T00:00:00Z', to: '2001-03-01T00:00:00Z' },
      training: { rows: n, to: '2001-02-01T00:00:00Z' },
    };
    const current = Array.from(distance.subarray(0, 1_000), (d) => d + 600);
    const currentOrigin = origin.slice(0, 1_000).map((o, i) => (i % 10 === 0 ? 'SFO' : o));
    const data = {
      columns: { distance: current, origin: currentOrigin },
      scores: scores.subarray(0, 1_000),
      labels: Float64Array.from({ length: 1_000 }, (_, i) => i % 2),
      requests: 1_000,
      failedRequests: 0,
    };
    stored = buildDriftReport({ id: 'week-23', model: 'flight-delay', version: 2, from: new Date('2001-06-04T00:00:00Z'), to: new Date('2001-06-11T00:00:00Z') }, assessWindow(reference, data), data, reference);
    const handle = await openDatabase({ url: undefined, pgliteDir: path.join(home, 'pglite') });
    try {
      await saveDriftReport(handle.db, stored);
      await handle.db.transaction((tx) => recordDriftDecision(tx, 'week-23', 'retrain', { reasons: ['Triggered by performance decay.'] }));
    } finally {
      await handle.close();
    }
  });

  it('prints a report’s verdicts per column, its JSON, and an HTML page with the charts of drifted columns', async () => {
    const text = await steward('drift', 'report', 'week-23');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Drift report week-23: flight-delay version 2, window 2001-06-04T00:00:00.000Z to 2001-06-11T00:00:00.000Z');
    expect(text.stdout).toMatch(/\n\s*distance\s+wasserstein\s+[\d.]+\s+[\d.]+\s+0\.1\s+drift/);
    expect(text.stdout).toMatch(/origin\s+jensenshannon.*unseen: SFO/);
    expect(text.stdout).toContain('performance decay: ROC AUC');

    const json = await steward('--json', 'drift', 'report', 'week-23');
    expect(JSON.parse(json.stdout)).toEqual(stored);

    const out = path.join(home, 'report.html');
    expect((await steward('drift', 'report', 'week-23', '--html', '--out', out)).code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<figure data-chart="distance"><svg ');
    expect(html).not.toMatch(/<script/i);

    const list = await steward('drift', 'list', 'flight-delay');
    expect(list.stdout).toMatch(/^week-23 {2}v2 {2}2001-06-04T00:00:00\.000Z \.\. 2001-06-11T00:00:00\.000Z {2}rows 1000 {2}drift (yes|no) {2}prediction drift (yes|no) {2}decay (yes|no) {2}decision retrain\n$/);
  });

  it('refuses unknown reports and bad dates with what to do', async () => {
    const missing = await steward('--json', 'drift', 'report', 'nope');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({ error: { code: 'NOT_FOUND', message: 'No drift report "nope". `steward drift list <model>` shows the recent ones.', details: { id: 'nope' } } });
    const bad = await steward('drift', 'check', 'flight-delay', '--from', 'soon', '--to', '2001-06-08');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: --from "soon" is not a date; use ISO 8601, e.g. 2001-06-01 or 2001-06-01T00:00:00Z.\n');
  });
});
