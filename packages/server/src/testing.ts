/**
 * @tessera/server/testing: the real auth server for tests, in process. Tests of other
 * packages (and of apps built on Tessera) reach it through this entry point; it is kept out
 * of the main entry so the server's runtime never loads test code.
 *
 * @example
 * import { createTestApp } from '@tessera/server/testing';
 * const { app, clock } = await createTestApp({ TESSERA_ACCESS_TOKEN_TTL: '60' });
 * const res = await app.inject({ method: 'GET', url: '/healthz' });
 * clock.advance(61_000);
 */
import type { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createMemoryStores, type Stores } from '@tessera/stores';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

/** A clock tests move by hand. */
export interface TestClock {
  (): number;
  now: number;
  advance(ms: number): void;
}

/** A {@link TestClock} starting at `start` (ms since the epoch); it moves only when advanced. */
export function testClock(start = Date.UTC(2026, 10, 26, 12, 0, 0)): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  clock.advance = (ms: number) => {
    clock.now += ms;
  };
  return clock;
}

/** What {@link createTestApp} returns: the ready app and the pieces a test drives or inspects. */
export interface TestApp {
  app: FastifyInstance;
  clock: TestClock;
  stores: Stores;
  /** The key-encryption key the app was built with (pass it again to "restart" on the same stores). */
  kek: Buffer;
}

/** Extra knobs for {@link createTestApp}. */
export interface TestAppOptions {
  /** Key-encryption key. Default: 32 fresh random bytes. */
  kek?: Buffer;
  /** Clock to use. Default: a fresh {@link testClock}. */
  clock?: TestClock;
  /** Fastify logger option. Default: no logger. */
  logger?: FastifyServerOptions['logger'];
  /** Called after the app is built and before `ready()`, to add test hooks. */
  beforeReady?: (app: FastifyInstance) => void;
}

/**
 * The real auth server on in-memory stores (or the stores given), a frozen clock, no
 * logger and no background jobs. Environment overrides go through the real config loader.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  stores: Stores = createMemoryStores(),
  options: TestAppOptions = {},
): Promise<TestApp> {
  const clock = options.clock ?? testClock();
  const kek = options.kek ?? randomBytes(32);
  const config = loadConfig({ TESSERA_ISSUER: 'http://auth.test', TESSERA_DATABASE_URL: 'memory:', ...env });
  const app = await buildApp({ config, stores, kek, clock, logger: options.logger ?? false, background: false });
  options.beforeReady?.(app);
  await app.ready();
  return { app, clock, stores, kek };
}
