/**
 * The reviewer web page, served by Steward's HTTP API:
 *
 *   GET  /login                 sign in by pasting an API token
 *   POST /login                 token -> an 8-hour session cookie (HttpOnly, SameSite=Strict)
 *   POST /logout
 *   GET  /reviews?status=...    approvals (waiting by default)
 *   GET  /reviews/:id           one approval: what is missing, the policy, decisions and refusals,
 *                               the model card, and the approve / reject form
 *   POST /reviews/:id/decide    submits the decision and shows the gate's answer or its refusal
 *
 * Decisions go through `submitDecision`, the same path as the CLI and the JSON API. The pages send
 * a Content-Security-Policy without scripts, and state-changing posts must come from this origin
 * (the SameSite=Strict cookie already keeps other sites' forms from carrying the session).
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/client.js';
import type { Principal } from '../db/schema.js';
import { isStewardError } from '../errors.js';
import { listApprovals } from '../governance/approvals.js';
import { appendAudit, auditTrail } from '../audit/index.js';
import { approvalView, submitDecision, type ApprovalView } from '../governance/decisions.js';
import { authenticateToken, AuthenticationError } from '../governance/identity.js';
import { createSession, endSession, sessionPrincipal, SESSION_TTL_MS } from '../governance/sessions.js';
import { renderModelCard } from '../registry/model-card.js';
import { authenticateRequest, readCookie, SESSION_COOKIE } from './approvals.js';
import { trustedHtml } from './html.js';
import { approvalPage, errorPage, listPage, loginPage, type Answer, type ApprovalPageInput } from './review-views.js';

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: under it Chromium sends `Origin: null` with the page's own form posts.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const LIST_STATUSES = ['waiting', 'approved', 'rejected', 'expired', 'cancelled', 'all'] as const;

type Form = Record<string, string>;

/** Only a path on this site: never `//evil.example` or `/\evil.example`, which browsers treat as another host. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/reviews';
}

function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.status(status).headers(SECURITY_HEADERS).type('text/html; charset=utf-8').send(page);
}

function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.status(303).headers(SECURITY_HEADERS).header('location', location).send();
}

export function registerReviewPages(app: FastifyInstance, options: { db: Database; client: Client }): void {
  const { db, client } = options;

  void app.register(async (pages) => {
    pages.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    pages.setErrorHandler(async (error, request, reply) => {
      const status = isStewardError(error) ? error.status : ((error as { statusCode?: number }).statusCode ?? 500);
      const message = isStewardError(error) || status < 500 ? (error as Error).message : 'The server could not answer; the error is in its log.';
      if (status >= 500) request.log.error(error);
      return sendPage(reply, status, errorPage(undefined, status, message));
    });

    /** Refuses posts whose Origin names another site (defence in depth behind SameSite=Strict). */
    pages.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return;
      const origin = request.headers.origin;
      if (origin === undefined) return;
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== request.headers.host) {
        await appendAudit(db, { actor: 'anonymous', action: 'auth.failed', subject: `web:POST ${request.url}`, details: { reason: `cross-site post from ${origin}`, ip: request.ip } });
        return sendPage(reply, 403, errorPage(undefined, 403, 'This form was posted from another site; open the review page and submit it from there.'));
      }
    });

    /** The signed-in principal, or undefined after redirecting to the sign-in page. */
    async function signedIn(request: FastifyRequest, reply: FastifyReply, next: string): Promise<Principal | undefined> {
      try {
        return await authenticateRequest(db, request, sessionPrincipal);
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        const stale = readCookie(request.headers.cookie, SESSION_COOKIE) !== undefined;
        if (stale) reply.header('set-cookie', sessionCookie(request, '', 0));
        redirect(reply, `/login?next=${encodeURIComponent(safeNext(next))}${stale ? '&expired=1' : ''}`);
        return undefined;
      }
    }

    pages.get<{ Querystring: { next?: string; expired?: string } }>('/login', async (request, reply) =>
      sendPage(reply, 200, loginPage({ next: safeNext(request.query.next), ...(request.query.expired ? { notice: 'Your session has expired or was ended; sign in again.' } : {}) })),
    );

    pages.post<{ Body: Form }>('/login', async (request, reply) => {
      const form = request.body ?? {};
      const next = safeNext(form.next);
      let principal: Principal;
      let tokenId: string;
      try {
        ({ principal, tokenId } = await authenticateToken(db, typeof form.token === 'string' ? form.token.trim() : undefined));
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        await appendAudit(db, { actor: 'anonymous', action: 'auth.failed', subject: 'web:POST /login', details: { reason: error.message, ip: request.ip } });
        return sendPage(reply, 401, loginPage({ next, error: error.message }));
      }
      const session = await createSession(db, principal.name, { tokenId });
      reply.header('set-cookie', sessionCookie(request, session.value, Math.floor(SESSION_TTL_MS / 1000)));
      return redirect(reply, next);
    });

    pages.post('/logout', async (request, reply) => {
      const value = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (value) await endSession(db, value);
      reply.header('set-cookie', sessionCookie(request, '', 0));
      return redirect(reply, '/login');
    });

    pages.get<{ Querystring: { status?: string } }>('/reviews', async (request, reply) => {
      const principal = await signedIn(request, reply, request.url);
      if (!principal) return reply;
      const requested = request.query.status ?? 'waiting';
      const status = (LIST_STATUSES as readonly string[]).includes(requested) ? (requested as (typeof LIST_STATUSES)[number]) : 'waiting';
      return sendPage(reply, 200, listPage(principal, await listApprovals(db, { status }), status));
    });

    pages.get<{ Params: { id: string } }>('/reviews/:id', async (request, reply) => {
      const principal = await signedIn(request, reply, request.url);
      if (!principal) return reply;
      return sendPage(reply, 200, await renderApproval(principal, request.params.id));
    });

    pages.post<{ Params: { id: string }; Body: Form }>('/reviews/:id/decide', async (request, reply) => {
      const page = `/reviews/${encodeURIComponent(request.params.id)}`;
      const principal = await signedIn(request, reply, page);
      if (!principal) return reply;
      const form = request.body ?? {};
      const draft = { role: form.role, comment: form.comment };
      let answer: Answer;
      let status = 200;
      try {
        const result = await submitDecision(db, client, {
          approvalId: request.params.id,
          principal,
          role: String(form.role ?? ''),
          decision: form.decision as 'approve' | 'reject',
          ...(form.comment?.trim() ? { comment: form.comment } : {}),
        });
        answer = { kind: 'accepted', message: result.message };
      } catch (error) {
        if (!isStewardError(error) || error.code === 'NOT_FOUND') throw error;
        answer = { kind: 'refused', message: error.message };
        status = error.status;
      }
      return sendPage(reply, status, await renderApproval(principal, request.params.id, answer, answer.kind === 'refused' ? draft : undefined));
    });
  });

  async function renderApproval(principal: Principal, id: string, answer?: Answer, draft?: ApprovalPageInput['draft']): Promise<string> {
    const view = await approvalView(db, client, id);
    const trail = await auditTrail(db, { subject: `approval:${view.id}` });
    const opened = trail.find((e) => e.action === 'approval.opened')?.details as { conditions?: ApprovalPageInput['conditions'] } | undefined;
    const refusals = trail
      .filter((e) => e.action === 'approval.refused')
      .map((e) => ({ at: e.at, actor: e.actor, reason: String((e.details as { reason?: unknown }).reason ?? '') }));
    return approvalPage({
      principal,
      view,
      conditions: view.live?.conditions ?? opened?.conditions ?? [],
      refusals,
      ...(await modelCard(view)),
      ...(answer ? { answer } : {}),
      ...(draft ? { draft } : {}),
    });
  }

  /** The card's body, embedded as is: its renderer escapes everything it prints. */
  async function modelCard(view: ApprovalView): Promise<Pick<ApprovalPageInput, 'card'>> {
    if (!view.modelName || view.modelVersion === null) return {};
    try {
      const document = await renderModelCard(db, view.modelName, view.modelVersion, { format: 'html' });
      const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(document)?.[1] ?? document;
      return { card: { markup: trustedHtml(body) } };
    } catch (error) {
      return { card: { error: (error as Error).message } };
    }
  }
}
