import { ClientErrorCodes, TesseraError } from '../errors.js';
import type { FetchLike } from '../types.js';

/** A JSON answer of the auth server, with what the client learns from its headers. */
export interface Answer<T> {
  body: T;
  response: Response;
  /** Server clock minus ours, in ms, from `Date`; undefined when the header is not readable (CORS hides it). */
  skew: number | undefined;
}

/** Options of one call to the auth server. */
export interface CallOptions {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  headers?: Record<string, string>;
  /** `include` so the browser sends and accepts the issuer's cookies across origins. */
  credentials?: 'include' | 'same-origin' | 'omit';
  /** Milliseconds since the epoch, for the skew estimate. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Server time minus local time, from the `Date` header. `Date` has one-second resolution and
 * is truncated, so the server's instant lies in the second after it: the middle of that second,
 * against the middle of our round trip, is the best estimate.
 */
export function skewFrom(response: Response, sentAt: number, receivedAt: number): number | undefined {
  const date = response.headers.get('date');
  const server = date === null ? Number.NaN : Date.parse(date);
  if (Number.isNaN(server)) return undefined;
  return server + 500 - (sentAt + receivedAt) / 2;
}

/** Reads a refusal's `{ error, error_description }`, or names the status when the body is not one. */
async function refusal(response: Response): Promise<TesseraError> {
  const retry = Number(response.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  try {
    const body = (await response.json()) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') {
      const text = typeof body.error_description === 'string' ? body.error_description : body.error;
      return new TesseraError(body.error, text, response.status, retryAfter);
    }
  } catch {
    // Not JSON: named by status below.
  }
  return new TesseraError(`http_${response.status}`, `the server answered ${response.status}`, response.status, retryAfter);
}

/**
 * One call to the auth server: JSON in and out, refusals as {@link TesseraError} with the
 * server's code, network failures as `network_error`.
 */
export async function call<T>(fetchFn: FetchLike, url: string, options: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const init: RequestInit = { method: options.method ?? 'GET', headers };
  if (options.credentials) init.credentials = options.credentials;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.json);
  }
  const now = options.clock ?? Date.now;
  const sentAt = now();
  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (err) {
    throw new TesseraError(ClientErrorCodes.NETWORK, `the auth server could not be reached: ${(err as Error).message}`);
  }
  const skew = skewFrom(response, sentAt, now());
  if (!response.ok) throw await refusal(response);
  if (response.status === 204) return { body: undefined as T, response, skew };
  try {
    return { body: (await response.json()) as T, response, skew };
  } catch {
    throw new TesseraError(ClientErrorCodes.INVALID_RESPONSE, 'the auth server answered something that is not JSON', response.status);
  }
}
