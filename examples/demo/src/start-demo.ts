import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppConfig, type AppServer, startAppServer } from './app-server.js';
import { AuthProcess } from './auth-process.js';
import { assertPortFree, checkPort } from './ports.js';
import { startExpressService } from './services/express.js';
import { startFastifyService } from './services/fastify.js';
import type { DemoService } from './services/service.js';

/** Options of {@link startDemo}. Every port is on 127.0.0.1 and shown to the browser as `localhost`. */
export interface DemoOptions {
  /** The auth server's port. Default 3000. */
  authPort?: number;
  /** The demo app's port (its own origin). Default 5173. */
  appPort?: number;
  /** The Fastify service's port. Default 4001. */
  fastifyPort?: number;
  /** The Express service's port. Default 4002. */
  expressPort?: number;
  /**
   * The auth server's data directory (its SQLite database and development key-encryption key).
   * Default `tessera-demo` under the OS temp dir, so accounts survive a restart of the demo.
   */
  dataDir?: string;
  /** Where progress and the auth server's output go, a line at a time. Default: nowhere. */
  log?: (line: string) => void;
}

/** A running demo. */
export interface Demo {
  urls: { auth: string; app: string; fastify: string; express: string };
  /** Stops the app, the services and the auth process; resolves once all are down. Safe to call twice. */
  close(): Promise<void>;
}

/** The default ports: what the README and the app's instructions name. */
export const DEFAULT_PORTS = { authPort: 3000, appPort: 5173, fastifyPort: 4001, expressPort: 4002 } as const;

/**
 * Starts the whole demo: the real auth server process (SQLite, CORS for the app's origin, the
 * two services as resource servers), the app on its own origin, and the Fastify and Express
 * services verifying tokens with `@tessera/verify`. Every port is checked first: a taken one
 * fails with a message naming it, before anything starts.
 *
 * @example
 * const demo = await startDemo({ log: console.log });
 * console.log(`open ${demo.urls.app}`);
 * process.on('SIGINT', () => void demo.close());
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const ports = {
    authPort: checkPort(options.authPort ?? DEFAULT_PORTS.authPort, 'authPort'),
    appPort: checkPort(options.appPort ?? DEFAULT_PORTS.appPort, 'appPort'),
    fastifyPort: checkPort(options.fastifyPort ?? DEFAULT_PORTS.fastifyPort, 'fastifyPort'),
    expressPort: checkPort(options.expressPort ?? DEFAULT_PORTS.expressPort, 'expressPort'),
  };
  if (new Set(Object.values(ports)).size !== 4) throw new RangeError('the four demo ports must differ');
  const log = options.log ?? (() => {});
  await assertPortFree(ports.authPort, 'auth server');
  await assertPortFree(ports.appPort, 'demo app');
  await assertPortFree(ports.fastifyPort, 'Fastify service');
  await assertPortFree(ports.expressPort, 'Express service');

  const urls = {
    auth: `http://localhost:${ports.authPort}`,
    app: `http://localhost:${ports.appPort}`,
    fastify: `http://localhost:${ports.fastifyPort}`,
    express: `http://localhost:${ports.expressPort}`,
  };
  // Fresh for every run and never printed: the services' credentials for the revocation feed.
  const feed = {
    fastify: { id: 'demo-fastify', secret: randomBytes(24).toString('base64url') },
    express: { id: 'demo-express', secret: randomBytes(24).toString('base64url') },
  };
  const dataDir = options.dataDir ?? join(tmpdir(), 'tessera-demo');
  const auth = new AuthProcess({
    port: ports.authPort,
    log,
    env: {
      // A clean environment: a TESSERA_* variable of the caller's (a production database URL) must not leak in.
      PATH: process.env.PATH ?? '',
      TESSERA_ISSUER: urls.auth,
      // Each service is an audience of its own; the auth server itself accepts its tokens too (/v1/me).
      TESSERA_AUDIENCE: [urls.auth, urls.fastify, urls.express].join(','),
      TESSERA_DATABASE_URL: `sqlite:${join(dataDir, 'tessera.db')}`,
      TESSERA_CORS_ORIGINS: urls.app,
      TESSERA_RESOURCE_SERVERS: `${feed.fastify.id}:${feed.fastify.secret},${feed.express.id}:${feed.express.secret}`,
      TESSERA_LOG_LEVEL: 'warn',
    },
  });
  const killOnExit = () => auth.killNow();
  process.once('exit', killOnExit);

  const started: { close(): Promise<void> }[] = [];
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      for (const part of started.reverse()) await part.close().catch(() => undefined);
      await auth.stop();
      process.off('exit', killOnExit);
    })();
    return closing;
  };

  try {
    log(`starting the auth server on ${urls.auth} (data in ${dataDir})`);
    await auth.start();
    const service = { issuer: urls.auth, appOrigin: urls.app };
    const fastify: DemoService = await startFastifyService({
      ...service,
      port: ports.fastifyPort,
      audience: urls.fastify,
      credentials: feed.fastify,
    });
    started.push(fastify);
    const express: DemoService = await startExpressService({
      ...service,
      port: ports.expressPort,
      audience: urls.express,
      credentials: feed.express,
    });
    started.push(express);
    const config: AppConfig = {
      app: urls.app,
      auth: urls.auth,
      services: [
        { id: 'fastify', label: 'Fastify service', url: urls.fastify },
        { id: 'express', label: 'Express service', url: urls.express },
      ],
    };
    const app: AppServer = await startAppServer({ port: ports.appPort, config, auth, log });
    started.push(app);
  } catch (err) {
    await close();
    throw err;
  }
  return { urls, close };
}
