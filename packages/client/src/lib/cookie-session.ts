import { ClientErrorCodes, TesseraError } from '../errors.js';
import type { ChangeReason, FetchLike, User } from '../types.js';
import { call } from './http.js';
import type { TabMessage, Tabs } from './tabs.js';

/** What a {@link CookieSession} needs from the client around it. */
export interface CookieSessionOptions {
  fetch: FetchLike;
  issuer: string;
  issuerOrigin: string;
  tabs: Tabs;
  /** `browser`: the browser's cookie jar holds the session; `memory`: this object does (Node). */
  storage: 'browser' | 'memory';
  onChange(user: User | null, reason: ChangeReason): void;
}

interface WireUser {
  id: string;
  email: string | null;
  name: string | null;
  sid?: string | null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const userOf = (u: WireUser): User => ({ id: u.id, email: u.email ?? null, name: u.name ?? null, sessionId: u.sid ?? null });

/**
 * Cookie mode: the server-side session cookie, sent with `credentials: 'include'`; the CSRF
 * token read from the login answer (or `GET /v1/sessions/current` after a reload) and sent as
 * `X-CSRF-Token` on state changes, so calling code never handles it. In Node there is no cookie
 * jar: this object keeps the session cookie and sends it to the issuer only.
 */
export class CookieSession {
  readonly #o: CookieSessionOptions;
  #user: User | null = null;
  #csrf: string | null = null;
  /** Node only: cookie name → value, from the issuer's Set-Cookie lines. */
  readonly #jar = new Map<string, string>();

  constructor(options: CookieSessionOptions) {
    this.#o = options;
    options.tabs.onMessage((message: TabMessage) => {
      if (message.type === 'signed-out') this.#clear(false);
      // Another tab signed in: the cookie is shared, so this tab only has to read who it is.
      if (message.type === 'signed-in' && !this.#user) this.restore().catch(() => {});
    });
  }

  user(): User | null {
    return this.#user;
  }

  async signIn(email: string, password: string): Promise<User> {
    const { body, response } = await call<{ user: WireUser; csrf_token: string }>(this.#o.fetch, `${this.#o.issuer}/v1/sessions`, {
      method: 'POST',
      credentials: 'include',
      headers: this.#jarHeader(),
      json: { email, password },
    });
    this.#keepCookies(response);
    this.#csrf = body.csrf_token;
    this.#set(userOf(body.user));
    this.#o.tabs.post({ type: 'signed-in' });
    return this.#user as User;
  }

  async restore(): Promise<User | null> {
    if (this.#user) return this.#user;
    if (this.#o.storage === 'memory' && this.#jar.size === 0) return null;
    const get = <T>(path: string) =>
      call<T>(this.#o.fetch, `${this.#o.issuer}${path}`, { credentials: 'include', headers: this.#jarHeader() });
    try {
      const [me, current] = await Promise.all([get<WireUser>('/v1/me'), get<{ csrf_token: string | null }>('/v1/sessions/current')]);
      this.#csrf = current.body.csrf_token;
      this.#set(userOf(me.body));
      return this.#user;
    } catch (err) {
      if (err instanceof TesseraError && err.status === 401) return null;
      throw err;
    }
  }

  async signOut(): Promise<void> {
    await this.#end('/v1/sessions/current');
  }

  async signOutEverywhere(): Promise<void> {
    if (!this.#user) throw new TesseraError(ClientErrorCodes.SIGNED_OUT, 'sign in first');
    await this.#end('/v1/sessions');
  }

  /**
   * Adds what a request to the issuer needs: credentials, the CSRF header on a state change and,
   * in Node, the session cookie. Nothing for any other origin, allowed or not: the session is the
   * issuer's alone, and browsers send cookies to every port of a host, so `credentials: 'include'`
   * to a service beside the auth server would hand it the session cookie.
   */
  authorize(url: string, method: string, headers: Headers): RequestInit {
    if (new URL(url).origin !== this.#o.issuerOrigin) return { headers };
    if (!SAFE_METHODS.has(method.toUpperCase()) && this.#csrf && !headers.has('x-csrf-token')) headers.set('x-csrf-token', this.#csrf);
    for (const [name, value] of Object.entries(this.#jarHeader())) headers.set(name, value);
    return { headers, credentials: 'include' };
  }

  /** A 401 from the issuer means the session is gone: the page learns it from `change`. */
  refused(url: string, status: number): void {
    if (status === 401 && new URL(url).origin === this.#o.issuerOrigin) this.#clear(true);
  }

  async #end(path: string): Promise<void> {
    try {
      const headers = { ...this.#jarHeader(), ...(this.#csrf ? { 'x-csrf-token': this.#csrf } : {}) };
      const { response } = await call(this.#o.fetch, `${this.#o.issuer}${path}`, { method: 'DELETE', credentials: 'include', headers });
      this.#keepCookies(response);
    } catch (err) {
      if (!(err instanceof TesseraError) || err.status !== 401) throw err;
    }
    this.#clear(true);
  }

  #set(user: User): void {
    const reason: ChangeReason = this.#user ? 'refreshed' : 'signed-in';
    this.#user = user;
    this.#o.onChange(user, reason);
  }

  #clear(tellOtherTabs: boolean): void {
    const wasSignedIn = this.#user !== null;
    this.#user = null;
    this.#csrf = null;
    this.#jar.clear();
    if (tellOtherTabs) this.#o.tabs.post({ type: 'signed-out' });
    if (wasSignedIn) this.#o.onChange(null, 'signed-out');
  }

  #jarHeader(): Record<string, string> {
    if (this.#o.storage !== 'memory' || this.#jar.size === 0) return {};
    return { cookie: [...this.#jar].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  /** Node: what the issuer set or cleared. (A browser hides Set-Cookie from script and keeps its own jar.) */
  #keepCookies(response: Response): void {
    if (this.#o.storage !== 'memory') return;
    const lines = (response.headers as { getSetCookie?: () => string[] }).getSetCookie?.() ?? [];
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const cleared = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || pair.slice(eq + 1).trim() === '';
      if (cleared) this.#jar.delete(name);
      else this.#jar.set(name, pair.slice(eq + 1).trim());
    }
  }
}
