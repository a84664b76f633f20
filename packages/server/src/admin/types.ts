/**
 * The administration API (`@tessera/server/admin`): what the `tessera` command and the admin
 * HTTP routes call. Every call goes through the same domain code as the server itself, so a
 * disabled or deleted user's sessions are revoked with revocation events that every node and
 * every verifier hears, exactly as a logout would be.
 */

/** A user as an administrator sees it: never the password hash. Times are ISO 8601. */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  disabled: boolean;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One live session (a cookie session or a refresh family). Times are ISO 8601. */
export interface SessionView {
  id: string;
  userId: string;
  email: string | null;
  kind: 'cookie' | 'token';
  createdAt: string;
  lastSeenAt: string;
  /** The earlier of the idle and the absolute expiry. */
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
}

/** A signing key. Times are ISO 8601. */
export interface KeyView {
  kid: string;
  alg: string;
  state: 'next' | 'current' | 'retired';
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
}

/** Why an administrative call was refused: `code` is stable, `message` is for people. */
export type AdminErrorCode =
  | 'user_not_found'
  | 'session_not_found'
  | 'email_taken'
  | 'weak_password'
  | 'invalid_request'
  | 'invalid_role'
  | 'no_shared_secret';

export interface Admin {
  users: {
    /** Creates the account (password policy and email normalisation as for sign-up). */
    add(input: { email: string; password: string; name?: string | null; roles?: readonly string[] }): Promise<UserView>;
    /** Users ordered by email; `after` is the previous page's `next`. */
    list(page?: { limit?: number; after?: string }): Promise<{ users: UserView[]; next: string | null }>;
    /** By id or email (an argument containing `@` is an email). */
    show(emailOrId: string): Promise<UserView & { sessions: number }>;
    /** Marks the account disabled and revokes every session of it (an event, like log-out-everywhere). */
    disable(emailOrId: string): Promise<UserView>;
    enable(emailOrId: string): Promise<UserView>;
    /** Disables the account, revokes every session, then deletes it; its email can be registered again. */
    delete(emailOrId: string): Promise<void>;
  };
  roles: {
    /** Returns the user's roles after the change. */
    grant(emailOrId: string, role: string): Promise<string[]>;
    revoke(emailOrId: string, role: string): Promise<string[]>;
    set(emailOrId: string, roles: readonly string[]): Promise<string[]>;
  };
  sessions: {
    /** Live sessions of one user, or of every user when `user` is absent (newest first). */
    list(filter?: { user?: string }): Promise<SessionView[]>;
    /** Ends one session (with a revocation event). */
    revoke(sessionId: string): Promise<void>;
    /** Ends every session of the user; returns how many. */
    revokeUser(emailOrId: string): Promise<number>;
  };
  keys: {
    list(): Promise<KeyView[]>;
    /** Promotes the next key now (and pre-publishes a new next key); returns the keys after. */
    rotate(): Promise<KeyView[]>;
    /** The public JWK set, as `/.well-known/jwks.json` serves it. */
    exportPublic(): Promise<{ keys: object[] }>;
    /** HS256 only: the shared secrets as a JWK set (else an AdminError `no_shared_secret`). */
    exportSecret(): Promise<{ keys: object[] }>;
  };
  /** Closes the stores. */
  close(): Promise<void>;
}
