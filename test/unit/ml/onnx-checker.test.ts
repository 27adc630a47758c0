/**
 * Every ONNX export Steward makes passes ONNX's own reference checker,
 * `onnx.checker.check_model(model, full_check=True)`: the structural checks plus strict shape and
 * type inference over the whole graph, which is what other ONNX tools (converters, optimizers,
 * other runtimes) rely on. onnxruntime-node is more lenient, so the export tests that score in it
 * would not notice an untyped value.
 *
 * The checker is Python's: Debian's python3-onnx, run with /usr/bin/python3 (not a pyenv python,
 * which would not see Debian's package; STEWARD_TEST_PYTHON names another interpreter). Without
 * it this file fails in CI (CI set) and is skipped, saying so, on a developer's machine.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainGradientBoosting } from '../../../src/ml/gradient-boosting.js';
import { trainLinearRegression, trainLogisticRegression } from '../../../src/ml/linear.js';
import type { Model } from '../../../src/ml/model.js';
import { exportOnnx } from '../../../src/ml/onnx-export.js';
import type { FeatureFrame } from '../../../src/ml/preprocessing.js';

const PYTHON = process.env.STEWARD_TEST_PYTHON || '/usr/bin/python3';
const INSTALL = 'apt-get update && apt-get install -y python3-onnx';

/** The onnx version /usr/bin/python3 imports, or why it cannot. */
function probeOnnx(): { version: string } | { missing: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  if (probe.error) return { missing: `${PYTHON} cannot be run (${probe.error.message})` };
  if (probe.status !== 0) return { missing: `${PYTHON} cannot import onnx (${probe.stderr.trim().split('\n').at(-1)})` };
  return { version: probe.stdout.trim() };
}

/** Checks each file with the full checker in one Python process; the checker's message per file, or null when it passes. */
const CHECKER = `
import json, sys
import onnx
results = {}
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        results[path] = None
    except Exception as error:
        results[path] = f"{type(error).__name__}: {error}".strip()
print(json.dumps(results))
`;

const n = 400;
const distance = Float64Array.from({ length: n }, (_, i) => ((i * 37) % 101) * 10);
const delay = Float64Array.from({ length: n }, (_, i) => (i % 9 === 0 ? Number.NaN : ((i * 13) % 17) - 5));
const carrier = Array.from({ length: n }, (_, i) => ['AA', 'DL', 'UA', null][i % 4]);
const origin = Array.from({ length: n }, (_, i) => ['ORD', 'SFO', ''][(i * 7) % 3]);
const labels = Array.from({ length: n }, (_, i) => (distance[i]! / 100 + (i % 4) * 2 + ((i * 13) % 5) > 8 ? 1 : 0));
const targets = Array.from({ length: n }, (_, i) => distance[i]! / 50 + (i % 4) + ((i * 7) % 3));

const mixed: FeatureFrame = { numeric: { distance, delay }, categorical: { carrier, origin } };
const numericOnly: FeatureFrame = { numeric: { distance, delay } };
const categoricalOnly: FeatureFrame = { categorical: { carrier, origin } };
const oneCategorical: FeatureFrame = { categorical: { carrier } };

/** Every model kind the trainers make, with and without categorical features. */
const cases: Array<{ name: string; frame: FeatureFrame; train: (frame: FeatureFrame) => Model }> = [
  { name: 'logistic regression, numeric and categorical', frame: mixed, train: (f) => trainLogisticRegression(f, labels) },
  { name: 'logistic regression, numeric only', frame: numericOnly, train: (f) => trainLogisticRegression(f, labels) },
  { name: 'logistic regression, categorical only', frame: categoricalOnly, train: (f) => trainLogisticRegression(f, labels) },
  { name: 'logistic regression, one categorical feature', frame: oneCategorical, train: (f) => trainLogisticRegression(f, labels) },
  { name: 'linear regression, numeric and categorical', frame: mixed, train: (f) => trainLinearRegression(f, targets) },
  { name: 'linear regression, numeric only', frame: numericOnly, train: (f) => trainLinearRegression(f, targets) },
  { name: 'linear regression, categorical only', frame: categoricalOnly, train: (f) => trainLinearRegression(f, targets) },
  { name: 'gradient-boosted classifier, numeric and categorical', frame: mixed, train: (f) => trainGradientBoosting(f, labels, { loss: 'log-loss', maxIter: 8 }) },
  { name: 'gradient-boosted classifier, numeric only', frame: numericOnly, train: (f) => trainGradientBoosting(f, labels, { loss: 'log-loss', maxIter: 8 }) },
  { name: 'gradient-boosted classifier, one categorical feature', frame: oneCategorical, train: (f) => trainGradientBoosting(f, labels, { loss: 'log-loss', maxIter: 8 }) },
  { name: 'gradient-boosted regressor, numeric and categorical', frame: mixed, train: (f) => trainGradientBoosting(f, targets, { loss: 'squared-error', maxIter: 8 }) },
  { name: 'gradient-boosted regressor, categorical only', frame: categoricalOnly, train: (f) => trainGradientBoosting(f, targets, { loss: 'squared-error', maxIter: 8 }) },
];

const onnxModule = probeOnnx();
const missing = 'missing' in onnxModule ? `${onnxModule.missing}. Install Debian's python3-onnx: ${INSTALL}` : undefined;
if (missing && !process.env.CI) process.stderr.write(`\n[steward tests] onnx-checker.test.ts is SKIPPED: ${missing}\n\n`);

describe('the ONNX checker on every exported model kind', { timeout: 120_000 }, () => {
  it.runIf(missing !== undefined && Boolean(process.env.CI))('has the onnx checker in CI', () => {
    throw new Error(`CI runs onnx.checker on every exported model, but ${missing}`);
  });

  describe.skipIf(missing !== undefined)(`onnx.checker.check_model(full_check=True)${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
    let dir = '';
    const files = new Map<string, string>();
    let findings: Record<string, string | null> = {};

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-onnx-checker-'));
      for (const [i, { name, frame, train }] of cases.entries()) {
        const { onnx } = await exportOnnx(train(frame), frame);
        const file = path.join(dir, `${i}.onnx`);
        fs.writeFileSync(file, onnx);
        files.set(name, file);
      }
      const run = spawnSync(PYTHON, ['-c', CHECKER, ...files.values()], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
      if (run.status !== 0) throw new Error(`${PYTHON} running onnx.checker failed (exit ${run.status}): ${run.stderr || run.error?.message}`);
      findings = JSON.parse(run.stdout) as Record<string, string | null>;
    });
    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const { name } of cases) {
      it(`passes for the ${name}`, () => {
        const finding = findings[files.get(name)!];
        expect(finding, `no checker result for the ${name}`).not.toBeUndefined();
        if (finding !== null) throw new Error(`onnx ${'version' in onnxModule ? onnxModule.version : ''} refuses the ${name} export: ${finding}`);
      });
    }
  });
});
