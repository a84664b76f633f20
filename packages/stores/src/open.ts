import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createMemoryStores } from './memory/index.js';
import { createSqliteStores } from './sqlite/index.js';
import type { Stores } from './types.js';

const SUPPORTED = 'memory: and sqlite:<path> (for example sqlite:./data/tessera.db, or sqlite::memory:)';

/**
 * Opens the stores named by a database URL (the value of `TESSERA_DATABASE_URL`):
 *
 * - `memory:` — in-process, nothing persists;
 * - `sqlite:<path>` — a SQLite file, relative to the working directory unless absolute; its
 *   directory is created. `sqlite::memory:` is a private in-memory database. The URL form
 *   `sqlite:///abs/path` is accepted too.
 *
 * Anything else throws an error naming the variable and the supported schemes.
 *
 * @example
 * const stores = await openStores(process.env.TESSERA_DATABASE_URL ?? 'sqlite:./data/tessera.db');
 */
export async function openStores(databaseUrl: string): Promise<Stores> {
  if (databaseUrl === 'memory:') return createMemoryStores();
  if (databaseUrl.startsWith('sqlite:')) {
    let path = databaseUrl.slice('sqlite:'.length);
    // URL form with an empty authority: sqlite:///var/lib/x.db → /var/lib/x.db.
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new Error(`TESSERA_DATABASE_URL: sqlite: needs a path; supported: ${SUPPORTED}`);
    if (path === ':memory:') return createSqliteStores({ path });
    const file = resolve(path);
    mkdirSync(dirname(file), { recursive: true });
    return createSqliteStores({ path: file });
  }
  // Only the scheme goes in the message: the rest of a URL may carry a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(databaseUrl)?.[0] ?? '(none)';
  throw new Error(`TESSERA_DATABASE_URL: unsupported scheme ${scheme}; this version of Tessera supports ${SUPPORTED}`);
}
