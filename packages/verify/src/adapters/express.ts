import { authenticationRequired, type Refusal } from '../refusals.js';
import { checkRoles, checkScopes, type VerifiedClaims, type VerifyResult, verifyRequestNow } from '../request.js';
import type { ResourceVerifier } from '../verifier.js';

/** The parts of Express's request/response the middleware uses (structural: Express stays optional). */
export interface ExpressLikeRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Set by the middleware. */
  claims?: VerifiedClaims;
}
/** The parts of Express's response the middleware uses. */
export interface ExpressLikeResponse {
  status(code: number): this;
  set(headers: Record<string, string>): this;
  json(body: unknown): unknown;
}
/** Express's `next`: called with an error, Express answers it. */
export type NextFunction = (err?: unknown) => void;

/** An Express middleware over the structural request and response. */
export type Middleware = (req: ExpressLikeRequest, res: ExpressLikeResponse, next: NextFunction) => void;

// The typed slot on Express's own Request (as passport does), so handlers read `req.claims` without a cast.
// A global-namespace augmentation needs no import of express: it stays an optional dependency.
declare global {
  namespace Express {
    interface Request {
      /** Verified access-token claims, set by `tesseraAuth`. */
      claims?: VerifiedClaims;
    }
  }
}

function send(res: ExpressLikeResponse, r: Refusal): void {
  res.status(r.status).set(r.headers).json(r.body);
}

/**
 * Express middleware: verifies the Bearer token and sets `req.claims`, or answers 401.
 *
 * @example
 * app.use('/api', tesseraAuth({ verifier }));
 * app.get('/api/orders', requireScope('orders:read'), (req, res) => res.json(req.claims));
 */
export function tesseraAuth(options: { verifier: ResourceVerifier; cookieName?: string }): Middleware {
  const { verifier, cookieName } = options;
  if (!verifier || typeof verifier.verify !== 'function') throw new TypeError('tesseraAuth: "verifier" is required');
  const requestOptions = cookieName ? { cookieName } : {};
  return (req, res, next) => {
    const finish = (result: VerifyResult) => {
      if (!result.ok) return send(res, result.refusal);
      req.claims = result.claims;
      next();
    };
    // Decided at once (cache hits, refusals) without a promise; an unknown kid waits for the JWKS.
    const answer = verifyRequestNow(verifier, req.headers, requestOptions);
    if (answer instanceof Promise) answer.then(finish, next);
    else finish(answer);
  };
}

/** Answers 403 `insufficient_scope` unless the token has every scope; 401 when `tesseraAuth` did not run first. */
export function requireScope(...scopes: string[]): Middleware {
  return (req, res, next) => {
    const refusal = req.claims ? checkScopes(req.claims, scopes) : authenticationRequired();
    if (refusal) return send(res, refusal);
    next();
  };
}

/** Answers 403 unless the token carries one of the roles; 401 when `tesseraAuth` did not run first. */
export function requireRole(...roles: string[]): Middleware {
  return (req, res, next) => {
    const refusal = req.claims ? checkRoles(req.claims, roles) : authenticationRequired();
    if (refusal) return send(res, refusal);
    next();
  };
}
