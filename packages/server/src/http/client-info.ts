import type { FastifyRequest } from 'fastify';
import type { ClientInfo } from '../lib/sessions.js';
import { header } from './header.js';

function clip(value: string | undefined, max: number): string | null {
  if (typeof value !== 'string' || value === '') return null;
  return value.length > max ? value.slice(0, max) : value;
}

/** The client details a new session keeps, bounded so a client cannot bloat its session row. */
export function clientInfo(request: FastifyRequest): ClientInfo {
  return { userAgent: clip(header(request, 'user-agent'), 256), ip: clip(request.ip, 64) };
}
