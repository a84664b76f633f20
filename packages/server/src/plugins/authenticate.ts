import type { AccessTokenClaims, Verifier } from '@tessera/core';
import type { Session, UserProfile } from '@tessera/stores';
import { authenticationRequired } from '@tessera/verify/refusals';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import { bearerClaims } from '../http/bearer.js';
import { checkCsrf, type Origins } from '../http/csrf.js';
import { RefusalError } from '../http/refusals.js';
import { cookieName, cookieOptions } from '../http/session-cookie.js';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { authenticateCookie, type SessionDeps } from '../lib/sessions.js';

/** Who a request speaks for, and how it proved it. */
export type Auth =
  | { kind: 'jwt'; userId: string; sid: string | null; claims: Readonly<AccessTokenClaims> }
  | { kind: 'session'; userId: string; sid: string; session: Session; user: UserProfile };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `app.authenticateUser`; read it through {@link requireAuth}. */
    auth: Auth | null;
  }
  interface FastifyInstance {
    // Not `authenticate`: @tessera/verify's Fastify adapter decorates that name, with another type.
    /**
     * preHandler of authenticated routes: a Bearer access token (verified locally, decided in
     * the same tick), else the session cookie (a store read, plus the CSRF check on state changes).
     */
    authenticateUser: preHandlerHookHandler;
  }
}

/** What {@link authenticatePlugin} authenticates with. */
export interface AuthenticateOptions {
  verifier: Pick<Verifier, 'verify'>;
  sessions: SessionDeps;
  /** The issuer (the cookie's name and attributes, our own origin) and the other allowed origins. */
  config: Origins;
}

/**
 * Decorates `app.authenticateUser` and `request.auth`, once, at the registering scope. Refusals
 * (401 with an RFC 6750 challenge, 400 for a malformed header, 403 for a failed CSRF check) go to
 * the error handler.
 *
 * @example
 * app.get('/v1/me', { preHandler: app.authenticateUser }, async (request) => requireAuth(request).userId);
 */
export async function authenticatePlugin(app: FastifyInstance, options: AuthenticateOptions): Promise<void> {
  const { verifier, sessions, config } = options;
  const name = cookieName(config);
  const attributes = cookieOptions(config);

  async function byCookie(request: FastifyRequest, reply: FastifyReply, value: string): Promise<void> {
    const found = await authenticateCookie(sessions, value);
    if (!found) {
      // A dead cookie would be sent, and refused, on every request until it expires.
      reply.clearCookie(name, attributes);
      throw new Refused(RefusalCodes.SESSION_ENDED, 'the session has ended; sign in again');
    }
    const { session, user } = found;
    checkCsrf(config, request, session, sessions.secrets);
    request.auth = { kind: 'session', userId: session.userId, sid: session.id, session, user };
  }

  // A callback hook, not an async one: a Bearer request is decided in the same tick, with no
  // promise. Only a cookie waits, for its store read.
  function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    let claims: Readonly<AccessTokenClaims> | null;
    try {
      claims = bearerClaims(verifier, request);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (claims) {
      request.auth = { kind: 'jwt', userId: claims.sub, sid: claims.sid ?? null, claims };
      done();
      return;
    }
    const cookie = request.cookies[name];
    if (cookie === undefined) {
      done(new RefusalError(authenticationRequired()));
      return;
    }
    byCookie(request, reply, cookie).then(() => done(), done);
  }

  app.decorateRequest('auth', null);
  app.decorate('authenticateUser', authenticate);
}
// Registered at the caller's scope, as fastify-plugin does, so every route plugin sees the decorators.
Object.assign(authenticatePlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'tessera-authenticate',
});

/**
 * The request's authentication, on a route behind `app.authenticateUser` (which refuses the request
 * before the handler otherwise).
 */
export function requireAuth(request: FastifyRequest): Auth {
  if (request.auth === null) throw new Error(`${request.routeOptions.url} is not behind app.authenticateUser`);
  return request.auth;
}
