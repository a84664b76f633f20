import type { Buffer } from 'node:buffer';
import type { Stores } from '@tessera/stores';
import type { Config } from '../config.js';
import type { RevokeDeps } from '../lib/revoke.js';

/**
 * What administrative calls take: the server's configuration and stores, the KEK (keys), and
 * what revoking sessions takes, as the server itself revokes them (events first, then marks).
 */
export interface AdminDeps extends RevokeDeps {
  config: Config;
  stores: Stores;
  kek: Buffer;
}
