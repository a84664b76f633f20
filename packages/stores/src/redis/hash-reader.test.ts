import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy } from '../../../../e2e/lib/tcp-proxy.js';
import { isStoreUnavailable } from '../errors.js';
import { openHashReader, parseReply } from './hash-reader.js';
import { clusterUnavailable as serverUnavailable, startRedis, type TestRedis } from './test-cluster.js';
import { describeIfAvailable, freePort } from './test-redis.js';

const FIELDS = ['userId', 'kind', 'missing', 'profile'];
const PASSWORD = `pw-${randomUUID()}`;

/** Polls `check` until it holds (the reader connects and reconnects in the background). */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('parseReply', () => {
  const buf = (s: string) => Buffer.from(s, 'utf8');

  it('reads every RESP2 type, and says INCOMPLETE for every cut short of a whole reply', () => {
    const replies = '*4\r\n$6\r\nuser-1\r\n$-1\r\n$10\r\nnaïve ☃\r\n*2\r\n:42\r\n+OK\r\n';
    const whole = buf(replies);
    const expected = ['user-1', null, 'naïve ☃', [42, 'OK']];
    // Byte length 10: "naïve ☃" is 7 characters, 10 bytes of UTF-8.
    expect(parseReply(whole, 0)).toEqual([expected, whole.length]);
    for (let cut = 0; cut < whole.length; cut++) {
      expect(parseReply(whole.subarray(0, cut), 0), `cut at ${cut}`).toBe(parseReply(Buffer.alloc(0), 0));
    }
  });

  it('an error reply is an Error named as the driver names it, for isStoreUnavailable', () => {
    const [reply, next] = parseReply(buf('-LOADING Redis is loading the dataset in memory\r\n$1\r\nx\r\n'), 0) as [Error, number];
    expect(reply).toBeInstanceOf(Error);
    expect(reply.name).toBe('ReplyError');
    expect(isStoreUnavailable(reply)).toBe(true);
    expect(parseReply(buf('-LOADING Redis is loading the dataset in memory\r\n$1\r\nx\r\n'), next)).toEqual(['x', next + 7]);
  });

  it('refuses what is not RESP2 instead of waiting for more', () => {
    expect(() => parseReply(buf('?what\r\n'), 0)).toThrow(/unexpected reply type/);
    expect(() => parseReply(buf('$-5\r\n'), 0)).toThrow(/bad bulk length/);
    expect(() => parseReply(buf('*x\r\n'), 0)).toThrow(/bad array length/);
  });
});

describeIfAvailable('openHashReader (a redis-server of its own)', serverUnavailable(), () => {
  let server: TestRedis;
  let admin: Redis;
  let url: string;
  const clients: { quit(): Promise<unknown> }[] = [];
  /** A driver connection to the same server, as `openStores` passes: the reader's fallback. */
  const driver = (): Redis => {
    const r = new Redis({ port: server.port, password: PASSWORD, db: 3, maxRetriesPerRequest: 1 });
    r.on('error', () => {});
    clients.push(r);
    return r;
  };
  const open = (options: Partial<Parameters<typeof openHashReader>[1]> = {}, at = url) => {
    const reader = openHashReader(at, { fallback: driver(), ...options });
    clients.push(reader);
    return reader;
  };
  const readerConnections = async (): Promise<string[]> =>
    String(await admin.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes('name=tessera-session-reads'));

  beforeAll(async () => {
    server = await startRedis(['--requirepass', PASSWORD, '--enable-debug-command', 'yes']);
    url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}/3`;
    admin = new Redis({ port: server.port, password: PASSWORD, db: 3 });
    for (let i = 0; i < 50; i++)
      await admin.hset(`h:${i}`, 'userId', `user-${i}`, 'kind', 'cookie', 'profile', JSON.stringify({ name: `Zoë ${i}` }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
    admin?.disconnect();
    await server?.stop();
  });

  it('authenticates, selects the database from the URL, and answers each read with its own values', async () => {
    const reader = open();
    await eventually(() => reader.connected, 'the reader connects');
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => reader.hmget(`h:${i}`, FIELDS)));
    replies.forEach((reply, i) => {
      expect(reply).toEqual([`user-${i}`, 'cookie', null, JSON.stringify({ name: `Zoë ${i}` })]);
    });
    expect(await reader.hmget('no-such-key', FIELDS)).toEqual([null, null, null, null]);
    // Database 3 holds the hashes; database 0 does not.
    const inDb0 = open({}, `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}`);
    await eventually(() => inDb0.connected, 'the db-0 reader connects');
    expect(await inDb0.hmget('h:1', FIELDS)).toEqual([null, null, null, null]);
    expect(await readerConnections()).toHaveLength(2);
  });

  it('an error reply fails that read only; the reads around it are answered', async () => {
    const reader = open();
    await eventually(() => reader.connected, 'the reader connects');
    await admin.set('a-string', 'not a hash');
    const [before, wrong, after] = await Promise.allSettled([
      reader.hmget('h:1', FIELDS),
      reader.hmget('a-string', FIELDS),
      reader.hmget('h:2', FIELDS),
    ]);
    expect(before).toEqual({ status: 'fulfilled', value: ['user-1', 'cookie', null, JSON.stringify({ name: 'Zoë 1' })] });
    expect(wrong.status).toBe('rejected');
    expect(String((wrong as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(isStoreUnavailable((wrong as PromiseRejectedResult).reason)).toBe(false);
    expect(after).toEqual({ status: 'fulfilled', value: ['user-2', 'cookie', null, JSON.stringify({ name: 'Zoë 2' })] });
    expect(reader.connected).toBe(true);
  });

  it('a wrong password: never connected, every read answered through the fallback, the password in no error', async () => {
    const errors: Error[] = [];
    const reader = open({ onError: (err) => errors.push(err) }, `redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}/3`);
    await eventually(() => errors.length > 0, 'the handshake fails');
    expect(reader.connected).toBe(false);
    expect(String(errors[0])).toMatch(/WRONGPASS|invalid password/i);
    for (const err of errors) expect(`${err.message} ${err.stack}`).not.toContain(PASSWORD);
    expect(await reader.hmget('h:7', FIELDS)).toEqual(['user-7', 'cookie', null, JSON.stringify({ name: 'Zoë 7' })]);
  });

  it('nothing listening: reads go to the fallback, and the reader connects once a server is there', async () => {
    const port = await freePort();
    const errors: Error[] = [];
    const reader = open({ onError: (err) => errors.push(err), connectTimeoutMs: 300 }, `redis://127.0.0.1:${port}`);
    await eventually(() => errors.length > 2, 'the connection is refused, and refused again');
    expect(reader.connected).toBe(false);
    expect(await reader.hmget('h:3', FIELDS)).toEqual(['user-3', 'cookie', null, JSON.stringify({ name: 'Zoë 3' })]);
    const late = await startRedis([], { port }).catch(() => null);
    // The port can be taken in between; then there is nothing more to show.
    if (!late) return;
    try {
      await eventually(() => reader.connected, 'the reader connects to the server that came up');
      const refused = errors.length;
      // Past the connect timeout of every refused attempt: none of them ends this connection.
      await new Promise((r) => setTimeout(r, 600));
      expect(reader.connected).toBe(true);
      expect(errors.slice(refused)).toEqual([]);
      expect(await reader.hmget('h:3', FIELDS)).toEqual([null, null, null, null]);
    } finally {
      await reader.quit();
      await late.stop();
    }
  });

  it('its connection cut: reads in flight are answered through the fallback, and it reconnects unaided', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const fallback = driver();
      const fallbackReads: string[] = [];
      const reader = open(
        {
          fallback: {
            hmget(key, ...fields) {
              fallbackReads.push(key);
              return fallback.hmget(key, ...fields);
            },
          },
        },
        `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${proxy.port}/3`,
      );
      await eventually(() => reader.connected, 'the reader connects');
      // The server sleeps: the reads below reach it and wait, unanswered, when the proxy drops
      // the reader's connection.
      const asleep = admin.call('DEBUG', 'SLEEP', '0.5');
      await new Promise((r) => setTimeout(r, 50));
      const inFlight = Array.from({ length: 20 }, (_, i) => reader.hmget(`h:${i}`, FIELDS));
      await new Promise((r) => setTimeout(r, 50));
      proxy.cut();
      const replies = await Promise.all(inFlight);
      await asleep;
      expect(replies.map((reply) => reply[0])).toEqual(Array.from({ length: 20 }, (_, i) => `user-${i}`));
      expect(fallbackReads).toEqual(Array.from({ length: 20 }, (_, i) => `h:${i}`));
      proxy.restore();
      await eventually(() => reader.connected, 'the reader reconnects');
      fallbackReads.length = 0;
      expect((await reader.hmget('h:9', FIELDS))[0]).toBe('user-9');
      expect(fallbackReads).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a server that stops answering: reads fail as unavailable after the command timeout, not never', async () => {
    const reader = open({ commandTimeoutMs: 200 });
    await eventually(() => reader.connected, 'the reader connects');
    // Asleep far longer than the reader's timeout: without it, the read would be answered (not
    // failed) when the server wakes.
    const asleep = admin.call('DEBUG', 'SLEEP', '2');
    await new Promise((r) => setTimeout(r, 50));
    const read = reader.hmget('h:1', FIELDS).then(
      () => null,
      (err: unknown) => err,
    );
    // Sent well after the first: when the first times out this one has not waited its timeout
    // yet, and is sent again through the fallback (which waits for the server to wake).
    await new Promise((r) => setTimeout(r, 150));
    const younger = reader.hmget('h:2', FIELDS);
    const outcome = await read;
    expect(isStoreUnavailable(outcome)).toBe(true);
    expect(String(outcome)).toMatch(/did not answer within 200 ms/);
    expect((await younger)[0]).toBe('user-2');
    await asleep;
    await eventually(() => reader.connected, 'the reader reconnects');
    expect((await reader.hmget('h:4', FIELDS))[0]).toBe('user-4');
  });

  it('quit answers the reads already asked for, then later reads go to the fallback', async () => {
    const reader = open();
    await eventually(() => reader.connected, 'the reader connects');
    const asked = Array.from({ length: 10 }, (_, i) => reader.hmget(`h:${i}`, FIELDS));
    // A second call waits for the same close.
    await Promise.all([reader.quit(), reader.quit()]);
    expect((await Promise.all(asked)).map((r) => r[0])).toEqual(Array.from({ length: 10 }, (_, i) => `user-${i}`));
    expect(reader.connected).toBe(false);
    expect((await reader.hmget('h:5', FIELDS))[0]).toBe('user-5');
  });
});
