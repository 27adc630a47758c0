/**
 * Renders a model card's sections (model-card.ts) as Markdown or as one self-contained HTML page.
 * Everything shown comes from the registry and can hold anything a user typed (a reason, a
 * description, an actor), so every string is escaped for where it lands; the HTML page has no
 * script, fetches nothing, and draws its curves as inline SVG from numbers only. Figures print with
 * at most four decimals (`decimal`), so a metric reads 0.6917, never 0.6916695386176573.
 */
import type { LineageNode } from './lineage.js';

export type Block =
  | { kind: 'facts'; rows: Array<[string, string]> }
  | { kind: 'text'; text: string; label?: string }
  /** Something not recorded: shown so its absence is read, not overlooked. */
  | { kind: 'note'; text: string }
  | { kind: 'subheading'; text: string }
  /** `id` names the table (data-table in HTML) so tools and tests can find it. */
  | { kind: 'table'; id: string; header: string[]; rows: string[][]; empty: string }
  | { kind: 'tree'; root: LineageNode }
  /**
   * A curve over [0, 1] x [0, 1], or over `range` on both axes (predicted against actual values),
   * with the diagonal for reference; Markdown leaves charts out (viewers strip inline SVG).
   */
  | { kind: 'chart'; title: string; xLabel: string; yLabel: string; x: number[]; y: number[]; markers?: boolean; range?: [number, number] };

export interface CardSection {
  id: string;
  title: string;
  blocks: Block[];
}

/**
 * A figure as a reviewer reads it: at most four decimals with trailing zeros dropped (0.64, 0.6917,
 * 1234.5679), and four significant digits for magnitudes below 0.001, which four decimals would
 * round to 0.
 */
export function decimal(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return String(Number(magnitude === 0 || magnitude >= 1e-3 ? value.toFixed(4) : value.toPrecision(4)));
}

/** Markdown viewers render inline HTML and links, so text is entity-escaped and kept out of table and link syntax. */
function md(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('|', '\\|')
    .replaceAll('[', '\\[')
    .replaceAll(']', '\\]')
    .replace(/\r?\n/g, ' ');
}

/** A paragraph must not start a heading, list or quote because of what a user typed. */
const mdParagraph = (text: string) => md(text).replace(/^(\s*)([#>*+-]|\d+\.)/, '$1\\$2');

function mdTable(header: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `_${md(empty)}_`;
  const line = (cells: string[]) => `| ${cells.map(md).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- |').join('')}`, ...rows.map(line)].join('\n');
}

function mdTree(node: LineageNode, depth = 0): string[] {
  return [`${'  '.repeat(depth)}- ${md(node.label)}`, ...node.children.flatMap((child) => mdTree(child, depth + 1))];
}

function mdBlock(block: Block): string | undefined {
  switch (block.kind) {
    case 'facts':
      return mdTable(['Field', 'Value'], block.rows, '');
    case 'text':
      return block.label ? `**${md(block.label)}:** ${md(block.text)}` : mdParagraph(block.text);
    case 'note':
      return `_${md(block.text)}_`;
    case 'subheading':
      return `### ${md(block.text)}`;
    case 'table':
      return mdTable(block.header, block.rows, block.empty);
    case 'tree':
      return mdTree(block.root).join('\n');
    case 'chart':
      return undefined;
  }
}

export function modelCardMarkdown(title: string, sections: CardSection[]): string {
  const parts = [`# ${md(title)}`];
  for (const section of sections) {
    parts.push(`## ${md(section.title)}`);
    for (const block of section.blocks) {
      const text = mdBlock(block);
      if (text !== undefined) parts.push(text);
    }
  }
  return `${parts.join('\n\n')}\n`;
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

function htmlTable(id: string, header: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="none" data-table="${escapeHtml(id)}"><em>${escapeHtml(empty)}</em></p>`;
  const row = (cells: string[], tag: 'th' | 'td') => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<table data-table="${escapeHtml(id)}">\n<thead>${row(header, 'th')}</thead>\n<tbody>\n${rows.map((r) => row(r, 'td')).join('\n')}\n</tbody>\n</table>`;
}

function htmlTree(node: LineageNode): string {
  const children = node.children.length ? `<ul>${node.children.map(htmlTree).join('')}</ul>` : '';
  return `<li data-kind="${escapeHtml(node.kind)}">${escapeHtml(node.label)}${children}</li>`;
}

const SIZE = 260;
const MARGIN = 36;

/** A curve on the unit square (or its `range` squared) with the diagonal for reference: chance for ROC, perfect calibration or prediction. */
function svgChart(block: Extract<Block, { kind: 'chart' }>): string {
  const span = SIZE - 2 * MARGIN;
  const [lo, hi] = block.range ?? [0, 1];
  const width = hi > lo ? hi - lo : 1;
  const unit = (v: number) => Math.min(1, Math.max(0, (v - lo) / width));
  const px = (x: number) => (MARGIN + unit(x) * span).toFixed(1);
  const py = (y: number) => (SIZE - MARGIN - unit(y) * span).toFixed(1);
  const points = block.x.map((x, i) => `${px(x)},${py(block.y[i] ?? lo)}`).join(' ');
  const markers = block.markers ? block.x.map((x, i) => `<circle cx="${px(x)}" cy="${py(block.y[i] ?? lo)}" r="2.5"/>`).join('') : '';
  const ticks = [lo, lo + width / 2, lo + width]
    .map((t) => `<text x="${px(t)}" y="${SIZE - MARGIN + 14}" text-anchor="middle">${decimal(t)}</text><text x="${MARGIN - 6}" y="${py(t)}" text-anchor="end" dominant-baseline="middle">${decimal(t)}</text>`)
    .join('');
  const title = escapeHtml(block.title);
  return `<figure>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}" width="${SIZE}" height="${SIZE}" role="img" aria-label="${title}" font-size="10">
<title>${title}</title>
<rect x="${MARGIN}" y="${MARGIN}" width="${span}" height="${span}" fill="none" stroke="#999"/>
<line x1="${px(lo)}" y1="${py(lo)}" x2="${px(hi)}" y2="${py(hi)}" stroke="#bbb" stroke-dasharray="4 3"/>
<polyline points="${points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>
<g fill="#1f5fa8">${markers}</g>
${ticks}
<text x="${SIZE / 2}" y="${SIZE - 6}" text-anchor="middle">${escapeHtml(block.xLabel)}</text>
<text transform="translate(10 ${SIZE / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(block.yLabel)}</text>
</svg>
<figcaption>${title}</figcaption>
</figure>`;
}

function htmlBlock(block: Block): string {
  switch (block.kind) {
    case 'facts':
      return `<table data-table="facts">\n<tbody>\n${block.rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}\n</tbody>\n</table>`;
    case 'text':
      return `<p>${block.label ? `<strong>${escapeHtml(block.label)}:</strong> ` : ''}${escapeHtml(block.text)}</p>`;
    case 'note':
      return `<p class="none"><em>${escapeHtml(block.text)}</em></p>`;
    case 'subheading':
      return `<h3>${escapeHtml(block.text)}</h3>`;
    case 'table':
      return htmlTable(block.id, block.header, block.rows, block.empty);
    case 'tree':
      return `<ul class="tree">${htmlTree(block.root)}</ul>`;
    case 'chart':
      return svgChart(block);
  }
}

/** One file with its style inline and nothing fetched, so it can be attached to a review or archived. */
export function modelCardHtml(title: string, sections: CardSection[]): string {
  const body = sections
    .map((s) => `<section id="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.blocks.map(htmlBlock).join('\n')}\n</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th, tbody th { background: #f4f4f4; }
.none { color: #8a4b00; }
figure { display: inline-block; margin: 0 1.5rem 1rem 0; }
ul.tree, ul.tree ul { list-style: none; padding-left: 1.2rem; }
ul.tree li::before { content: "└ "; color: #999; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}
