// HTTP helpers for the verify e2e tests: sign up, log in, refresh, log out at the auth
// server; call the resource service; measure how long a revocation takes to reach it.
import { performance } from 'node:perf_hooks';

export const PASSWORD = 'correct horse battery staple';

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  return text === '' ? null : JSON.parse(text);
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** A unique email per call, so tests and reruns never collide. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.test`;
}

/** `POST /v1/users`; expects 201. */
export async function signUp(base: string, email: string, password = PASSWORD): Promise<{ id: string }> {
  const res = await post(`${base}/v1/users`, { email, password });
  const body = await json(res);
  if (res.status !== 201) throw new Error(`sign-up answered ${res.status}: ${JSON.stringify(body)}`);
  return body as { id: string };
}

/** `POST /v1/token` with the password grant; expects 200. */
export async function login(base: string, email: string, password = PASSWORD): Promise<Tokens> {
  const res = await post(`${base}/v1/token`, { grant_type: 'password', username: email, password });
  const body = await json(res);
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${JSON.stringify(body)}`);
  return body as Tokens;
}

/** `POST /v1/token` with the refresh grant; answers the status and body as they are. */
export async function refresh(base: string, refreshToken: string): Promise<{ status: number; body: unknown }> {
  const res = await post(`${base}/v1/token`, { grant_type: 'refresh_token', refresh_token: refreshToken });
  return { status: res.status, body: await json(res) };
}

/** `POST /v1/logout` with the Bearer token; answers the status. */
export async function logout(base: string, accessToken: string): Promise<number> {
  const res = await fetch(`${base}/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

/** `GET /whoami` at a resource service with a Bearer token. */
export async function whoami(base: string, token: string): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await json(res)) as Record<string, unknown> | null };
}

/** A JSON GET (`/status`, `/.well-known/jwks.json`, …). */
export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = await json(res);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return body as T;
}

/** The decoded header or payload of a compact JWS (no verification: tests only). */
export function decodePart(token: string, part: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[part] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Polls `GET /whoami` back to back (one request in flight at a time) until the service answers
 * 401, and resolves the `performance.now()` of that answer. Any status but 200/401, or no 401
 * by `deadline` (a `performance.now()` value), rejects.
 */
export async function firstRefusal(base: string, token: string, deadline: number): Promise<number> {
  const url = `${base}/whoami`;
  const headers = { authorization: `Bearer ${token}` };
  for (;;) {
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    const now = performance.now();
    if (res.status === 401) return now;
    if (res.status !== 200) throw new Error(`${base} answered ${res.status} while waiting for the revocation`);
    if (now > deadline) throw new Error(`${base} still accepted a revoked token after the deadline`);
  }
}

/** Nearest-rank percentile of a sample (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}
