/**
 * Workflow code runs in Temporal's deterministic sandbox; the lint keeps I/O out of it.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
async function lintWorkflow(code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: 'workflows/example.ts' });
  return (result?.messages ?? []).filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('workflow sandbox lint', () => {
  it.each([
    ["import fs from 'node:fs';", 'no I/O libraries or Node built-ins'],
    ["import { readFileSync } from 'fs';", 'no I/O libraries or Node built-ins'],
    ["import { drizzle } from 'drizzle-orm/pglite';", 'no database access'],
    ["import { tableFromIPC } from 'apache-arrow';", 'no I/O libraries'],
    ["import { InferenceSession } from 'onnxruntime-node';", 'no I/O libraries'],
    ["import { ingestFile } from '../src/features/files.js';", 'Workflows import values only from src/contracts.js'],
    ["import { createActivities } from '../activities/index.js';", 'Workflows see activities only as types'],
  ])('refuses %s', async (code, message) => {
    const messages = await lintWorkflow(`${code}\nexport const x = 1;`);
    expect(messages.join('\n')).toContain(message);
  });

  it('allows activity types, contracts and the workflow API', async () => {
    const messages = await lintWorkflow(
      [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import type { Activities } from '../activities/index.js';",
        "import { searchAttributes } from '../src/contracts.js';",
        "import type { Database } from '../src/db/client.js';",
        'export const x = [proxyActivities, searchAttributes];',
        'export type Y = [Activities, Database];',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });
});
