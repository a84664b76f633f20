import type { RevocationList } from '@tessera/core';
import type { Stores } from '@tessera/stores';

/** What {@link cleanUp} deletes from. */
export interface CleanUpDeps {
  stores: Pick<Stores, 'sessions' | 'refreshTokens' | 'revocations'>;
  /** Milliseconds since the epoch. */
  clock: () => number;
  revocations: Pick<RevocationList, 'prune'>;
}

/** Deletes what can no longer matter: expired sessions and refresh tokens, events past their `until`. */
export async function cleanUp(deps: CleanUpDeps): Promise<void> {
  const now = deps.clock();
  await deps.stores.sessions.deleteExpired(now);
  await deps.stores.refreshTokens.deleteExpired(now);
  await deps.stores.revocations.deleteExpired(Math.floor(now / 1000));
  deps.revocations.prune(Math.floor(now / 1000));
}
