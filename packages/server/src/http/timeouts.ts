import type { ServerOptions } from 'node:http';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../config.js';

/**
 * The idle limit of a connection carrying an event stream, at the least. The revocation stream
 * writes a heartbeat every 15 s (routes/revocation-stream.ts), so four of them fit: a live stream
 * is never idle this long, whatever `TESSERA_CONNECTION_TIMEOUT` says.
 */
export const STREAM_IDLE_MS = 60_000;

/** The Fastify server options that bound how long a client may hold a connection. */
export interface TimeoutOptions {
  requestTimeout: number;
  connectionTimeout: number;
  keepAliveTimeout: number;
  http: Pick<ServerOptions, 'requestTimeout' | 'headersTimeout' | 'connectionsCheckingInterval'>;
}

/**
 * Fastify's and Node's timeouts from the configuration, in milliseconds. Fastify leaves
 * `requestTimeout` and `connectionTimeout` off by default, so a client that sends headers and
 * part of a body holds its connection, and a file descriptor, forever.
 *
 * - `requestTimeout`: the whole request (headers and body) must arrive in time, or the client
 *   gets 408 and the connection is closed.
 * - `headersTimeout`: the same bound for the headers alone; Node requires it not to exceed
 *   `requestTimeout` (its own default, 60 s, would).
 * - `connectionsCheckingInterval`: Node checks those two deadlines on a timer (30 s by default),
 *   so a deadline is enforced up to one interval late; a quarter of `requestTimeout` keeps that
 *   slack small.
 * - `connectionTimeout`: a socket with no bytes either way for this long is destroyed.
 * - `keepAliveTimeout`: how long an idle keep-alive connection waits for its next request.
 */
export function timeoutOptions(config: Pick<Config, 'requestTimeout' | 'connectionTimeout' | 'keepAliveTimeout'>): TimeoutOptions {
  const requestTimeout = config.requestTimeout * 1000;
  return {
    requestTimeout,
    connectionTimeout: config.connectionTimeout * 1000,
    keepAliveTimeout: config.keepAliveTimeout * 1000,
    http: {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeout / 4))),
    },
  };
}

/**
 * Gives the routes at `urls` (long-lived event streams) an idle limit of at least
 * {@link STREAM_IDLE_MS} instead of `connectionTimeoutMs`, so a short connection timeout never
 * cuts a stream between two heartbeats. Call it before those routes are registered. A stream
 * whose peer is gone is still found: its writes pile up and the route drops it.
 */
export function keepStreamsOpen(app: FastifyInstance, urls: readonly string[], connectionTimeoutMs: number): void {
  const idleMs = Math.max(connectionTimeoutMs, STREAM_IDLE_MS);
  const lift: onRequestHookHandler = (request, _reply, done) => {
    // inject() hands over a stand-in socket without timers: nothing to lift there.
    const socket = request.raw.socket as { setTimeout?: (ms: number) => unknown } | undefined;
    if (typeof socket?.setTimeout === 'function') socket.setTimeout(idleMs);
    done();
  };
  app.addHook('onRoute', (route) => {
    if (!urls.includes(route.url)) return;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [lift, ...own];
  });
}
