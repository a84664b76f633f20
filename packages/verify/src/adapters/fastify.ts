import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preHandlerAsyncHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import { authenticationRequired, type Refusal } from '../refusals.js';
import { checkRoles, checkScopes, type VerifiedClaims, type VerifyResult, verifyRequest, verifyRequestNow } from '../request.js';
import type { ResourceVerifier } from '../verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Verified access-token claims, set by `app.authenticate`. */
    claims: VerifiedClaims | null;
  }
  interface FastifyInstance {
    /**
     * preHandler: verifies the Bearer token and sets `request.claims`, or answers 401. Also
     * awaitable from an async hook of your own: `await app.authenticate(request, reply)`.
     */
    authenticate: preHandlerHookHandler & ((request: FastifyRequest, reply: FastifyReply) => Promise<void>);
  }
}

/** Options of the {@link tesseraAuth} plugin. */
export interface TesseraFastifyOptions {
  verifier: ResourceVerifier;
  /** Also read the token from this cookie (same-site apps). */
  cookieName?: string;
}

function send(reply: FastifyReply, r: Refusal): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body);
}

/**
 * Fastify plugin: decorates `app.authenticate` (a preHandler) and `request.claims`.
 *
 * @example
 * await app.register(tesseraAuth, { verifier });
 * app.get('/orders', { preHandler: [app.authenticate, requireScope('orders:read')] }, (req) => req.claims);
 */
export async function tesseraAuth(app: FastifyInstance, options: TesseraFastifyOptions): Promise<void> {
  const { verifier, cookieName } = options;
  if (!verifier || typeof verifier.verify !== 'function') throw new TypeError('tesseraAuth: "verifier" is required');
  app.decorateRequest('claims', null);
  const requestOptions = cookieName ? { cookieName } : {};
  // A callback hook, not an async one: a verification decided at once (every cache hit, every
  // refusal) goes on in the same tick without a promise. Only an unknown kid waits for the JWKS.
  function authenticate(request: FastifyRequest, reply: FastifyReply, done?: HookHandlerDoneFunction): Promise<void> | undefined {
    // Also awaitable from an app's own async hook: `await app.authenticate(request, reply)`.
    if (typeof done !== 'function') {
      return verifyRequest(verifier, request.headers, requestOptions).then((result) => {
        if (result.ok) {
          request.claims = result.claims;
          return;
        }
        // Settles once the refusal has gone out, not when it was handed over: an app's async
        // onSend hook could still hold it, and Fastify runs the route handler after a preHandler
        // unless the reply is already sent. The handler must never see a refused request.
        const sent = send(reply, result.refusal);
        return new Promise<void>((resolve) => sent.then(resolve, () => resolve()));
      });
    }
    const finish = (result: VerifyResult) => {
      if (!result.ok) {
        send(reply, result.refusal); // answered here: the route handler does not run
        return;
      }
      request.claims = result.claims;
      done();
    };
    const answer = verifyRequestNow(verifier, request.headers, requestOptions);
    if (answer instanceof Promise) answer.then(finish, done);
    else finish(answer);
    return undefined;
  }
  // Both shapes at once: a callback hook when Fastify passes `done`, a promise when awaited.
  app.decorate('authenticate', authenticate as FastifyInstance['authenticate']);
}
// Registered at the caller's scope, like fastify-plugin does, so the decorators are visible to its routes.
Object.assign(tesseraAuth, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'tessera-auth' });

/** preHandler that answers 403 `insufficient_scope` unless the token has every scope. Use after `app.authenticate` (without it: 401). */
export function requireScope(...scopes: string[]): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const refusal = request.claims ? checkScopes(request.claims, scopes) : authenticationRequired();
    if (refusal) return send(reply, refusal);
  };
}

/** preHandler that answers 403 unless the token carries one of the roles. Use after `app.authenticate` (without it: 401). */
export function requireRole(...roles: string[]): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    const refusal = request.claims ? checkRoles(request.claims, roles) : authenticationRequired();
    if (refusal) return send(reply, refusal);
  };
}
