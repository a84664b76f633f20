import type { Buffer } from 'node:buffer';
import { openStores, type Stores } from '@tessera/stores';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { dataDirOf, KekMismatchError, kekMismatchReason, loadKek } from './lib/kek.js';
import { isSupervisor, supervise } from './workers.js';

/** Opens the stores `config` names, with its pool, Redis and session-store settings (applying pending migrations). */
export function openConfiguredStores(config: Config): Promise<Stores> {
  return openStores(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    redisUrl: config.redisUrl,
    sessionStore: config.sessionStore,
    redisPrefix: config.redisPrefix,
    profileCopyTtlMs: config.profileCopyTtl * 1000,
  });
}

/** The key-encryption key `config` implies: `TESSERA_KEK`, else the data dir's kek file (or a fresh one). */
export function configuredKek(config: Config): Buffer {
  return loadKek(config.kek, dataDirOf(config.databaseUrl));
}

/** A KEK that cannot open the stored keys is a configuration error: named, exit code 2. */
function namedKekError(config: Config): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof KekMismatchError)) throw err;
    const { variable, why } = kekMismatchReason(config.kek, dataDirOf(config.databaseUrl));
    throw new ConfigError(variable, why);
  };
}

/**
 * Runs the auth server from `env` until SIGTERM/SIGINT, then stops gracefully (in-flight requests
 * finish, then the stores close) and exits the process. Resolves once it listens.
 *
 * With `TESSERA_WORKERS` above 1, the cluster's primary only supervises: it forks workers that run
 * this process's command line again (node:cluster's default), so whatever program calls this,
 * its workers reach this call too and, being workers, serve.
 *
 * @throws {ConfigError} a bad setting (the message names the variable; exit with code 2)
 * @throws {StoreConfigError} a store URL that is wrong or unreachable (exit with code 2)
 *
 * @example
 * startServer(process.env).catch((err) => { console.error(err.message); process.exit(err instanceof ConfigError ? 2 : 1) });
 */
export async function startServer(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  if (config.workers > 1 && isSupervisor()) {
    supervise({ workers: config.workers, logLevel: config.logLevel });
    return;
  }
  const stores = await openConfiguredStores(config);
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    const kek = configuredKek(config);
    app = await buildApp({ config, stores, kek }).catch(namedKekError(config));
  } catch (err) {
    await stores.close().catch(() => undefined);
    throw err;
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // Stop accepting, let in-flight requests finish, then close the database.
    app
      .close()
      .then(() => stores.close())
      .then(
        () => process.exit(0),
        (err) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host }).catch(async (err: unknown) => {
    await app.close().catch(() => undefined);
    await stores.close().catch(() => undefined);
    // An address this host cannot listen on is a setting to fix: named, exit code 2.
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL' || code === 'EAI_AGAIN') {
      throw new ConfigError('HOST', `cannot listen on ${config.host} (${code})`);
    }
    throw err;
  });
}

/**
 * Brings the database named by `env` to the current schema, then closes it: an operator's step
 * before deploying a new version. Opening the stores applies every pending migration
 * (PostgreSQL: under an advisory lock, so nodes starting meanwhile wait for it).
 *
 * @throws {ConfigError} / {StoreConfigError} as {@link startServer}
 */
export async function migrate(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  const stores = await openConfiguredStores(config);
  await stores.close();
}
