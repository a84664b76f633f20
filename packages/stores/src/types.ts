/**
 * Store interfaces. Each is narrow and named for what the auth server needs, and each
 * method states its atomic guarantee. Times are milliseconds since the epoch unless a
 * name says otherwise. `null` means "not found"; exceptions are for misuse and outages.
 */

/** A user account. `email` is already normalised (trimmed, NFKC, case-folded). */
export interface User {
  id: string;
  email: string;
  name: string | null;
  /** PHC-format argon2id hash. */
  passwordHash: string;
  roles: string[];
  /** When an administrator disabled the account (it cannot sign in), or null. */
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Thrown by {@link UserStore.create} when the email is already registered. */
export class EmailTakenError extends Error {
  readonly code = 'email_taken';
  constructor() {
    super('email is already registered');
    this.name = 'EmailTakenError';
  }
}

/** What a request needs to know of its user: never the password hash. A disabled user's sessions must be refused. */
export type UserProfile = Pick<User, 'id' | 'email' | 'name' | 'roles' | 'disabledAt'>;

export interface UserStore {
  /** Inserts a user. Email uniqueness is enforced atomically: of two concurrent creates with one email, exactly one succeeds and the other throws {@link EmailTakenError}. */
  create(user: User): Promise<void>;
  findById(id: string): Promise<User | null>;
  /** `email` must be normalised by the caller. */
  findByEmail(email: string): Promise<User | null>;
  /**
   * Replaces the password hash, compare-and-set: only while the stored hash is still `from` (the
   * one the caller verified the current password against). Of concurrent changes from one hash,
   * exactly one returns true. False, changing nothing, when the user does not exist or its hash
   * is no longer `from`.
   */
  updatePassword(id: string, change: { from: string; to: string }, now: number): Promise<boolean>;
  /**
   * Users ordered by email (by code point, which is UTF-8 byte order, on every backend), at most
   * `page.limit` (1 … 1000; a `RangeError` otherwise), starting after the email `page.after` (the
   * last email of the previous page; it need not be stored).
   */
  list(page: UserPage): Promise<User[]>;
  /**
   * Adds and removes roles in one atomic read-modify-write: of concurrent changes to one user,
   * none is lost (two grants of different roles both land). Roles stay unique and sorted.
   * Returns the roles after the change, or null when the user does not exist.
   */
  changeRoles(id: string, change: RoleChange, now: number): Promise<string[] | null>;
  /** Sets (`disabledAt` a time) or clears (null) the disabled mark. False when the user does not exist. */
  setDisabled(id: string, disabledAt: number | null, now: number): Promise<boolean>;
  /**
   * Deletes the user and, in one transaction, the user's sessions and refresh tokens held by the
   * same backend (sessions kept in Redis stay there, revoked, until they expire). The caller
   * revokes the user's sessions first. The email can be registered again afterwards. False when
   * the user does not exist.
   */
  delete(id: string): Promise<boolean>;
}

/** A page of {@link UserStore.list}. */
export interface UserPage {
  limit: number;
  /** The email of the last user of the previous page; absent for the first page. */
  after?: string;
}

/** A change of {@link UserStore.changeRoles}: `set` replaces the roles, then `grant` adds and `revoke` removes. */
export interface RoleChange {
  set?: readonly string[];
  grant?: readonly string[];
  revoke?: readonly string[];
}

/** How a session is held by its client. */
export type SessionKind = 'cookie' | 'token';

/** One login. A cookie session is looked up per request; a token session is a refresh family. Both share `id` (the `sid`). */
export interface Session {
  id: string;
  userId: string;
  kind: SessionKind;
  /** Hex SHA-256 of the cookie secret (cookie sessions); `null` for token sessions. */
  secretHash: string | null;
  /** CSRF token for clients that send neither Origin nor Sec-Fetch-Site (cookie sessions). */
  csrfToken: string | null;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  userAgent: string | null;
  ip: string | null;
  revokedAt: number | null;
}

export interface SessionStore {
  create(session: Session): Promise<void>;
  /** The session by id, whatever its state; callers check expiry and revocation. */
  get(id: string): Promise<Session | null>;
  /**
   * The session and the profile of its user in one read (the per-request lookup of cookie
   * sessions), whatever the session's state; null when either is missing. Never returns the password hash.
   */
  getWithUser(id: string): Promise<{ session: Session; user: UserProfile } | null>;
  /** Slides the idle expiry. No effect on a revoked session. */
  touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /**
   * The user's sessions that are neither revoked nor expired at `now`, newest first (by
   * `createdAt`, then id). With `page`, at most `page.limit` of them, starting after the session
   * `page.after` (a cursor: the id of the last session of the previous page; an id that is not
   * one of this user's sessions yields an empty page).
   */
  listActive(userId: string, now: number, page?: SessionPage): Promise<Session[]>;
  /**
   * Optional, offered by a store that keeps sessions beside users: `listActive(userId, now)` and,
   * in the same read, the user's password hash and disabled mark as stored now (`account`, null
   * when the user does not exist, with no sessions then). A login's last check takes both at once.
   */
  listActiveWithAccount?(userId: string, now: number): Promise<ActiveSessionsWithAccount>;
  /** Revokes one session. Returns true only for the call that revoked it (atomic: a second call returns false). */
  revoke(id: string, now: number): Promise<boolean>;
  /**
   * Revokes these sessions (those not revoked already). Returns the ids this call revoked; each
   * session is revoked by one call only, however many race.
   */
  revokeMany(ids: readonly string[], now: number): Promise<string[]>;
  /** Revokes every unrevoked session of the user except `exceptId`. Returns the ids this call revoked. */
  revokeUser(userId: string, now: number, exceptId?: string): Promise<string[]>;
  /** Deletes sessions expired or revoked before `before`. Returns how many. */
  deleteExpired(before: number): Promise<number>;
}

/** {@link SessionStore.listActiveWithAccount}'s answer. */
export interface ActiveSessionsWithAccount {
  account: Pick<User, 'passwordHash' | 'disabledAt'> | null;
  sessions: Session[];
}

/** A page of {@link SessionStore.listActive}. */
export interface SessionPage {
  /** At most this many sessions (1 … 1000). */
  limit: number;
  /** The id of the last session of the previous page; absent for the first page. */
  after?: string;
}

/** One refresh token of a family (the family is the token session, `sessionId`). */
export interface RefreshToken {
  id: string;
  sessionId: string;
  userId: string;
  /** Hex SHA-256 of the token's secret. */
  secretHash: string;
  createdAt: number;
  /** Absolute expiry (the family's). */
  expiresAt: number;
  /** When it was rotated (used), or null while live. */
  rotatedAt: number | null;
  /** The token that replaced it. */
  successorId: string | null;
  /**
   * The scope the family was granted at login (space-separated; '' when none was asked for).
   * A refresh may ask for less, never more, and the successor keeps this one (RFC 6749 §6).
   * null only for families stored before scopes were recorded.
   */
  scope: string | null;
}

/** Outcome of {@link RefreshStore.rotate}. */
export type RotateResult =
  /** This call rotated the token and inserted the successor. */
  | { status: 'rotated' }
  /** Another call rotated it first, at `rotatedAt`, to `successorId`. */
  | { status: 'already-rotated'; rotatedAt: number; successorId: string }
  /** No such token. */
  | { status: 'not-found' };

export interface RefreshStore {
  create(token: RefreshToken): Promise<void>;
  get(id: string): Promise<RefreshToken | null>;
  /**
   * Marks `id` rotated at `now` with successor `next.id` and inserts `next`, atomically:
   * of any number of concurrent calls for one `id`, exactly one gets `rotated`; the others
   * get `already-rotated` with the winner's successor. Never two live successors.
   */
  rotate(id: string, next: RefreshToken, now: number): Promise<RotateResult>;
  /**
   * Optional, offered by a store that keeps refresh tokens beside sessions and users: the token
   * and, in the same read, what `sessions.getWithUser(token.sessionId)` would return (`owner`,
   * null when the session or its user is missing); null for an unknown token. `sessions` is the
   * session store the caller uses: when it is not the one kept beside this store (sessions in
   * Redis, say), the answer is `undefined` and the caller reads the session itself.
   */
  getWithOwner?(id: string, sessions: SessionStore): Promise<RefreshWithOwner | null | undefined>;
  /**
   * Optional, offered by the same kind of store: `sessions.create(session)` and `create(token)`
   * in one write (all or nothing). False, storing nothing, when `sessions` is not the session
   * store kept beside this one; the caller then creates both itself.
   */
  createWithSession?(session: Session, token: RefreshToken, sessions: SessionStore): Promise<boolean>;
  /** Deletes every token of the family. Returns how many. */
  deleteFamily(sessionId: string): Promise<number>;
  /** Deletes tokens whose `expiresAt` is before `before`. */
  deleteExpired(before: number): Promise<number>;
}

/** {@link RefreshStore.getWithOwner}'s answer: a refresh token, its session and that session's user. */
export interface RefreshWithOwner {
  token: RefreshToken;
  owner: { session: Session; user: UserProfile } | null;
}

/** A signing key as stored. The private JWK is encrypted by the caller (KEK) before it gets here. */
export interface StoredKey {
  kid: string;
  alg: string;
  state: 'next' | 'current' | 'retired';
  /** Encrypted private JWK (opaque to the store). */
  privateJwk: string;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
}

export interface KeyStore {
  list(): Promise<StoredKey[]>;
  /**
   * Inserts a key. Atomic: at most one `next` and one `current` key exist; an insert that
   * would make a second returns false and changes nothing (another node got there first).
   */
  insert(key: StoredKey): Promise<boolean>;
  /**
   * Promotes `nextKid` to `current` and retires the current key, atomically, only if
   * `nextKid` is still `next`. Returns false (and changes nothing) when another node already did.
   */
  promote(nextKid: string, now: number): Promise<boolean>;
  /** Deletes a retired key. Returns false if it is not retired or does not exist. */
  deleteRetired(kid: string): Promise<boolean>;
}

/** A revocation: tokens of session `sid`, or of user `sub`, issued before `notBefore` are void. */
export interface RevocationEvent {
  /** Opaque, increasing in append order. */
  cursor: string;
  sid: string | null;
  sub: string | null;
  /** Seconds since the epoch: tokens with `iat` before this are revoked. */
  notBefore: number;
  /** Seconds since the epoch: after this no token the event covers can still be valid, and the event may be forgotten. */
  until: number;
  reason: string;
}

export interface RevocationStore {
  /** Appends an event and returns it with its cursor. Cursors increase strictly in append order. */
  append(event: Omit<RevocationEvent, 'cursor'>): Promise<RevocationEvent>;
  /**
   * Appends several events atomically, in order: after a crash either every one of them is
   * stored or none is. Returns them with their cursors.
   */
  appendAll(events: readonly Omit<RevocationEvent, 'cursor'>[]): Promise<RevocationEvent[]>;
  /**
   * Events after `cursor` (`null`: from the oldest retained), oldest first, at most `limit`.
   * Throws {@link InvalidCursorError} for a cursor this store never handed out (malformed, or
   * ahead of every cursor it has assigned).
   */
  since(cursor: string | null, limit: number): Promise<RevocationEvent[]>;
  /** Deletes events whose `until` (seconds) is before `nowSeconds`. */
  deleteExpired(nowSeconds: number): Promise<number>;
}

/** Failure counters for login throttling. */
export interface FailureCount {
  /** Failures in the current window. */
  count: number;
  /** Time of the latest failure. */
  lastAt: number;
}

export interface RateLimitStore {
  /**
   * Records one failure for `key` atomically and returns the count in the window. A
   * window starts at the first failure and lasts `windowMs`; a failure after it starts a new one.
   */
  recordFailure(key: string, now: number, windowMs: number): Promise<FailureCount>;
  /** The current count, or null if none or its window has passed. */
  get(key: string, now: number): Promise<FailureCount | null>;
  /** Clears the counter (after a successful login). */
  reset(key: string): Promise<void>;
  /**
   * Takes back one failure of the current window, atomically: an attempt charged in advance that
   * then succeeded. Never goes below zero; no effect once the window has passed. With `restore`,
   * `lastAt` goes back to `restore.to` if it still is `restore.ifAt` (the charge's own instant), so
   * a forgiven attempt does not restart the back-off; a later failure's `lastAt` is kept.
   */
  forgive(key: string, now: number, restore?: { ifAt: number; to: number }): Promise<void>;
}

/** Every store the auth server needs, from one backend. */
export interface Stores {
  users: UserStore;
  sessions: SessionStore;
  refreshTokens: RefreshStore;
  keys: KeyStore;
  revocations: RevocationStore;
  rateLimits: RateLimitStore;
  /**
   * Resolves when the backend answers and accepts a write (readiness): a store that can still be
   * read but not written to (a full disk, a read-only file system) is not ready.
   */
  ping(): Promise<void>;
  /** Closes connections; pending writes finish first. */
  close(): Promise<void>;
}
