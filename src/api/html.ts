/**
 * Server-rendered HTML without a template engine: the `html` tag escapes every interpolated value
 * unless it is already `SafeHtml` (the result of another `html` call, or `trustedHtml` for markup a
 * trusted renderer produced, such as a model card). Escaping is therefore the default, and markup
 * has to be asked for by name.
 *
 * @example
 * html`<p>${comment}</p>`                     // a comment with <script> renders as text
 * html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`
 */
import { escapeHtml } from '../registry/model-card.js';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Markup produced by a renderer that escapes its own content; never pass user input here. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** `2025-01-31 14:05 UTC`: unambiguous for reviewers in different time zones. */
export function utc(date: Date | string): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  return Number.isNaN(d.getTime()) ? String(date) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `in 3 h 20 min` / `5 min ago`, relative to `now`. */
export function relative(date: Date | string, now = Date.now()): string {
  const ms = (typeof date === 'string' ? Date.parse(date) : date.getTime()) - now;
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const span = days > 0 ? `${days} d ${hours} h` : hours > 0 ? `${hours} h ${mins} min` : `${mins} min`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}
