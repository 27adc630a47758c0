/**
 * The layering the lint holds (eslint.config.js): the platform never reaches up into what sits
 * above it, and a project (the declarations-only example, the `steward init` template) sees Steward
 * only through its public API.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const x = [y];\n`, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('layering lint', () => {
  it.each([
    ['src/governance/example.ts', "import { y } from '../../pipelines/steps/index.js';", 'src/ is the platform below pipelines'],
    ['src/registry/example.ts', "import { y } from '../../examples/rain-tomorrow/steward.config.js';", 'src/ is the platform below'],
    ['src/cli/example.ts', "import { y } from '../../examples/flight-delay/steward.config.js';", 'The platform knows no example'],
    ['src/app/example.ts', "import { y } from '../../examples/flight-delay/steward.config.js';", 'The platform knows no example'],
    ['pipelines/steps/example.ts', "import { y } from '../../examples/flight-delay/data/flights.js';", 'The platform knows no example'],
    ['activities/example.ts', "import { y } from '../examples/flight-delay/data/flights.js';", 'The platform knows no example'],
    ['workflows/example.ts', "import type { y } from '../examples/flight-delay/data/flights.js';", 'The platform knows no example'],
    ['examples/rain-tomorrow/steward.config.ts', "import { y } from '../../src/errors.js';", 'public API'],
    ['examples/rain-tomorrow/test/rain.test.ts', "import { y } from '../../../pipelines/steps/index.js';", 'public API'],
    ['templates/project/src/step.ts', "import { y } from '../../../src/pipeline/step.js';", 'public API'],
  ])('refuses in %s: %s', async (file, code, message) => {
    expect((await restricted(file, code)).join('\n')).toContain(message);
  });

  it.each([
    ['src/cli/example.ts', "import { y } from '../../pipelines/index.js';"],
    ['examples/rain-tomorrow/steward.config.ts', "import { y } from 'steward/features';"],
    ['examples/rain-tomorrow/test/rain.test.ts', "import { y } from '../steward.config.js';"],
    ['templates/project/test/declarations.test.ts', "import { y } from '../src/summarize-weather.js';"],
  ])('allows in %s: %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
