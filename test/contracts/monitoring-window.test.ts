/**
 * Reading a monitoring window from the prediction log, on both drivers: only the version's primary
 * predictions inside [from, to), rows of multi-row requests in order, ground truth joined by request
 * id and row, failed requests counted and left out; and a version without stored reference
 * statistics refused with what to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { predictionLog, type NewPredictionLogRow } from '../../src/db/schema.js';
import { NotFoundError, ValidationError } from '../../src/errors.js';
import { profileColumn, profileColumns, type ReferenceProfile } from '../../src/monitoring/index.js';
import { buildDriftReport } from '../../src/monitoring/report.js';
import { getDriftReport, listDriftReports, recordDriftDecision, retrainDecisionsSince, saveDriftReport } from '../../src/monitoring/report-store.js';
import { loadVersionReference, monitorWindow, readPredictionWindow } from '../../src/monitoring/window.js';
import { LocalArtifactStore } from '../../src/artifacts/index.js';
import { setAlias } from '../../src/registry/aliases.js';
import { renderModelCard } from '../../src/registry/model-card.js';
import { registerModelVersion } from '../../src/registry/models.js';
import { attachGroundTruth } from '../../src/serving/ground-truth.js';
import { describeEachDriver, useTestDatabase } from '../support/databases.js';
import { approveVersion } from '../support/registry-fixtures.js';

const at = (minutes: number) => new Date(Date.UTC(2001, 5, 1, 0, minutes));

function logRow(requestId: string, minute: number, inputs: Record<string, unknown>[], outputs: number[] | null, extra: Partial<NewPredictionLogRow> = {}): NewPredictionLogRow {
  return { requestId, modelName: 'delay', version: 1, arm: 'primary', shadow: false, rows: inputs.length, inputs, outputs, error: outputs ? null : 'boom', latencyMs: 1, at: at(minute), ...extra };
}

describeEachDriver('monitoring window', (driver) => {
  const db = useTestDatabase(driver);

  it('reads the version’s primary predictions in the window, row by row, with their ground truth', async () => {
    await db.handle.db.insert(predictionLog).values([
      logRow('r1', 0, [{ distance: 500, origin: 'ORD' }], [0.2]),
      logRow('r2', 5, [{ distance: 900, origin: 'ATL' }, { distance: 1200, origin: null }], [0.4, 0.7]),
      logRow('r3', 6, [{ distance: 100, origin: 'DFW' }], null),
      logRow('r2', 5, [{ distance: 900, origin: 'ATL' }, { distance: 1200, origin: null }], [0.5, 0.6], { shadow: true, arm: 'shadow', version: 2 }),
      logRow('r4', 7, [{ distance: 300, origin: 'LAX' }], [0.1], { version: 2 }),
      logRow('r5', 60, [{ distance: 300, origin: 'LAX' }], [0.1]),
    ]);
    await attachGroundTruth(db.handle.db, 'r2', [{ row: 1, value: 1 }]);
    await attachGroundTruth(db.handle.db, 'r1', [{ row: 0, value: 0 }]);
    await attachGroundTruth(db.handle.db, 'r5', [{ row: 0, value: 1 }]);

    const window = await readPredictionWindow(db.handle.db, { model: 'delay', version: 1, from: at(0), to: at(60) });
    expect(window.columns).toEqual({ distance: [500, 900, 1200], origin: ['ORD', 'ATL', null] });
    expect(Array.from(window.scores)).toEqual([0.2, 0.4, 0.7]);
    expect(Array.from(window.labels)).toEqual([0, Number.NaN, 1]);
    expect(window).toMatchObject({ requests: 2, failedRequests: 1 });
  });

  it('refuses an empty or inverted window', async () => {
    await expect(readPredictionWindow(db.handle.db, { model: 'delay', version: 1, from: at(5), to: at(5) })).rejects.toThrow(ValidationError);
  });

  it('assesses a window against the reference artifact a version carries, and refuses a version without one', async () => {
    const artifacts = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-monitoring-')));
    const profiled = profileColumns({ distance: Float64Array.from({ length: 2_000 }, (_, i) => 100 + i), origin: Array.from({ length: 2_000 }, (_, i) => (i % 2 ? 'ORD' : 'ATL')) });
    const reference: ReferenceProfile = {
      format: 'steward.reference/v1',
      features: profiled.columns,
      emptyFeatures: [],
      prediction: profileColumn(Float64Array.from({ length: 500 }, (_, i) => i / 500))!,
      validation: { rows: 500, positives: 250, rocAuc: 0.8, logLoss: 0.5, from: '2001-03-01T00:00:00Z', to: '2001-04-01T00:00:00Z' },
      training: { rows: 2_000, to: '2001-03-01T00:00:00Z' },
    };
    const stored = await artifacts.put(new TextEncoder().encode(JSON.stringify(reference)));
    const hexes = ['a', 'b'].map((c) => c.repeat(64));
    for (const [i, sha] of hexes.entries()) {
      await registerModelVersion(db.handle.db, {
        modelName: 'delay',
        artifactUri: `artifact://sha256/${sha}`,
        artifactSha256: sha,
        trainingSetUri: `artifact://sha256/${'c'.repeat(64)}`,
        metrics: { rocAuc: 0.8 },
        signature: { inputs: [{ name: 'distance', type: 'float' }, { name: 'origin', type: 'string' }], outputs: ['label', 'probabilities'] },
        runId: `run-${i}`,
        ...(i === 0
          ? { metadata: { reference: { uri: stored.uri, sha256: stored.sha256, features: ['distance', 'origin'], trainRows: 2_000, validationRows: 500, validationRocAuc: 0.8 } } }
          : {}),
      });
    }
    await approveVersion(db.handle.db, 'delay', 1);
    await setAlias(db.handle.db, { modelName: 'delay', alias: 'champion', version: 1, actor: 'ada', reason: 'test' });
    const loaded = await loadVersionReference(db.handle.db, artifacts, 'delay', 'champion');
    expect(loaded).toEqual({ version: 1, reference });
    const { assessment, version } = await monitorWindow(db.handle.db, artifacts, { model: 'delay', from: at(0), to: at(60), minRows: 2, minLabelledRows: 2 });
    expect(version).toBe(1);
    expect(assessment).toMatchObject({ enough: true, rows: 3, labelledRows: 2 });
    expect(assessment.inputDrift?.columns.find((c) => c.column === 'origin')?.counts.current).toMatchObject({ missing: 1, used: 2 });
    // The report is stored once per id, read back as written, and carries the policy's decision.
    const { data, reference: loadedReference } = await monitorWindow(db.handle.db, artifacts, { model: 'delay', from: at(0), to: at(60), minRows: 2, minLabelledRows: 2 });
    const report = buildDriftReport({ id: 'run-1', model: 'delay', version: 1, from: at(0), to: at(60) }, assessment, data, loadedReference);
    const saved = await saveDriftReport(db.handle.db, report, { runId: 'wf-1' });
    expect(saved).toMatchObject({ id: 'run-1', modelName: 'delay', version: 1, rows: 3, enough: true, decision: null, runId: 'wf-1' });
    expect(await saveDriftReport(db.handle.db, { ...report, rows: 99 })).toMatchObject({ rows: 3 });
    expect(await getDriftReport(db.handle.db, 'run-1')).toEqual(report);
    await db.handle.db.transaction((tx) => recordDriftDecision(tx, 'run-1', 'retrain', { why: 'test' }));
    expect((await listDriftReports(db.handle.db, 'delay')).map((r) => [r.id, r.decision, r.decisionDetails])).toEqual([['run-1', 'retrain', { why: 'test' }]]);
    expect(await retrainDecisionsSince(db.handle.db, 'delay', at(60))).toEqual([{ id: 'run-1', windowTo: at(60) }]);
    expect(await retrainDecisionsSince(db.handle.db, 'delay', at(61))).toEqual([]);
    // The model card shows the reference and the version's reports with their decisions; version 2 says it has neither.
    const card = await renderModelCard(db.handle.db, 'delay', 1, { format: 'markdown' });
    expect(card).toContain('## Monitoring');
    expect(card).toContain('2 features over 2,000 training rows; predictions over 500 validation rows');
    expect(card).toMatch(/\| run-1 \| 2001-06-01T00:00:00\.000Z to 2001-06-01T01:00:00\.000Z \| 3 \| (yes|no) \| (yes|no) \| (yes|no|not decided) \| retrain \|/);
    const other = await renderModelCard(db.handle.db, 'delay', 2, { format: 'markdown' });
    expect(other).toContain('No reference profile for drift monitoring was recorded for this version.');
    expect(other).toContain('No monitoring run has checked this version yet');
    await expect(getDriftReport(db.handle.db, 'nope')).rejects.toThrow('No drift report "nope". `steward drift list <model>` shows the recent ones.');

    await expect(loadVersionReference(db.handle.db, artifacts, 'delay', 2)).rejects.toThrow(NotFoundError);
    await expect(loadVersionReference(db.handle.db, artifacts, 'delay', 2)).rejects.toThrow(/delay version 2 has no reference statistics .* retrain it with its train pipeline \(train-delay for a declared model\)/);
  });
});
