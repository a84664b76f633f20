import type { User } from '@tessera/stores';
import type { FastifyRequest } from 'fastify';
import type { Tessera } from './context.js';
import { type HttpError, tooManyRequests } from './http-errors.js';
import { MAX_PASSWORD_LENGTH, normalizeEmail, verifyPassword } from './passwords.js';
import { type Claim, loginTargets } from './throttle.js';

/**
 * Checks a login's credentials under throttling. Unknown users are verified against a dummy
 * hash, so they cost the same time and get the same answer as a wrong password; both count as
 * failures on the same identifiers. During a back-off every attempt gets 429, right password or not.
 */
export async function checkCredentials(
  t: Tessera,
  request: FastifyRequest,
  emailInput: unknown,
  password: unknown,
  mode: 'jwt' | 'session',
  refused: () => HttpError,
): Promise<User> {
  const email = normalizeEmail(emailInput);
  // An unparseable identifier is still throttled, under its own (bounded) spelling.
  const accountKey = email ?? (typeof emailInput === 'string' ? emailInput.trim().toLowerCase().slice(0, 256) : '');
  const [account, ip] = loginTargets(accountKey, request.ip);
  // Account and IP are both charged before the (slow) password check (see LoginThrottle.claim),
  // so a burst of parallel guesses, at one account or sprayed over many from one address, meets
  // the back-off at once instead of after every guess already ran. A success then takes the
  // charges back: the account's counter is cleared, the address loses only this attempt's charge
  // (one good password must not wipe out the failures of a spraying address).
  let wait = await t.throttle.retryAfter([account, ip]);
  let ipClaim: Claim | undefined;
  if (wait === 0) {
    const accountClaim = await t.throttle.claim(...account);
    wait = accountClaim.wait;
    if (wait === 0) {
      ipClaim = await t.throttle.claim(...ip);
      wait = ipClaim.wait;
      if (wait > 0) await accountClaim.forgive(); // refused for the address: no guess at the account happened
    }
  }
  if (wait > 0) {
    t.metrics.logins.inc({ mode, result: 'throttled' });
    throw tooManyRequests(wait);
  }
  const user = email ? await t.stores.users.findByEmail(email) : null;
  const candidate = typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH * 4 ? password : '';
  const matches = await verifyPassword(user?.passwordHash ?? t.dummyHash, candidate);
  if (!user || !matches || candidate === '') {
    t.metrics.logins.inc({ mode, result: 'failure' });
    throw refused();
  }
  await t.throttle.succeed(account[0]);
  await ipClaim?.forgive();
  t.metrics.logins.inc({ mode, result: 'success' });
  return user;
}
