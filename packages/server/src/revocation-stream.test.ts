import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RevocationEvent } from '@tessera/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { FEED_ENV, feedAuth } from './test-helpers.js';

const BACKLOG = 12_000;

/** Revocation events as the store takes them, each for its own session. */
function events(n: number, tag: string): Omit<RevocationEvent, 'cursor'>[] {
  return Array.from({ length: n }, (_, i) => ({
    sid: `${tag}-${i}`,
    sub: null,
    notBefore: 1_900_000_000,
    until: 1_900_000_900,
    reason: 'logout',
  }));
}

/** Opens the stream with the feed's credentials; resolves on the answer's headers. */
function openStream(port: number, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/v1/revocations/stream', headers: { ...feedAuth(), ...headers } }, resolve).on('error', reject);
  });
}

/** `GET /healthz` on a connection of its own: its status, and when the answer ended. */
function healthz(port: number): Promise<{ status: number; at: number }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, at: performance.now() }));
    }).on('error', reject);
  });
}

/** The `id:` lines of complete events in an SSE text, in order. */
const ids = (text: string) => [...text.matchAll(/^id: (\d+)\nevent: revocation\ndata: .*\n\n/gm)].map((m) => m[1] as string);

// What an adversarial probe broke, item 4: the whole backlog was written at once, and a stream
// with more than 1 MiB queued was destroyed, so past ~7 000 retained events no stream delivered
// anything; each attempt also held the event loop for the whole replay.
describe('GET /v1/revocations/stream: replaying a long backlog', () => {
  let t: TestApp;
  let port: number;
  let backlog: RevocationEvent[];
  beforeAll(async () => {
    t = await createTestApp(FEED_ENV);
    backlog = await t.stores.revocations.appendAll(events(BACKLOG, 'old'));
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.app.close();
  });

  it('a 12 000-event backlog reaches a plain SSE client reading slowly, completely and in order; events published during the replay arrive once', async () => {
    const res = await openStream(port);
    expect(res.statusCode).toBe(200);
    res.setEncoding('utf8');
    let text = '';
    let publishing = false;
    let published: RevocationEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      res.on('error', reject);
      res.on('close', () => reject(new Error(`stream closed after ${ids(text).length} events`)));
      res.on('data', (chunk: string) => {
        text += chunk;
        // A slow reader: a pause after every chunk, so the server always has more to send than it can.
        res.pause();
        setTimeout(() => res.resume(), 2);
        if (!publishing && ids(text).length > 0) {
          // Mid-replay: three logouts, stored then published, as the server does them.
          publishing = true;
          void t.stores.revocations.appendAll(events(3, 'live')).then((written) => {
            published = written;
            for (const e of written) t.app.tessera.bus.publish(e);
          });
        }
        const last = published.at(-1);
        if (last && text.includes(`id: ${last.cursor}\n`) && text.endsWith('\n\n')) resolve();
      });
    });
    res.destroy();
    const received = ids(text);
    expect(received).toEqual([...backlog, ...published].map((e) => e.cursor));
    expect(new Set(received).size).toBe(BACKLOG + 3);
  });

  it('a reader cut off mid-replay resumes with Last-Event-ID after the last whole event it read: no gap, no repeat', async () => {
    const all = (await t.stores.revocations.since(null, 100_000)).map((e) => e.cursor);
    const readUntil = async (headers: Record<string, string>, stop: (text: string) => boolean) => {
      const res = await openStream(port, headers);
      res.setEncoding('utf8');
      let text = '';
      await new Promise<void>((resolve) => {
        res.on('data', (chunk: string) => {
          text += chunk;
          if (stop(text)) resolve();
        });
        res.on('close', () => resolve());
      });
      res.destroy();
      return ids(text);
    };
    // Cut while the second page is still arriving: the tail of the text is part of an event.
    const first = await readUntil({}, (text) => text.length > 100_000);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(all.length);
    const rest = await readUntil(
      { 'last-event-id': first.at(-1) as string },
      (text) => text.includes(`id: ${all.at(-1)}\n`) && text.endsWith('\n\n'),
    );
    expect([...first, ...rest]).toEqual(all);
  });

  it('while 100 stream connects replay it, /healthz keeps being answered, not after the whole replay', async () => {
    const lastCursor = (await t.stores.revocations.since(null, 100_000)).at(-1)?.cursor as string;
    const replays = await Promise.all(Array.from({ length: 100 }, () => openStream(port)));
    const finished: number[] = [];
    const done = replays.map(
      (res) =>
        new Promise<void>((resolve, reject) => {
          let tail = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            // Only the end of the text matters: the last event's id.
            tail = (tail + chunk).slice(-4096);
            if (tail.includes(`id: ${lastCursor}\n`)) {
              finished.push(performance.now());
              res.destroy();
              resolve();
            }
          });
          res.on('close', () => reject(new Error('a replay ended early')));
          res.on('error', reject);
        }),
    );
    // Health checks sent back to back while the replays run, the first once every stream has answered.
    const answered: { status: number; at: number }[] = [];
    let replaying = true;
    const checks = (async () => {
      while (replaying) answered.push(await healthz(port));
    })();
    await Promise.all(done);
    replaying = false;
    await checks;
    expect(finished).toHaveLength(100);
    expect(answered.length).toBeGreaterThan(1);
    expect(answered.every((a) => a.status === 200)).toBe(true);
    // The first health check was answered while replays were still running.
    expect((answered[0] as { at: number }).at).toBeLessThan(Math.max(...finished));
    const during = answered.filter((a) => a.at < Math.max(...finished)).length;
    console.log(`100 replays of ${BACKLOG} events: ${during} of ${answered.length} /healthz answered before the last replay finished`);
  }, 120_000);
});
