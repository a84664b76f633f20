import type { Config } from '../config.js';

/** The session cookie's name: `__Host-` prefixed (and Secure) when the issuer is https. */
export function cookieName(config: Pick<Config, 'issuer'>): string {
  return config.issuer.startsWith('https:') ? '__Host-tessera_session' : 'tessera_session';
}

/**
 * Attributes the session cookie is set and cleared with. Clearing must repeat them: a browser
 * ignores a `__Host-` cookie (even an expired one) that lacks `Secure` and `Path=/`.
 */
export function cookieOptions(config: Pick<Config, 'issuer'>) {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: config.issuer.startsWith('https:') } as const;
}
