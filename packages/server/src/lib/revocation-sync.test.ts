import { RevocationList } from '@tessera/core';
import { createMemoryStores, type Stores } from '@tessera/stores';
import { beforeEach, describe, expect, it } from 'vitest';
import { RevocationBus, type WireEvent } from './revocation-bus.js';
import { parseWireEvent, RevocationSync } from './revocation-sync.js';
import { recordSessionRevocation } from './revoke.js';

const NOW = 1_700_000_000_000;
const clock = () => NOW;
const event = (sid: string) => ({ sid, sub: null, notBefore: NOW / 1000, until: NOW / 1000 + 600, reason: 'logout' });

/** A node's bus whose Redis publisher records what it was given. */
function node() {
  const published: WireEvent[] = [];
  const bus = new RevocationBus({
    redis: {
      publish: async (_channel, message) => published.push(JSON.parse(message) as WireEvent),
      quit: async () => 'OK',
    },
  });
  const delivered: WireEvent[] = [];
  bus.subscribe((e) => delivered.push(e));
  const revocations = new RevocationList();
  return { bus, published, delivered, revocations };
}

const log = { info: () => undefined, warn: () => undefined };

describe('RevocationSync', () => {
  let stores: Stores;
  beforeEach(() => {
    stores = createMemoryStores();
  });

  it('relays what another node wrote to its SSE subscribers, and does not publish it to Redis again', async () => {
    const here = node();
    const sync = await RevocationSync.start({ deps: { stores, clock, ...here }, databaseUrl: 'memory:', log, listen: false });
    const written = await stores.revocations.append(event('s1'));
    await sync.catchUp();
    expect(here.delivered.map((e) => e.cursor)).toEqual([written.cursor]);
    expect(here.published).toEqual([]);
    expect(here.revocations.isRevoked({ sid: 's1', iat: NOW / 1000 - 1 } as never)).toBe(true);
    expect(sync.cursor).toBe(written.cursor);
    await sync.close();
  });

  // The writer hears its own append (LISTEN) and may relay it before it publishes it: Redis
  // must still get it, once, and its SSE subscribers must not get it twice.
  it('a node that relayed its own event before publishing it still publishes it to Redis, once', async () => {
    const here = node();
    const sync = await RevocationSync.start({ deps: { stores, clock, ...here }, databaseUrl: 'memory:', log, listen: false });
    const metrics = { revocations: { inc: () => undefined } };
    const deps = { stores, clock, ...here, metrics, config: { accessTokenTtl: 600 }, leeway: 5 } as never;
    const appended = stores.revocations.append.bind(stores.revocations);
    stores.revocations.append = async (e) => {
      const stored = await appended(e);
      await sync.catchUp();
      return stored;
    };
    const stored = await recordSessionRevocation(deps, 's2', 'logout');
    expect(here.delivered.map((e) => e.cursor)).toEqual([stored.cursor]);
    expect(here.published.map((e) => e.cursor)).toEqual([stored.cursor]);
    await sync.catchUp();
    expect(here.published).toHaveLength(1);
    await sync.close();
  });

  it('runs one catch-up at a time; one asked for meanwhile follows it', async () => {
    const here = node();
    const sync = await RevocationSync.start({ deps: { stores, clock, ...here }, databaseUrl: 'memory:', log, listen: false });
    let reads = 0;
    let inFlight = 0;
    let most = 0;
    const since = stores.revocations.since.bind(stores.revocations);
    stores.revocations.since = async (cursor, limit) => {
      reads += 1;
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return since(cursor, limit);
    };
    await Promise.all([sync.catchUp(), sync.catchUp(), sync.catchUp()]);
    expect(most).toBe(1);
    expect(reads).toBe(2);
    await sync.close();
  });
});

describe('parseWireEvent', () => {
  it('accepts an event as nodes publish it', () => {
    const wire = { cursor: '12', sid: 's', sub: null, not_before: 1, until: 2, at: 3 };
    expect(parseWireEvent(JSON.stringify(wire))).toEqual(wire);
  });

  it.each([
    ['not JSON', '{'],
    ['no cursor', JSON.stringify({ sid: 's', sub: null, not_before: 1, until: 2 })],
    ['a cursor that is no sequence number', JSON.stringify({ cursor: 'x', sid: 's', sub: null, not_before: 1, until: 2 })],
    ['neither sid nor sub', JSON.stringify({ cursor: '1', sid: null, sub: null, not_before: 1, until: 2 })],
    ['a time that is not a number', JSON.stringify({ cursor: '1', sid: 's', sub: null, not_before: '1', until: 2 })],
  ])('refuses %s', (_what, message) => {
    expect(parseWireEvent(message)).toBeNull();
  });
});
