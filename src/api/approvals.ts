/**
 * The approval endpoints of Steward's HTTP API, for the reviewer CLI and any other client. Every
 * call authenticates with `Authorization: Bearer <token>` (or the reviewer page's session cookie);
 * failed authentications and refused decisions are recorded in the audit trail.
 *
 *   GET  /api/whoami
 *   GET  /api/approvals?status=waiting|approved|rejected|expired|all
 *   GET  /api/approvals/:id
 *   POST /api/approvals/:id/decisions   {role, decision: "approve"|"reject", comment}
 *   POST /api/approvals/:id/codes       {role}  -> a single-use code for `temporal workflow signal`
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../db/client.js';
import type { Principal } from '../db/schema.js';
import { issueDecisionCode, listApprovals } from '../governance/approvals.js';
import { appendAudit } from '../audit/index.js';
import { approvalView, submitDecision } from '../governance/decisions.js';
import { authenticate, AuthenticationError } from '../governance/identity.js';
import { ValidationError } from '../errors.js';

export const SESSION_COOKIE = 'steward_session';

/** How a request proves who it is: a bearer token, or a session from the reviewer page's login. */
export type SessionLookup = (db: Database, cookieValue: string) => Promise<Principal | undefined>;

export async function authenticateRequest(db: Database, request: FastifyRequest, sessions?: SessionLookup): Promise<Principal> {
  const header = request.headers.authorization;
  try {
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AuthenticationError('The Authorization header must be "Bearer <token>".');
      return await authenticate(db, match[1]);
    }
    const cookie = sessions && readCookie(request.headers.cookie, SESSION_COOKIE);
    if (cookie && sessions) {
      const principal = await sessions(db, cookie);
      if (principal) return principal;
      throw new AuthenticationError('Your session has expired or was ended; sign in again.');
    }
    return await authenticate(db, undefined);
  } catch (error) {
    if (error instanceof AuthenticationError) {
      await appendAudit(db, { actor: 'anonymous', action: 'auth.failed', subject: `api:${request.method} ${request.routeOptions.url ?? request.url}`, details: { reason: error.message, ip: request.ip } });
    }
    throw error;
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

const STATUSES = ['waiting', 'approved', 'rejected', 'expired', 'cancelled', 'all'] as const;

export function registerApprovalRoutes(app: FastifyInstance, options: { db: Database; client: Client; sessions?: SessionLookup }): void {
  const { db, client } = options;
  const principalOf = (request: FastifyRequest) => authenticateRequest(db, request, options.sessions);

  app.get('/api/whoami', async (request) => {
    const principal = await principalOf(request);
    return { name: principal.name, roles: principal.roles, displayName: principal.displayName };
  });

  app.get<{ Querystring: { status?: string } }>('/api/approvals', async (request) => {
    await principalOf(request);
    const status = request.query.status ?? 'waiting';
    if (!(STATUSES as readonly string[]).includes(status)) throw new ValidationError(`status must be one of ${STATUSES.join(', ')}, got "${status}".`);
    return { approvals: await listApprovals(db, { status: status as (typeof STATUSES)[number] }) };
  });

  app.get<{ Params: { id: string } }>('/api/approvals/:id', async (request) => {
    await principalOf(request);
    return approvalView(db, client, request.params.id);
  });

  app.post<{ Params: { id: string }; Body: { role?: string; decision?: string; comment?: string } }>('/api/approvals/:id/decisions', async (request) => {
    const principal = await principalOf(request);
    const body = request.body ?? {};
    if (typeof body.role !== 'string' || body.role === '') throw new ValidationError('The decision must name the role you review as ("role").');
    return submitDecision(db, client, {
      approvalId: request.params.id,
      principal,
      role: body.role,
      decision: body.decision as 'approve' | 'reject',
      comment: typeof body.comment === 'string' ? body.comment : undefined,
    });
  });

  app.post<{ Params: { id: string }; Body: { role?: string } }>('/api/approvals/:id/codes', async (request) => {
    const principal = await principalOf(request);
    const role = request.body?.role;
    if (typeof role !== 'string' || role === '') throw new ValidationError('Name the role the code is for ("role").');
    return issueDecisionCode(db, { approvalId: request.params.id, principal: principal.name, role });
  });
}
