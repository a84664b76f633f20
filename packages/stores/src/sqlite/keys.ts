import type { Database } from 'better-sqlite3';
import type { KeyStore, StoredKey } from '../types.js';

interface KeyRow {
  kid: string;
  alg: string;
  state: StoredKey['state'];
  private_jwk: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

const toKey = (r: KeyRow): StoredKey => ({
  kid: r.kid,
  alg: r.alg,
  state: r.state,
  privateJwk: r.private_jwk,
  createdAt: r.created_at,
  activatedAt: r.activated_at,
  retiredAt: r.retired_at,
});

/**
 * SQLite {@link KeyStore}. "At most one next, one current" is the partial unique index
 * `signing_keys_one_per_live_state`; the statements here only have to respect it.
 */
export function createSqliteKeyStore(db: Database): KeyStore {
  const list = db.prepare<[], KeyRow>('SELECT * FROM signing_keys ORDER BY created_at, kid');
  // The conflict target names the partial index, so a second next/current is skipped
  // (changes = 0 → false) while a duplicate kid still throws: that one is a bug, not a race.
  const insert = db.prepare<[KeyRow]>(
    `INSERT INTO signing_keys (kid, alg, state, private_jwk, created_at, activated_at, retired_at)
     VALUES (@kid, @alg, @state, @private_jwk, @created_at, @activated_at, @retired_at)
     ON CONFLICT (state) WHERE state IN ('next', 'current') DO NOTHING`,
  );
  const stateOf = db.prepare<[string], { state: StoredKey['state'] }>('SELECT state FROM signing_keys WHERE kid = ?');
  const retireCurrent = db.prepare<[number]>("UPDATE signing_keys SET state = 'retired', retired_at = ? WHERE state = 'current'");
  const activate = db.prepare<[number, string]>(
    "UPDATE signing_keys SET state = 'current', activated_at = ? WHERE kid = ? AND state = 'next'",
  );
  const deleteRetired = db.prepare<[string]>("DELETE FROM signing_keys WHERE kid = ? AND state = 'retired'");

  // Check, retire, activate under one write lock: a node that lost the race sees the key is no
  // longer 'next' and changes nothing. Retiring first keeps the unique index satisfied.
  const promote = db.transaction((nextKid: string, now: number): boolean => {
    if (stateOf.get(nextKid)?.state !== 'next') return false;
    retireCurrent.run(now);
    activate.run(now, nextKid);
    return true;
  });

  return {
    async list() {
      return list.all().map(toKey);
    },

    async insert(key) {
      const row: KeyRow = {
        kid: key.kid,
        alg: key.alg,
        state: key.state,
        private_jwk: key.privateJwk,
        created_at: key.createdAt,
        activated_at: key.activatedAt,
        retired_at: key.retiredAt,
      };
      return insert.run(row).changes === 1;
    },

    async promote(nextKid, now) {
      return promote.immediate(nextKid, now);
    },

    async deleteRetired(kid) {
      return deleteRetired.run(kid).changes === 1;
    },
  };
}
