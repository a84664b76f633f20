import { AuthError, ErrorCodes } from '@tessera/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** An error answered as `{ error, error_description }` with a 4xx status. */
export class HttpError extends Error {
  readonly status: number;
  readonly error: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

/** 401 for a request that must authenticate. RFC 6750: `error="invalid_token"` only when a token was sent. */
export function unauthorized(description: string, tokenSent: boolean, error = tokenSent ? 'invalid_token' : 'unauthorized'): HttpError {
  const challenge = tokenSent ? `Bearer error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"` : 'Bearer';
  return new HttpError(401, error, description, { 'www-authenticate': challenge });
}

export const badRequest = (description: string, error = 'invalid_request') => new HttpError(400, error, description);
export const forbidden = (error: string, description: string) => new HttpError(403, error, description);
export const notFound = (description = 'not found') => new HttpError(404, 'not_found', description);
export const tooManyRequests = (retryAfter: number) =>
  new HttpError(429, 'too_many_requests', 'too many failed attempts; retry later', {
    'retry-after': String(Math.max(1, Math.ceil(retryAfter))),
  });

/** Token-core codes → the description we are willing to tell a client (never the token itself). */
const TOKEN_DESCRIPTIONS: Partial<Record<string, string>> = {
  [ErrorCodes.TOKEN_EXPIRED]: 'the access token expired',
  [ErrorCodes.TOKEN_REVOKED]: 'the access token was revoked',
  [ErrorCodes.TOKEN_TOO_LARGE]: 'the access token is too large',
};

/** Maps a token verification failure to a 401 Bearer challenge. */
export function tokenFailure(err: unknown): HttpError {
  if (err instanceof AuthError) return unauthorized(TOKEN_DESCRIPTIONS[err.code] ?? 'the access token is invalid', true);
  throw err;
}

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

/** The one place errors become HTTP: our own, validation, Fastify's bad-input errors; anything else is a 500 without details. */
export function errorHandler(err: FastifyError | HttpError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HttpError) {
    return reply.code(err.status).headers(err.headers).send({ error: err.error, error_description: err.message });
  }
  const fe = err as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    const where = first?.instancePath
      ? first.instancePath.slice(1).replace(/\//g, '.')
      : (first?.params as { missingProperty?: string })?.missingProperty;
    const what =
      first?.keyword === 'additionalProperties'
        ? `unknown field "${(first.params as { additionalProperty?: string }).additionalProperty}"`
        : first?.message;
    return reply.code(400).send({
      error: 'invalid_request',
      error_description: `${fe.validationContext ?? 'body'}${where ? ` ${where}` : ''}: ${what ?? 'invalid'}`,
    });
  }
  const mapped = fe.code ? FASTIFY_ERRORS[fe.code] : undefined;
  if (mapped) return reply.code(mapped[0]).send({ error: mapped[1], error_description: mapped[2] });
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send({ error: 'invalid_request', error_description: 'the request is malformed' });
  }
  request.log.error({ err }, 'unhandled error');
  return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
}
