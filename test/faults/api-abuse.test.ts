/**
 * The HTTP API as an attacker meets it: every route but /health refuses a request that proves no
 * principal (no header, a malformed one, an unknown, revoked or disabled principal's token, a dead
 * session), runs always carry the verified principal that started them, revoking a token or
 * disabling a principal ends its browser sessions, and malformed run requests are named, never
 * coerced. Each refusal is audited; nothing is started by a refused request.
 */
import { count, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../src/api/server.js';
import { auditLog, webSessions } from '../../src/db/schema.js';
import { auditTrail } from '../../src/audit/index.js';
import { createPrincipal, issueToken, revokeToken, setDisabled } from '../../src/governance/identity.js';
import { useTemporalWorker } from '../support/temporal.js';
import { testPipelines } from '../support/test-pipelines.js';

const harness = useTemporalWorker('pglite', 'api-abuse', { pipelines: testPipelines });
const db = () => harness.database.db;
let app: FastifyInstance;
const tokens: Record<string, { id: string; token: string }> = {};

beforeAll(async () => {
  for (const [name, roles] of [
    ['paula', ['engineer']],
    ['rita', ['technical']],
    ['victor', ['technical']],
    ['dora', ['engineer']],
  ] as const) {
    await createPrincipal(db(), { name, roles: [...roles], actor: 'test-operator' });
    tokens[name] = await issueToken(db(), { principal: name, actor: 'test-operator' });
  }
  app = createApi({ client: harness.env.client, taskQueue: harness.taskQueue, pipelines: testPipelines, database: { driver: 'pglite' }, db: db() });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]!.token}` });
const message = (response: { json(): unknown }) => (response.json() as { error: { message: string } }).error.message;
const runsStarted = async () => {
  const runs = [];
  for await (const run of harness.env.client.workflow.list({ query: `TaskQueue = "${harness.taskQueue}"` })) runs.push(run);
  return runs.length;
};

const ROUTES = [
  ['GET', '/api/pipelines'],
  ['POST', '/api/runs'],
  ['GET', '/api/runs/some-run'],
  ['GET', '/api/whoami'],
  ['GET', '/api/approvals'],
  ['GET', '/api/approvals/apr-000000000000'],
  ['POST', '/api/approvals/apr-000000000000/decisions'],
  ['POST', '/api/approvals/apr-000000000000/codes'],
] as const;

const MALFORMED_AUTH: Array<[string, string]> = [
  ['no Authorization header', ''],
  ['a Basic scheme', 'Basic cGF1bGE6cGFzcw=='],
  ['Bearer with no token', 'Bearer '],
  ['a token of the wrong shape', 'Bearer stw_nope'],
  ['an unknown token of the right shape', `Bearer stw_00000000_${'x'.repeat(43)}`],
  ['two tokens', `Bearer stw_00000000_${'x'.repeat(43)} stw_00000000_${'y'.repeat(43)}`],
  ['a 10,000-character token', `Bearer ${'a'.repeat(10_000)}`],
];

describe('every API route needs a principal', () => {
  it('serves /health without one', async () => {
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  });

  for (const [method, url] of ROUTES) {
    for (const [what, header] of MALFORMED_AUTH) {
      it(`${method} ${url} with ${what}: 401, audited, nothing started`, async () => {
        const before = await runsStarted();
        const failuresBefore = (await db().select({ n: count() }).from(auditLog).where(eq(auditLog.action, 'auth.failed')))[0]!.n;
        const response = await app.inject({
          method,
          url,
          headers: header ? { authorization: header } : {},
          ...(method === 'POST' ? { payload: { pipeline: 'diamond', role: 'technical', decision: 'approve' } } : {}),
        });
        expect(response.statusCode).toBe(401);
        expect(response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
        expect(message(response)).toMatch(/API token|Authorization header/);
        const failuresAfter = (await db().select({ n: count() }).from(auditLog).where(eq(auditLog.action, 'auth.failed')))[0]!.n;
        expect(failuresAfter).toBe(failuresBefore + 1);
        expect(await runsStarted()).toBe(before);
      });
    }
  }
});

describe('runs carry the verified principal', () => {
  it('records the token holder as the run author and ignores no claimed identity', async () => {
    const started = await app.inject({ method: 'POST', url: '/api/runs', headers: bearer('paula'), payload: { pipeline: 'diamond' } });
    expect(started.statusCode).toBe(202);
    const { runId } = started.json() as { runId: string };
    const handle = harness.env.client.workflow.getHandle(runId);
    await handle.result();
    const history = await handle.fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(JSON.parse(Buffer.from(input.data!).toString())).toMatchObject({ pipeline: 'diamond', startedBy: 'paula' });
    const report = await app.inject({ method: 'GET', url: `/api/runs/${runId}`, headers: bearer('rita') });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({ status: 'COMPLETED' });
  });

  const BAD_BODIES: Array<[string, unknown, RegExp]> = [
    ['a JSON array', [{ pipeline: 'diamond' }], /must be a JSON object/],
    ['no pipeline', { params: {} }, /"pipeline" must name a pipeline/],
    ['a pipeline that is a number', { pipeline: 7 }, /"pipeline" must name a pipeline/],
    ['an unknown pipeline', { pipeline: 'nope' }, /Unknown pipeline "nope"/],
    ['params as an array', { pipeline: 'diamond', params: [1, 2] }, /"params" must be an object/],
    ['params as a string', { pipeline: 'diamond', params: 'rows=5' }, /"params" must be an object/],
    ['params null', { pipeline: 'diamond', params: null }, /"params" must be an object/],
    ['cache "yes"', { pipeline: 'diamond', cache: 'yes' }, /"cache" must be true or false/],
    ['cache 1', { pipeline: 'diamond', cache: 1 }, /"cache" must be true or false/],
    ['runId a number', { pipeline: 'diamond', runId: 42 }, /"runId" must be a string/],
    ['a claimed startedBy', { pipeline: 'diamond', startedBy: 'rita' }, /Unknown field "startedBy"/],
    ['an unknown field', { pipeline: 'diamond', priority: 'high' }, /Unknown field "priority"/],
  ];
  for (const [what, payload, expected] of BAD_BODIES) {
    it(`refuses a run request with ${what}, naming the problem, and starts nothing`, async () => {
      const before = await runsStarted();
      const response = await app.inject({ method: 'POST', url: '/api/runs', headers: bearer('paula'), payload: payload as object });
      expect([400, 404]).toContain(response.statusCode);
      expect(message(response)).toMatch(expected);
      expect(await runsStarted()).toBe(before);
    });
  }

  for (const length of [201, 250, 3_000]) {
    it(`refuses a ${length}-character run id with 400 naming the limit, on POST and GET`, async () => {
      const id = 'r'.repeat(length);
      const posted = await app.inject({ method: 'POST', url: '/api/runs', headers: bearer('paula'), payload: { pipeline: 'diamond', runId: id } });
      expect(posted.statusCode).toBe(400);
      expect(message(posted)).toContain('200 characters');
      const read = await app.inject({ method: 'GET', url: `/api/runs/${id}`, headers: bearer('paula') });
      expect(read.statusCode).toBe(400);
      expect(message(read)).toContain('200 characters');
    });
  }

  it('refuses a body that is not JSON at all', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/runs', headers: { ...bearer('paula'), 'content-type': 'application/json' }, payload: '{"pipeline": ' });
    expect(response.statusCode).toBe(400);
  });
});

describe('revocation and disabling end sessions', () => {
  async function signIn(name: string): Promise<string> {
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: tokens[name]!.token, next: '/reviews' }).toString(),
    });
    expect(response.statusCode).toBe(303);
    const cookie = String(response.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^steward_session=/);
    return cookie;
  }

  it('a revoked token gets 401 and the sessions it opened stop working', async () => {
    const cookie = await signIn('rita');
    expect((await app.inject({ method: 'GET', url: '/api/whoami', headers: { cookie } })).json()).toMatchObject({ name: 'rita' });
    await revokeToken(db(), { id: tokens.rita!.id, actor: 'test-operator' });
    const viaToken = await app.inject({ method: 'GET', url: '/api/approvals', headers: bearer('rita') });
    expect(viaToken.statusCode).toBe(401);
    expect(message(viaToken)).toContain(`The API token ${tokens.rita!.id} was revoked`);
    const viaSession = await app.inject({ method: 'GET', url: '/api/approvals', headers: { cookie } });
    expect(viaSession.statusCode).toBe(401);
    expect(message(viaSession)).toContain('Your session has expired or was ended');
    const page = await app.inject({ method: 'GET', url: '/reviews', headers: { cookie } });
    expect(page.statusCode).toBe(303);
    expect(await db().select().from(webSessions).where(eq(webSessions.principal, 'rita'))).toEqual([]);
    const revoked = (await auditTrail(db(), { subject: 'principal:rita' })).find((e) => e.action === 'token.revoked')!;
    expect(revoked.details).toMatchObject({ tokenId: tokens.rita!.id, sessionsEnded: 1 });
  });

  it('a disabled principal loses its token and every session', async () => {
    const first = await signIn('victor');
    const second = await signIn('victor');
    await setDisabled(db(), { name: 'victor', disabled: true, actor: 'test-operator' });
    for (const cookie of [first, second]) expect((await app.inject({ method: 'GET', url: '/api/whoami', headers: { cookie } })).statusCode).toBe(401);
    const viaToken = await app.inject({ method: 'POST', url: '/api/runs', headers: bearer('victor'), payload: { pipeline: 'diamond' } });
    expect(viaToken.statusCode).toBe(401);
    expect(message(viaToken)).toContain('Principal "victor" is disabled');
    expect(await db().select().from(webSessions).where(eq(webSessions.principal, 'victor'))).toEqual([]);
    // Re-enabling does not bring the ended sessions back.
    await setDisabled(db(), { name: 'victor', disabled: false, actor: 'test-operator' });
    expect((await app.inject({ method: 'GET', url: '/api/whoami', headers: { cookie: first } })).statusCode).toBe(401);
  });

  const BAD_COOKIES: Array<[string, string]> = [
    ['a made-up session', `steward_session=${'A'.repeat(43)}`],
    ['a session value of the wrong shape', 'steward_session=../../etc/passwd'],
    ['an empty session', 'steward_session='],
  ];
  for (const [what, cookie] of BAD_COOKIES) {
    it(`refuses ${what}`, async () => {
      const response = await app.inject({ method: 'GET', url: '/api/approvals', headers: { cookie } });
      expect(response.statusCode).toBe(401);
    });
  }
});
