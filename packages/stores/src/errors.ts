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
