import { describe, expect, it } from 'vitest';
import { createTurnBatcher } from './turn-batch.js';

/** A table standing in for a database: `load` reads it when called, and records each call. */
function table(rows: Record<string, number>) {
  const calls: string[][] = [];
  const load = async (keys: string[]) => {
    calls.push(keys);
    return new Map(keys.filter((k) => k in rows).map((k) => [k, rows[k] as number]));
  };
  return { rows, calls, load };
}

const answer = (found: Map<string, number>, key: string) => (found.has(key) ? { key, value: found.get(key) } : null);

describe('turn batching', () => {
  it('the lookups of one turn make one load, each distinct key once; each caller gets an answer of its own', async () => {
    const t = table({ a: 1, b: 2 });
    const lookup = createTurnBatcher(t.load, answer);
    const found = await Promise.all(['a', 'b', 'a', 'missing'].map(lookup));
    expect(t.calls).toEqual([['a', 'b', 'missing']]);
    expect(found).toEqual([{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'a', value: 1 }, null]);
    // Asked for twice, answered twice: one caller changing its answer cannot change the other's.
    expect(found[0]).not.toBe(found[2]);
  });

  it('nothing is cached: the load runs after the calls, and every turn loads again', async () => {
    const t = table({ a: 1 });
    const lookup = createTurnBatcher(t.load, answer);
    const pending = lookup('a');
    // A write made after the lookup was asked for, but in the same turn, is read by it.
    t.rows.a = 2;
    expect(await pending).toEqual({ key: 'a', value: 2 });
    t.rows.a = 3;
    expect(await lookup('a')).toEqual({ key: 'a', value: 3 });
    expect(t.calls).toEqual([['a'], ['a']]);
  });

  it('a load that fails rejects every caller of its batch with that very error', async () => {
    // An outage: the error must reach each caller unchanged so isStoreUnavailable still knows it.
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const rejecting = createTurnBatcher(async () => Promise.reject(outage), answer);
    const throwing = createTurnBatcher((): Promise<Map<string, number>> => {
      throw outage;
    }, answer);
    for (const lookup of [rejecting, throwing]) {
      const results = await Promise.allSettled(['a', 'b', 'a'].map(lookup));
      expect(results).toEqual([0, 1, 2].map(() => ({ status: 'rejected', reason: outage })));
      for (const r of results) expect((r as PromiseRejectedResult).reason).toBe(outage);
    }
  });

  it('an answer that cannot be made fails only its own caller', async () => {
    const t = table({ a: 1, bad: 2, b: 3 });
    const lookup = createTurnBatcher(t.load, (found, key) => {
      if (key === 'bad') throw new Error('malformed row');
      return found.get(key);
    });
    const results = await Promise.allSettled(['a', 'bad', 'b'].map(lookup));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[2]).toEqual({ status: 'fulfilled', value: 3 });
    expect(t.calls).toHaveLength(1);
  });

  it('a batch larger than maxBatch is split into loads made together', async () => {
    const t = table({ a: 1, b: 2, c: 3, d: 4, e: 5 });
    const lookup = createTurnBatcher(t.load, (found, key) => found.get(key), { maxBatch: 2 });
    expect(await Promise.all(['a', 'b', 'c', 'd', 'e'].map(lookup))).toEqual([1, 2, 3, 4, 5]);
    expect(t.calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(() => createTurnBatcher(t.load, answer, { maxBatch: 0 })).toThrow('maxBatch');
  });

  it('holds once per batch until it is handed to load; a hold that throws fails that lookup alone', async () => {
    const events: string[] = [];
    let closed = false;
    let finish: (() => void) | undefined;
    const lookup = createTurnBatcher(
      async (keys) => {
        events.push(`load ${keys.join(',')}`);
        await new Promise<void>((resolve) => (finish = resolve));
        return new Map(keys.map((k) => [k, k]));
      },
      (found, key) => found.get(key),
      {
        hold() {
          if (closed) throw new Error('closed');
          events.push('hold');
          return () => events.push('release');
        },
      },
    );
    const pending = Promise.all([lookup('a'), lookup('b')]);
    expect(events).toEqual(['hold']);
    while (!finish) await new Promise((r) => setImmediate(r));
    // Released once the load has started (a pool then tracks its query), not when it ends.
    expect(events).toEqual(['hold', 'load a,b', 'release']);
    finish();
    expect(await pending).toEqual(['a', 'b']);
    closed = true;
    await expect(lookup('c')).rejects.toThrow('closed');
    expect(events).toHaveLength(3);
  });
});
