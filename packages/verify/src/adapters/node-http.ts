import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Refusal, type VerifiedClaims, verifyRequestNow } from '../request.js';
import type { ResourceVerifier } from '../verifier.js';

/** Writes a refusal as JSON with its RFC 6750 headers. */
export function sendRefusal(res: ServerResponse, r: Refusal): void {
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...r.headers });
  res.end(JSON.stringify(r.body));
}

/**
 * For plain `node:http` handlers: resolves the verified claims, or answers the refusal itself
 * and resolves null.
 *
 * @example
 * http.createServer(async (req, res) => {
 *   const claims = await authenticate(req, res, verifier);
 *   if (!claims) return;
 *   res.end(JSON.stringify(claims));
 * });
 */
export async function authenticate(
  req: IncomingMessage,
  res: ServerResponse,
  verifier: ResourceVerifier,
  options: { cookieName?: string } = {},
): Promise<VerifiedClaims | null> {
  const requestOptions = options.cookieName ? { cookieName: options.cookieName } : {};
  const answer = verifyRequestNow(verifier, req.headers, requestOptions);
  const result = answer instanceof Promise ? await answer : answer;
  if (result.ok) return result.claims;
  sendRefusal(res, result.refusal);
  return null;
}
