/**
 * A throwaway Temporal dev server for benchmarks and fixture recording: the project's own CLI
 * (built once by `steward setup`), Steward's search attributes, quiet logs. Dev-only: it uses
 * @temporalio/testing.
 */
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { allSearchAttributes } from '../../src/contracts.js';
import { userCacheDir } from '../../src/platform/config.js';
import type { Logger } from '../../src/platform/logger.js';
import { ensureTemporalCli } from '../../src/platform/temporal-cli.js';
import { installRuntime } from '../../src/app/worker.js';

export async function startLocalTemporal(logger: Logger): Promise<TestWorkflowEnvironment> {
  installRuntime('warn');
  const cli = await ensureTemporalCli({ home: path.resolve('.steward'), userCache: userCacheDir(), logger });
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: cli }, searchAttributes: allSearchAttributes, ip: '127.0.0.1', log: { format: 'pretty', level: 'error' } },
  });
}
