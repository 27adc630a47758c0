/**
 * The reviewer pages' HTML: sign-in, the list of approvals and one approval with its model card.
 * Plain forms, inline CSS, no script and nothing fetched from elsewhere, so the pages work with
 * JavaScript off and under a Content-Security-Policy that forbids scripts entirely. Every value
 * from the database, the workflow or the request goes through the escaping `html` tag.
 */
import type { ApprovalRow, Principal } from '../db/schema.js';
import type { ApprovalView } from '../governance/decisions.js';
import type { ApprovalPolicy } from '../pipeline/spec.js';
import { html, relative, utc, type SafeHtml } from './html.js';

const STYLE = `
:root { color-scheme: light; --ink: #1b1b1b; --muted: #5c5c5c; --line: #d5d5d5; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0; color: var(--ink); line-height: 1.45; }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: 0.6rem 1.5rem; background: #f3f5f8; border-bottom: 1px solid var(--line); }
header.top a.brand { font-weight: 600; color: var(--ink); text-decoration: none; }
header.top form { display: inline; margin: 0 0 0 0.6rem; }
main { max-width: 68rem; margin: 1.5rem auto 3rem; padding: 0 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th, tbody th { background: #f6f6f6; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0.4rem 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 0.8rem; font-size: 0.85rem; background: #e8e8e8; }
.badge.waiting { background: #fff3cd; } .badge.approved { background: #d4edda; } .badge.rejected, .badge.expired { background: #f8d7da; }
.answer { padding: 0.8rem 1rem; border-radius: 0.3rem; margin: 1rem 0; font-weight: 600; }
.answer.accepted { background: #e6f4ea; border: 1px solid #2e7d32; }
.answer.refused { background: #fdecea; border: 2px solid #c62828; }
.missing { color: #a33; font-weight: 600; }
form.decide { border: 1px solid var(--line); padding: 1rem; border-radius: 0.3rem; max-width: 40rem; }
form.decide label, form.login label { display: block; margin: 0.6rem 0 0.2rem; font-weight: 600; }
textarea, input[type=password], select { width: 100%; font: inherit; padding: 0.35rem; }
button { font: inherit; padding: 0.4rem 1.1rem; margin: 0.8rem 0.6rem 0 0; cursor: pointer; }
button.approve { background: #2e7d32; color: #fff; border: 0; }
button.reject { background: #c62828; color: #fff; border: 0; }
button.link { background: none; border: 0; color: var(--accent); text-decoration: underline; padding: 0; margin: 0; }
section.model-card { border: 1px solid var(--line); border-radius: 0.3rem; padding: 0 1rem 1rem; }
section.model-card h1 { font-size: 1.25rem; margin-top: 1rem; }
section.model-card h2 { font-size: 1.05rem; }
section.model-card .none { color: #8a4b00; }
section.model-card figure { display: inline-block; margin: 0 1.5rem 1rem 0; }
section.model-card ul.tree, section.model-card ul.tree ul { list-style: none; padding-left: 1.2rem; }
`;

export function layout(title: string, principal: Principal | undefined, body: SafeHtml): string {
  const who = principal
    ? html`<span>Signed in as <strong data-principal>${principal.name}</strong> <span class="muted">(${principal.roles.join(', ') || 'no roles'})</span>
<form method="post" action="/logout"><button type="submit" class="link">Sign out</button></form></span>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Steward</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><a class="brand" href="/reviews">Steward reviews</a>${who}</header>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export function loginPage(input: { next: string; error?: string; notice?: string }): string {
  return layout(
    'Sign in',
    undefined,
    html`<h1>Sign in to review</h1>
<p class="muted">Paste your Steward API token. <code>steward tokens create &lt;you&gt;</code> issues one; the page keeps a session for 8 hours and never stores the token.</p>
${input.error ? html`<div class="answer refused" role="alert">${input.error}</div>` : ''}
${input.notice ? html`<div class="answer accepted" role="status">${input.notice}</div>` : ''}
<form class="login" method="post" action="/login">
<input type="hidden" name="next" value="${input.next}">
<label for="token">API token</label>
<input type="password" id="token" name="token" autocomplete="off" required placeholder="stw_…">
<button type="submit">Sign in</button>
</form>`,
  );
}

export function errorPage(principal: Principal | undefined, status: number, message: string): string {
  return layout(
    `Error ${status}`,
    principal,
    html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1>
<div class="answer refused" role="alert">${message}</div>
<p><a href="/reviews">Back to the approvals</a></p>`,
  );
}

const quorumText = (required: Record<string, number>) =>
  Object.entries(required)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ') || 'nothing';

function subjectSummary(row: ApprovalRow): string {
  if (row.modelName) return `${row.modelName} v${row.modelVersion ?? '?'}`;
  const subject = row.subject;
  if (subject && typeof subject === 'object' && 'candidate' in subject) return String((subject as { candidate: unknown }).candidate);
  return JSON.stringify(subject ?? null).slice(0, 80);
}

export function listPage(principal: Principal, rows: ApprovalRow[], status: string): string {
  const filters = ['waiting', 'approved', 'rejected', 'expired', 'all'].map((s) =>
    s === status ? html`<strong>${s}</strong>` : html`<a href="/reviews?status=${s}">${s}</a>`,
  );
  const body = rows.length
    ? html`<table data-table="approvals">
<thead><tr><th>Approval</th><th>Status</th><th>Pipeline · gate</th><th>Candidate</th><th>Requires</th><th>You may review as</th><th>Deadline</th></tr></thead>
<tbody>
${rows.map((row) => {
  const mine = Object.keys(row.required).filter((role) => principal.roles.includes(role));
  return html`<tr data-approval="${row.id}">
<td><a href="/reviews/${encodeURIComponent(row.id)}">${row.id}</a></td>
<td><span class="badge ${row.status}">${row.status}</span></td>
<td>${row.pipeline} · ${row.gate}</td>
<td>${subjectSummary(row)}</td>
<td>${quorumText(row.required)}</td>
<td>${mine.length ? mine.join(', ') : html`<span class="muted">none of your roles</span>`}</td>
<td>${utc(row.deadline)} <span class="muted">(${relative(row.deadline)})</span></td>
</tr>`;
})}
</tbody>
</table>`
    : html`<p class="muted" data-empty>No ${status === 'all' ? '' : `${status} `}approvals.</p>`;
  return layout('Approvals', principal, html`<h1>Approvals</h1><p class="muted">Show: ${filters.map((f, i) => html`${i ? ' · ' : ''}${f}`)}</p>${body}`);
}

export interface Answer {
  kind: 'accepted' | 'refused';
  message: string;
}

export interface ApprovalPageInput {
  principal: Principal;
  view: ApprovalView;
  /** Conditional requirements that applied, and why. */
  conditions: Array<{ role: string; quorum: number; because: string }>;
  refusals: Array<{ at: Date; actor: string; reason: string }>;
  /** The model card's body markup (already escaped by its renderer), or why it is missing. */
  card?: { markup: SafeHtml } | { error: string };
  answer?: Answer;
  /** What the reviewer typed, kept when a decision is refused. */
  draft?: { role?: string; comment?: string };
}

function policyFacts(view: ApprovalView, conditions: ApprovalPageInput['conditions']): SafeHtml {
  const policy = (view.policy ?? {}) as ApprovalPolicy;
  const declared = policy.conditions ?? [];
  const conditionText = (c: NonNullable<ApprovalPolicy['conditions']>[number]) =>
    'piiFeatures' in c.when ? 'when the candidate uses a feature tagged pii' : `when the fairness gap exceeds ${c.when.fairnessGapAbove}`;
  return html`<dl class="facts" data-section="policy">
<dt>Always required</dt><dd>${quorumText(policy.roles ?? {})}</dd>
<dt>Conditional</dt><dd>${
    declared.length
      ? html`<ul>${declared.map((c) => {
          const applied = conditions.find((a) => a.role === c.role);
          return html`<li data-condition="${c.role}">${c.quorum ?? 1} ${c.role} ${conditionText(c)}: ${
            applied ? html`<strong>applies</strong> because ${applied.because}` : html`<span class="muted">does not apply</span>`
          }</li>`;
        })}</ul>`
      : html`<span class="muted">none</span>`
  }</dd>
<dt>Deadline</dt><dd>${utc(view.deadline)} (${relative(view.deadline)})${policy.deadline ? ` · ${policy.deadline} after opening` : ''}; at the deadline the gate expires as rejected</dd>
${policy.remindBefore?.length ? html`<dt>Reminders</dt><dd>${policy.remindBefore.join(', ')} before the deadline${policy.escalateTo?.length ? `; escalated to ${policy.escalateTo.join(', ')}` : ''}</dd>` : ''}
<dt>Separation of duties</dt><dd>${
    policy.separationOfDuties === false
      ? 'off'
      : html`authors may not approve: ${view.authors.length ? view.authors.join(', ') : html`<span class="muted">no author recorded</span>`}`
  }</dd>
</dl>`;
}

function rolesTable(view: ApprovalView, conditions: ApprovalPageInput['conditions']): SafeHtml {
  return html`<table data-table="roles">
<thead><tr><th>Role</th><th>Required</th><th>Approved by</th><th>Missing</th></tr></thead>
<tbody>
${Object.entries(view.required).map(([role, quorum]) => {
  const by = [...new Set(view.received.filter((d) => d.role === role && d.decision === 'approve').map((d) => d.principal))];
  const missing = view.missing[role] ?? 0;
  const conditional = conditions.find((c) => c.role === role);
  return html`<tr data-role="${role}">
<th scope="row">${role}${conditional ? html` <span class="muted">(because ${conditional.because})</span>` : ''}</th>
<td>${quorum}</td>
<td>${by.length ? by.join(', ') : html`<span class="muted">nobody yet</span>`}</td>
<td>${missing > 0 ? html`<span class="missing">${missing}</span>` : '0'}</td>
</tr>`;
})}
</tbody>
</table>`;
}

function subjectTable(view: ApprovalView): SafeHtml {
  const subject = view.subject && typeof view.subject === 'object' && !Array.isArray(view.subject) ? (view.subject as Record<string, unknown>) : { value: view.subject };
  return html`<table data-table="subject"><tbody>
${Object.entries(subject).map(([key, value]) => html`<tr><th scope="row">${key}</th><td>${typeof value === 'string' ? value : JSON.stringify(value)}</td></tr>`)}
<tr><th scope="row">run</th><td><code>${view.workflowId}</code></td></tr>
</tbody></table>`;
}

function decisionForm(input: ApprovalPageInput): SafeHtml {
  const { view, principal } = input;
  const status = view.live?.status ?? view.status;
  if (status !== 'waiting') return html`<p data-closed>This approval is closed (<strong>${status}</strong>); it takes no more decisions.</p>`;
  const roles = Object.keys(view.required).filter((role) => principal.roles.includes(role));
  if (roles.length === 0) {
    return html`<p data-no-role>You (${principal.name}) have ${principal.roles.length ? `the roles ${principal.roles.join(', ')}` : 'no roles'}; this approval asks for ${Object.keys(view.required).join(', ')} reviews, so you cannot decide on it.</p>`;
  }
  const chosen = input.draft?.role && roles.includes(input.draft.role) ? input.draft.role : roles.find((r) => (view.missing[r] ?? 0) > 0) ?? roles[0];
  return html`<form class="decide" method="post" action="/reviews/${encodeURIComponent(view.id)}/decide">
<label for="role">Review as</label>
<select id="role" name="role">${roles.map((role) => html`<option value="${role}"${role === chosen ? html` selected` : ''}>${role}</option>`)}</select>
<label for="comment">Comment <span class="muted">(required to reject; at most 4,000 characters)</span></label>
<textarea id="comment" name="comment" rows="4" maxlength="4000">${input.draft?.comment ?? ''}</textarea>
<button type="submit" name="decision" value="approve" class="approve">Approve</button>
<button type="submit" name="decision" value="reject" class="reject">Reject</button>
</form>`;
}

export function approvalPage(input: ApprovalPageInput): string {
  const { view } = input;
  const status = view.live?.status ?? view.status;
  const answer = input.answer
    ? input.answer.kind === 'accepted'
      ? html`<div class="answer accepted" role="status" id="gate-answer">${input.answer.message}</div>`
      : html`<div class="answer refused" role="alert" id="gate-answer">${input.answer.message}</div>`
    : '';
  const received = view.received.length
    ? html`<table data-table="decisions"><thead><tr><th>Reviewer</th><th>Role</th><th>Decision</th><th>Comment</th><th>When</th><th>Via</th></tr></thead><tbody>
${view.received.map((d) => html`<tr><td>${d.principal}</td><td>${d.role}</td><td>${d.decision}</td><td>${d.comment ?? ''}</td><td>${utc(d.at)}</td><td>${d.via ?? ''}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">No decisions yet.</p>`;
  const refusals = input.refusals.length
    ? html`<table data-table="refusals"><thead><tr><th>When</th><th>Who</th><th>Why it was refused</th></tr></thead><tbody>
${input.refusals.map((r) => html`<tr><td>${utc(r.at)}</td><td>${r.actor}</td><td>${r.reason}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">None.</p>`;
  const card = !view.modelName
    ? ''
    : input.card && 'markup' in input.card
      ? html`<h2>Model card</h2><section class="model-card" data-model="${view.modelName}" data-version="${view.modelVersion}">${input.card.markup}</section>`
      : html`<h2>Model card</h2><p class="answer refused">The model card for ${view.modelName} v${view.modelVersion} could not be shown: ${input.card?.error ?? 'unknown error'}</p>`;
  return layout(
    `Approval ${view.id}`,
    input.principal,
    html`<p><a href="/reviews">← All approvals</a></p>
<h1>Approval <code>${view.id}</code> <span class="badge ${status}" data-status>${status}</span></h1>
<p class="muted">Gate <strong>${view.gate}</strong> of pipeline <strong>${view.pipeline}</strong>, opened ${utc(view.openedAt)}${view.closedAt ? `, closed ${utc(view.closedAt)}` : ''}.</p>
${answer}
<h2>Still missing</h2>
<p data-missing>${Object.keys(view.missing).length ? html`<span class="missing">${quorumText(view.missing)}</span>` : 'Nothing: every required review is in.'}</p>
${rolesTable(view, input.conditions)}
<h2>Your decision</h2>
${decisionForm(input)}
<h2>Subject</h2>
${subjectTable(view)}
<h2>Policy</h2>
${policyFacts(view, input.conditions)}
<h2>Decisions received</h2>
${received}
<h2>Refused decisions</h2>
${refusals}
${card}`,
  );
}
