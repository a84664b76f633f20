// The auth server process of the bench: one Tessera server (`buildApp`, as `tessera serve` runs
// it, without logging) per session backend, each on its own 127.0.0.1 port, all in this one
// process, which the bench kills with SIGKILL at the end to see what keeps working.
import { Buffer } from 'node:buffer';
import { buildApp, loadConfig } from '@tessera/server';
import { openStores, type Stores } from '@tessera/stores';
import { childMain } from './children.js';
import type { Backend } from './types.js';

/** One server to start: its backend and its environment (TESSERA_* settings, PORT). */
export interface AuthAppSpec {
  backend: Backend;
  env: Record<string, string>;
}

/** What the process reports once every server that could start listens. */
export interface AuthReady {
  type: 'ready';
  apps: { backend: Backend; base: string | null; error: string | null }[];
}

type App = Awaited<ReturnType<typeof buildApp>>;

async function startApp(spec: AuthAppSpec): Promise<{ app: App; stores: Stores }> {
  const config = loadConfig(spec.env);
  const stores = await openStores(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    redisUrl: config.redisUrl,
    sessionStore: config.sessionStore,
    redisPrefix: config.redisPrefix,
  });
  try {
    const kek = Buffer.from(spec.env.TESSERA_KEK as string, 'base64url');
    const app = await buildApp({ config, stores, kek, logger: false });
    await app.listen({ port: config.port, host: '127.0.0.1' });
    return { app, stores };
  } catch (err) {
    await stores.close().catch(() => {});
    throw err;
  }
}

childMain<AuthAppSpec[], AuthReady>(async (specs) => {
  const started = await Promise.allSettled(specs.map(startApp));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  return {
    ready: {
      type: 'ready',
      apps: specs.map((spec, i) => {
        const s = started[i] as PromiseSettledResult<unknown>;
        return s.status === 'fulfilled'
          ? { backend: spec.backend, base: `http://127.0.0.1:${spec.env.PORT}`, error: null }
          : { backend: spec.backend, base: null, error: s.reason instanceof Error ? s.reason.message : String(s.reason) };
      }),
    },
    close: async () => {
      for (const { app, stores } of running) {
        await app.close().catch(() => {});
        await stores.close().catch(() => {});
      }
    },
  };
});
