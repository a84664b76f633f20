import type { KeyStore, StoredKey } from '../types.js';
import type { PgPoolLike } from './driver.js';
import { changed, num, numOrNull, transaction } from './sql.js';

interface KeyRow {
  kid: string;
  alg: string;
  state: StoredKey['state'];
  private_jwk: string;
  created_at: string;
  activated_at: string | null;
  retired_at: string | null;
}

const toKey = (r: KeyRow): StoredKey => ({
  kid: r.kid,
  alg: r.alg,
  state: r.state,
  privateJwk: r.private_jwk,
  createdAt: num(r.created_at),
  activatedAt: numOrNull(r.activated_at),
  retiredAt: numOrNull(r.retired_at),
});

/**
 * PostgreSQL {@link KeyStore}. "At most one next, one current" is the partial unique index
 * `signing_keys_one_per_live_state`; the statements here only have to respect it.
 */
export function createPostgresKeyStore(pool: PgPoolLike, s: string): KeyStore {
  const list = `SELECT * FROM ${s}.signing_keys ORDER BY created_at, kid`;
  // The conflict target names the partial index, so a second next/current is skipped (no row →
  // false), even when the first is not committed yet: the insert waits for that transaction and
  // then skips or goes ahead. A duplicate kid still throws: that one is a bug, not a race.
  const insert = `INSERT INTO ${s}.signing_keys (kid, alg, state, private_jwk, created_at, activated_at, retired_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (state) WHERE state IN ('next', 'current') DO NOTHING`;
  const lockState = `SELECT state FROM ${s}.signing_keys WHERE kid = $1 FOR UPDATE`;
  const retireCurrent = `UPDATE ${s}.signing_keys SET state = 'retired', retired_at = $1 WHERE state = 'current'`;
  const activate = `UPDATE ${s}.signing_keys SET state = 'current', activated_at = $1 WHERE kid = $2`;
  const deleteRetired = `DELETE FROM ${s}.signing_keys WHERE kid = $1 AND state = 'retired'`;

  return {
    async list() {
      return (await pool.query<KeyRow>(list)).rows.map(toKey);
    },

    async insert(key) {
      const result = await pool.query(insert, [key.kid, key.alg, key.state, key.privateJwk, key.createdAt, key.activatedAt, key.retiredAt]);
      return changed(result) === 1;
    },

    // One transaction. The row lock on the next key makes a second node wait, then read the key's
    // committed state ('current' by then) and change nothing. Two statements, retire then
    // activate, because a unique index is checked row by row: activating first would collide
    // with the current key.
    async promote(nextKid, now) {
      return transaction(pool, async (db) => {
        const { rows } = await db.query<{ state: StoredKey['state'] }>(lockState, [nextKid]);
        if (rows[0]?.state !== 'next') return false;
        await db.query(retireCurrent, [now]);
        await db.query(activate, [now, nextKid]);
        return true;
      });
    },

    async deleteRetired(kid) {
      return changed(await pool.query(deleteRetired, [kid])) === 1;
    },
  };
}
