/**
 * How a deployment reaches the scorer: its admin HTTP API (server.ts), wherever the scorer runs
 * (inside `steward dev`, or a `steward serve` elsewhere). The scorer's answers become Steward's
 * errors again: 422 a ModelLoadError (a corrupt artifact: the deployment fails, the old version
 * keeps serving), 404 NotFound, other 4xx ValidationError, and 5xx or no answer UnavailableError,
 * which the activity retries.
 */
import { NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import { ModelLoadError } from './errors.js';
import type { ModelStats, RoutingChange } from './host-state.js';
import type { RoutingPolicy } from './routing.js';

export interface ScorerAdmin {
  readonly url: string;
  setRouting(model: string, policy: RoutingPolicy): Promise<RoutingChange>;
  routing(model: string): Promise<RoutingPolicy | null>;
  stats(model: string, windowSeconds?: number): Promise<ModelStats>;
  /**
   * A version's registry status, from the scorer's database: how `steward deploy start` checks a
   * version while the running stack holds the embedded database. NotFoundError for an unknown model
   * or version; undefined when this scorer cannot tell (no database, or an older scorer).
   */
  versionStatus(model: string, version: number): Promise<string | undefined>;
}

export function httpScorerAdmin(url: string, options: { adminToken?: string; timeoutMs?: number } = {}): ScorerAdmin {
  const base = url.replace(/\/$/, '');
  const call = async <T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.adminToken ? { authorization: `Bearer ${options.adminToken}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new UnavailableError(`The scorer at ${base} did not answer ${method} ${path}: ${(error as Error).message}. Is it running (\`steward dev\` hosts one)?`, { url: base });
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (response.ok) return parsed as T;
    const message = (parsed as { error?: string } | undefined)?.error ?? `HTTP ${response.status}`;
    if (response.status === 422) throw new ModelLoadError(message);
    if (response.status === 404) throw new NotFoundError(message);
    if (response.status >= 400 && response.status < 500) throw new ValidationError(`The scorer refused ${method} ${path}: ${message}`);
    throw new UnavailableError(`The scorer at ${base} failed ${method} ${path}: ${message}`, { url: base, status: response.status });
  };
  const model = (name: string) => `/admin/models/${encodeURIComponent(name)}`;
  return {
    url: base,
    setRouting: (name, policy) => call<RoutingChange>('PUT', `${model(name)}/routing`, policy),
    routing: async (name) => {
      try {
        return await call<RoutingPolicy>('GET', `${model(name)}/routing`);
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
    stats: (name, windowSeconds) => call<ModelStats>('GET', `${model(name)}/stats${windowSeconds === undefined ? '' : `?windowSeconds=${windowSeconds}`}`),
    versionStatus: async (name, version) => {
      try {
        return (await call<{ status: string }>('GET', `${model(name)}/versions/${version}`)).status;
      } catch (error) {
        // An older scorer has no such route: it cannot tell, which is not "no such version".
        if (error instanceof NotFoundError && error.message.startsWith('No route')) return undefined;
        if (error instanceof UnavailableError && (error.details as { status?: number } | undefined)?.status === 501) return undefined;
        throw error;
      }
    },
  };
}
