import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `value` as JSON to `file`, creating its directory, so that a reader sees either the
 * previous file or the new one whole, never half of one: the text goes to a temporary file in the
 * same directory, which is then renamed over `file` (atomic within one file system).
 *
 * The temporary name is unique per call (process id and random bytes), so two writers, in this
 * process or another one sharing the file, never write into each other's temporary file.
 *
 * There is no fsync: after a power loss the file may come back empty or torn, which
 * {@link readJsonObject} reads as absent, and a cache that is absent costs a refetch, nothing more.
 * The file gets the default mode (0o666 less the umask), like any file the service writes.
 *
 * Synchronous, so that a sync `close()` can write what is due before the process exits. The
 * files are small (a key set, a bounded list of rules) and written seldom: once per JWKS fetch,
 * at most once a second for the revocation rules.
 *
 * Throws what the file system throws; the temporary file is removed then.
 */
export function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or already renamed: nothing to clean.
    }
    throw err;
  }
}

/**
 * Reads `file` as a JSON object. A file that is missing, unreadable, not JSON, or JSON but not an
 * object (null, a number, an array) gives `undefined`: a cache that cannot be read is no error,
 * only nothing to start from. The members are not checked: callers check each one they use,
 * since the file may have been written by another version or be damaged.
 */
export function readJsonObject(file: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
