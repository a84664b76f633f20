/**
 * `@tessera/server/admin`: administer users, roles, sessions and signing keys against the stores
 * a server uses, without editing the database. What the `tessera` command calls; every change
 * goes through the server's own domain code (sign-up policy, revocation events).
 *
 * @example
 * import { openAdmin } from '@tessera/server/admin';
 * const admin = await openAdmin({ env: process.env });
 * try {
 *   await admin.roles.grant('ada@example.com', 'admin');
 * } finally {
 *   await admin.close();
 * }
 */
import type { Buffer } from 'node:buffer';
import { DEFAULT_LEEWAY, RevocationList } from '@tessera/core';
import type { Stores } from '@tessera/stores';
import type { Cluster, Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { type Config, loadConfig } from '../config.js';
import { connectRedis } from '../lib/redis-client.js';
import { type RedisPublisher, RevocationBus } from '../lib/revocation-bus.js';
import { configuredKek, openConfiguredStores } from '../start.js';
import type { AdminDeps } from './context.js';
import { exportPublicKeys, exportSharedSecrets, listKeys, rotateKeys } from './keys.js';
import { grantRole, revokeRole, setRoles } from './roles.js';
import { listSessions, revokeAllSessions, revokeOneSession } from './sessions.js';
import type { Admin } from './types.js';
import { addUser, deleteUser, disableUser, enableUser, listUsers, showUser } from './users.js';

export { AdminError } from './errors.js';
export type { Admin, AdminErrorCode, KeyView, SessionView, UserView } from './types.js';

/** Where {@link openAdmin} finds the server's stores. */
export type AdminSource =
  /** The environment a server runs with: configuration loaded, stores opened, KEK read exactly as `tessera-server` does. */
  | { env: NodeJS.ProcessEnv }
  /** Stores already open (tests, or a program that runs a server too). They stay the caller's to close. */
  | { config: Config; stores: Stores; kek: Buffer; clock?: () => number };

/**
 * Opens the administration API.
 *
 * With `{ env }` it reads the configuration, opens the stores (applying pending migrations) and
 * reads the KEK as the server does, and {@link Admin.close} closes them. With `{ config, stores,
 * kek }` it uses those, and `close` leaves the stores open.
 *
 * Revocations are written to the store, where every node hears them (PostgreSQL `LISTEN/NOTIFY`,
 * or its poll), and published on the Redis channel when `TESSERA_REDIS_URL` is set, so verifiers
 * subscribed there hear them at once.
 *
 * @throws {ConfigError} a bad setting (the message names the variable: exit code 2)
 * @throws {StoreConfigError} a store URL that is wrong or unreachable (exit code 2)
 */
export async function openAdmin(source: AdminSource): Promise<Admin> {
  let config: Config;
  let stores: Stores;
  let kek: Buffer;
  let clock: () => number = Date.now;
  const owned = 'env' in source;
  if ('env' in source) {
    config = loadConfig(source.env);
    stores = await openConfiguredStores(config);
    try {
      kek = configuredKek(config);
    } catch (err) {
      await stores.close().catch(() => undefined);
      throw err;
    }
  } else {
    ({ config, stores, kek } = source);
    clock = source.clock ?? Date.now;
  }
  const bus = new RevocationBus({
    redis: config.redisUrl ? lazyPublisher(config.redisUrl) : null,
    channel: config.redisChannel,
  });
  const deps: AdminDeps = {
    config,
    stores,
    kek,
    clock,
    // This process honours nothing itself; the list only completes what revoking expects.
    revocations: new RevocationList(),
    bus,
    metrics: {
      revocations: new Counter({
        name: 'tessera_revocations_total',
        help: 'Sessions revoked, by reason',
        labelNames: ['reason'],
        registers: [],
      }),
    },
    leeway: DEFAULT_LEEWAY,
  };
  return {
    users: {
      add: (input) => addUser(deps, input),
      list: (page) => listUsers(deps, page),
      show: (emailOrId) => showUser(deps, emailOrId),
      disable: (emailOrId) => disableUser(deps, emailOrId),
      enable: (emailOrId) => enableUser(deps, emailOrId),
      delete: (emailOrId) => deleteUser(deps, emailOrId),
    },
    roles: {
      grant: (emailOrId, role) => grantRole(deps, emailOrId, role),
      revoke: (emailOrId, role) => revokeRole(deps, emailOrId, role),
      set: async (emailOrId, roles) => (await setRoles(deps, emailOrId, roles)).roles,
    },
    sessions: {
      list: (filter) => listSessions(deps, filter),
      revoke: (sessionId) => revokeOneSession(deps, sessionId),
      revokeUser: (emailOrId) => revokeAllSessions(deps, emailOrId),
    },
    keys: {
      list: () => listKeys(deps),
      rotate: () => rotateKeys(deps),
      exportPublic: () => exportPublicKeys(deps),
      exportSecret: () => exportSharedSecrets(deps),
    },
    async close() {
      await bus.close();
      if (owned) await stores.close();
    },
  };
}

/**
 * The revocation channel's publisher, connected on the first event: most administrative calls
 * revoke nothing and need no Redis connection. Its failures are left to the nodes, which publish
 * any event they find in the store and do not see on Redis.
 */
function lazyPublisher(url: string): RedisPublisher {
  let client: Redis | Cluster | null = null;
  return {
    publish(channel, message) {
      if (client === null) {
        client = connectRedis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
        client.on('error', () => undefined);
      }
      return client.publish(channel, message);
    },
    async quit() {
      await client?.quit();
    },
  };
}
