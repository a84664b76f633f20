import { ClientErrorCodes, TesseraError } from '../errors.js';
import type { ChangeReason, FetchLike, User } from '../types.js';
import { call } from './http.js';
import { type AccessClaims, readClaims } from './jwt.js';
import type { TabMessage, Tabs } from './tabs.js';

/** What `POST /v1/token` answers; no `refresh_token` when the refresh cookie holds it. */
interface TokenBody {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

/** What a {@link TokenSession} needs from the client around it. */
export interface TokenSessionOptions {
  fetch: FetchLike;
  /** The issuer URL without a trailing slash; endpoints are appended to it. */
  issuer: string;
  tabs: Tabs;
  /** `browser`: the refresh token is the HttpOnly cookie; `memory`: this object holds it (Node). */
  storage: 'browser' | 'memory';
  /** Refresh this many ms before the access token expires (at most half its lifetime). */
  refreshAhead: number;
  clientId: string | undefined;
  scope: string | undefined;
  clock: () => number;
  onChange(user: User | null, reason: ChangeReason): void;
}

/**
 * The lock holder keeps the lock this long after broadcasting its result, so the waiting tabs
 * hear it (and leave the queue) before the lock can pass to one of them: messages and lock
 * grants travel separately, in no promised order.
 */
const LINGER_MS = 100;
/** How long a tab that opens waits for another to hand over a live access token before refreshing itself. */
const HELLO_WAIT_MS = 150;
/**
 * Across tabs, a refresh asked for within this long of a completed one is that same refresh,
 * asked a moment late (timers in tabs never fire together): it takes the token just received
 * instead of rotating again.
 */
const JOIN_MS = 500;
/** An access token closer than this to expiry is not handed out: it could expire in flight. */
const MIN_VALIDITY_MS = 10_000;
/** Refusals of the refresh grant that mean "no session here", not "try again". */
const SIGNED_OUT_CODES = new Set(['invalid_grant', 'invalid_request', ClientErrorCodes.SIGNED_OUT]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function userOf(claims: AccessClaims | null): User {
  return {
    id: claims?.sub ?? '',
    email: claims?.email ?? null,
    name: claims?.name ?? null,
    sessionId: claims?.sid ?? null,
  };
}

/** True when a refusal means the session is gone (rather than the server being unreachable). */
export function isSignedOutError(err: unknown): boolean {
  return err instanceof TesseraError && SIGNED_OUT_CODES.has(err.code);
}

/**
 * Token mode: the access token in memory only, refreshed ahead of expiry, one refresh at a time
 * in this tab (single-flight) and across tabs (one tab refreshes under the lock, the others take
 * its result from the channel). The refresh token is the HttpOnly cookie in a browser, so page
 * script never sees it, or a private field in Node.
 */
export class TokenSession {
  readonly #o: TokenSessionOptions;
  #access: string | null = null;
  #expiresAt = 0;
  /** When the current access token came from the server, to whichever tab asked (our clock). */
  #mintedAt = 0;
  #refreshToken: string | null = null;
  #user: User | null = null;
  /** Server clock minus ours; the token's `exp` is on the server's clock. */
  #skew = 0;
  /** Bumped on every new token or sign-out, here or from another tab: how a waiter knows it has its answer. */
  #generation = 0;
  readonly #generationListeners = new Set<() => void>();
  #inflight: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: TokenSessionOptions) {
    this.#o = options;
    options.tabs.onMessage((message) => this.#onTabMessage(message));
  }

  user(): User | null {
    return this.#user;
  }

  async signIn(email: string, password: string): Promise<User> {
    const { body, skew } = await call<TokenBody>(this.#o.fetch, `${this.#o.issuer}/v1/token`, {
      method: 'POST',
      credentials: 'include',
      clock: this.#o.clock,
      json: { grant_type: 'password', username: email, password, ...this.#grantExtras() },
    });
    this.#accept(body, skew);
    return this.#user as User;
  }

  /** A reload's session: from another tab if one has it, else from the refresh cookie. */
  async restore(): Promise<User | null> {
    if (this.#access) return this.#user;
    if (this.#o.storage === 'memory') return null;
    if (this.#o.tabs.shared) {
      const heard = this.#nextGeneration(HELLO_WAIT_MS);
      this.#o.tabs.post({ type: 'hello' });
      await heard;
      if (this.#access) return this.#user;
    }
    try {
      await this.refresh();
    } catch (err) {
      if (isSignedOutError(err)) return null;
      throw err;
    }
    return this.#user;
  }

  async accessToken(): Promise<string | null> {
    if (!this.#access && !this.#refreshToken) return null;
    if (this.#access && this.#expiresAt - this.#o.clock() > MIN_VALIDITY_MS) return this.#access;
    try {
      await this.refresh();
    } catch (err) {
      if (isSignedOutError(err)) return null;
      throw err;
    }
    return this.#access;
  }

  /** One refresh for every caller in this tab, and, where tabs are shared, for every tab. */
  refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    if (this.#o.tabs.shared && this.#access && this.#o.clock() - this.#mintedAt < JOIN_MS) return Promise.resolve();
    const generation = this.#generation;
    const run = this.#o.tabs.shared ? this.#refreshAcrossTabs(generation) : this.#refreshNow();
    this.#inflight = run
      .then(() => {
        if (!this.#access) throw new TesseraError(ClientErrorCodes.SIGNED_OUT, 'signed out');
      })
      .finally(() => {
        this.#inflight = null;
      });
    return this.#inflight;
  }

  async signOut(): Promise<void> {
    const token = await this.accessToken().catch(() => null);
    const url = `${this.#o.issuer}/v1/logout`;
    // `include`: the answer clears the refresh cookie, which a browser applies only to a credentialed request.
    const credentials = 'include';
    try {
      if (token) await call(this.#o.fetch, url, { method: 'POST', credentials, headers: { authorization: `Bearer ${token}` } });
      else if (this.#refreshToken)
        await call(this.#o.fetch, url, { method: 'POST', credentials, json: { refresh_token: this.#refreshToken } });
    } catch (err) {
      // Already refused (revoked elsewhere) is signed out; an unreachable server is not: the session lives on there.
      if (!(err instanceof TesseraError) || err.status !== 401) throw err;
    }
    this.#clear(true);
  }

  async signOutEverywhere(): Promise<void> {
    const token = await this.accessToken();
    if (!token) throw new TesseraError(ClientErrorCodes.SIGNED_OUT, 'sign in first');
    await call(this.#o.fetch, `${this.#o.issuer}/v1/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    this.#clear(true);
  }

  close(): void {
    clearTimeout(this.#timer);
  }

  #grantExtras(): Record<string, unknown> {
    return {
      ...(this.#o.clientId ? { client_id: this.#o.clientId } : {}),
      ...(this.#o.scope ? { scope: this.#o.scope } : {}),
      // Ask the server to keep the refresh token where script cannot read it.
      ...(this.#o.storage === 'browser' ? { refresh_cookie: true } : {}),
    };
  }

  async #refreshAcrossTabs(generation: number): Promise<void> {
    const heard = new AbortController();
    const stop = this.#onGeneration(() => heard.abort());
    try {
      await this.#o.tabs.exclusive(async () => {
        // Another tab's result (or sign-out) arrived while this one queued: nothing left to do.
        if (this.#generation !== generation) return;
        await this.#refreshNow();
        await sleep(LINGER_MS);
      }, heard.signal);
    } catch (err) {
      // Left the queue because another tab's answer came: that answer is ours too.
      if (heard.signal.aborted && this.#generation !== generation && !(err instanceof TesseraError)) return;
      throw err;
    } finally {
      stop();
    }
  }

  async #refreshNow(): Promise<void> {
    if (this.#o.storage === 'memory' && !this.#refreshToken) throw new TesseraError(ClientErrorCodes.SIGNED_OUT, 'sign in first');
    try {
      const { body, skew } = await call<TokenBody>(this.#o.fetch, `${this.#o.issuer}/v1/token`, {
        method: 'POST',
        credentials: 'include',
        clock: this.#o.clock,
        json: {
          grant_type: 'refresh_token',
          ...(this.#refreshToken ? { refresh_token: this.#refreshToken } : {}),
          ...this.#grantExtras(),
        },
      });
      this.#accept(body, skew);
    } catch (err) {
      // invalid_grant: the family is dead for every tab (they share the cookie). No cookie at
      // all (invalid_request) is only this tab's news: another may hold an access token still.
      if (err instanceof TesseraError && err.code === 'invalid_grant') this.#clear(true);
      else if (isSignedOutError(err)) this.#clear(false);
      throw err;
    }
  }

  #accept(body: TokenBody, skew: number | undefined): void {
    const receivedAt = this.#o.clock();
    const claims = readClaims(body.access_token);
    // Without a readable Date (CORS hides it cross-origin), the token's own iat is the server's clock.
    if (skew !== undefined) this.#skew = skew;
    else if (claims) this.#skew = claims.iat * 1000 + 500 - receivedAt;
    const expiresAt = claims ? claims.exp * 1000 - this.#skew : receivedAt + body.expires_in * 1000;
    if (body.refresh_token !== undefined && this.#o.storage === 'memory') this.#refreshToken = body.refresh_token;
    const mintedAt = this.#o.clock();
    this.#set(body.access_token, expiresAt, mintedAt);
    this.#o.tabs.post({ type: 'tokens', accessToken: body.access_token, expiresAt, mintedAt });
  }

  #set(access: string, expiresAt: number, mintedAt: number): void {
    const reason: ChangeReason = this.#user ? 'refreshed' : 'signed-in';
    this.#access = access;
    this.#expiresAt = expiresAt;
    this.#mintedAt = mintedAt;
    this.#user = userOf(readClaims(access));
    this.#schedule();
    this.#bump();
    this.#o.onChange(this.#user, reason);
  }

  #clear(tellOtherTabs: boolean): void {
    const wasSignedIn = this.#user !== null;
    this.#access = null;
    this.#refreshToken = null;
    this.#user = null;
    this.#expiresAt = 0;
    clearTimeout(this.#timer);
    this.#bump();
    if (tellOtherTabs) this.#o.tabs.post({ type: 'signed-out' });
    if (wasSignedIn) this.#o.onChange(null, 'signed-out');
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const lifetime = this.#expiresAt - this.#o.clock();
    const ahead = Math.min(this.#o.refreshAhead, lifetime / 2);
    this.#timer = setTimeout(() => this.refresh().catch(() => {}), Math.max(0, lifetime - ahead));
    // In Node, a pending refresh must not keep the process alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #onTabMessage(message: TabMessage): void {
    if (message.type === 'tokens') {
      if (message.accessToken !== this.#access && message.expiresAt >= this.#expiresAt)
        this.#set(message.accessToken, message.expiresAt, message.mintedAt);
    } else if (message.type === 'signed-out') {
      this.#clear(false);
    } else if (message.type === 'hello') {
      if (this.#access && this.#expiresAt - this.#o.clock() > MIN_VALIDITY_MS) {
        this.#o.tabs.post({ type: 'tokens', accessToken: this.#access, expiresAt: this.#expiresAt, mintedAt: this.#mintedAt });
      }
    }
  }

  #bump(): void {
    this.#generation += 1;
    for (const listener of [...this.#generationListeners]) listener();
  }

  #onGeneration(listener: () => void): () => void {
    this.#generationListeners.add(listener);
    return () => this.#generationListeners.delete(listener);
  }

  /** Resolves at the next new token or sign-out, or after `ms`. */
  #nextGeneration(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stop = this.#onGeneration(done);
    });
  }
}
