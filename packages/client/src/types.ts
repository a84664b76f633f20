/** The signed-in user as the client knows them. */
export interface User {
  /** The user id (the access token's `sub`). */
  id: string;
  /** Null when the access token does not carry it. */
  email: string | null;
  /** Null when unset. */
  name: string | null;
  /** The server-side session (`sid`) this client is signed in with; null when not known. */
  sessionId: string | null;
}

/** Why a `change` event fired. */
export type ChangeReason = 'signed-in' | 'signed-out' | 'refreshed';

/** A `change` listener: the user after the change (null when signed out) and why. */
export type ChangeListener = (user: User | null, reason: ChangeReason) => void;

/** The subset of `fetch` the client calls; a test or a custom agent passes its own. */
export type FetchLike = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/** Credentials for {@link TesseraClient.signIn}. */
export interface SignInInput {
  email: string;
  password: string;
}

/** A new account for {@link TesseraClient.signUp}. */
export interface SignUpInput extends SignInInput {
  name?: string;
}

/** What {@link createClient} returns. */
export interface TesseraClient {
  /** `token` (Bearer access token, refresh token out of script's reach) or `cookie` (server-side session). */
  readonly mode: 'token' | 'cookie';
  /**
   * Restores the session a reload left behind (token mode: from the refresh cookie, or from
   * another tab; cookie mode: from the session cookie). Resolves with the user, or null; never
   * rejects for "signed out", only for a server that cannot answer.
   */
  ready(): Promise<User | null>;
  /** Creates the account, then signs in with it. */
  signUp(input: SignUpInput): Promise<User>;
  signIn(input: SignInInput): Promise<User>;
  /** Ends this session on the server, here and in every tab. */
  signOut(): Promise<void>;
  /** Ends every session of the user, on every device. */
  signOutEverywhere(): Promise<void>;
  /**
   * `fetch`, authenticated: in token mode `Authorization: Bearer` for the issuer and allowed
   * origins only (a request that got a 401 is retried once after a refresh); in cookie mode the
   * session cookie and CSRF header for the issuer.
   */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
  /** The signed-in user, or null. */
  user(): User | null;
  /** Token mode: an access token valid for a while yet (refreshing first when it is close to expiry), or null. */
  accessToken(): Promise<string | null>;
  /** Token mode: a new access token now (one refresh for every caller and tab asking at once). */
  refresh(): Promise<void>;
  /** Calls `listener` on sign-in, sign-out and refresh, in this tab or another. Returns the unsubscribe. */
  on(event: 'change', listener: ChangeListener): () => void;
  /** Stops timers and leaves the tab channel (the session stays). */
  close(): void;
}
