/**
 * The real auth server listening on a port for the client's tests (excluded from the build by
 * its `test-*` name). The clock starts at the real time and stands still until a test moves it.
 */
import { createServer } from 'node:net';
import { createTestApp, type TestApp, testClock } from '@tessera/server/testing';
import type { FetchLike } from './types.js';

export interface ListeningServer extends TestApp {
  issuer: string;
  /** Every request the client made, `METHOD path`. */
  calls: string[];
  /** A fetch that records calls and sets `Date` from the server's (test) clock, as a real server would. */
  fetch: FetchLike;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts the auth server on 127.0.0.1 with `env` on top of a short-lived-token setup. */
export async function listen(env: Record<string, string> = {}): Promise<ListeningServer> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ TESSERA_ISSUER: issuer, ...env }, undefined, { clock: testClock(Date.now()) });
  await t.app.listen({ port, host: '127.0.0.1' });
  const calls: string[] = [];
  const recordingFetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    calls.push(`${request.method} ${new URL(request.url).pathname}`);
    const response = await fetch(request);
    const headers = new Headers(response.headers);
    headers.set('date', new Date(t.clock()).toUTCString());
    const body = response.status === 204 ? null : await response.arrayBuffer();
    return new Response(body, { status: response.status, headers });
  };
  return { ...t, issuer, calls, fetch: recordingFetch, close: () => t.app.close() };
}
