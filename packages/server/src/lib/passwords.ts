import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { foldEmail } from '@tessera/stores';
import { dictionary } from '@zxcvbn-ts/language-common';

/** OWASP's argon2id parameters: m=19456 KiB, t=2, p=1 (argon2id is the library's default algorithm). */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 128;
/** Longest email accepted (RFC 5321 path limit). */
export const MAX_EMAIL_LENGTH = 254;

// ~49 000 common passwords, maintained with zxcvbn-ts; compared case-insensitively.
const BLOCKLIST = new Set<string>((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

/** Blocklist size, for the docs and tests. */
export const BLOCKLIST_SIZE = BLOCKLIST.size;

/** Trims, NFKC-normalises and case-folds an email ({@link foldEmail}). Returns null when it is not a plausible address. */
export function normalizeEmail(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > MAX_EMAIL_LENGTH * 4) return null;
  const email = foldEmail(input.trim());
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH) return null;
  // One @, something on both sides, no whitespace or control characters.
  if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(email)) return null;
  return email;
}

/** Code points, not UTF-16 units: an emoji counts once. */
function length(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** True when `text` has no unpaired surrogate (what ES2024's String.prototype.isWellFormed tells; not in our TypeScript lib). */
function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

/**
 * Checks a new password (NIST SP 800-63B): 12–128 characters after NFKC, no composition
 * rules, not a common password, not the email. Returns the reason it is refused, or null.
 */
export function passwordProblem(password: unknown, email?: string): string | null {
  if (typeof password !== 'string') return 'password must be a string';
  if (password.length > MAX_PASSWORD_LENGTH * 4) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  // A lone surrogate has no UTF-8 form: hashed, every one would become U+FFFD and match any other.
  if (!isWellFormed(password)) return 'password must be valid Unicode text (no unpaired surrogates)';
  const normalized = password.normalize('NFKC');
  const n = length(normalized);
  if (n < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (n > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = normalized.toLowerCase();
  if (BLOCKLIST.has(lower)) return 'password is too common';
  if (email !== undefined && (lower === email || lower === email.split('@')[0])) return 'password must not be the email address';
  return null;
}

// Argon2 runs on libuv's pool (4 threads), but more hashes at once than cores only queue inside
// the CPU and starve the event loop; callers queue here instead, in order.
const MAX_CONCURRENT_HASHES = Math.max(1, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Hashes with argon2id off the event loop. The password is NFKC-normalised first, and never truncated. */
export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password.normalize('NFKC'), ARGON2));
}

/** Verifies in constant time (argon2's own comparison). False for any malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  // Still hashed (the same time either way), but never accepted: no account has such a password.
  const wellFormed = isWellFormed(password);
  try {
    return (await limited(() => verify(passwordHash, password.normalize('NFKC')))) && wellFormed;
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, verified against when the user does not exist so that
 * unknown and known emails take the same time.
 */
export function createDummyHash(): Promise<string> {
  return hashPassword(randomBytes(24).toString('base64'));
}
