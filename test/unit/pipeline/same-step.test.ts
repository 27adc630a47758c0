/**
 * One rule decides when two steps with one name are the same step, for the worker's registry and
 * for combining a project with the built-ins: the same object, or the same built-in step at the same
 * version loaded through two copies of the SDK. Anything else is a clash a team must rename.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinProject } from '../../../pipelines/index.js';
import { combineProjects, defineProject } from '../../../src/project/define.js';
import { defineStep, markBuiltinSteps, sameStep, type Step } from '../../../src/pipeline/step.js';

const make = (name: string, version = '1'): Step =>
  defineStep({ name, version, input: z.object({}), output: z.object({ ok: z.boolean() }), run: async () => ({ ok: true }) }) as unknown as Step;

describe('sameStep', () => {
  it('holds for one object, and for two copies of a built-in at one version', () => {
    const step = make('fit');
    expect(sameStep(step, step)).toBe(true);
    const [a, b] = [make('fit'), make('fit')];
    markBuiltinSteps([a, b]);
    expect(sameStep(a, b)).toBe(true);
  });

  it('fails for copies at two versions, and for a team step named like a built-in', () => {
    const [v1, v2, team] = [make('fit', '1'), make('fit', '2'), make('fit', '1')];
    markBuiltinSteps([v1, v2]);
    expect(sameStep(v1, v2)).toBe(false);
    expect(sameStep(v1, team)).toBe(false);
    expect(sameStep(team, v1)).toBe(false);
  });

  it("lets a project register another copy of a built-in step and keeps Steward's own", () => {
    const own = builtinProject.steps.get('validateModel')!;
    const copy = make('validateModel', own.version);
    markBuiltinSteps([copy]);
    const combined = combineProjects(builtinProject, defineProject({ name: 'team', steps: [copy] }));
    expect(combined.steps.get('validateModel')).toBe(own);
    const clash = make('validateModel', own.version);
    expect(() => combineProjects(builtinProject, defineProject({ name: 'team', steps: [clash] }))).toThrow(/step "validateModel" has the name of a built-in step; rename it/);
  });
});
