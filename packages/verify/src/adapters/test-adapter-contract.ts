/**
 * The behaviour every framework adapter owes its users, run against each of them (as the store
 * contract runs against each store): the same requests must get the same RFC 6750 answers,
 * whatever the framework. Excluded from the build by the `test-*.ts` pattern.
 *
 * @example
 * adapterContract('Express', async (verifier, options) => {
 *   const app = express(); // ...the routes below...
 *   return { get: ..., close: ... };
 * });
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifiedClaims } from '../request.js';
import {
  adapterFixture,
  checkRefusal,
  expectRotatedKeyAccepted,
  INSUFFICIENT_SCOPE,
  INVALID_TOKEN,
  invalidTokenChallenge,
  NO_TOKEN,
  type WireAnswer,
} from '../test-support.js';
import type { ResourceVerifier } from '../verifier.js';

/** How each route of a mounted app answers: the claims it found on the adapter's request slot. */
export interface ClaimsBody {
  sub: string;
  scope: string | null;
}

/** The body every contract route answers with, from the claims on the request slot. */
export const claimsBody = (claims: VerifiedClaims): ClaimsBody => ({ sub: claims.sub, scope: claims.scope ?? null });

/** What the contract asks of the mounted app. */
export interface MountOptions {
  /** Pass on to the adapter: read the token from this cookie too. */
  cookieName?: string;
  /** Every route handler pushes its path here, so the contract sees which requests got through. */
  reached: string[];
}

/** An app serving the contract routes, and how to talk to it. */
export interface MountedApp {
  /** A GET with these headers, answered as it would be on the wire. */
  get(path: string, headers?: Record<string, string>): Promise<WireAnswer>;
  close(): Promise<void>;
}

/**
 * Mounts the adapter with `verifier` in front of four routes, each answering {@link claimsBody}
 * and pushing its path on `reached`: `/me` (authenticated), `/orders` (scope `orders:write`),
 * `/read` (scope `orders:read`), `/admin` (role `admin`).
 */
export type MountAdapter = (verifier: ResourceVerifier, options: MountOptions) => Promise<MountedApp>;

const json = (answer: WireAnswer): unknown => JSON.parse(answer.body);

/** Registers the shared cases for one adapter. */
export function adapterContract(name: string, mount: MountAdapter): void {
  describe(`${name}: the adapter contract`, () => {
    let f: Awaited<ReturnType<typeof adapterFixture>>;
    let app: MountedApp;
    let withCookie: MountedApp;
    let failingClosed: MountedApp;
    const reached: string[] = [];

    beforeAll(async () => {
      f = await adapterFixture();
      app = await mount(f.verifier, { reached });
      withCookie = await mount(f.verifier, { cookieName: 'at', reached });
      failingClosed = await mount(f.failingClosed, { reached });
    });

    afterAll(async () => {
      await Promise.all([app?.close(), withCookie?.close(), failingClosed?.close()]);
      f?.close();
    });

    /** Asserts a refusal, and that no route handler ran for it. */
    async function refused(
      answer: Promise<WireAnswer>,
      status: number,
      error: string,
      challenge: string | RegExp | null,
      token?: string,
    ): Promise<WireAnswer> {
      const before = reached.length;
      const a = await answer;
      checkRefusal(a, status, error, challenge, token);
      expect(reached.slice(before), 'a refused request reached the handler').toEqual([]);
      return a;
    }

    it('a valid token: the claims reach the handler on the request slot', async () => {
      const a = await app.get('/me', f.bearer(f.tokens.reader));
      expect(a.status).toBe(200);
      expect(json(a)).toEqual({ sub: 'reader', scope: 'orders:read profile' });
      expect(reached.at(-1)).toBe('/me');
    });

    it('a token from a key published after start: waits for one JWKS refetch, then lets it through', async () => {
      await expectRotatedKeyAccepted(f, async (headers) => {
        const a = await app.get('/me', headers);
        return { status: a.status, body: json(a) };
      });
    });

    it('no token: 401 unauthorized with a bare Bearer challenge', async () => {
      const a = await refused(app.get('/me'), 401, 'unauthorized', NO_TOKEN);
      expect(json(a)).toEqual({ error: 'unauthorized', error_description: 'authentication required' });
    });

    it('an invalid, forged or expired token: 401 invalid_token, never echoing the token', async () => {
      for (const token of [f.tokens.forged, f.tokens.expired, 'garbage']) {
        await refused(app.get('/me', f.bearer(token)), 401, 'invalid_token', INVALID_TOKEN, token);
      }
    });

    it('an expired token is told apart, in the body and the challenge', async () => {
      const description = 'the access token expired';
      const a = await refused(app.get('/me', f.bearer(f.tokens.expired)), 401, 'invalid_token', invalidTokenChallenge(description));
      expect(json(a)).toEqual({ error: 'invalid_token', error_description: description });
    });

    it('a token revoked through the feed: 401 invalid_token, "was revoked"', async () => {
      const description = 'the access token was revoked';
      const a = await refused(
        app.get('/me', f.bearer(f.tokens.revoked)),
        401,
        'invalid_token',
        invalidTokenChallenge(description),
        f.tokens.revoked,
      );
      expect(json(a)).toEqual({ error: 'invalid_token', error_description: description });
    });

    it('another scheme: 401 with the bare challenge', async () => {
      await refused(app.get('/me', { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthorized', NO_TOKEN);
    });

    it('a Bearer header without a token, or two tokens in one header: 400 invalid_request with the challenge', async () => {
      for (const authorization of ['Bearer', `Bearer ${f.tokens.reader}, Bearer ${f.tokens.plain}`]) {
        const a = await refused(app.get('/me', { authorization }), 400, 'invalid_request', 'Bearer error="invalid_request"');
        expect(json(a)).toEqual({ error: 'invalid_request', error_description: 'send one Authorization header: Bearer <token>' });
      }
    });

    it('scope guard: 403 insufficient_scope naming the scope; passes with it', async () => {
      await refused(app.get('/orders', f.bearer(f.tokens.reader)), 403, 'insufficient_scope', INSUFFICIENT_SCOPE);
      await refused(
        app.get('/read', f.bearer(f.tokens.plain)),
        403,
        'insufficient_scope',
        'Bearer error="insufficient_scope", scope="orders:read"',
      );
      const a = await app.get('/read', f.bearer(f.tokens.reader));
      expect(a.status).toBe(200);
      expect(json(a)).toEqual({ sub: 'reader', scope: 'orders:read profile' });
    });

    it('role guard: 403 insufficient_role without the role; passes with it', async () => {
      const a = await refused(app.get('/admin', f.bearer(f.tokens.reader)), 403, 'insufficient_role', null);
      expect(a.wwwAuthenticate).toBeNull();
      const ok = await app.get('/admin', f.bearer(f.tokens.admin));
      expect(ok.status).toBe(200);
      expect(json(ok)).toEqual({ sub: 'boss', scope: null });
    });

    it('reads the cookie only when cookieName is set', async () => {
      const cookie = { cookie: `at=${f.tokens.plain}` };
      await refused(app.get('/me', cookie), 401, 'unauthorized', NO_TOKEN);
      expect(json(await withCookie.get('/me', cookie))).toEqual({ sub: 'plain-user', scope: null });
      // A header still wins over the cookie, even one of another scheme.
      await refused(withCookie.get('/me', { ...cookie, authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthorized', NO_TOKEN);
    });

    it('a revocation feed failing closed: 503 temporarily_unavailable for a valid token, not a 401', async () => {
      const a = await refused(failingClosed.get('/me', f.bearer(f.tokens.reader)), 503, 'temporarily_unavailable', null);
      expect(json(a)).toEqual({ error: 'temporarily_unavailable', error_description: 'token revocation status is unknown; retry later' });
    });
  });
}
