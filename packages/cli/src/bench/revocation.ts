// Revocation as a client sees it. For tokens: log a session out at the auth server, and poll the
// resource service with its access token, back to back, until it refuses it; the time from
// sending the logout to the first refusal, per verifier (one on the SSE feed, one on Redis). For
// cookies: log a session out, and send the very next request with its cookie.
import { performance } from 'node:perf_hooks';
import { Connection } from './lib/connection.js';
import { quantile } from './lib/stats.js';
import type { CookieRevocation, RevocationRow } from './types.js';

/** A user's credentials on the auth server. */
export interface Account {
  base: string;
  email: string;
  password: string;
}

const portOf = (base: string) => Number(new URL(base).port);

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** A password-grant login: the access token and refresh token. */
export async function tokenLogin(a: Account): Promise<{ access: string; refresh: string }> {
  const res = await postJson(`${a.base}/v1/token`, { grant_type: 'password', username: a.email, password: a.password });
  const body = (await res.json()) as { access_token?: string; refresh_token?: string; error?: string };
  if (res.status !== 200 || !body.access_token || !body.refresh_token)
    throw new Error(`token login answered ${res.status} ${body.error ?? ''}`);
  return { access: body.access_token, refresh: body.refresh_token };
}

/** A cookie login: the `Cookie` header value and the session's CSRF token. */
export async function cookieLogin(a: Account): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await postJson(`${a.base}/v1/sessions`, { email: a.email, password: a.password });
  const body = (await res.json()) as { csrf_token?: string; error?: string };
  const setCookie = res.headers.getSetCookie().find((c) => /^(__Host-)?tessera_session=/.test(c));
  if (res.status !== 201 || !setCookie || !body.csrf_token) throw new Error(`cookie login answered ${res.status} ${body.error ?? ''}`);
  return { cookie: setCookie.split(';')[0] as string, csrf: body.csrf_token, setCookie };
}

/** Polls `path` with `token` on `c` until it is refused; resolves the time of the refusal (performance.now()). */
async function refusedAt(c: Connection, path: string, token: string, deadline: number): Promise<number> {
  for (;;) {
    const a = await c.get(path, { authorization: `Bearer ${token}` });
    const at = performance.now();
    if (a.status === 401) return at;
    if (a.status !== 200) throw new Error(`${path} answered ${a.status} while waiting for the revocation`);
    if (at > deadline) throw new Error(`${path} still accepted a logged-out token after 5 s`);
  }
}

/** Figures of a list of latencies (ms). */
function figures(xs: number[]): Pick<RevocationRow, 'samples' | 'p50Ms' | 'p99Ms' | 'maxMs'> {
  return { samples: xs.length, p50Ms: quantile(xs, 0.5), p99Ms: quantile(xs, 0.99), maxMs: Math.max(...xs) };
}

/**
 * `samples` logouts, one at a time: each session is logged in beforehand (logins in parallel),
 * its token checked accepted at every route in `routes`, then logged out while each route is
 * polled on a connection of its own. Returns one row per route (the row's `id` is the route).
 */
export async function tokenRevocation(
  account: Account,
  resourceBase: string,
  routes: readonly { row: RevocationRow; path: string }[],
  samples: number,
  tick: () => void,
): Promise<RevocationRow[]> {
  const sessions: string[] = [];
  for (let i = 0; i < samples; i += 4) {
    const batch = await Promise.all(Array.from({ length: Math.min(4, samples - i) }, () => tokenLogin(account)));
    sessions.push(...batch.map((b) => b.access));
  }
  const logout = await Connection.open(portOf(account.base));
  const pollers = await Promise.all(routes.map(() => Connection.open(portOf(resourceBase))));
  const latencies = routes.map((): number[] => []);
  const failures = routes.map((): Error | null => null);
  try {
    for (const token of sessions) {
      const live = routes.map((_, i) => failures[i] === null);
      // Accepted first (and cached, as a busy service would have it).
      for (const [i, r] of routes.entries()) {
        if (!live[i]) continue;
        const a = await (pollers[i] as Connection).get(r.path, { authorization: `Bearer ${token}` });
        if (a.status !== 200) failures[i] = new Error(`${r.path} refused a live token (${a.status})`);
      }
      const sent = performance.now();
      const answered = logout.request('POST', '/v1/logout', { authorization: `Bearer ${token}`, 'content-length': '0' });
      const deadline = sent + 5_000;
      const refusals = routes.map((r, i) =>
        live[i] && failures[i] === null ? refusedAt(pollers[i] as Connection, r.path, token, deadline) : Promise.resolve(Number.NaN),
      );
      const status = (await answered).status;
      if (status !== 204) throw new Error(`logout answered ${status}`);
      const times = await Promise.allSettled(refusals);
      for (const [i, t] of times.entries()) {
        if (t.status === 'rejected') failures[i] ??= t.reason instanceof Error ? t.reason : new Error(String(t.reason));
        else if (!Number.isNaN(t.value)) latencies[i]?.push(t.value - sent);
      }
      tick();
      // Apart, so each logout is timed alone rather than queued behind the previous one.
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    logout.close();
    for (const p of pollers) p.close();
  }
  return routes.map((r, i) => {
    const failed = failures[i];
    if (failed) return { ...r.row, skipped: failed.message };
    return { ...r.row, ...figures(latencies[i] as number[]) };
  });
}

/** `samples` cookie logins, each logged out (DELETE /v1/sessions/current) and then tried once more. */
export async function cookieRevocation(account: Account, samples: number): Promise<CookieRevocation> {
  let accepted = 0;
  const c = await Connection.open(portOf(account.base));
  try {
    for (let i = 0; i < samples; i++) {
      const { cookie, csrf } = await cookieLogin(account);
      const before = await c.get('/v1/me', { cookie });
      if (before.status !== 200) throw new Error(`GET /v1/me with a fresh cookie answered ${before.status}`);
      const out = await c.request('DELETE', '/v1/sessions/current', { cookie, 'x-csrf-token': csrf });
      if (out.status !== 204) throw new Error(`cookie logout answered ${out.status}`);
      const after = await c.get('/v1/me', { cookie });
      if (after.status === 200) accepted++;
    }
  } finally {
    c.close();
  }
  return { samples, acceptedAfterLogout: accepted };
}
