/**
 * `steward apply`, `steward materialize` and `steward features ...` as a user runs them, on both
 * drivers: the printed plan, ingestion of a Parquet file, the progress on stderr, and the
 * inspection commands' output and errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { registerFeatureCommands } from '../../src/cli/feature-commands.js';
import type { CommandContext } from '../../src/cli/context.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { createTestDatabase, describeEachDriver, type TestDatabase } from '../support/databases.js';
import { rootProject } from '../support/projects.js';

describeEachDriver('steward feature commands', (driver) => {
  let testDb: TestDatabase;
  let home: string;
  beforeAll(async () => {
    testDb = await createTestDatabase(driver);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-feature-cli-'));
  });
  afterAll(async () => {
    await testDb.destroy();
    fs.rmSync(home, { recursive: true, force: true });
  });

  async function steward(...args: string[]): Promise<{ stdout: string; stderr: string; error?: Error }> {
    const json = args[0] === '--json';
    const config = loadConfig({ STEWARD_HOME: home }, home);
    const context = (): CommandContext => ({
      config: { ...config, database: { url: testDb.url, pgliteDir: testDb.pgliteDir } },
      logger: createLogger('error'),
      json,
      project: async () => rootProject,
    });
    const program = new Command().exitOverride();
    registerFeatureCommands(program, context);
    let stdout = '';
    let stderr = '';
    const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    try {
      await program.parseAsync(['node', 'steward', ...(json ? args.slice(1) : args)]);
      return { stdout, stderr };
    } catch (error) {
      return { stdout, stderr, error: error as Error };
    } finally {
      outSpy.mockRestore();
      errSpy.mockRestore();
    }
  }

  it('prints the plan, applies it, and then has nothing to do', async () => {
    const dry = await steward('apply', '--dry-run');
    expect(dry.stdout).toContain('Plan: 6 to create, 0 to change, 0 unchanged.');
    expect(dry.stdout).toContain('  + feature view origin_delays (v1)');
    expect(dry.stdout).toContain('Dry run: nothing was applied.');
    expect((await steward('apply')).stdout).toContain('Applied.');
    expect((await steward('apply')).stdout).toContain('Plan: 0 to create, 0 to change, 6 unchanged.');
    const listed = JSON.parse((await steward('--json', 'features', 'list')).stdout) as { definitions: Array<{ name: string; code: string }> };
    expect(listed.definitions.map((d) => `${d.name}:${d.code}`)).toContain('origin_delays:same');
  });

  it('ingests a Parquet file, materializes with progress on stderr, and shows the view and its statistics', async () => {
    const file = path.join(home, 'delays.parquet');
    const T0 = Date.UTC(2001, 0, 1);
    const n = 50;
    const col = (name: string, data: unknown[], type: string) => ({ name, data, type: type as 'DOUBLE' });
    parquetWriteFile({
      filename: file,
      columnData: [
        col('origin', Array.from({ length: n }, (_, i) => ['ORD', 'ATL', 'SFO'][i % 3]), 'STRING'),
        col('as_of', Array.from({ length: n }, (_, i) => new Date(T0 + i * 60_000)), 'TIMESTAMP'),
        ...['flights_1h', 'flights_1d', 'flights_7d'].map((c) => col(c, Array.from({ length: n }, (_, i) => i), 'INT32')),
        ...['mean_delay_1h', 'mean_delay_1d', 'delayed_share_1d', 'mean_delay_7d', 'delayed_share_7d'].map((c) =>
          col(c, Array.from({ length: n }, (_, i) => (i === 0 ? null : i / 10)), 'DOUBLE'),
        ),
      ],
    });
    const ingested = await steward('features', 'ingest', 'origin_delays', file, '--batch-rows', '20');
    expect(ingested.stdout).toContain('Ingested 50 rows into origin_delays in 3 batches');
    expect((await steward('features', 'ingest', 'origin_delays', file)).stdout).toContain('was already ingested into origin_delays');

    const run = await steward('materialize', '--view', 'origin_delays', '--batch-rows', '10');
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain('origin_delays: full, 50 rows read, 3 entities written');
    expect(run.stderr).toContain('origin_delays [##############################] 100% 50/50 rows, 3 entities');

    const shown = await steward('features', 'show', 'origin_delays');
    expect(shown.stdout).toContain('owner:       flight-ops');
    expect(shown.stdout).toContain('offline:     50 rows from 1 ingestion(s)');
    expect(shown.stdout).toMatch(/online:      3 entities; last materialization \d+ full complete/);
    const stats = await steward('features', 'stats', 'origin_delays');
    expect(stats.stdout).toMatch(/mean_delay_1h\s+49\s+2\.0% null\s+min 0\.1000\s+p50 2\.500\s+max 4\.900/);
  });

  it('fails with a message that says what to do', async () => {
    expect((await steward('features', 'stats', 'route_delays')).error?.message).toContain('has no statistics yet');
    expect((await steward('features', 'show', 'nope')).error?.message).toBe('No feature view "nope" is registered. Define it in code and run `steward apply`.');
    expect((await steward('materialize', '--view', 'nope')).error?.message).toMatch(/^Unknown feature view "nope". Registered: origin_delays, route_delays\./);
  });
});
