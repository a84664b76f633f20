// Cross-node revocation latency: a logout answered by node A, timed until node B's revocation
// feed (GET /v1/revocations/stream, SSE) delivers its event. A and B share PostgreSQL (NOTIFY)
// and Redis; nothing else connects them.
import { performance } from 'node:perf_hooks';
import { FEED_CLIENT, type Server } from './servers.js';

/** An SSE subscriber that resolves, per session id, when its revocation arrived. */
interface Subscriber {
  arrival(sid: string, timeoutMs: number): Promise<number>;
  close(): void;
}

async function subscribe(node: Server): Promise<Subscriber> {
  const headers = { authorization: `Basic ${Buffer.from(`${FEED_CLIENT.id}:${FEED_CLIENT.secret}`).toString('base64')}` };
  const head = (await (await fetch(`${node.base}/v1/revocations?limit=1000`, { headers })).json()) as { cursor: string };
  const abort = new AbortController();
  const res = await fetch(`${node.base}/v1/revocations/stream?since=${head.cursor}`, { headers, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`SSE at ${node.name} answered ${res.status}`);
  const seen = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      // Stamped as the chunk arrives, before any parsing.
      const at = performance.now();
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((line) => line.startsWith('data: '));
        buffer = buffer.slice(end + 2);
        const sid = data ? (JSON.parse(data.slice(6)) as { sid: string | null }).sid : null;
        if (sid === null || seen.has(sid)) continue;
        seen.set(sid, at);
        waiters.get(sid)?.(at);
      }
    }
  })();
  return {
    arrival(sid, timeoutMs) {
      const at = seen.get(sid);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no revocation of ${sid} at ${node.name} within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(sid, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close: () => abort.abort(),
  };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/**
 * Logs in on A `count` times, taking `emails` in turn (so that no user passes the per-user session
 * cap, which would end the oldest sessions), then logs each session out on A, one at a time, and
 * returns for each the ms from sending the logout to its event arriving at B's SSE subscriber.
 */
export async function revocationLatencies(a: Server, b: Server, emails: string[], password: string, count: number): Promise<number[]> {
  const sessions: { access: string; sid: string }[] = [];
  for (let i = 0; i < count; i++) {
    const username = emails[i % emails.length] as string;
    const res = await post(`${a.base}/v1/token`, { grant_type: 'password', username, password });
    const body = (await res.json()) as { access_token: string };
    if (res.status !== 200) throw new Error(`login for the revocation row answered ${res.status}`);
    const payload = JSON.parse(Buffer.from(body.access_token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string };
    sessions.push({ access: body.access_token, sid: payload.sid });
  }
  const subscriber = await subscribe(b);
  try {
    const latencies: number[] = [];
    for (const s of sessions) {
      const sent = performance.now();
      const res = await fetch(`${a.base}/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${s.access}` } });
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`logout answered ${res.status}`);
      latencies.push((await subscriber.arrival(s.sid, 5_000)) - sent);
      // Apart, so each logout is timed alone rather than queued behind the previous one.
      await new Promise((r) => setTimeout(r, 10));
    }
    return latencies;
  } finally {
    subscriber.close();
  }
}
