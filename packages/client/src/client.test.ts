import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TesseraClient, TesseraError, type User } from './index.js';
import { type ListeningServer, listen } from './test-server.js';

const PASSWORD = 'correct horse battery staple';
let counter = 0;
const email = () => `client-${++counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;

/** A clock the test moves by hand, starting at the real time like the server's. */
function localClock() {
  let now = Date.now();
  const clock = () => now;
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}

let server: ListeningServer;
beforeAll(async () => {
  server = await listen({ TESSERA_ACCESS_TOKEN_TTL: '600', TESSERA_REFRESH_TOKEN_TTL: '86400' });
});
afterAll(() => server.close());

const clients: TesseraClient[] = [];
function tokenClient(extra: Partial<Parameters<typeof createClient>[0]> = {}): TesseraClient {
  const client = createClient({ issuer: server.issuer, mode: 'token', fetch: server.fetch, ...extra });
  clients.push(client);
  return client;
}
afterAll(() => {
  for (const c of clients) c.close();
});

const tokenCalls = () => server.calls.filter((c) => c === 'POST /v1/token').length;

describe('@tessera/client in Node, token mode (refresh token held in memory)', () => {
  it('signUp signs in: user() and a change event, an access token, and fetch that sends it to the issuer', async () => {
    const client = tokenClient();
    const changes: (User | null)[] = [];
    client.on('change', (user) => changes.push(user));
    const address = email();
    const user = await client.signUp({ email: address, password: PASSWORD, name: 'Ada' });
    expect(user).toMatchObject({ email: address, name: 'Ada' });
    expect(client.user()?.id).toBe(user.id);
    expect(changes).toHaveLength(1);
    expect(await client.accessToken()).toMatch(/^ey/);
    const me = await client.fetch(`${server.issuer}/v1/me`);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, auth: 'jwt' });
  });

  it('rejects a refused call with the server error code', async () => {
    const client = tokenClient();
    const address = email();
    await client.signUp({ email: address, password: PASSWORD });
    const taken = await tokenClient()
      .signUp({ email: address, password: PASSWORD })
      .catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(TesseraError);
    expect(taken).toMatchObject({ code: 'email_taken', status: 409 });
    const wrong = await tokenClient()
      .signIn({ email: address, password: 'not the password at all' })
      .catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'invalid_grant', status: 400 });
  });

  it('single-flight: five refreshes at once send one refresh request, and the token rotates', async () => {
    const client = tokenClient();
    await client.signUp({ email: email(), password: PASSWORD });
    const before = await client.accessToken();
    const calls = tokenCalls();
    server.clock.advance(1_000);
    await Promise.all([client.refresh(), client.refresh(), client.refresh(), client.refresh(), client.refresh()]);
    expect(tokenCalls() - calls).toBe(1);
    expect(await client.accessToken()).not.toBe(before);
    // The successor refresh token was kept: a second round rotates again.
    await client.refresh();
    expect(tokenCalls() - calls).toBe(2);
  });

  it('retries a request once after a 401 a refresh cures (the access token expired early on the server)', async () => {
    const client = tokenClient();
    await client.signUp({ email: email(), password: PASSWORD });
    const stale = await client.accessToken();
    // The server's clock jumps past the token's expiry; the client's Date-based view is one request behind.
    server.clock.advance(700_000);
    const calls = tokenCalls();
    const me = await client.fetch(`${server.issuer}/v1/me`, { headers: { accept: 'application/json' } });
    expect(me.status).toBe(200);
    expect(tokenCalls() - calls).toBe(1);
    expect(await client.accessToken()).not.toBe(stale);
  });

  it('does not retry a 401 that a refresh cannot cure, and does not loop', async () => {
    const client = tokenClient();
    await client.signUp({ email: email(), password: PASSWORD });
    await client.fetch(`${server.issuer}/v1/logout`, { method: 'POST' });
    const calls = server.calls.length;
    const me = await client.fetch(`${server.issuer}/v1/me`);
    expect(me.status).toBe(401);
    // One failed call, one refresh (refused: the session is gone), no retry.
    expect(server.calls.slice(calls)).toEqual(['GET /v1/me', 'POST /v1/token']);
    expect(client.user()).toBeNull();
  });

  // Token leak to a third party: the Bearer goes only to origins the developer listed.
  it('adds Authorization only for the issuer and allowed origins', async () => {
    const seen: Record<string, string | null> = {};
    const client = tokenClient({
      allowedOrigins: ['https://api.example.com'],
      fetch: async (input, init) => {
        const request = new Request(input, init);
        const origin = new URL(request.url).origin;
        if (origin === server.issuer) return server.fetch(request);
        seen[origin] = request.headers.get('authorization');
        return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    await client.signUp({ email: email(), password: PASSWORD });
    await client.fetch('https://api.example.com/orders');
    await client.fetch('https://api.example.com.evil.net/orders');
    await client.fetch('https://tracker.example/pixel');
    expect(seen['https://api.example.com']).toMatch(/^Bearer ey/);
    expect(seen['https://api.example.com.evil.net']).toBeNull();
    expect(seen['https://tracker.example']).toBeNull();
  });

  it('measures clock skew from Date: a server an hour behind does not make every token look expired', async () => {
    const local = localClock();
    const behind = await listen({ TESSERA_ACCESS_TOKEN_TTL: '600' });
    try {
      behind.clock.advance(-3_600_000);
      const client = createClient({ issuer: behind.issuer, mode: 'token', fetch: behind.fetch, clock: local });
      clients.push(client);
      await client.signUp({ email: email(), password: PASSWORD });
      const calls = behind.calls.filter((c) => c === 'POST /v1/token').length;
      const token = await client.accessToken();
      expect(behind.calls.filter((c) => c === 'POST /v1/token').length).toBe(calls);
      // Near the end of its life on the server's clock: refreshed before it is handed out.
      local.advance(595_000);
      behind.clock.advance(595_000);
      expect(await client.accessToken()).not.toBe(token);
      expect(behind.calls.filter((c) => c === 'POST /v1/token').length).toBe(calls + 1);
    } finally {
      await behind.close();
    }
  });

  it('signOut ends the session on the server; the old access token is refused', async () => {
    const client = tokenClient();
    await client.signUp({ email: email(), password: PASSWORD });
    const token = await client.accessToken();
    const reasons: string[] = [];
    client.on('change', (_user, reason) => reasons.push(reason));
    await client.signOut();
    expect(client.user()).toBeNull();
    expect(reasons).toEqual(['signed-out']);
    expect(await client.accessToken()).toBeNull();
    const me = await fetch(`${server.issuer}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
  });

  it('signOutEverywhere ends the other devices too', async () => {
    const address = email();
    const phone = tokenClient();
    await phone.signUp({ email: address, password: PASSWORD });
    const laptop = tokenClient();
    await laptop.signIn({ email: address, password: PASSWORD });
    await laptop.signOutEverywhere();
    expect(laptop.user()).toBeNull();
    await expect(phone.refresh()).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(phone.user()).toBeNull();
  });
});

describe('@tessera/client in Node, cookie mode (the client keeps the session cookie)', () => {
  const cookieClient = () => {
    const client = createClient({ issuer: server.issuer, mode: 'cookie', fetch: server.fetch });
    clients.push(client);
    return client;
  };

  it('signs in, sends the cookie and the CSRF header itself, and signs out', async () => {
    const client = cookieClient();
    const user = await client.signUp({ email: email(), password: PASSWORD, name: 'Grace' });
    expect(user.name).toBe('Grace');
    expect(await client.accessToken()).toBeNull();
    const me = await client.fetch(`${server.issuer}/v1/me`);
    expect(await me.json()).toMatchObject({ id: user.id, auth: 'session' });
    // A state change with no Origin (not a browser) passes only with X-CSRF-Token: the client adds it.
    const others = await client.fetch(`${server.issuer}/v1/sessions/others`, { method: 'DELETE' });
    expect(others.status).toBe(204);
    await client.signOut();
    expect(client.user()).toBeNull();
    expect((await client.fetch(`${server.issuer}/v1/me`)).status).toBe(401);
  });

  // Cookies ignore ports: credentials sent to a service beside the auth server would carry the session cookie.
  it('sends the session cookie and CSRF header to the issuer only, even to an allowed origin', async () => {
    const seen: { origin: string; credentials: string; cookie: string | null; csrf: string | null }[] = [];
    const client = createClient({
      issuer: server.issuer,
      mode: 'cookie',
      allowedOrigins: ['https://api.example.com'],
      fetch: async (input, init) => {
        const request = new Request(input, init);
        const origin = new URL(request.url).origin;
        if (origin === server.issuer && !request.url.endsWith('/probe')) return server.fetch(request);
        seen.push({
          origin,
          credentials: request.credentials,
          cookie: request.headers.get('cookie'),
          csrf: request.headers.get('x-csrf-token'),
        });
        return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      },
    });
    clients.push(client);
    await client.signUp({ email: email(), password: PASSWORD });
    await client.fetch('https://api.example.com/orders', { method: 'POST' });
    await client.fetch(`${server.issuer}/probe`, { method: 'POST' });
    expect(seen[0]).toMatchObject({ origin: 'https://api.example.com', credentials: 'same-origin', cookie: null, csrf: null });
    expect(seen[1]).toMatchObject({ origin: server.issuer, credentials: 'include' });
    expect(seen[1]?.cookie).toMatch(/tessera_session=/);
    expect(seen[1]?.csrf).toMatch(/.{16,}/);
  });

  it('a refused sign-in carries the server code', async () => {
    const error = await cookieClient()
      .signIn({ email: email(), password: PASSWORD })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401 });
  });

  it('a 401 from the issuer signs the client out (the session ended elsewhere)', async () => {
    const address = email();
    const a = cookieClient();
    await a.signUp({ email: address, password: PASSWORD });
    const b = cookieClient();
    await b.signIn({ email: address, password: PASSWORD });
    await b.signOutEverywhere();
    const signedOut = new Promise<string>((resolve) => a.on('change', (_u, reason) => resolve(reason)));
    expect((await a.fetch(`${server.issuer}/v1/me`)).status).toBe(401);
    expect(await signedOut).toBe('signed-out');
    expect(a.user()).toBeNull();
  });
});

describe('createClient options', () => {
  it('refuses a bad issuer or mode at creation, not at the first request', () => {
    expect(() => createClient({ issuer: 'auth.example.com', mode: 'token' })).toThrow(TesseraError);
    expect(() => createClient({ issuer: 'https://auth.example.com', mode: 'jwt' as 'token' })).toThrow(/mode/);
    expect(() => createClient({ issuer: 'https://a.example', mode: 'token', allowedOrigins: ['api.example.com'] })).toThrow(
      /allowedOrigins/,
    );
  });
});
