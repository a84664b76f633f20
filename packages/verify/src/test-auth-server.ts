/**
 * The real auth server for the feed tests (excluded from the build by the `test-*.ts` pattern):
 * `createTestApp` (in-memory stores, frozen clock) listening on 127.0.0.1, with helpers that log
 * users in and out through its HTTP API.
 */
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { createTestApp, type TestApp } from '@tessera/server/testing';
import { closeServer, listen } from './test-support.js';

const PASSWORD = 'correct horse battery staple';

/** The resource server {@link startAuthServer} lets read its revocation feed. */
export const FEED_CREDENTIALS = { id: 'feed-test-service', secret: 'feed-test-service-secret-0123' };
/** The `Authorization` header of a feed request made as {@link FEED_CREDENTIALS}. */
export const feedHeaders = () => ({
  authorization: `Basic ${Buffer.from(`${FEED_CREDENTIALS.id}:${FEED_CREDENTIALS.secret}`).toString('base64')}`,
});
let users = 0;

export interface LoggedIn {
  access_token: string;
  refresh_token: string;
  sid: string;
  sub: string;
}

/** The real auth server (in-memory stores, frozen clock) listening on 127.0.0.1, its issuer being its own URL. */
export interface AuthServer {
  t: TestApp;
  issuer: string;
  port: number;
  /** Creates a user; returns its email. */
  register(): Promise<string>;
  /** `POST /v1/token` (password grant). */
  login(email: string): Promise<LoggedIn>;
  /** `POST /v1/logout` with the Bearer token. */
  logout(accessToken: string): Promise<void>;
  /** `DELETE /v1/sessions` (log out everywhere) with the Bearer token. */
  logoutEverywhere(accessToken: string): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await closeServer(probe);
  return port;
}

/**
 * Builds the auth server with `createTestApp` and listens; {@link FEED_CREDENTIALS} may read its feed. Its issuer must be its own URL (the
 * verifier reads the JWKS and the feed there, and checks `iss` against it), which the config
 * needs before the port is bound: so a free port is picked first, with a retry if it is taken.
 */
export async function startAuthServer(env: Record<string, string> = {}): Promise<AuthServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const t = await createTestApp({
      TESSERA_ISSUER: issuer,
      TESSERA_RESOURCE_SERVERS: `${FEED_CREDENTIALS.id}:${FEED_CREDENTIALS.secret}`,
      ...env,
    });
    try {
      await t.app.listen({ port, host: '127.0.0.1' });
    } catch (err) {
      await t.app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw err;
    }
    const inject = t.app.inject.bind(t.app);
    return {
      t,
      issuer,
      port,
      async register() {
        const email = `user-${++users}-${Math.random().toString(36).slice(2, 8)}@example.com`;
        const res = await inject({ method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD } });
        if (res.statusCode !== 201) throw new Error(`register answered ${res.statusCode}: ${res.body}`);
        return email;
      },
      async login(email) {
        const res = await inject({
          method: 'POST',
          url: '/v1/token',
          payload: { grant_type: 'password', username: email, password: PASSWORD },
        });
        if (res.statusCode !== 200) throw new Error(`login answered ${res.statusCode}: ${res.body}`);
        const body = JSON.parse(res.body) as { access_token: string; refresh_token: string };
        const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1] as string, 'base64url').toString('utf8')) as {
          sid: string;
          sub: string;
        };
        return { ...body, sid: claims.sid, sub: claims.sub };
      },
      async logout(accessToken) {
        const res = await inject({ method: 'POST', url: '/v1/logout', headers: { authorization: `Bearer ${accessToken}` } });
        if (res.statusCode !== 204) throw new Error(`logout answered ${res.statusCode}: ${res.body}`);
      },
      async logoutEverywhere(accessToken) {
        const res = await inject({ method: 'DELETE', url: '/v1/sessions', headers: { authorization: `Bearer ${accessToken}` } });
        if (res.statusCode !== 204) throw new Error(`logout everywhere answered ${res.statusCode}: ${res.body}`);
      },
      close: () => t.app.close(),
    };
  }
}
