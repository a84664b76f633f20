import type { Issuer, RevocationList, Verifier } from '@tessera/core';
import type { Stores } from '@tessera/stores';
import type { Config } from './config.js';
import type { KeyManager } from './lib/key-manager.js';
import type { Metrics } from './lib/metrics.js';
import type { RevocationBus } from './lib/revocation-bus.js';
import type { ServerSecrets } from './lib/secrets.js';
import type { StoreHealth } from './lib/store-health.js';
import type { LoginThrottle } from './lib/throttle.js';

/** Everything the routes share, decorated on the Fastify instance as `app.tessera`. */
export interface Tessera {
  config: Config;
  stores: Stores;
  /** Milliseconds since the epoch; injectable so tests freeze time. */
  clock: () => number;
  secrets: ServerSecrets;
  keys: KeyManager;
  issuer: Issuer;
  verifier: Verifier;
  /** Revocations this node honours at once (its own, plus other nodes' from the store). */
  revocations: RevocationList;
  throttle: LoginThrottle;
  metrics: Metrics;
  /** Hash verified against when a login names an unknown user, so both cost the same. */
  dummyHash: string;
  /** Publishes revocations to SSE subscribers and Redis. */
  bus: RevocationBus;
  /** Leeway verifiers allow, seconds; revocation events outlive tokens by this much. */
  leeway: number;
  /** Store outages requests have seen: readiness fails with them, and the log says so once. */
  storeHealth: StoreHealth;
}

declare module 'fastify' {
  interface FastifyInstance {
    tessera: Tessera;
  }
}
