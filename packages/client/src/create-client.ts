import { ClientErrorCodes, TesseraError } from './errors.js';
import { CookieSession } from './lib/cookie-session.js';
import { ChangeEmitter } from './lib/emitter.js';
import { call } from './lib/http.js';
import { AllowedOrigins, originOf } from './lib/origins.js';
import { Tabs } from './lib/tabs.js';
import { TokenSession } from './lib/token-session.js';
import type { FetchLike, SignInInput, SignUpInput, TesseraClient, User } from './types.js';

/** Options for {@link createClient}. */
export interface ClientOptions {
  /** The auth server's URL (`TESSERA_ISSUER`), e.g. `https://auth.example.com`. Required. */
  issuer: string;
  /** `token`: a Bearer access token for APIs on any allowed origin. `cookie`: a session with the auth server. Required. */
  mode: 'token' | 'cookie';
  /**
   * Token mode: origins besides the issuer's that `client.fetch` sends the Bearer token to,
   * compared exactly. Default: none, so a token never leaks to a third party. Cookie mode sends
   * the session's credentials to the issuer alone, whatever is listed here.
   */
  allowedOrigins?: readonly string[];
  /**
   * Where what page script must not read is kept: `browser` (the HttpOnly refresh or session
   * cookie) or `memory` (this client object: Node, where there is no cookie jar). Default:
   * `browser` when a `document` exists, else `memory`.
   */
  storage?: 'browser' | 'memory';
  /** Token mode: refresh this many seconds before the access token expires (at most half its lifetime). Default 60. */
  refreshAhead?: number;
  /** Coordinate refreshes and sign-outs with the other tabs of this origin. Default true (where Web Locks exist). */
  crossTab?: boolean;
  /** Token mode: the `client_id` to send. Default: none (the server's default client). */
  clientId?: string;
  /** Token mode: the scope to ask for at sign-in. Default: none. */
  scope?: string;
  /** Milliseconds since the epoch. Default `Date.now`; tests move it by hand. */
  clock?: () => number;
  /** The fetch to call. Default: the global `fetch`. */
  fetch?: FetchLike;
}

/**
 * A Tessera client for a browser page or a Node process.
 *
 * @example
 * import { createClient } from '@tessera/client';
 *
 * const auth = createClient({ issuer: 'https://auth.example.com', mode: 'token', allowedOrigins: ['https://api.example.com'] });
 * auth.on('change', (user) => render(user));
 * await auth.ready(); // a reload stays signed in
 * if (!auth.user()) await auth.signIn({ email, password });
 * const orders = await auth.fetch('https://api.example.com/orders'); // Bearer added, refreshed as needed
 */
export function createClient(options: ClientOptions): TesseraClient {
  if (options.mode !== 'token' && options.mode !== 'cookie') {
    throw new TesseraError(ClientErrorCodes.INVALID_OPTION, "mode: 'token' or 'cookie'");
  }
  const issuerOrigin = originOf(options.issuer, 'issuer');
  const issuer = options.issuer.replace(/\/+$/, '');
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const storage = options.storage ?? (typeof (globalThis as { document?: unknown }).document === 'undefined' ? 'memory' : 'browser');
  const allowed = new AllowedOrigins(issuerOrigin, options.allowedOrigins ?? []);
  const refreshAhead = (options.refreshAhead ?? 60) * 1000;
  if (!(refreshAhead >= 0)) throw new TesseraError(ClientErrorCodes.INVALID_OPTION, 'refreshAhead: seconds, 0 or more');
  // One channel and lock per issuer and mode: two clients for two issuers on one page stay apart.
  const tabs = new Tabs(`tessera:${issuer}:${options.mode}`, (options.crossTab ?? true) && storage === 'browser');
  const emitter = new ChangeEmitter();
  const onChange = (user: User | null, reason: Parameters<typeof emitter.emit>[1]) => emitter.emit(user, reason);

  const token =
    options.mode === 'token'
      ? new TokenSession({
          fetch: fetchFn,
          issuer,
          tabs,
          storage,
          refreshAhead,
          clientId: options.clientId,
          scope: options.scope,
          clock: options.clock ?? Date.now,
          onChange,
        })
      : undefined;
  const cookie =
    options.mode === 'cookie' ? new CookieSession({ fetch: fetchFn, issuer, issuerOrigin, tabs, storage, onChange }) : undefined;
  const session = (token ?? cookie) as TokenSession | CookieSession;

  let restoring: Promise<User | null> | undefined;
  const ready = () => {
    restoring ??= session.restore().catch((err: unknown) => {
      // A failed restore (server unreachable) may be tried again later.
      restoring = undefined;
      throw err;
    });
    return restoring;
  };

  async function authFetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    if (!allowed.has(request.url)) return fetchFn(request);
    if (cookie) {
      const response = await fetchFn(new Request(request, cookie.authorize(request.url, request.method, new Headers(request.headers))));
      cookie.refused(request.url, response.status);
      return response;
    }
    const tokens = token as TokenSession;
    await ready().catch(() => null);
    // Someone else's Authorization (a different credential the caller chose) is left alone.
    if (request.headers.has('authorization')) return fetchFn(request);
    const sent = await tokens.accessToken();
    if (!sent) return fetchFn(request);
    // Kept unread for the retry: a body can be sent only once.
    const spare = request.clone();
    const response = await fetchFn(withBearer(request, sent));
    if (response.status !== 401) return response;
    // One retry, and only when a refresh gives a different token: a 401 for another reason stays a 401.
    const fresh = await tokens
      .refresh()
      .then(() => tokens.accessToken())
      .catch(() => null);
    if (!fresh || fresh === sent) return response;
    return fetchFn(withBearer(spare, fresh));
  }

  return {
    mode: options.mode,
    ready,
    async signUp(input: SignUpInput) {
      await call(fetchFn, `${issuer}/v1/users`, {
        method: 'POST',
        json: { email: input.email, password: input.password, ...(input.name ? { name: input.name } : {}) },
      });
      return session.signIn(input.email, input.password);
    },
    signIn: (input: SignInInput) => session.signIn(input.email, input.password),
    signOut: () => session.signOut(),
    signOutEverywhere: () => session.signOutEverywhere(),
    fetch: authFetch,
    user: () => session.user(),
    async accessToken() {
      if (!token) return null;
      await ready().catch(() => null);
      return token.accessToken();
    },
    async refresh() {
      if (!token) throw new TesseraError(ClientErrorCodes.INVALID_OPTION, 'refresh is for token mode');
      await token.refresh();
    },
    on: (_event: 'change', listener) => emitter.on(listener),
    close() {
      token?.close();
      tabs.close();
    },
  };
}

function withBearer(request: Request, accessToken: string): Request {
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${accessToken}`);
  return new Request(request, { headers });
}
