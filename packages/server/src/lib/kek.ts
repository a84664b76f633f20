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
 * (created with mode 0600 on first start, for development); otherwise, for in-memory
 * stores, a fresh random key (nothing outlives the process anyway).
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
  mkdirSync(dataDir, { recursive: true });
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
