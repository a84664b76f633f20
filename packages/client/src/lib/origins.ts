import { ClientErrorCodes, TesseraError } from '../errors.js';

/** An origin (`https://api.example.com`), checked: a path or a typo here would leak or lock out tokens. */
export function originOf(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TesseraError(ClientErrorCodes.INVALID_OPTION, `${option}: not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TesseraError(ClientErrorCodes.INVALID_OPTION, `${option}: must be http or https`);
  }
  return url.origin;
}

/**
 * The origins a request may carry the user's credentials to: the issuer's and those the
 * developer listed, compared exactly (no wildcards, no suffix match: `api.example.com.evil.net`
 * is not `api.example.com`).
 */
export class AllowedOrigins {
  readonly #origins: Set<string>;

  constructor(issuerOrigin: string, allowed: readonly string[]) {
    this.#origins = new Set([issuerOrigin, ...allowed.map((o) => originOf(o, 'allowedOrigins'))]);
  }

  has(url: string): boolean {
    try {
      return this.#origins.has(new URL(url).origin);
    } catch {
      return false;
    }
  }
}
