import { describe, expect, it } from 'vitest';
import { pipelines } from '../../support/projects.js';
import { findPipeline, parseParamPairs, validateParams } from '../../../src/pipeline/catalog.js';

describe('pipeline catalog', () => {
  const entry = findPipeline(pipelines, 'flight-delay-summary');

  it('fills defaults and coerces --param strings through the schema', () => {
    expect(validateParams(entry, parseParamPairs(['rows=5000']))).toEqual({
      source: 'vega:flights-3m.parquet',
      rows: 5000,
      delayThresholdMinutes: 15,
    });
  });

  it('keeps an = inside a value', () => {
    expect(parseParamPairs(['source=/data/a=b.parquet'])).toEqual({ source: '/data/a=b.parquet' });
  });

  it('names the unknown pipeline and lists the known ones', () => {
    expect(() => findPipeline(pipelines, 'nope')).toThrow('Unknown pipeline "nope". Known pipelines: flight-delay-summary, train-flight-delay, release-flight-delay, drift-retrain-flight-delay, challenge-flight-delay, score-flights, approve-purpose.');
  });

  it('refuses a malformed --param', () => {
    expect(() => parseParamPairs(['rows'])).toThrow('--param expects key=value, got "rows".');
    expect(() => parseParamPairs(['=5'])).toThrow('--param expects key=value, got "=5".');
  });

  it('names the pipeline and the parameter that fails its schema', () => {
    expect(() => validateParams(entry, { rows: 'abc' })).toThrow(
      'Invalid parameters for pipeline "flight-delay-summary": rows: Invalid input: expected number, received NaN.',
    );
    expect(() => validateParams(entry, { rows: '-3' })).toThrow('rows: Too small: expected number to be >0');
  });

  it('refuses parameters the pipeline does not have', () => {
    expect(() => validateParams(entry, { rowz: '5' })).toThrow('Invalid parameters for pipeline "flight-delay-summary": (params): Unrecognized key: "rowz".');
  });
});
