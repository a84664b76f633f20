/**
 * Errors the stores throw for misuse a caller can cause with client input. Each has a stable
 * `code` so the HTTP edge can switch on it (never on the message).
 */

/**
 * Thrown by `RevocationStore.since` for a cursor not in this backend's format (for example
 * `?since=abc` passed through from a request). Map it to 400 `invalid_request`.
 */
export class InvalidCursorError extends Error {
  readonly code = 'invalid_cursor';
  constructor() {
    // The cursor itself stays out of the message: it is client input and messages reach logs.
    super('revocation cursor is not valid for this store');
    this.name = 'InvalidCursorError';
  }
}

/**
 * A store cannot answer now: its backend is unreachable, out of space, read-only or overloaded.
 * The request may succeed later, unchanged: map it to 503 with `Retry-After`, never to a 500 or
 * to a refusal of the client's credentials.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * SQLite result codes (primary, as the prefix of better-sqlite3's extended `code`) that say the
 * database cannot take the request now, as opposed to a bug or a constraint: out of space,
 * read-only, I/O error, locked past the busy timeout, the file gone.
 */
const SQLITE_OUTAGES = [
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
];

/** Node's error codes for a backend that cannot be reached or written to (network and file system). */
const SYSTEM_OUTAGES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOSPC',
  'EROFS',
  'EDQUOT',
  'EIO',
  // A database host whose name cannot be resolved right now (DNS timeout), not one that does not exist.
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATE classes meaning "cannot answer now": 08 connection exception, 53
 * insufficient resources (53100 disk full, 53200 out of memory, 53300 too many connections).
 */
const PG_OUTAGE_CLASSES = ['08', '53'];

/**
 * Single PostgreSQL SQLSTATEs of the same kind: the server shutting down (57P01 admin, 57P02
 * crash), starting up or in recovery (57P03 cannot connect now), and a write refused by a
 * read-only transaction (25006: a hot standby, or `default_transaction_read_only`).
 */
const PG_OUTAGES = new Set(['57P01', '57P02', '57P03', '25006']);

/**
 * Messages of pg's errors that carry no code: the connection closed under a query (the server
 * or the network went away), was lost between two statements of a transaction, or could not be
 * made or answered in time. Matched whole, so an error that merely mentions one of these phrases
 * is not mistaken for an outage.
 */
const PG_CONNECTION_MESSAGES = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'Query read timeout',
]);

/**
 * ioredis errors for a Redis it cannot reach. ioredis sets no `code` on them, so they are known
 * by class name (`MaxRetriesPerRequestError`: reconnecting failed; `ClusterAllFailedError`: no
 * cluster node answers) or, for plain `Error`s, by their exact, fixed message.
 */
const REDIS_CLIENT_OUTAGE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const REDIS_CLIENT_OUTAGE_MESSAGES = new Set([
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  'None of startup nodes is available',
  'Command timed out',
]);

/**
 * Redis error replies (their first word; ioredis' `ReplyError`) that say the server cannot take
 * the command now: cluster down or resharding, loading its dataset, a read-only replica, out of
 * memory, persistence failing, too few replicas, busy in a script.
 */
const REDIS_REPLY_OUTAGES = new Set([
  'CLUSTERDOWN',
  'TRYAGAIN',
  'LOADING',
  'READONLY',
  'MASTERDOWN',
  'OOM',
  'MISCONF',
  'NOREPLICAS',
  'BUSY',
]);

/** Whether `err` is one of ioredis' outage errors above. */
function isRedisOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (REDIS_CLIENT_OUTAGE_NAMES.has(err.name)) return true;
  if (err.name === 'Error') return REDIS_CLIENT_OUTAGE_MESSAGES.has(err.message);
  return err.name === 'ReplyError' && REDIS_REPLY_OUTAGES.has(err.message.split(' ', 1)[0]!);
}

/**
 * Whether an error thrown by a store means the backend is unavailable (retry later) rather than
 * a bug: a {@link StoreUnavailableError}, or a driver's error with an outage code.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  if (isRedisOutage(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === undefined) return err instanceof Error && PG_CONNECTION_MESSAGES.has(err.message);
  if (typeof code !== 'string') return false;
  if (SYSTEM_OUTAGES.has(code)) return true;
  // SQLSTATEs are five digits or upper-case letters. SQLite's codes never have that shape, and
  // Node's that do (EPERM, EBADF …) are not outages unless listed above.
  if (/^[0-9A-Z]{5}$/.test(code)) return PG_OUTAGES.has(code) || PG_OUTAGE_CLASSES.includes(code.slice(0, 2));
  return SQLITE_OUTAGES.some((c) => code === c || code.startsWith(`${c}_`));
}

/**
 * A store could not be opened because of how it was configured (a malformed or unreachable
 * URL). `variable` names the setting to fix; the message never contains the URL (it may carry a
 * password). A server should stop with exit code 2, as for any configuration error.
 */
export class StoreConfigError extends Error {
  readonly code = 'store_config';
  readonly variable: string;
  constructor(variable: string, why: string, cause?: unknown) {
    super(`${variable}: ${why}`, cause === undefined ? undefined : { cause });
    this.name = 'StoreConfigError';
    this.variable = variable;
  }
}
