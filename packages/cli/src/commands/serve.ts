import { Command } from 'commander';
import type { Output } from '../lib/output.js';
import { loadServer } from '../lib/server.js';
import { addSettings, applySettings, nameTheFlag, SERVE_SETTINGS, STORE_SETTINGS } from '../lib/settings.js';

/** Settings given as flags, checked by the server's own loader; its error is renamed to the flag when a flag set the value. */
async function loadEnv(options: Record<string, unknown>, settings = SERVE_SETTINGS): Promise<Record<string, string | undefined>> {
  const env = applySettings(process.env, options, settings);
  const { loadConfig } = await loadServer();
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof Error) err.message = nameTheFlag(err.message, options, settings);
    throw err;
  }
  return env;
}

/**
 * `tessera serve`: the auth server. Each flag sets the environment variable of the same name
 * and wins over it. With `--workers` above 1 this process supervises workers that run this
 * same command line (node:cluster forks this binary with the same arguments).
 */
export function serveCommand(_output: Output): Command {
  const serve = new Command('serve').description(
    'run the auth server; flags override the environment variables they name (the key-encryption key comes only from TESSERA_KEK or the data dir)',
  );
  addSettings(serve, SERVE_SETTINGS).action(async (options) => {
    const env = await loadEnv(options);
    const { startServer } = await loadServer();
    await startServer(env).catch((err: unknown) => {
      // A setting only the start can check (a host this machine cannot listen on) is named as its flag too.
      if (err instanceof Error) err.message = nameTheFlag(err.message, options, SERVE_SETTINGS);
      throw err;
    });
  });
  return serve;
}

/** `tessera migrate`: applies pending schema migrations, then exits. */
export function migrateCommand(output: Output): Command {
  const migrate = new Command('migrate').description(
    'apply every pending database migration (PostgreSQL: under an advisory lock, so starting nodes wait), then exit',
  );
  addSettings(migrate, STORE_SETTINGS).action(async (options) => {
    const env = applySettings(process.env, options, STORE_SETTINGS);
    const server = await loadServer();
    try {
      await server.migrate(env);
    } catch (err) {
      if (err instanceof Error) err.message = nameTheFlag(err.message, options, STORE_SETTINGS);
      throw err;
    }
    output.info('the database schema is up to date');
  });
  return migrate;
}
