import { existsSync } from 'node:fs';
import type { Admin } from '@tessera/server/admin';
import { CliError, EXIT_USAGE } from './errors.js';
import { applySettings, nameTheFlag, type Setting } from './settings.js';

/** The server's default database, as `loadConfig` has it. */
const DEFAULT_DATABASE_URL = 'sqlite:./data/tessera.db';

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
  const url = env.TESSERA_DATABASE_URL || DEFAULT_DATABASE_URL;
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : null;
  if (!mayCreate && path !== null && path !== ':memory:' && !existsSync(path)) {
    throw new CliError(
      nameTheFlag(
        `TESSERA_DATABASE_URL: there is no database at ${path}; run the command where the server keeps its data, or name the database`,
        options,
        settings,
      ),
      EXIT_USAGE,
    );
  }
  const { openAdmin } = await import('@tessera/server/admin');
  let admin: Admin;
  try {
    admin = await openAdmin({ env });
  } catch (err) {
    if (err instanceof Error) err.message = nameTheFlag(err.message, options, settings);
    throw err;
  }
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}
