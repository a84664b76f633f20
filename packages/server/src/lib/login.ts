import type { User } from '@tessera/stores';
import type { FastifyRequest } from 'fastify';
import type { Tessera } from './context.js';
import { type HttpError, tooManyRequests } from './http-errors.js';
import { MAX_PASSWORD_LENGTH, normalizeEmail, verifyPassword } from './passwords.js';
import { type Claim, loginTargets, type ThrottleRule } from './throttle.js';

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
  const keys = [account[0], ip[0]];
  let ipClaim: Claim | undefined;
  let wait = 0;
  // Marked in flight, and as holding from the moment it is charged, so a parallel attempt refused
  // by this one's charge knows to wait for it; unmarked while it waits itself.
  let attempt = t.throttle.begin(keys);
  try {
    for (let round = 0; ; round++) {
      ({ wait, ipClaim } = await claimBoth(t, account, ip, attempt.hold));
      if (wait === 0) break;
      attempt.end();
      // Refused while other attempts of this node hold charges on what blocks this one: a success
      // takes its charge back, so wait for them and ask again; parallel logins with the right
      // password are then not turned away by each other. A back-off with nothing in flight that
      // could clear it is answered 429 at once.
      const next = round < MAX_WAIT_ROUNDS ? await t.throttle.afterRefusal([account, ip]) : 'refuse';
      if (next === 'refuse') {
        t.metrics.logins.inc({ mode, result: 'throttled' });
        throw tooManyRequests(wait);
      }
      if (next === 'wait') await t.throttle.inFlight(keys);
      attempt = t.throttle.begin(keys);
    }
    return await check(t, email, password, mode, refused, account[0], ipClaim);
  } finally {
    // Always unmarked, whatever threw (a store error included): a mark left behind would make
    // later logins wait on it.
    attempt.end();
  }
}

/** Most rounds a login waits for this node's other attempts in flight before it is refused as throttled. */
const MAX_WAIT_ROUNDS = 50;

async function claimBoth(
  t: Tessera,
  account: [string, ThrottleRule],
  ip: [string, ThrottleRule],
  charging: () => void,
): Promise<{ wait: number; ipClaim: Claim | undefined }> {
  let wait = await t.throttle.retryAfter([account, ip]);
  if (wait > 0) return { wait, ipClaim: undefined };
  const accountClaim = await t.throttle.claim(...account, charging);
  wait = accountClaim.wait;
  if (wait > 0) return { wait, ipClaim: undefined };
  const ipClaim = await t.throttle.claim(...ip, charging);
  wait = ipClaim.wait;
  if (wait > 0) await accountClaim.forgive(); // refused for the address: no guess at the account happened
  return { wait, ipClaim };
}

async function check(
  t: Tessera,
  email: string | null,
  password: unknown,
  mode: 'jwt' | 'session',
  refused: () => HttpError,
  accountKey: string,
  ipClaim: Claim | undefined,
): Promise<User> {
  const user = email ? await t.stores.users.findByEmail(email) : null;
  const candidate = typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH * 4 ? password : '';
  const matches = await verifyPassword(user?.passwordHash ?? t.dummyHash, candidate);
  if (!user || !matches || candidate === '') {
    t.metrics.logins.inc({ mode, result: 'failure' });
    throw refused();
  }
  await t.throttle.succeed(accountKey);
  await ipClaim?.forgive();
  t.metrics.logins.inc({ mode, result: 'success' });
  return user;
}
