import { Buffer } from 'node:buffer';
import { RefusalCodes, Refused } from './errors.js';
import { safeEqual } from './secrets.js';
import { clientAuthTarget, type LoginThrottle } from './throttle.js';

/** What {@link authenticateClient} uses. */
export interface ClientAuthDeps {
  /** Resource-server credentials: client id → secret (TESSERA_RESOURCE_SERVERS). */
  clients: ReadonlyMap<string, string>;
  throttle: Pick<LoginThrottle, 'attempt'>;
}

/** Client credentials as presented (RFC 6749 §2.3.1), or null when none were. */
export type ClientCredentials = { id: string; secret: string } | null;

/**
 * The client id and secret of an `Authorization: Basic` header value (each form-urlencoded,
 * RFC 6749 §2.3.1), or null when there is none or it cannot be read.
 */
export function basicCredentials(header: string | undefined): ClientCredentials {
  if (typeof header !== 'string' || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * Authenticates a resource server (introspection, the revocation feed) against the configured
 * credentials. Attempts for a configured client id are throttled per client id and address, and
 * each is charged as a failure before the secret is compared ({@link LoginThrottle.attempt}): a
 * burst of parallel guesses gets the rule's free allowance through to the comparison, not the
 * whole burst. The right secret takes its charge back, so a resource server that calls often is
 * never throttled by its own successes. Requests naming no configured client are not counted:
 * they cannot guess anything, and counting them would let anyone behind the same address lock a
 * resource server out. A client id is an identifier, not a secret (RFC 6749 §2.2), so a refusal
 * telling that one exists gives nothing away. Returns the client id.
 *
 * @throws {Refused} `INVALID_CLIENT`, or `THROTTLED` during a back-off.
 */
export async function authenticateClient(deps: ClientAuthDeps, credentials: ClientCredentials, ip: string): Promise<string> {
  const invalid = () => new Refused(RefusalCodes.INVALID_CLIENT, 'resource-server credentials are required (HTTP Basic)');
  if (!credentials) throw invalid();
  const { id, secret } = credentials;
  const expected = deps.clients.get(id);
  if (expected === undefined) {
    // Compare against something even for unknown ids, so timing does not reveal which ids exist.
    safeEqual(secret, secret.replace(/./g, '\0'));
    throw invalid();
  }
  return deps.throttle.attempt([clientAuthTarget(id, ip)], async () => {
    if (!safeEqual(secret, expected)) throw invalid();
    return id;
  });
}
