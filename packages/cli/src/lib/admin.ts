import { existsSync } from 'node:fs';
import type { Admin } from '@tessera/server/admin';
import { CliError, EXIT_USAGE } from './errors.js';
import { applySettings, nameTheFlag, type Setting } from './settings.js';

/**
 * Opens the administration API on the stores the environment (with `settings` flags applied)
 * names, runs `work`, and closes the stores whatever happens. The server is loaded only here,
 * so `tessera --help` and `tessera token decode` start at once.
 *
 * A SQLite file that does not exist is refused (exit 2), rather than created empty beside a
 * mistyped path or in the wrong directory, unless `mayCreate`: adding the first user before the
 * server has ever started is a normal first step.
 */
export async function withAdmin<T>(
  options: Record<string, unknown>,
  settings: readonly Setting[],
  work: (admin: Admin) => Promise<T>,
  { mayCreate = false }: { mayCreate?: boolean } = {},
): Promise<T> {
  const env = applySettings(process.env, options, settings);
  const named = (err: unknown): never => {
    if (err instanceof Error) err.message = nameTheFlag(err.message, options, settings);
    throw err;
  };
  const [{ loadConfig }, { openAdmin }] = await Promise.all([import('@tessera/server'), import('@tessera/server/admin')]);
  let databaseUrl = '';
  try {
    // The database as the server would open it, its default included.
    ({ databaseUrl } = loadConfig(env));
  } catch (err) {
    named(err);
  }
  const path = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : null;
  if (!mayCreate && path !== null && path !== ':memory:' && !existsSync(path)) {
    named(
      new CliError(
        `TESSERA_DATABASE_URL: there is no database at ${path}; run the command where the server keeps its data, or name the database`,
        EXIT_USAGE,
      ),
    );
  }
  const admin = await openAdmin({ env }).catch(named);
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}
