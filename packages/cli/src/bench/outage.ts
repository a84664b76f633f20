// The auth server killed: tokens issued before the kill are sent to the resource service, which
// verifies them with the keys it already holds; the session cookie is sent to the auth server,
// which is gone. Each request is counted as succeeded (2xx) or not.
import type { ChildProcess } from 'node:child_process';
import { Connection } from './lib/connection.js';
import type { Outage } from './types.js';

/** Distinct access tokens of one session: a login, then refresh grants (each issues a new access token). */
export async function distinctTokens(base: string, first: { access: string; refresh: string }, count: number): Promise<string[]> {
  const tokens = [first.access];
  let refresh = first.refresh;
  while (tokens.length < count) {
    const res = await fetch(`${base}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refresh }),
    });
    const body = (await res.json()) as { access_token?: string; refresh_token?: string };
    if (res.status !== 200 || !body.access_token || !body.refresh_token) throw new Error(`refresh answered ${res.status}`);
    tokens.push(body.access_token);
    refresh = body.refresh_token;
  }
  return tokens;
}

/** SIGKILLs `server` and waits for it to be gone. */
export async function kill(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((r) => server.once('exit', r));
  server.kill('SIGKILL');
  await gone;
}

/** One GET on a fresh connection (the server may be gone): true for a 2xx. */
async function once(port: number, path: string, headers: Record<string, string>): Promise<boolean> {
  let c: Connection | null = null;
  try {
    c = await Connection.open(port);
    const a = await c.get(path, headers);
    return a.status >= 200 && a.status < 300;
  } catch {
    return false;
  } finally {
    c?.close();
  }
}

/**
 * `requests` Bearer requests to the resource service (`tokens` in turn, on one keep-alive
 * connection, reopened if it drops) and `requests` cookie requests to the auth server, counted.
 */
export async function afterKill(
  resource: { port: number; path: string; tokens: readonly string[] },
  auth: { port: number; cookie: string },
  requests: number,
): Promise<Outage> {
  let jwtOk = 0;
  let c: Connection | null = null;
  for (let i = 0; i < requests; i++) {
    try {
      c ??= await Connection.open(resource.port);
      const a = await c.get(resource.path, { authorization: `Bearer ${resource.tokens[i % resource.tokens.length]}` });
      if (a.status >= 200 && a.status < 300) jwtOk++;
    } catch {
      c?.close();
      c = null;
    }
  }
  c?.close();
  let cookieOk = 0;
  for (let i = 0; i < requests; i++) if (await once(auth.port, '/v1/me', { cookie: auth.cookie })) cookieOk++;
  return { requests, jwtOk, cookieOk };
}
