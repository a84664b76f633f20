#!/usr/bin/env node
import { openStores, StoreConfigError } from '@tessera/stores';
import { keysCommand } from './admin.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { dataDirOf, KekMismatchError, kekMismatchReason, loadKek } from './lib/kek.js';
import { isSupervisor, supervise } from './workers.js';

/** Starts the auth server from the environment; stops gracefully on SIGTERM/SIGINT so no write is lost. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // TESSERA_WORKERS > 1: this process supervises; each worker it forks runs the rest of main.
  if (config.workers > 1 && isSupervisor() && (process.argv[2] ?? 'serve') === 'serve') {
    supervise({ workers: config.workers, logLevel: config.logLevel });
    return;
  }
  const stores = await openStores(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    redisUrl: config.redisUrl,
    sessionStore: config.sessionStore,
    redisPrefix: config.redisPrefix,
  });
  if (process.argv[2] === 'migrate') {
    // Opening the stores applied every pending migration (PostgreSQL: under an advisory lock, so
    // nodes starting meanwhile wait for it): an operator's step before deploying a new version.
    await stores.close();
    process.stdout.write('tessera: the database schema is up to date\n');
    process.exit(0);
  }
  const dataDir = dataDirOf(config.databaseUrl);
  const kek = loadKek(config.kek, dataDir);
  // A KEK that cannot open the stored keys is a configuration error: named, exit code 2.
  const named = (err: unknown): never => {
    if (!(err instanceof KekMismatchError)) throw err;
    const { variable, why } = kekMismatchReason(config.kek, dataDir);
    throw new ConfigError(variable, why);
  };
  const [command, ...args] = process.argv.slice(2);
  if (command === 'keys') {
    const code = await keysCommand(args, config, stores, kek, (line) => process.stdout.write(`${line}\n`)).catch(named);
    await stores.close();
    process.exit(code);
  }
  if (command !== undefined && command !== 'serve') {
    process.stderr.write('usage: tessera-server [serve] | migrate | keys list|rotate|export-secret\n');
    process.exit(2);
  }
  const app = await buildApp({ config, stores, kek }).catch(named);
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
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  // A bad setting, or a store URL that is wrong or unreachable: the message names the variable,
  // never a secret or the URL.
  if (err instanceof ConfigError || err instanceof StoreConfigError) {
    process.stderr.write(`tessera: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tessera: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
