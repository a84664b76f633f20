import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The data directory a database URL implies (`sqlite:./data/x.db` → `./data`), or null for in-memory stores. */
export function dataDirOf(databaseUrl: string): string | null {
  if (!databaseUrl.startsWith('sqlite:')) return null;
  const path = databaseUrl.slice('sqlite:'.length);
  if (path === ':memory:' || path === '') return null;
  return dirname(resolve(path));
}

/**
 * The key-encryption key: `TESSERA_KEK` when set; otherwise the one kept in `<dataDir>/kek`
 * (created with mode 0600 on first start, for development, in a data directory created 0700);
 * otherwise, for in-memory stores, a fresh random key (nothing outlives the process anyway).
 */
export function loadKek(configured: string | undefined, dataDir: string | null): Buffer {
  if (configured) return Buffer.from(configured, 'base64url');
  if (!dataDir) return randomBytes(32);
  const file = join(dataDir, 'kek');
  try {
    const kek = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    if (kek.length !== 32) throw new Error(`${file} does not hold a 32-byte key; restore it or set TESSERA_KEK`);
    return kek;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // Owner only, like the database beside it: the key decrypts the signing keys and derives
  // every CSRF token. A directory that already exists keeps its mode: it may be one the
  // operator chose (even the working directory), not ours to change.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const kek = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(file, `${kek.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    return kek;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  }
}

/**
 * The key-encryption key does not open a stored signing key: it is not the key that sealed
 * it. The message says where a key comes from, never a key.
 */
export class KekMismatchError extends Error {
  constructor(readonly kid: string) {
    super(
      `the key-encryption key cannot decrypt stored signing key ${kid}: TESSERA_KEK (or the kek file in the data dir) is not the key that sealed it; every node sharing the database must use the same one`,
    );
    this.name = 'KekMismatchError';
  }
}

/**
 * What to tell the operator when {@link KekMismatchError} stops the start: the variable, and
 * which key was used in its place when it is unset (the kek file, or a random key).
 */
export function kekMismatchReason(configured: string | undefined, dataDir: string | null): { variable: string; why: string } {
  const variable = 'TESSERA_KEK';
  const share = 'every node sharing the database must use the same key';
  if (configured) return { variable, why: `cannot decrypt the signing keys in the store: it is not the key that sealed them; ${share}` };
  if (dataDir) {
    const file = join(dataDir, 'kek');
    return {
      variable,
      why: `not set, and the key in ${file} cannot decrypt the signing keys in the store; restore that file or set TESSERA_KEK to the key that sealed them (${share})`,
    };
  }
  return {
    variable,
    why: `not set, so a random key was used, which cannot decrypt the signing keys in the store; set TESSERA_KEK to the key that sealed them (${share})`,
  };
}
