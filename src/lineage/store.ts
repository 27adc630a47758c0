/**
 * Where lineage events go: the `lineage_events` table always, and an OpenLineage endpoint (e.g.
 * Marquez's `/api/v1/lineage`) when one is configured. An event is stored once per key, so an
 * activity retry re-emitting it stores nothing new. Delivery to the endpoint is at least once: a
 * newly stored event is POSTed, and so is an event an earlier attempt stored, because that attempt
 * may have died between its insert and its POST (a SIGKILLed worker); the stored event itself is
 * sent again, an identical payload a consumer recognises. A POST that fails is logged and never
 * fails the step that emitted it.
 */
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { lineageEvents, type LineageEventRow } from '../db/schema.js';
import type { Logger } from '../platform/logger.js';
import { datasetKey, type RunEvent } from './openlineage.js';

export interface LineageSink {
  /** Stores the event under `key` unless one is already stored; true when it was stored now. */
  emit(event: RunEvent, key: string): Promise<boolean>;
}

export interface LineageOptions {
  /** Base URL of an OpenLineage HTTP endpoint; events are POSTed to `<url>/api/v1/lineage`. */
  endpoint?: string;
  logger?: Logger;
  /** How long a POST may take before it is abandoned (default 5 s). */
  timeoutMs?: number;
}

export async function storeLineageEvent(db: Database, event: RunEvent, key: string): Promise<boolean> {
  const inserted = await db
    .insert(lineageEvents)
    .values({
      eventKey: key,
      runId: event.run.runId,
      eventType: event.eventType,
      eventTime: new Date(event.eventTime),
      jobNamespace: event.job.namespace,
      jobName: event.job.name,
      inputs: event.inputs.map(datasetKey),
      outputs: event.outputs.map(datasetKey),
      event: event as unknown as Record<string, unknown>,
    })
    .onConflictDoNothing({ target: lineageEvents.eventKey })
    .returning({ id: lineageEvents.id });
  return inserted.length > 0;
}

export function lineageEndpoint(url: string): string {
  return url.endsWith('/api/v1/lineage') ? url : `${url.replace(/\/+$/, '')}/api/v1/lineage`;
}

export async function postLineageEvent(url: string, event: RunEvent, timeoutMs = 5_000): Promise<void> {
  const response = await fetch(lineageEndpoint(url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}: ${(await response.text()).slice(0, 200)}`);
}

export function createLineageSink(db: Database, options: LineageOptions = {}): LineageSink {
  return {
    async emit(event, key) {
      const stored = await storeLineageEvent(db, event, key);
      const toPost = !options.endpoint ? undefined : stored ? event : await storedByEarlierAttempt(db, event, key);
      if (toPost && options.endpoint) {
        try {
          await postLineageEvent(options.endpoint, toPost, options.timeoutMs);
        } catch (error) {
          options.logger?.warn(`Could not POST the lineage event for ${event.job.name} (${event.eventType}) to ${lineageEndpoint(options.endpoint)}: ${(error as Error).message}`, {
            runId: event.run.runId,
          });
        }
      }
      return stored;
    },
  };
}

const attemptOf = (event: RunEvent): unknown => (event.run.facets as { steward_step?: { attempt?: unknown } } | undefined)?.steward_step?.attempt;

/** The event stored under `key` when another attempt stored it (it may not have been POSTed); undefined when this attempt did. */
async function storedByEarlierAttempt(db: Database, event: RunEvent, key: string): Promise<RunEvent | undefined> {
  const [row] = await db.select({ event: lineageEvents.event }).from(lineageEvents).where(eq(lineageEvents.eventKey, key));
  const earlier = row?.event as unknown as RunEvent | undefined;
  return earlier && attemptOf(earlier) !== attemptOf(event) ? earlier : undefined;
}

export async function lineageEventsOfRun(db: Database, runId: string): Promise<LineageEventRow[]> {
  return db.select().from(lineageEvents).where(eq(lineageEvents.runId, runId)).orderBy(asc(lineageEvents.id));
}

export async function allLineageEvents(db: Database): Promise<LineageEventRow[]> {
  return db.select().from(lineageEvents).orderBy(asc(lineageEvents.id));
}
