import type { FastifyRequest } from 'fastify';

/** A request header's value; the first one when a client sent it twice. */
export function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
