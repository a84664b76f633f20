import { AdminError } from './errors.js';
import type { Admin, KeyView } from './types.js';

/** The usage line of {@link keysCommand}. */
export const KEYS_USAGE = 'usage: tessera-server keys list|rotate|export|export-secret';

/**
 * `tessera-server keys list|rotate|export|export-secret`: key administration against the store
 * the server uses, printed a line at a time. `export` prints the public JWK set; `export-secret`
 * the HS256 secrets as a JWK set (the only way a service verifies HS256 tokens). Returns the exit
 * code: 0, 1 when there is nothing to export, 2 for a usage error.
 */
export async function keysCommand(args: readonly string[], admin: Pick<Admin, 'keys'>, out: (line: string) => void): Promise<number> {
  const print = (keys: KeyView[]) => {
    for (const k of keys) out(`${k.kid}\t${k.alg}\t${k.state}\tcreated ${k.createdAt}`);
  };
  switch (args[0]) {
    case 'list':
      print(await admin.keys.list());
      return 0;
    case 'rotate':
      print(await admin.keys.rotate());
      return 0;
    case 'export':
      out(JSON.stringify(await admin.keys.exportPublic()));
      return 0;
    case 'export-secret':
      try {
        out(JSON.stringify(await admin.keys.exportSecret()));
        return 0;
      } catch (err) {
        if (!(err instanceof AdminError) || err.code !== 'no_shared_secret') throw err;
        out(err.message);
        return 1;
      }
    default:
      out(KEYS_USAGE);
      return 2;
  }
}
