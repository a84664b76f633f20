import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import { createIssuer, createVerifier, DEFAULT_LEEWAY, RevocationList } from '@tessera/core';
import type { Stores } from '@tessera/stores';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Tessera } from './context.js';
import { trackAllowedMethods } from './http/allowed-methods.js';
import { limitConnectionsPerAddress } from './http/connection-limit.js';
import { errorHandler } from './http/error-handler.js';
import { keepStreamsOpen, timeoutOptions } from './http/timeouts.js';
import { cleanUp } from './lib/clean-up.js';
import { RefusalCodes, Refused } from './lib/errors.js';
import { KeyManager } from './lib/key-manager.js';
import { createMetrics } from './lib/metrics.js';
import { createDummyHash } from './lib/passwords.js';
import { connectRedis } from './lib/redis-client.js';
import { RevocationBus, redisErrorCode, watchRedis } from './lib/revocation-bus.js';
import { RevocationSync } from './lib/revocation-sync.js';
import { ServerSecrets } from './lib/secrets.js';
import { StoreHealth } from './lib/store-health.js';
import { LoginThrottle } from './lib/throttle.js';
import { authenticatePlugin } from './plugins/authenticate.js';
import { openapiPlugin } from './plugins/openapi.js';
import { adminRoutes } from './routes/admin.js';
import { currentSessionRoutes } from './routes/current-session.js';
import { healthRoutes } from './routes/health.js';
import { meRoutes } from './routes/me.js';
import { oauthRoutes } from './routes/oauth.js';
import { pageRoutes } from './routes/page.js';
import { revocationRoutes } from './routes/revocations.js';
import { sessionRoutes } from './routes/sessions.js';
import { tokenRoutes } from './routes/token.js';
import { userRoutes } from './routes/users.js';
import { wellKnownRoutes } from './routes/well-known.js';

/** Options for {@link buildApp}. */
export interface AppOptions {
  config: Config;
  stores: Stores;
  /** The key-encryption key (32 bytes). */
  kek: Buffer;
  /** Milliseconds since the epoch. Default `Date.now`; tests freeze it. */
  clock?: () => number;
  /** Fastify logger option. Default: JSON logs at `config.logLevel` with secrets redacted. */
  logger?: FastifyServerOptions['logger'];
  /** Run the background jobs (key rotation, revocation sync, clean-up). Default true. */
  background?: boolean;
}

/** Members that carry credentials, censored wherever an operator's log line puts them (three levels deep). */
const SECRET_MEMBERS = ['password', 'current_password', 'new_password', 'refresh_token', 'access_token', 'token', 'csrf_token'];

/** Header names that carry credentials, censored in any headers object a log line holds (up to three levels deep). */
const SECRET_HEADERS = ['authorization', '["proxy-authorization"]', 'cookie', '["set-cookie"]', '["x-csrf-token"]'];

/** Paths pino must never print: credentials in headers and bodies, cookies both ways. */
export const REDACT = [
  ...SECRET_HEADERS.flatMap((h) => {
    const member = h.startsWith('[') ? h : `.${h}`;
    return [`*${member}`, `*.*${member}`, `*.*.*${member}`];
  }),
  // The double-submit token (csrf_token) is a credential too: the login response carries it.
  ...SECRET_MEMBERS.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
];

/** `scheme://userinfo@` at the start of an absolute-form request target (RFC 9112 §3.2.2). */
const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/;

/**
 * A URL for the log: the path, and each query parameter's name with its value censored (a client
 * may put a token there). An absolute-form target (`GET http://user:pass@host/path`) loses its
 * userinfo: a proxy-minded client may have put a password there.
 */
export function loggableUrl(target: string): string {
  const url = target.replace(USERINFO, '$1');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair.slice(0, 64) : `${pair.slice(0, Math.min(eq, 64))}=[redacted]`;
    });
  return `${url.slice(0, q)}?${names.join('&')}`;
}

/** pino serializers: the request line without query values; everything else as Fastify logs it. */
export const LOG_SERIALIZERS = {
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: loggableUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    };
  },
};

/**
 * The server's logger options: JSON lines at `level`, secrets redacted, request lines without
 * query values or userinfo. Tests add a `stream` to read what an operator would.
 */
export function logOptions(level: string) {
  return { level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: LOG_SERIALIZERS };
}

const BODY_LIMIT = 16 * 1024;
const KEY_TICK_MS = 5_000;
/** How long a refused client has to take its error answer before the socket is destroyed regardless. */
const CLIENT_ERROR_LINGER_MS = 5_000;

/**
 * Builds the auth server: one Fastify app with a plugin per concern. Nothing listens until
 * the caller calls `listen`; tests drive it with `inject()`.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, stores } = options;
  const clock = options.clock ?? Date.now;
  const timeouts = timeoutOptions(config);
  const app = Fastify({
    logger: options.logger ?? logOptions(config.logLevel),
    bodyLimit: BODY_LIMIT,
    // A hop count trusts that many proxies in front of us.
    trustProxy: typeof config.trustProxy === 'number' ? hops(config.trustProxy) : config.trustProxy,
    // Parameter and header abuse stays a 4xx: no coercion, no silent stripping.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
    // Routing-level failures (malformed percent-encoding, over-long parameters) bypass the error
    // handler unless handed over here; without this they answer Fastify's own body shape.
    frameworkErrors: errorHandler,
    // Requests Node's HTTP parser refuses never reach a route: answered here, in the error shape.
    clientErrorHandler: answerClientError,
    // A client that sends part of a request, or nothing, must not hold its connection for ever.
    requestTimeout: timeouts.requestTimeout,
    connectionTimeout: timeouts.connectionTimeout,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    // A missing Host is refused below, in the error shape, rather than by Node with an empty 400.
    http: { requireHostHeader: false, ...timeouts.http },
    // Shed below, in the error shape: Fastify's own 503 is shaped otherwise, without Retry-After.
    return503OnClosing: false,
  });
  limitConnectionsPerAddress(app.server, {
    max: config.maxConnectionsPerIp,
    onCapped: (address) =>
      app.log.warn(
        { address, max: config.maxConnectionsPerIp },
        'a client address holds the most connections allowed; its new ones are reset until some close (TESSERA_MAX_CONNECTIONS_PER_IP)',
      ),
  });
  if (config.trustProxy === true) {
    // Documented, and accepted for setups where only the proxy can reach the node; still worth a warning.
    app.log.warn(
      'TESSERA_TRUST_PROXY=true trusts every X-Forwarded-For hop: a client that reaches this node directly picks the address it is throttled under; set a hop count or the proxies’ addresses',
    );
  }
  if (config.trustProxy !== false && config.trustProxy !== 0 && config.maxConnectionsPerIp > 0) {
    app.log.info(
      { max: config.maxConnectionsPerIp },
      'behind a proxy, every connection comes from the proxy: TESSERA_MAX_CONNECTIONS_PER_IP caps the proxy, so set it above its pool (or 0)',
    );
  }
  // Graceful shutdown: set once close() begins (preClose, below).
  let closing = false;
  app.addHook('onRequest', (request, _reply, done) => {
    // A request that reaches a closing server (on a keep-alive connection) is refused before any
    // work, so the client retries it on another node.
    if (closing) {
      done(new Refused(RefusalCodes.TEMPORARILY_UNAVAILABLE, 'the server is shutting down; retry', { retryAfter: 1 }));
      return;
    }
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      done(new Refused(RefusalCodes.INVALID_REQUEST, 'an HTTP/1.1 request needs a Host header'));
      return;
    }
    done();
  });

  const secrets = new ServerSecrets(options.kek);
  const metrics = createMetrics();
  const keys = await KeyManager.start({
    store: stores.keys,
    secrets,
    alg: config.signingAlg,
    switchNow: config.rotateNow,
    policy: { rotateAfter: config.keyRotationInterval, maxTokenTtl: config.accessTokenTtl, leeway: DEFAULT_LEEWAY },
    clock,
    log: app.log,
  });
  const revocations = new RevocationList();
  const bus = new RevocationBus({
    redis: config.redisUrl ? redisPublisher(config.redisUrl, app.log) : null,
    channel: config.redisChannel,
    onError: (err) => app.log.warn({ err: redisErrorCode(err) }, 'revocation publish to Redis failed'),
  });
  const t: Tessera = {
    config,
    stores,
    clock,
    secrets,
    keys,
    issuer: createIssuer({
      issuer: config.issuer,
      audience: config.audience.length === 1 ? (config.audience[0] as string) : config.audience,
      signingKey: () => keys.signingKey(),
      ttl: config.accessTokenTtl,
      clock,
    }),
    verifier: createVerifier({
      issuer: config.issuer,
      audience: config.audience,
      keys: keys.resolver,
      algorithms: keys.acceptedAlgorithms(),
      leeway: DEFAULT_LEEWAY,
      clock,
      isRevoked: (claims) => revocations.isRevoked(claims),
    }),
    revocations,
    throttle: new LoginThrottle(stores.rateLimits, clock),
    metrics,
    dummyHash: await createDummyHash(),
    bus,
    leeway: DEFAULT_LEEWAY,
    storeHealth: new StoreHealth({ clock, log: app.log }),
  };
  app.decorate('tessera', t);
  // Other nodes' revocations: heard at once (LISTEN/NOTIFY, Redis), polled every second anyway.
  const sync = await RevocationSync.start({
    deps: { stores, clock, revocations, bus },
    databaseUrl: config.databaseUrl,
    redis: config.redisUrl ? { url: config.redisUrl, channel: config.redisChannel } : undefined,
    log: app.log,
    listen: options.background !== false,
  });
  app.addHook('onClose', async () => {
    await sync.close();
    await bus.close();
  });

  // Only JSON and form bodies are spoken here; Fastify's built-in text/plain parser would turn
  // a wrong content type into a confusing schema error instead of 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  const allowedMethods = trackAllowedMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const path = loggableUrl(request.url.split('?')[0] ?? '').slice(0, 200);
    const allow = allowedMethods(request.url);
    // A path we have, asked with a method it lacks, is a 405 (RFC 9110 §15.5.6), not a 404.
    if (allow.length > 0) {
      reply
        .code(405)
        .header('allow', allow.join(', '))
        .send({ error: 'method_not_allowed', error_description: `${request.method} is not allowed on ${path}; use ${allow.join(', ')}` });
      return;
    }
    reply.code(404).send({ error: 'not_found', error_description: `no route for ${request.method} ${path}` });
  });
  // Graceful shutdown: a response sent after close() began carries `Connection: close`, so the
  // client's keep-alive socket ends with it. Otherwise server.close() waits out the keep-alive
  // timeout (TESSERA_KEEP_ALIVE_TIMEOUT) of every connection that had a request in flight when SIGTERM came.
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(cors, {
    // An OPTIONS request that is no CORS preflight gets the plain 204, not a text/plain 400.
    strictPreflight: false,
    origin: config.corsOrigins,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-CSRF-Token'],
    // A browser client on another origin reads the server's clock from Date to measure its skew.
    exposedHeaders: ['Date'],
    maxAge: 600,
  });
  await app.register(openapiPlugin);
  await app.register(authenticatePlugin, {
    verifier: t.verifier,
    sessions: { stores, clock, config, secrets, revocations },
    config,
  });

  // The SSE feed is idle between heartbeats by design: a short connection timeout must not cut it.
  keepStreamsOpen(app, ['/v1/revocations/stream'], timeouts.connectionTimeout);
  await app.register(healthRoutes);
  await app.register(wellKnownRoutes);
  await app.register(userRoutes);
  await app.register(tokenRoutes);
  await app.register(sessionRoutes);
  await app.register(currentSessionRoutes);
  await app.register(meRoutes);
  await app.register(revocationRoutes);
  await app.register(oauthRoutes);
  await app.register(adminRoutes);
  await app.register(pageRoutes);

  if (options.background !== false) {
    const jobs = [
      // Keys are re-read every few seconds (one small query), so a rotation made by another node or by
      // `tessera-server keys rotate` is signing everywhere within that time.
      setInterval(() => keys.tick().catch((err) => app.log.error({ err }, 'key rotation failed')), KEY_TICK_MS),
      setInterval(() => cleanUp({ stores, clock, revocations }).catch((err) => app.log.warn({ err }, 'clean-up failed')), 60_000),
    ];
    for (const job of jobs) job.unref();
    app.addHook('onClose', async () => {
      for (const job of jobs) clearInterval(job);
    });
  }
  return app;
}

/**
 * Answers a request Node's HTTP parser refused (bad syntax, a header too large, a timeout) with
 * the usual `{ error, error_description }` body, then closes the connection: after a parse
 * error the rest of what the client sent cannot be trusted to frame another request.
 */
function answerClientError(err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, error, description] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request_timeout', 'the request took too long to arrive']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'invalid_request', 'the request line or headers are too large']
        : [400, 'Bad Request', 'invalid_request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error, error_description: description });
  // Node's own check: an answer already under way (its headers sent) must not be corrupted by a second one.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  // Destroyed once written, not merely ended: the server keeps half-open sockets, and Node has
  // already lifted this one's idle timeout, so a client that never closes its side would keep the
  // descriptor for ever, which is the very thing a request timeout is there to stop.
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
  // A client that reads nothing leaves the write unfinished: the socket goes all the same.
  setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
}

/** The revocation publisher's Redis client, its state changes logged once each (not every retry). */
function redisPublisher(url: string, log: FastifyInstance['log']): Redis | Cluster {
  const client = connectRedis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
  watchRedis(client, log);
  return client;
}

function hops(n: number) {
  return (_address: string, hop: number) => hop < n;
}
