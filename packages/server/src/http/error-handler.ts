import { isStoreUnavailable } from '@tessera/stores';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RefusalCodes, Refused } from '../lib/errors.js';
import { STORE_RETRY_AFTER } from '../lib/store-health.js';
import { type HttpRefusal, RefusalError, refusalOf } from './refusals.js';

/** Fastify's own error codes for bad input → our 4xx answers. */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'request_too_large', 'the request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'send application/json or application/x-www-form-urlencoded'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_request', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_request', 'the body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'the content length is invalid'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'invalid_request', 'the content type is invalid'],
  FST_ERR_CTP_INVALID_CHARSET: [415, 'unsupported_media_type', 'unsupported charset'],
  FST_ERR_BAD_URL: [400, 'invalid_request', 'the URL is malformed'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'invalid_request', 'a path parameter is too long'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'invalid_request', 'the request is malformed'],
};

function send(reply: FastifyReply, refusal: HttpRefusal): FastifyReply {
  return reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
}

/** A schema validation failure, named by where it is and what is wrong (never by the value sent). */
function validationFailure(err: FastifyError): HttpRefusal {
  const first = err.validation?.[0];
  const where = first?.instancePath
    ? first.instancePath.slice(1).replace(/\//g, '.')
    : (first?.params as { missingProperty?: string })?.missingProperty;
  const what =
    first?.keyword === 'additionalProperties'
      ? `unknown field "${(first.params as { additionalProperty?: string }).additionalProperty}"`
      : first?.message;
  return {
    status: 400,
    headers: {},
    body: {
      error: 'invalid_request',
      error_description: `${err.validationContext ?? 'body'}${where ? ` ${where}` : ''}: ${what ?? 'invalid'}`,
    },
  };
}

/**
 * PostgreSQL's refusals of a text value it cannot store: 22021 (a NUL byte, invalid UTF-8) and
 * 22P05 (a character the database encoding lacks).
 */
const UNSTORABLE = new Set(['22021', '22P05']);

function isUnstorableInput(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNSTORABLE.has(code);
}

/** The answer to every request a store outage stopped: the same request may succeed once it is over. */
const STORE_UNAVAILABLE = new Refused(RefusalCodes.TEMPORARILY_UNAVAILABLE, 'the service cannot answer now; retry later', {
  retryAfter: STORE_RETRY_AFTER,
});

/**
 * The one place errors become HTTP: refusals of our logic (through the refusal table, in the
 * route's OAuth variant on OAuth endpoints), token refusals as `@tessera/verify` words them,
 * schema validation, Fastify's bad-input errors, store outages (503 with `Retry-After`, logged
 * once per episode, not per request); anything else is a 500 without details.
 */
export function errorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // Routing-level failures reach here before a route is matched: no route config then.
  if (err instanceof Refused) return send(reply, refusalOf(err, request.routeOptions?.config?.oauth === true));
  if (err instanceof RefusalError) return send(reply, err.refusal);
  const fe = err as FastifyError;
  if (fe.validation) return send(reply, validationFailure(fe));
  const mapped = fe.code ? FASTIFY_ERRORS[fe.code] : undefined;
  if (mapped) return reply.code(mapped[0]).send({ error: mapped[1], error_description: mapped[2] });
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send({ error: 'invalid_request', error_description: 'the request is malformed' });
  }
  if (isUnstorableInput(err)) {
    // A value the database cannot hold (a NUL byte in a name, say) that got past the schemas: the
    // client's input, so a 400, never a 500.
    return reply.code(400).send({ error: 'invalid_request', error_description: 'the request holds characters that cannot be stored' });
  }
  if (isStoreUnavailable(err)) {
    // A full or read-only disk, a database that is down: not a bug, and never the client's fault.
    // Checked after the 4xx above: a client's aborted upload (ECONNRESET, which Fastify marks 400)
    // must not pass for an outage, or any client could fail readiness at will.
    request.server.tessera.storeHealth.outage(err);
    return send(reply, refusalOf(STORE_UNAVAILABLE, request.routeOptions?.config?.oauth === true));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
}
