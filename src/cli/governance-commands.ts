/**
 * Governance sign-offs from the command line.
 *
 * Reviewer commands (`steward approvals ...`, `steward whoami`) are clients of Steward's HTTP API
 * and authenticate with an API token (--token or STEWARD_TOKEN), so they work against a local
 * `steward dev` and a production deployment alike. Operator commands (`steward principals ...`,
 * `steward tokens ...`, `steward audit ...`) open the database directly: whoever can do that is
 * already trusted with everything it holds. The services load inside each action.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Option, type Command } from 'commander';
import type { AuditEntry } from '../db/schema.js';
import { StewardError, ValidationError } from '../errors.js';
import type { AuditCheckpoint } from '../audit/index.js';
import type { StewardConfig } from '../platform/config.js';
import { out, printJson, withDatabase, type CommandContext } from './context.js';

/** An error the API answered with, carrying its status and code. */
class ApiError extends StewardError {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function operator(asName: string | undefined): string {
  if (asName) return asName;
  try {
    return `operator:${os.userInfo().username}`;
  } catch {
    return `operator:${process.env.USER ?? 'unknown'}`;
  }
}

async function parseRoles(text: string): Promise<string[]> {
  const { checkRoles } = await import('../governance/identity.js');
  return checkRoles(
    text
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  );
}

/** Calls Steward's HTTP API with the caller's token; API errors become StewardErrors with the API's message. */
export async function api<T>(ctx: CommandContext, token: string | undefined, method: 'GET' | 'POST', pathname: string, body?: unknown): Promise<T> {
  const { apiUrlOf } = await import('../app/stack.js');
  const base = apiUrlOf(ctx.config);
  const secret = token ?? ctx.config.token;
  if (!secret) throw new ValidationError('Reviewer commands need your API token: pass --token or set STEWARD_TOKEN (an operator issues one with `steward tokens create <you>`).');
  let response: Response;
  try {
    response = await fetch(`${base}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(503, 'UNAVAILABLE', `Steward's API does not answer at ${base}: start it with \`steward dev\` (or \`steward api\`), or point STEWARD_API_URL at it.`);
  }
  const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } } & T;
  if (!response.ok) throw new ApiError(response.status, payload.error?.code ?? 'API_ERROR', payload.error?.message ?? `${method} ${pathname} answered ${response.status}`);
  return payload;
}

interface ApprovalSummary {
  id: string;
  gate: string;
  pipeline: string;
  workflowId: string;
  status: string;
  required: Record<string, number>;
  modelName: string | null;
  modelVersion: number | null;
  openedAt: string;
  deadline: string;
}

interface ApprovalDetails extends ApprovalSummary {
  authors: string[];
  subject: unknown;
  received: Array<{ principal: string; role: string; decision: string; comment?: string; at: string }>;
  missing: Record<string, number>;
  live: { conditions?: Array<{ role: string; quorum: number; because: string }>; refusals: Array<{ reason: string; at: string }> } | null;
}

const roles = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ') || 'nothing';

/** A word for a POSIX shell: as it is when it is safe, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The Temporal a reviewer's `temporal` command must reach: TEMPORAL_ADDRESS when set, else the
 * embedded dev server this machine runs (whatever port it took), else where it would listen.
 */
export async function temporalTarget(config: StewardConfig): Promise<{ address: string; namespace: string }> {
  const { namespace } = config.temporal;
  if (config.temporal.address) return { address: config.temporal.address, namespace };
  try {
    const { locateTemporal } = await import('../platform/dev-server.js');
    return { address: (await locateTemporal(config)).address, namespace };
  } catch {
    return { address: `127.0.0.1:${config.temporal.devServerPort}`, namespace };
  }
}

/**
 * The plain Temporal CLI command that sends a decision: with --address always (so it reaches this
 * Temporal and no other, whatever the port) and --namespace unless it is the default.
 */
export function temporalSignalCommand(target: { address: string; namespace: string }, workflowId: string, payload: unknown): string {
  return [
    'temporal workflow signal',
    `--address ${shellWord(target.address)}`,
    ...(target.namespace !== 'default' ? [`--namespace ${shellWord(target.namespace)}`] : []),
    `--workflow-id ${shellWord(workflowId)}`,
    '--name decide',
    `--input ${shellWord(JSON.stringify(payload))}`,
  ].join(' ');
}

function renderAudit(e: AuditEntry): string {
  const details = Object.entries(e.details as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `#${e.seq}  ${e.at.toISOString()}  ${e.action.padEnd(20)} ${e.subject}  by ${e.actor}${details ? `  ${details}` : ''}`;
}

export function registerGovernanceCommands(program: Command, context: () => CommandContext): void {
  const tokenOption = () => new Option('--token <token>', 'your API token (default: $STEWARD_TOKEN)');
  const asOption = () => new Option('--as <name>', 'who is making the change, for the audit trail (default: operator:<OS user>)');

  // --- principals and tokens (operators) ------------------------------------------------------
  const principals = program.command('principals').description('People and services that act on Steward, and their roles (operators; opens the database).');
  principals
    .command('add')
    .description('Create a principal with roles.')
    .argument('<name>', 'lowercase name, e.g. alice')
    .requiredOption('--roles <roles>', 'comma-separated roles, e.g. technical,compliance')
    .option('--display-name <text>', 'a human-readable name')
    .addOption(asOption())
    .addHelpText('after', '\nExample:\n  steward principals add alice --roles technical && steward tokens create alice')
    .action(async (name: string, o: { roles: string; displayName?: string; as?: string }) => {
      const ctx = context();
      const { createPrincipal } = await import('../governance/identity.js');
      const created = await withDatabase(ctx, async (db) => createPrincipal(db, { name, roles: await parseRoles(o.roles), displayName: o.displayName, actor: operator(o.as) }));
      if (ctx.json) printJson(created);
      else out(`Created ${created.name} with ${created.roles.join(', ') || 'no roles'}. Issue a token: steward tokens create ${created.name}`);
    });
  principals
    .command('list')
    .description('List principals and their roles.')
    .action(async () => {
      const ctx = context();
      const { listPrincipals } = await import('../governance/identity.js');
      const list = await withDatabase(ctx, (db) => listPrincipals(db));
      if (ctx.json) printJson({ principals: list });
      else for (const p of list) out(`${p.name.padEnd(20)} ${p.roles.join(',').padEnd(30)} ${p.disabled ? 'disabled' : ''}`);
    });
  principals
    .command('roles')
    .description("Replace a principal's roles.")
    .argument('<name>')
    .requiredOption('--set <roles>', 'comma-separated roles (empty string for none)')
    .addOption(asOption())
    .action(async (name: string, o: { set: string; as?: string }) => {
      const ctx = context();
      const { setRoles } = await import('../governance/identity.js');
      const updated = await withDatabase(ctx, async (db) => setRoles(db, { name, roles: await parseRoles(o.set), actor: operator(o.as) }));
      if (ctx.json) printJson(updated);
      else out(`${updated.name} now has ${updated.roles.join(', ') || 'no roles'}.`);
    });
  for (const [command, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    principals
      .command(command)
      .description(disabled ? 'Stop a principal from authenticating (its tokens and sessions stop working).' : 'Let a disabled principal authenticate again.')
      .argument('<name>')
      .addOption(asOption())
      .action(async (name: string, o: { as?: string }) => {
        const ctx = context();
        const { setDisabled } = await import('../governance/identity.js');
        const updated = await withDatabase(ctx, (db) => setDisabled(db, { name, disabled, actor: operator(o.as) }));
        if (ctx.json) printJson(updated);
        else out(`${updated.name} is ${disabled ? 'disabled' : 'enabled'}.`);
      });
  }

  const tokens = program.command('tokens').description('API tokens (operators; opens the database). Tokens are stored hashed and shown once.');
  tokens
    .command('create')
    .description('Issue an API token for a principal; it is printed once and cannot be shown again.')
    .argument('<principal>')
    .option('--label <text>', 'what the token is for, e.g. "laptop"')
    .addOption(asOption())
    .action(async (principal: string, o: { label?: string; as?: string }) => {
      const ctx = context();
      const { issueToken } = await import('../governance/identity.js');
      const issued = await withDatabase(ctx, (db) => issueToken(db, { principal, label: o.label, actor: operator(o.as) }));
      if (ctx.json) printJson(issued);
      else {
        out(`Token ${issued.id} for ${issued.principal} (shown once, keep it secret):`);
        out(issued.token);
        out(`\nUse it: export STEWARD_TOKEN=${issued.token}`);
      }
    });
  tokens
    .command('list')
    .description('List tokens (ids, never secrets).')
    .option('--principal <name>', 'only this principal’s tokens')
    .action(async (o: { principal?: string }) => {
      const ctx = context();
      const { listTokens } = await import('../governance/identity.js');
      const list = await withDatabase(ctx, (db) => listTokens(db, o.principal));
      if (ctx.json) printJson({ tokens: list });
      else
        for (const t of list)
          out(`${t.id}  ${t.principal.padEnd(16)} ${t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active'}  last used ${t.lastUsedAt?.toISOString() ?? 'never'}  ${t.label ?? ''}`);
    });
  tokens
    .command('revoke')
    .description('Revoke a token by id.')
    .argument('<id>')
    .addOption(asOption())
    .action(async (id: string, o: { as?: string }) => {
      const ctx = context();
      const { revokeToken } = await import('../governance/identity.js');
      const revoked = await withDatabase(ctx, (db) => revokeToken(db, { id, actor: operator(o.as) }));
      if (ctx.json) printJson({ id: revoked.id, principal: revoked.principal, revokedAt: revoked.revokedAt });
      else out(`Revoked token ${revoked.id} of ${revoked.principal}.`);
    });

  // --- reviewers (through the HTTP API) --------------------------------------------------------
  program
    .command('whoami')
    .description('Show who your API token authenticates as, and your roles.')
    .addOption(tokenOption())
    .action(async (o: { token?: string }) => {
      const ctx = context();
      const me = await api<{ name: string; roles: string[] }>(ctx, o.token, 'GET', '/api/whoami');
      if (ctx.json) printJson(me);
      else out(`${me.name} (${me.roles.join(', ') || 'no roles'})`);
    });

  const approvals = program
    .command('approvals')
    .description("Review approval gates: list what waits for you, read one, approve or reject. Talks to Steward's HTTP API with your token.")
    .addHelpText(
      'after',
      `
Examples:
  export STEWARD_TOKEN=stw_...            # from \`steward tokens create <you>\`
  steward approvals list
  steward approvals show apr-1a2b3c4d5e6f
  steward approvals approve apr-1a2b3c4d5e6f --role technical --comment "AUC beats the champion"
  steward approvals reject apr-1a2b3c4d5e6f --role compliance --reason "pii feature without a purpose"
  steward approvals code apr-1a2b3c4d5e6f --role technical   # for \`temporal workflow signal\``,
    );
  approvals
    .command('list')
    .description('Approvals waiting for a decision (or --status).')
    .option('--status <status>', 'waiting | approved | rejected | expired | all', 'waiting')
    .addOption(tokenOption())
    .action(async (o: { status: string; token?: string }) => {
      const ctx = context();
      const { approvals: list } = await api<{ approvals: ApprovalSummary[] }>(ctx, o.token, 'GET', `/api/approvals?status=${encodeURIComponent(o.status)}`);
      if (ctx.json) {
        printJson({ approvals: list });
        return;
      }
      if (list.length === 0) {
        out(`No approvals ${o.status === 'all' ? '' : `${o.status} `}right now.`);
        return;
      }
      for (const a of list) {
        const model = a.modelName ? `${a.modelName} v${a.modelVersion}` : a.pipeline;
        out(`${a.id}  ${a.status.padEnd(8)} ${model.padEnd(24)} gate ${a.gate}  needs ${roles(a.required)}  deadline ${a.deadline}`);
      }
    });
  approvals
    .command('show')
    .description('One approval: what it is about, the policy, who decided, what is missing.')
    .argument('<id>')
    .addOption(tokenOption())
    .action(async (id: string, o: { token?: string }) => {
      const ctx = context();
      const a = await api<ApprovalDetails>(ctx, o.token, 'GET', `/api/approvals/${encodeURIComponent(id)}`);
      if (ctx.json) {
        printJson(a);
        return;
      }
      out(`Approval ${a.id}: ${a.status}`);
      out(`  run        ${a.workflowId} (pipeline ${a.pipeline}, gate ${a.gate})`);
      if (a.modelName) out(`  model      ${a.modelName} v${a.modelVersion}`);
      out(`  subject    ${JSON.stringify(a.subject)}`);
      out(`  requires   ${roles(a.required)}`);
      for (const c of a.live?.conditions ?? []) out(`             + ${c.quorum} ${c.role} because ${c.because}`);
      out(`  authors    ${a.authors.join(', ') || '(none recorded)'} (may not approve)`);
      out(`  deadline   ${a.deadline}`);
      out(`  decisions  ${a.received.length === 0 ? 'none yet' : ''}`);
      for (const d of a.received) out(`             ${d.at}  ${d.principal} (${d.role}) ${d.decision}${d.comment ? `: ${d.comment}` : ''}`);
      if (a.status === 'waiting') out(`  missing    ${roles(a.missing)}`);
      for (const r of a.live?.refusals ?? []) out(`  refused    ${r.at}  ${r.reason}`);
    });
  for (const decision of ['approve', 'reject'] as const) {
    const command = approvals
      .command(decision)
      .description(decision === 'approve' ? 'Approve as one of your roles.' : 'Reject, with a reason; any rejection ends the gate.')
      .argument('<id>')
      .requiredOption('--role <role>', 'the role you review as (the gate must ask for it and you must hold it)')
      .addOption(tokenOption());
    if (decision === 'approve') command.option('--comment <text>', 'why you approve');
    else command.requiredOption('--reason <text>', 'why you reject (recorded and shown to the author)');
    command.action(async (id: string, o: { role: string; comment?: string; reason?: string; token?: string }) => {
      const ctx = context();
      const result = await api<{ message: string; status: string; missing: Record<string, number> }>(ctx, o.token, 'POST', `/api/approvals/${encodeURIComponent(id)}/decisions`, {
        role: o.role,
        decision,
        comment: o.comment ?? o.reason,
      });
      if (ctx.json) printJson(result);
      else out(result.message.charAt(0).toUpperCase() + result.message.slice(1));
    });
  }
  approvals
    .command('code')
    .description('Get a single-use decision code, to decide with the plain `temporal workflow signal` command instead.')
    .argument('<id>')
    .requiredOption('--role <role>', 'the role you will decide as')
    .addOption(tokenOption())
    .action(async (id: string, o: { role: string; token?: string }) => {
      const ctx = context();
      const code = await api<{ code: string; approvalId: string; principal: string; role: string; expiresAt: string }>(ctx, o.token, 'POST', `/api/approvals/${encodeURIComponent(id)}/codes`, { role: o.role });
      const details = await api<ApprovalDetails>(ctx, o.token, 'GET', `/api/approvals/${encodeURIComponent(id)}`);
      const payload = { gate: details.gate, principal: code.principal, role: code.role, decision: 'approve', comment: '...', code: code.code };
      const target = await temporalTarget(ctx.config);
      const command = temporalSignalCommand(target, details.workflowId, payload);
      if (ctx.json) {
        printJson({ ...code, workflowId: details.workflowId, signal: payload, temporal: target, command });
        return;
      }
      out(`Code for ${code.principal} as ${code.role} on ${code.approvalId}, valid once until ${code.expiresAt}:`);
      out(code.code);
      out('\nDecide with the Temporal CLI (use "reject" and a reason to reject):');
      out(`  ${command}`);
    });

  // --- the audit trail (operators and auditors) -----------------------------------------------
  const audit = program.command('audit').description('The hash-chained audit trail (opens the database).');
  audit
    .command('verify')
    .description(
      'Recompute the hash chain and report the first entry that was changed, inserted or removed. The chain is also checked ' +
        'against its anchored head (entries cut from the end are reported) and, with --checkpoint, against a head exported earlier.',
    )
    .option('--checkpoint <file>', 'a checkpoint from `steward audit checkpoint --out`: the chain must still hold that entry unchanged')
    .action(async (o: { checkpoint?: string }) => {
      const ctx = context();
      const checkpoint = o.checkpoint ? readCheckpoint(o.checkpoint) : undefined;
      const key = ctx.config.auditKey;
      const { verifyAuditChain } = await import('../audit/index.js');
      const result = await withDatabase(ctx, (db) => verifyAuditChain(db, { ...(checkpoint ? { checkpoint } : {}), ...(key ? { key } : {}) }));
      if (ctx.json) printJson(result);
      else if (result.ok) {
        out(`Audit trail intact: ${result.entries} entries, every hash matches${result.head ? `, and the chain ends at its anchored head (entry ${result.head.seq})` : ''}.`);
        if (result.checkpoint) out(`It still holds checkpoint entry ${result.checkpoint.seq} unchanged (${result.checkpoint.signed ? 'signature verified' : 'unsigned checkpoint: set STEWARD_AUDIT_KEY to sign and check them'}).`);
      } else out(`Audit trail TAMPERED: ${result.firstBad!.reason}. ${result.entries} entries before it verify.`);
      if (!result.ok) process.exitCode = 3;
    });
  audit
    .command('checkpoint')
    .description(
      "Export the chain's head (sequence number and hash), HMAC-signed when STEWARD_AUDIT_KEY is set. Keep it outside the " +
        'database (another machine, a ticket, a WORM bucket); `steward audit verify --checkpoint <file>` later proves that no entry up to it was removed or rewritten.',
    )
    .option('--out <file>', 'write the checkpoint to this file (default: print it)')
    .action(async (o: { out?: string }) => {
      const ctx = context();
      const key = ctx.config.auditKey;
      const { auditCheckpoint } = await import('../audit/index.js');
      const checkpoint = await withDatabase(ctx, (db) => auditCheckpoint(db, key ? { key } : {}));
      if (!checkpoint) throw new ValidationError('The audit trail has no entries yet, so there is no head to checkpoint.');
      if (o.out) fs.writeFileSync(o.out, `${JSON.stringify(checkpoint, null, 2)}\n`, { flag: 'wx' });
      if (ctx.json || !o.out) printJson(checkpoint);
      else out(`Checkpoint of entry ${checkpoint.seq} written to ${o.out}${checkpoint.mac ? ' (signed)' : ' (unsigned: set STEWARD_AUDIT_KEY to sign it)'}.`);
    });
  audit
    .command('show')
    .description('Print the trail, oldest first: everything, or one model, approval or principal.')
    .option('--model <name>', 'a model (every version), or name@version')
    .option('--approval <id>', 'one approval gate')
    .option('--principal <name>', "changes to one principal's roles and tokens")
    .option('--limit <n>', 'at most this many entries', '1000')
    .action(async (o: { model?: string; approval?: string; principal?: string; limit: string }) => {
      const ctx = context();
      const limit = Number(o.limit);
      const { auditTrail } = await import('../audit/index.js');
      const entries = await withDatabase(ctx, async (db) => {
        if (o.model) {
          const [name] = o.model.split('@');
          const all = await auditTrail(db, { limit: 100_000 });
          return all
            .filter((e) => e.subject === `model:${o.model}` || e.subject.startsWith(`model:${o.model}@`) || (!o.model!.includes('@') && (e.details as { model?: string }).model === name))
            .slice(-limit);
        }
        const subject = o.approval ? `approval:${o.approval}` : o.principal ? `principal:${o.principal}` : undefined;
        return auditTrail(db, { subject, limit });
      });
      if (ctx.json) printJson({ entries });
      else if (entries.length === 0) out('No audit entries match.');
      else for (const e of entries) out(renderAudit(e));
    });
}

function readCheckpoint(file: string): AuditCheckpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(`Cannot read the checkpoint ${file}: ${(error as Error).message}. Give a file written by \`steward audit checkpoint --out\`.`);
  }
  const c = parsed as Partial<AuditCheckpoint> | null;
  if (!c || typeof c.seq !== 'number' || !Number.isInteger(c.seq) || c.seq < 1 || typeof c.hash !== 'string' || !/^[0-9a-f]{64}$/.test(c.hash) || typeof c.at !== 'string') {
    throw new ValidationError(`${file} is not an audit checkpoint: it needs {seq, hash, at} as \`steward audit checkpoint\` writes them.`);
  }
  return { seq: c.seq, hash: c.hash, at: c.at, ...(typeof c.mac === 'string' ? { mac: c.mac } : {}) };
}
