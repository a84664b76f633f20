/**
 * `@tessera/server`'s main entry, loaded on use: the server and its drivers take a moment to
 * load, and `--help` or `token decode` need none of it.
 */
export type ServerEntry = typeof import('@tessera/server');

/** Loads `@tessera/server`. */
export function loadServer(): Promise<ServerEntry> {
  return import('@tessera/server');
}
