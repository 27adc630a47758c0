import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { DEFAULT_RETRAIN_POLICY, decideRetrain, type WindowVerdicts } from '../../../src/monitoring/policy.js';

const day = (d: number) => new Date(Date.UTC(2001, 5, d));
const verdicts = (over: Partial<WindowVerdicts> = {}): WindowVerdicts => ({
  enough: true,
  datasetDrift: false,
  predictionDrift: false,
  decayed: false,
  at: day(15),
  numbers: { driftShare: 0.2 },
  ...over,
});

describe('the retraining policy', () => {
  it('holds when nothing fired, and says when decay could not be measured', () => {
    expect(decideRetrain(verdicts(), [])).toMatchObject({ decision: 'hold', triggers: [], reasons: ['No trigger fired.'], numbers: { driftShare: 0.2 } });
    expect(decideRetrain(verdicts({ decayed: null }), []).reasons).toEqual(['No trigger fired (decay could not be measured).']);
  });

  it('never decides on a window with too few rows', () => {
    expect(decideRetrain(verdicts({ enough: false, datasetDrift: true }), [])).toMatchObject({ decision: 'hold', reasons: ['The window had too few rows to decide anything.'] });
  });

  it('retrains on dataset drift or decay, and on prediction drift only when asked', () => {
    expect(decideRetrain(verdicts({ datasetDrift: true, decayed: true }), [])).toMatchObject({ decision: 'retrain', triggers: ['dataset drift', 'performance decay'] });
    expect(decideRetrain(verdicts({ predictionDrift: true }), []).decision).toBe('hold');
    expect(decideRetrain(verdicts({ predictionDrift: true }), [], { ...DEFAULT_RETRAIN_POLICY, onPredictionDrift: true }).decision).toBe('retrain');
  });

  it('holds inside the cool-down and past the budget, measured in window time, with the numbers', () => {
    const cooling = decideRetrain(verdicts({ decayed: true }), [day(12)]);
    expect(cooling).toMatchObject({ decision: 'hold', lastRetrainAt: day(12).toISOString(), retrainsInPeriod: 1 });
    expect(cooling.reasons[1]).toBe('Cool-down: the last retrain was decided 72.0 hours before, less than 144.');
    expect(decideRetrain(verdicts({ decayed: true }), [day(1), day(8)])).toMatchObject({
      decision: 'hold',
      reasons: ['Triggered by performance decay, but held.', 'Budget: 2 retrain(s) already in the last 30 days; at most 2.'],
    });
    // Decisions after the window (a replay rerun) and outside the period do not count.
    expect(decideRetrain(verdicts({ decayed: true }), [day(20), new Date(Date.UTC(2001, 3, 1))])).toMatchObject({ decision: 'retrain', retrainsInPeriod: 0 });
  });

  it('refuses a policy that cannot be applied', () => {
    expect(() => decideRetrain(verdicts(), [], { ...DEFAULT_RETRAIN_POLICY, maxRetrainsPerPeriod: 1.5 })).toThrow(ValidationError);
    expect(() => decideRetrain(verdicts(), [], { ...DEFAULT_RETRAIN_POLICY, periodDays: 0 })).toThrow('periodDays must be positive, got 0.');
  });
});
