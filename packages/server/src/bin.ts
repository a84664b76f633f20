#!/usr/bin/env node
import { openStores } from '@tessera/stores';
import { keysCommand } from './admin.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { dataDirOf, loadKek } from './lib/kek.js';

/** Starts the auth server from the environment; stops gracefully on SIGTERM/SIGINT so no write is lost. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tessera: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const stores = await openStores(config.databaseUrl);
  const kek = loadKek(config.kek, dataDirOf(config.databaseUrl));
  const [command, ...args] = process.argv.slice(2);
  if (command === 'keys') {
    const code = await keysCommand(args, config, stores, kek, (line) => process.stdout.write(`${line}\n`));
    await stores.close();
    process.exit(code);
  }
  if (command !== undefined && command !== 'serve') {
    process.stderr.write('usage: tessera-server [serve] | keys list|rotate\n');
    process.exit(2);
  }
  const app = await buildApp({ config, stores, kek });
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
  process.stderr.write(`tessera: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
