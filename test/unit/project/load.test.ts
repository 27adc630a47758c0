/**
 * Loading a team's steward.config.ts: found from the working directory upward or named, combined
 * with Steward's built-ins, and every bad config refused with an error naming the file and the thing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAppProject, taskQueueFor } from '../../../src/app/project.js';
import { loadConfig } from '../../../src/platform/config.js';
import { findProjectFile } from '../../../src/project/load.js';

const sdk = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-projects-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A project folder with this steward.config.ts (the SDK imported from the sources). */
function project(body: string): string {
  const dir = path.join(root, `p${++count}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.writeFileSync(path.join(dir, 'steward.config.ts'), `import { defineProject, definePipeline, defineStep, childPipeline, z } from ${JSON.stringify(sdk)};\n${body}\n`);
  return dir;
}

const step = (name: string) => `defineStep({ name: '${name}', input: z.object({}), output: z.object({ ok: z.boolean() }), run: async () => ({ ok: true }) })`;
const pipeline = (name: string, stepVar: string) => `definePipeline({ name: '${name}', params: z.object({}), steps: [${stepVar}.step('s', {})] })`;

describe('finding and loading a project', () => {
  it('finds steward.config.ts from a nested folder, combines it with the built-ins and gives it its own task queue', async () => {
    const dir = project(`const a = ${step('team.a')};\nexport default defineProject({ name: 'team', pipelines: [${pipeline('team-train', 'a')}] });`);
    const nested = path.join(dir, 'src', 'deep');
    fs.mkdirSync(nested, { recursive: true });
    expect(findProjectFile({ cwd: nested })).toBe(path.join(dir, 'steward.config.ts'));
    const combined = await loadAppProject({ cwd: nested });
    expect(combined.name).toBe('team');
    expect(combined.pipelines.map((p) => p.name)).toContain('team-train');
    expect(combined.pipelines.map((p) => p.name)).toContain('approve-purpose');
    expect(combined.steps.has('team.a')).toBe(true);
    expect(combined.steps.has('validateModel')).toBe(true);
    const config = loadConfig({}, dir);
    expect(taskQueueFor(config, combined)).toBe('steward-team');
  });

  it('is only the built-ins where no config is found', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-no-project-'));
    try {
      expect(findProjectFile({ cwd: empty })).toBeUndefined();
      const builtins = await loadAppProject({ cwd: empty });
      expect(builtins.name).toBe('steward');
      expect(builtins.source).toBeUndefined();
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("composes Steward's built-in steps, imported through steward/steps, into a project's own pipeline", async () => {
    // The project loads its own copy of the SDK (through tsx); its built-in steps are still Steward's.
    const steps = fileURLToPath(new URL('../../../src/sdk/steps.ts', import.meta.url));
    const dir = project(
      `import { buildTrainingSet, trainModel } from ${JSON.stringify(steps)};\n` +
        `const quick = definePipeline({ name: 'quick-train', params: z.object({}), steps: () => {\n` +
        `  const set = buildTrainingSet.step('set', { service: 'svc', task: 'regression', label: { kind: 'future', view: 'v', feature: 'f', horizon: '1d' } });\n` +
        `  return [set, trainModel.step('train', { trainingSet: set.result, algorithm: 'linear' })];\n` +
        `} });\n` +
        `export default defineProject({ name: 'composer', pipelines: [quick] });`,
    );
    const combined = await loadAppProject({ project: dir });
    expect(combined.pipelines.map((p) => p.name)).toContain('quick-train');
    const builtins = await loadAppProject({ cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'steward-no-project-')) });
    // One step per name, and it is the built-in project's own instance.
    expect(combined.steps.get('trainModel')).toBe(builtins.steps.get('trainModel'));
    expect(combined.steps.get('buildTrainingSet')).toBe(builtins.steps.get('buildTrainingSet'));
    const quick = combined.pipelines.find((p) => p.name === 'quick-train')!;
    expect(quick.steps.find((s) => s.name === 'trainModel')).not.toBe(builtins.steps.get('trainModel'));
  });

  it('refuses a --project that does not exist or holds no config', async () => {
    await expect(loadAppProject({ project: path.join(root, 'missing') })).rejects.toThrow(/missing does not exist\. Give --project \(or STEWARD_PROJECT\) a steward\.config\.ts/);
    const bare = fs.mkdtempSync(path.join(root, 'bare-'));
    await expect(loadAppProject({ project: bare })).rejects.toThrow(/has no steward\.config\.ts/);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['a file that does not compile', 'export default defineProject({ name: ', /Could not load the project .*steward\.config\.ts/],
    ['a file that throws while loading', `throw new Error('no data folder');`, /Could not load the project .*steward\.config\.ts: no data folder/],
    ['no default export', `export const x = 1;`, /steward\.config\.ts exports no project; end it with `export default defineProject/],
    ['a bad project name', `export default defineProject({ name: 'My Project' });`, /steward\.config\.ts.*named "My Project"; a project name is lowercase/],
    [
      'two pipelines with one name',
      `const a = ${step('team.a')};\nexport default defineProject({ name: 'team', pipelines: [${pipeline('twice', 'a')}, ${pipeline('twice', 'a')}] });`,
      /steward\.config\.ts.*two pipelines are named "twice"/,
    ],
    [
      'two different steps with one name',
      `const a = ${step('team.same')};\nconst b = ${step('team.same')};\nexport default defineProject({ name: 'team', pipelines: [${pipeline('one', 'a')}, ${pipeline('two', 'b')}] });`,
      /steward\.config\.ts.*two different steps are named "team\.same"/,
    ],
    [
      "a step named like a built-in",
      `const a = ${step('validateModel')};\nexport default defineProject({ name: 'team', pipelines: [${pipeline('mine', 'a')}] });`,
      /steward\.config\.ts.*step "validateModel" has the name of a built-in step; rename it/,
    ],
    [
      'a pipeline named like a built-in',
      `const a = ${step('team.a')};\nexport default defineProject({ name: 'team', pipelines: [${pipeline('approve-purpose', 'a')}] });`,
      /steward\.config\.ts.*pipeline "approve-purpose" has the name of a built-in pipeline/,
    ],
    [
      "a child pipeline from another project",
      `export default defineProject({ name: 'team', pipelines: [definePipeline({ name: 'parent', params: z.object({}), steps: [childPipeline('c', 'other-teams-pipeline', {})] })] });`,
      /runs unknown pipeline "other-teams-pipeline"/,
    ],
    [
      'start naming a pipeline the project lacks',
      `const a = ${step('team.a')};\nexport default defineProject({ name: 'team', pipelines: [${pipeline('mine', 'a')}], start: { pipeline: 'nope' } });`,
      /start names pipeline "nope", which the project does not declare \(pipelines: mine\)/,
    ],
  ];
  it.each(refused)('refuses %s, naming the file', async (_what, body, message) => {
    const dir = project(body);
    const error = await loadAppProject({ project: dir }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error, 'the config was accepted').toBeDefined();
    expect(error!.code).toBe('CONFIG_INVALID');
    expect(error!.message).toMatch(message);
  });
});
