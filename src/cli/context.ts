/** What every command gets, and the helpers they share. */
import type { Client } from '@temporalio/client';
import { openDatabase, type Database } from '../db/client.js';
import type { StewardConfig } from '../platform/config.js';
import { locateTemporal } from '../platform/dev-server.js';
import type { Logger } from '../platform/logger.js';
import { connectClient } from '../platform/temporal.js';
import { configuredTracing } from '../platform/tracing-config.js';

export interface CommandContext {
  config: StewardConfig;
  logger: Logger;
  json: boolean;
}

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const printJson = (value: unknown) => out(JSON.stringify(value, null, 2));

/** Runs `fn` with a client of the Temporal the config points at, without starting anything. */
export async function withClient<T>(config: StewardConfig, fn: (client: Client, uiUrl: string | undefined) => Promise<T>): Promise<T> {
  const temporal = await locateTemporal(config);
  // With tracing configured, a run started here opens the trace its workflow and steps continue.
  const tracing = await configuredTracing(config);
  const client = await connectClient(temporal.address, temporal.namespace, tracing?.clientInterceptors());
  try {
    return await fn(client, temporal.uiUrl);
  } finally {
    await client.connection.close();
    await tracing?.shutdown();
  }
}

/** Runs `fn` with the configured database (PGlite or DATABASE_URL), closing it afterwards. */
export async function withDatabase<T>(ctx: CommandContext, fn: (db: Database) => Promise<T>): Promise<T> {
  const handle = await openDatabase({ url: ctx.config.database.url, pgliteDir: ctx.config.database.pgliteDir });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}
