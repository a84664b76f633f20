// Probes for e2e/outages.test.ts: one request with a deadline, answered as status, Retry-After
// and time taken (a hang becomes status 0 at the deadline instead of a stuck test), and waits that
// report how long a behaviour took to appear.
import { performance } from 'node:perf_hooks';
import { PASSWORD } from './http.js';

/** How long a probe waits before calling the request hung. Well above the 5 s bound it checks. */
export const PROBE_DEADLINE_MS = 12_000;

/** What one probe saw. */
export interface Probe {
  what: string;
  /** HTTP status; 0 when the request hung past {@link PROBE_DEADLINE_MS} or the connection failed. */
  status: number;
  retryAfter: string | null;
  /** Time from sending to the full answer, ms. */
  ms: number;
  body: Record<string, unknown> | null;
  /** Set-Cookie values, `name=value` only. */
  cookies: string[];
}

/** A request to probe: method, path, optional JSON body and headers. */
export interface ProbeRequest {
  what: string;
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends one request to `base` and times it; never throws. */
export async function probe(base: string, req: ProbeRequest): Promise<Probe> {
  const t0 = performance.now();
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${base}${req.path}`, {
      method: req.method ?? (req.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(req.body !== undefined && { body: JSON.stringify(req.body) }),
      signal: AbortSignal.timeout(PROBE_DEADLINE_MS),
    });
    const text = await res.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      body = { text: text.slice(0, 200) };
    }
    return {
      what: req.what,
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      ms: performance.now() - t0,
      body,
      cookies: res.headers.getSetCookie().map((c) => c.split(';')[0] as string),
    };
  } catch (err) {
    return { what: req.what, status: 0, retryAfter: null, ms: performance.now() - t0, body: { error: String(err) }, cookies: [] };
  }
}

/** The request bodies and headers the outage cases send. */
export const requests = {
  cookieMe: (cookie: string): ProbeRequest => ({ what: 'GET /v1/me (cookie)', path: '/v1/me', headers: { cookie } }),
  bearerMe: (token: string): ProbeRequest => ({
    what: 'GET /v1/me (Bearer)',
    path: '/v1/me',
    headers: { authorization: `Bearer ${token}` },
  }),
  cookieLogin: (email: string): ProbeRequest => ({
    what: 'POST /v1/sessions (cookie login)',
    path: '/v1/sessions',
    body: { email, password: PASSWORD },
  }),
  login: (email: string): ProbeRequest => ({
    what: 'POST /v1/token (password login)',
    path: '/v1/token',
    body: { grant_type: 'password', username: email, password: PASSWORD },
  }),
  refresh: (refreshToken: string): ProbeRequest => ({
    what: 'POST /v1/token (refresh)',
    path: '/v1/token',
    body: { grant_type: 'refresh_token', refresh_token: refreshToken },
  }),
  register: (email: string): ProbeRequest => ({
    what: 'POST /v1/users (registration)',
    path: '/v1/users',
    body: { email, password: PASSWORD },
  }),
  logout: (token: string): ProbeRequest => ({
    what: 'POST /v1/logout',
    method: 'POST',
    path: '/v1/logout',
    headers: { authorization: `Bearer ${token}` },
  }),
  readyz: (): ProbeRequest => ({ what: 'GET /readyz', path: '/readyz' }),
};

/** The session cookie set by a cookie login (`tessera_session=…`), or throws. */
export function sessionCookie(p: Probe): string {
  const cookie = p.cookies.find((c) => c.startsWith('tessera_session='));
  if (p.status !== 200 && p.status !== 201) throw new Error(`${p.what} answered ${p.status}: ${JSON.stringify(p.body)}`);
  if (!cookie) throw new Error(`${p.what} set no session cookie`);
  return cookie;
}

/**
 * Repeats `req` (one at a time, `intervalMs` apart) until it answers `status`; resolves the ms from
 * `since` (a performance.now() value) to that answer, or rejects after `timeoutMs`.
 */
export async function timeUntil(
  base: string,
  req: () => ProbeRequest,
  status: number,
  since: number,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<number> {
  let last: Probe | undefined;
  while (performance.now() - since < timeoutMs) {
    last = await probe(base, req());
    if (last.status === status) return performance.now() - since;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `no ${status} from ${last?.what ?? 'the probe'} within ${timeoutMs} ms (last: ${last?.status} ${JSON.stringify(last?.body)})`,
  );
}

/** A line for the test log: what answered what, in how long. */
export function describeProbe(p: Probe): string {
  return `${p.what}: ${p.status}${p.retryAfter ? ` (Retry-After ${p.retryAfter})` : ''} in ${p.ms.toFixed(0)} ms`;
}
