/** `steward deploy start`'s options turned into the deployment workflow's input, and its refusals. */
import { describe, expect, it } from 'vitest';
import { deploymentInputOf } from '../../../src/cli/deploy-commands.js';

const base = { version: '4', strategy: 'canary', alias: 'production', wait: false, as: 'ana' };

describe('steward deploy start options', () => {
  it('passes only what was given, so the workflow applies its own defaults', () => {
    expect(deploymentInputOf('flight-delay', base)).toEqual({ model: 'flight-delay', version: 4, strategy: 'canary', alias: 'production', startedBy: 'ana' });
    expect(
      deploymentInputOf('flight-delay', {
        ...base,
        steps: '10, 50,100',
        minRequests: '500',
        driftMetric: 'psi',
        maxDrift: '0.3',
        pollSeconds: '5',
        bakeSeconds: '60',
        promote: false,
        reason: 'weekly release',
      }),
    ).toEqual({
      model: 'flight-delay',
      version: 4,
      strategy: 'canary',
      alias: 'production',
      startedBy: 'ana',
      steps: [10, 50, 100],
      thresholds: { minRequests: 500, maxDrift: 0.3, driftMetric: 'psi' },
      analysis: { pollSeconds: 5, minSeconds: 60 },
      promote: false,
      reason: 'weekly release',
    });
    expect(deploymentInputOf('flight-delay', { ...base, strategy: 'ab', abPercent: '20', abDuration: '3600' })).toMatchObject({ strategy: 'ab', abPercent: 20, abDurationSeconds: 3600 });
  });

  it('refuses options that cannot work, naming them', () => {
    expect(() => deploymentInputOf('flight-delay', { ...base, version: 'latest' })).toThrow('--version must be a version number, got "latest".');
    expect(() => deploymentInputOf('flight-delay', { ...base, strategy: 'rolling' })).toThrow('--strategy must be one of canary, blue-green, shadow, ab, got "rolling".');
    expect(() => deploymentInputOf('flight-delay', { ...base, strategy: 'shadow', steps: '5,100' })).toThrow('--steps applies to the canary strategy only.');
    expect(() => deploymentInputOf('flight-delay', { ...base, steps: '5,x' })).toThrow('--steps value 2 must be a number, got "x".');
    expect(() => deploymentInputOf('flight-delay', { ...base, driftMetric: 'kl' })).toThrow('--drift-metric must be jensen-shannon or psi, got "kl".');
  });
});
