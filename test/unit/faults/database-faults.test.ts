/**
 * Which errors are database faults (always retryable UNAVAILABLE failures at the activity
 * boundary), on the errors postgres.js and drizzle really raise, and which are not.
 */
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../../activities/failures.js';
import { databaseFaultOf, isPostgresClosedSocketWrite, waitForDatabase } from '../../../src/db/availability.js';
import { ValidationError } from '../../../src/errors.js';
import { firstFreePort } from '../../../src/platform/ports.js';

/** postgres.js's connection error, built as its Errors.connection builds it. */
const driverError = (code: string) => Object.assign(new Error(`write ${code} 127.0.0.1:5432`), { code, errno: code, address: '127.0.0.1', port: 5432 });

async function refusedQueryErrors(): Promise<{ driver: unknown; drizzled: unknown }> {
  const port = await firstFreePort(47_000, 500);
  const client = postgres(`postgres://postgres@127.0.0.1:${port}/none`, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    const driver = await client`select 1`.then(() => undefined, (error: unknown) => error);
    const drizzled = await drizzle(client).execute(sql`select ${'a parameter'}`).then(() => undefined, (error: unknown) => error);
    return { driver, drizzled };
  } finally {
    await client.end({ timeout: 0 });
  }
}

describe('database faults', () => {
  it('recognises a refused connection as postgres.js and drizzle report it, without the query text', async () => {
    const { driver, drizzled } = await refusedQueryErrors();
    expect(databaseFaultOf(driver)).toMatch(/^ECONNREFUSED: /);
    const fault = databaseFaultOf(drizzled);
    expect(fault).toMatch(/^ECONNREFUSED: /);
    expect(fault).not.toContain('a parameter');
  });

  it("recognises the driver's closed-connection errors, a server shutting down, and wrapped ones", () => {
    for (const code of ['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']) {
      expect(databaseFaultOf(driverError(code))).toBe(`${code}: write ${code} 127.0.0.1:5432`);
    }
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { name: 'PostgresError', code: '57P01', severity: 'FATAL' });
    expect(databaseFaultOf(shutdown)).toBe('57P01: terminating connection due to administrator command');
    expect(databaseFaultOf(Object.assign(new Error('the database system is starting up'), { name: 'PostgresError', code: '57P03' }))).toMatch(/^57P03/);
    expect(databaseFaultOf(new Error('Failed query: insert ...', { cause: driverError('CONNECTION_CLOSED') }))).toMatch(/^CONNECTION_CLOSED/);
  });

  it('leaves other errors alone: constraint violations, HTTP connections, bugs', () => {
    expect(databaseFaultOf(Object.assign(new Error('duplicate key value'), { name: 'PostgresError', code: '23505' }))).toBeUndefined();
    // fetch() to a scorer that is down: a socket error no query carried.
    expect(databaseFaultOf(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }) }))).toBeUndefined();
    expect(databaseFaultOf(Object.assign(new Error('CONNECTION_CLOSED by the peer'), { code: 'CONNECTION_CLOSED' }))).toBeUndefined();
    expect(databaseFaultOf(new TypeError("Cannot read properties of null (reading 'write')"))).toBeUndefined();
    expect(databaseFaultOf(undefined)).toBeUndefined();
  });

  it("recognises postgres.js's write on a closed socket by its message and its frame only", () => {
    const crash = new TypeError("Cannot read properties of null (reading 'write')");
    crash.stack = [
      `TypeError: ${crash.message}`,
      '    at Immediate.nextWrite (file:///srv/app/node_modules/postgres/src/connection.js:255:22)',
      '    at process.processImmediate (node:internal/timers:483:21)',
    ].join('\n');
    expect(isPostgresClosedSocketWrite(crash)).toBe(true);
    expect(databaseFaultOf(crash)).toMatch(/^CONNECTION_CLOSED: /);
    const elsewhere = new TypeError(crash.message);
    elsewhere.stack = [`TypeError: ${crash.message}`, '    at Immediate.nextWrite (file:///srv/app/src/my-writer.js:10:3)'].join('\n');
    expect(isPostgresClosedSocketWrite(elsewhere)).toBe(false);
  });

  it('maps a database fault to a retryable UNAVAILABLE failure, even one a StewardError would not be', async () => {
    const { drizzled } = await refusedQueryErrors();
    const failure = toFailure(drizzled) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'UNAVAILABLE', nonRetryable: false });
    expect(failure.message).toMatch(/^The database did not answer \(ECONNREFUSED: /);
    expect(failure.message).not.toContain('a parameter');
    expect(toFailure(new ValidationError('bad input'))).toMatchObject({ type: 'VALIDATION_FAILED', nonRetryable: true });
    const bug = new Error('a bug');
    expect(toFailure(bug)).toBe(bug);
  });

  it('does not wait when no outage is known', async () => {
    expect(await waitForDatabase({ timeoutMs: 60_000 })).toBe(true);
  });
});
