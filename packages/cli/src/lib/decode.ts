import { Buffer } from 'node:buffer';
import { CliError } from './errors.js';
import { inWords, isoOf } from './time.js';

/** Most browsers keep at most 4096 bytes for one cookie, name and attributes included (RFC 6265 §6.1 minimum). */
export const COOKIE_BUDGET = 4096;
/**
 * A common per-header cap of proxies and servers (nginx's default header buffer, the
 * verifier's own token size cap): an `Authorization: Bearer …` line longer than this is refused
 * somewhere on the way.
 */
export const HEADER_BUDGET = 8192;
/** Share of a budget from which a token is reported as near it. */
export const NEAR_BUDGET = 0.8;

/** A time claim, read. */
export interface TimeClaim {
  claim: string;
  value: number;
  iso: string | null;
  /** e.g. "expires in 9 minutes", "expired 3 hours ago", "issued 2 minutes ago". */
  words: string;
}

/** A size budget and how the token fits it. */
export interface Budget {
  name: 'cookie' | 'header';
  limit: number;
  /** Bytes counted against the limit. */
  bytes: number;
  status: 'ok' | 'near' | 'over';
}

/** What {@link decodeToken} read: nothing here is verified. */
export interface Decoded {
  /** `jws` (signed: header and claims readable) or `jwe` (encrypted: only the header is). */
  format: 'jws' | 'jwe';
  header: Record<string, unknown>;
  /** The claims of a JWS; null for a JWE. */
  claims: Record<string, unknown> | null;
  times: TimeClaim[];
  bytes: number;
  budgets: Budget[];
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const PART_NAMES = ['header', 'payload', 'signature'];
const JWE_PART_NAMES = ['header', 'encrypted key', 'initialization vector', 'ciphertext', 'authentication tag'];

/** Deepest nesting shown: printing recurses, and a real token's JSON nests two or three levels. */
const MAX_DEPTH = 64;

/** Whether `value` nests deeper than {@link MAX_DEPTH}, found without recursion (a JSON bomb must not blow the stack here either). */
function tooDeep(value: unknown): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [v, depth] = next;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_DEPTH) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

/** A part's JSON object; the error names the part, never its content. */
function jsonPart(part: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new CliError(`not a JWT: its ${name} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError(`not a JWT: its ${name} is not a JSON object`);
  if (tooDeep(value)) throw new CliError(`not a JWT: its ${name} is nested too deeply (more than ${MAX_DEPTH} levels)`);
  return value as Record<string, unknown>;
}

function timeClaim(claim: string, value: number, nowS: number): TimeClaim {
  const delta = value - nowS;
  const when = inWords(delta);
  const words =
    claim === 'exp'
      ? delta > 0
        ? `expires ${when}`
        : `expired ${when}`
      : claim === 'nbf'
        ? delta > 0
          ? `not valid until ${when}`
          : `valid since ${when}`
        : claim === 'iat'
          ? delta > 0
            ? `issued ${when} (in the future)`
            : `issued ${when}`
          : when;
  return { claim, value, iso: isoOf(value), words };
}

function budget(name: Budget['name'], limit: number, bytes: number): Budget {
  const status = bytes > limit ? 'over' : bytes >= limit * NEAR_BUDGET ? 'near' : 'ok';
  return { name, limit, bytes, status };
}

/**
 * Reads a compact JWS or JWE without verifying anything: the header, the claims of a JWS, its
 * time claims against `nowS`, and its size against the cookie and header budgets. The syntax
 * is checked strictly (base64url alphabet, JSON objects); an error says which part is wrong and
 * never repeats the token.
 *
 * @example
 * const decoded = decodeToken(token, Math.floor(Date.now() / 1000));
 */
export function decodeToken(input: string, nowS: number): Decoded {
  const token = input.trim().replace(/^Bearer\s+/i, '');
  if (token === '') throw new CliError('no token given');
  const parts = token.split('.');
  if (parts.length !== 3 && parts.length !== 5) {
    throw new CliError(`not a JWT: ${parts.length} part${parts.length === 1 ? '' : 's'} separated by dots (a JWS has 3, a JWE 5)`);
  }
  const names = parts.length === 3 ? PART_NAMES : JWE_PART_NAMES;
  parts.forEach((part, i) => {
    if (!BASE64URL.test(part)) throw new CliError(`not a JWT: its ${names[i]} holds characters outside the base64url alphabet`);
  });
  const header = jsonPart(parts[0] ?? '', 'header');
  const format = parts.length === 5 ? 'jwe' : 'jws';
  const claims = format === 'jws' ? jsonPart(parts[1] ?? '', 'payload') : null;
  const times: TimeClaim[] = [];
  if (claims) {
    for (const claim of ['iat', 'nbf', 'exp', 'auth_time']) {
      const value = claims[claim];
      if (typeof value === 'number' && Number.isFinite(value)) times.push(timeClaim(claim, value, nowS));
    }
  }
  const bytes = Buffer.byteLength(token, 'utf8');
  return {
    format,
    header,
    claims,
    times,
    bytes,
    budgets: [budget('cookie', COOKIE_BUDGET, bytes), budget('header', HEADER_BUDGET, Buffer.byteLength(`Authorization: Bearer ${token}`))],
  };
}
