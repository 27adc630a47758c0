/** Plain-text rendering for the CLI; `--json` prints the same objects as JSON instead. */
import type { StepState } from '../contracts.js';
import type { RunReport } from '../pipeline/runs.js';

const marks: Record<string, string> = { pending: '·', running: '…', completed: '✓', failed: '✗', skipped: '-', cancelled: '⊘' };

export function duration(startIso?: string, endIso?: string): string {
  if (!startIso) return '';
  const ms = (endIso ? Date.parse(endIso) : Date.now()) - Date.parse(startIso);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function renderStep(step: StepState): string {
  const outputs = () =>
    Object.entries(step.output ?? {})
      .filter(([, v]) => typeof v !== 'object' && String(v).length <= 40 && v !== '{…}')
      .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`)
      .join(' ');
  // A skipped step says why: its condition did not hold, or a step it needs was skipped.
  const summary = step.error ? `error: ${step.error}` : (step.skipReason ?? outputs());
  const notes = [step.cached ? 'cached' : '', (step.attempts ?? 1) > 1 ? `attempt ${step.attempts}` : '', step.items ? `${step.items.done}/${step.items.total} items` : '']
    .filter(Boolean)
    .join(', ');
  const status = `${step.status}${notes ? ` (${notes})` : ''}`;
  const after = step.after.length ? `  [after ${step.after.join(', ')}]` : '';
  return `  ${marks[step.status] ?? '?'} ${step.name.padEnd(18)} ${status.padEnd(20)} ${duration(step.startedAt, step.finishedAt).padStart(8)}  ${summary}${after}`;
}

export function renderReport(report: RunReport, uiUrl?: string): string {
  const lines = [
    `Run ${report.runId}${report.pipeline ? ` (pipeline ${report.pipeline})` : ''}: ${report.status}` +
      (report.startedAt ? `, ${report.closedAt ? 'took' : 'running for'} ${duration(report.startedAt, report.closedAt)}` : ''),
  ];
  if (report.state) lines.push(...orderByDependencies(report.state.steps).map(renderStep));
  else lines.push('  (no step details recorded yet)');
  if (report.failure) lines.push(`Failure: ${report.failure}`);
  if (uiUrl) lines.push(`Temporal UI: ${uiUrl}`);
  return lines.join('\n');
}

export function workflowUrl(uiUrl: string | undefined, namespace: string, runId: string): string | undefined {
  return uiUrl ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(runId)}` : undefined;
}

/** Steps in dependency order (each after what it waits for), so the listing reads as the DAG runs. */
export function orderByDependencies(steps: StepState[]): StepState[] {
  const placed = new Set<string>();
  const ordered: StepState[] = [];
  while (ordered.length < steps.length) {
    const ready = steps.filter((s) => !placed.has(s.name) && s.after.every((a) => placed.has(a)));
    if (ready.length === 0) return [...ordered, ...steps.filter((s) => !placed.has(s.name))];
    for (const s of ready) {
      placed.add(s.name);
      ordered.push(s);
    }
  }
  return ordered;
}
