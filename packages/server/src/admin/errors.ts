import type { AdminErrorCode } from './types.js';

/**
 * An administrative call refused: `code` is stable (switch on it), the message is for the
 * operator and never holds a password or a secret.
 *
 * @example
 * try { await admin.users.show('nobody@example.com') } catch (err) { if (err instanceof AdminError && err.code === 'user_not_found') … }
 */
export class AdminError extends Error {
  readonly code: AdminErrorCode;

  constructor(code: AdminErrorCode, message: string) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
  }
}
