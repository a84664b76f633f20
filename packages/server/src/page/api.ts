import { type TesseraClient, TesseraError } from '@tessera/client';
import type { Failure } from './messages.js';

/**
 * One call to the auth server through the client's `fetch` (Bearer or cookie + CSRF, a refresh
 * and one retry on a 401 in token mode), with the server's JSON refusal turned into a
 * {@link TesseraError} carrying its code and `Retry-After`.
 */
export async function api<T>(client: TesseraClient, method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await client.fetch(new URL(path, location.origin).href, init);
  } catch (err) {
    throw new TesseraError('network_error', `the server could not be reached: ${(err as Error).message}`);
  }
  if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;
  const retry = Number(response.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  const refusal = (await response.json().catch(() => null)) as { error?: unknown; error_description?: unknown } | null;
  const code = typeof refusal?.error === 'string' ? refusal.error : `http_${response.status}`;
  const text = typeof refusal?.error_description === 'string' ? refusal.error_description : `the server answered ${response.status}`;
  throw new TesseraError(code, text, response.status, retryAfter);
}

/** A thrown value as a failure the page can explain: anything that is not a refusal is a network failure. */
export function failureOf(err: unknown): Failure {
  if (err instanceof TesseraError) return { code: err.code, message: err.message, status: err.status, retryAfter: err.retryAfter };
  return { code: 'network_error', message: err instanceof Error ? err.message : String(err), status: 0 };
}
