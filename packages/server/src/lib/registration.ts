import { randomUUID } from 'node:crypto';
import { EmailTakenError, type User, type UserStore } from '@tessera/stores';
import { RefusalCodes, Refused } from './errors.js';
import { hashPassword, normalizeEmail, passwordProblem } from './passwords.js';
import { type LoginThrottle, registrationTarget, signupTarget } from './throttle.js';

/** What {@link register} uses. */
export interface RegistrationDeps {
  users: Pick<UserStore, 'create'>;
  throttle: Pick<LoginThrottle, 'claim' | 'retryAfter' | 'fail'>;
  /** Sign-ups one client address may make per hour (TESSERA_SIGNUPS_PER_HOUR). */
  signupsPerHour: number;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

/** A sign-up, as the client sent it. */
export interface Registration {
  email: string;
  password: string;
  name: string | undefined;
  /** The client's address: sign-ups are throttled per address. */
  ip: string;
}

/**
 * Creates an account. Each client address may sign up `signupsPerHour` times an hour: every
 * sign-up that gets past the input checks is charged up front (a parallel burst cannot slip past
 * the limit) and never taken back, since a created account is exactly what the limit is about.
 *
 * "Email taken" tells whoever asks that an account exists, so each client address may also learn
 * it only a few times an hour, on a second counter charged when it happens. Charging it up front
 * as well would refuse a parallel burst of honest sign-ups on the failures of none; the sign-up
 * counter already bounds how many answers a burst can get.
 *
 * @throws {Refused} `INVALID_REQUEST` for an unusable email, `WEAK_PASSWORD`, `THROTTLED`, `EMAIL_TAKEN`.
 */
export async function register(deps: RegistrationDeps, registration: Registration): Promise<User> {
  const account = checkAccount(registration);
  const signups = await deps.throttle.claim(...signupTarget(registration.ip, deps.signupsPerHour));
  if (signups.wait > 0) {
    throw new Refused(RefusalCodes.THROTTLED, 'too many sign-ups from this address; retry later', { retryAfter: signups.wait });
  }
  const taken = registrationTarget(registration.ip);
  const wait = await deps.throttle.retryAfter([taken]);
  if (wait > 0) throw new Refused(RefusalCodes.THROTTLED, 'too many failed attempts; retry later', { retryAfter: wait });
  const user = await newUser(account, registration.password, [], deps.clock());
  try {
    await deps.users.create(user);
  } catch (err) {
    if (err instanceof EmailTakenError) {
      await deps.throttle.fail(...taken);
      throw new Refused(RefusalCodes.EMAIL_TAKEN, 'an account with this email exists');
    }
    throw err;
  }
  return user;
}

/** An account's email and name as they are stored: normalised, and checked with its password. */
export interface CheckedAccount {
  email: string;
  name: string | null;
}

/**
 * The sign-up policy, shared by every way an account is created: the email normalised, the
 * password checked ({@link passwordProblem}), the name NFKC-normalised and trimmed.
 *
 * @throws {Refused} `INVALID_REQUEST` for an unusable email or name, `WEAK_PASSWORD`.
 */
export function checkAccount(input: { email: string; password: string; name?: string | null | undefined }): CheckedAccount {
  const email = normalizeEmail(input.email);
  if (!email) throw new Refused(RefusalCodes.INVALID_REQUEST, 'email is not a valid address');
  const problem = passwordProblem(input.password, email);
  if (problem) throw new Refused(RefusalCodes.WEAK_PASSWORD, problem);
  const name = input.name?.normalize('NFKC').trim() || null;
  // Control characters (a NUL byte above all) have no place in a display name, and some
  // databases cannot even store them.
  if (name !== null && hasControlCharacter(name)) {
    throw new Refused(RefusalCodes.INVALID_REQUEST, 'name must not contain control characters');
  }
  return { email, name };
}

/** A new user row for a checked account: a fresh id, the password hashed (argon2id), not disabled. */
export async function newUser(account: CheckedAccount, password: string, roles: readonly string[], now: number): Promise<User> {
  return {
    id: randomUUID(),
    email: account.email,
    name: account.name,
    passwordHash: await hashPassword(password),
    roles: [...roles],
    disabledAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Whether a string holds a C0 control character or DEL. */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
