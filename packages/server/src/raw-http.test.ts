import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { FEED_ENV, feedAuth } from './test-helpers.js';

/**
 * Requests as bytes on a socket, for what `inject()` cannot send: malformed HTTP that Node's
 * parser refuses before any route runs, and requests without the headers every client adds.
 */
describe('raw HTTP', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(FEED_ENV);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.app.close();
  });

  /** Sends `raw`, reads until the server closes or 2 s pass, and splits the first answer. */
  function send(raw: string): Promise<{ status: number; headers: string; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        const end = data.indexOf('\r\n\r\n');
        const head = end < 0 ? data : data.slice(0, end);
        resolve({ status: Number(head.slice(9, 12)), headers: head.toLowerCase(), body: end < 0 ? '' : data.slice(end + 4) });
      };
      const timer = setTimeout(done, 2_000);
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        data += chunk;
        // One complete answer with a Content-Length is enough.
        const end = data.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, end));
        if (end >= 0 && length && data.length >= end + 4 + Number(length[1])) done();
      });
      socket.on('end', done);
      socket.on('error', reject);
      socket.write(raw, 'latin1');
    });
  }

  const expectErrorShape = (answer: { headers: string; body: string }) => {
    expect(answer.headers).toContain('content-type: application/json');
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    expect(typeof body.error).toBe('string');
    expect(typeof body.error_description).toBe('string');
  };

  it.each([
    ['a control character in a header value', 'GET /v1/me HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \x01abc\r\n\r\n'],
    ['an unknown method', 'FOO / HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['a negative Content-Length', 'POST /v1/token HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n'],
    ['two Content-Lengths', 'POST /v1/token HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab'],
    [
      'Content-Length with Transfer-Encoding',
      'POST /v1/token HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['an unknown HTTP version', 'GET /healthz HTTP/9.9\r\nhost: x\r\n\r\n'],
    ['a header continuation line', 'GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\n\r\n'],
  ])('%s: 400 in the error shape', async (_name, raw) => {
    const answer = await send(raw);
    expect(answer.status).toBe(400);
    expectErrorShape(answer);
  });

  it('headers over the size limit: 431 in the error shape', async () => {
    const answer = await send(`GET /v1/me HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expectErrorShape(answer);
  });

  it('an HTTP/1.1 request without Host: 400 in the error shape; HTTP/1.0 needs none', async () => {
    const answer = await send('GET /healthz HTTP/1.1\r\n\r\n');
    expect(answer.status).toBe(400);
    expectErrorShape(answer);
    expect((await send('GET /healthz HTTP/1.0\r\n\r\n')).status).toBe(200);
  });

  it('OPTIONS that is no CORS preflight gets an empty 204, not a text/plain error', async () => {
    const answer = await send('OPTIONS /v1/token HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(answer.status).toBe(204);
    expect(answer.headers).not.toContain('text/plain');
  });

  it('HEAD on the revocation stream answers and ends', async () => {
    const answer = await send(
      `HEAD /v1/revocations/stream HTTP/1.1\r\nhost: x\r\nauthorization: ${feedAuth().authorization}\r\nconnection: close\r\n\r\n`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers).toContain('content-type: text/event-stream');
    expect(answer.body).toBe('');
  });
});

describe('a request reaching a server that is shutting down', () => {
  it('is refused before any work: 503 temporarily_unavailable with Retry-After, and the connection closes', async () => {
    // A preClose hook of the test's, after the server's own: it holds the close, between the
    // moment the server knows it is closing and the moment it stops reading open connections.
    let entered: () => void = () => {};
    const closing = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const t = await createTestApp({}, undefined, {
      beforeReady: (app) =>
        app.addHook('preClose', async () => {
          entered();
          await held;
        }),
    });
    let closed: Promise<undefined> | undefined;
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (t.app.server.address() as AddressInfo).port;
      const socket = connect(port, '127.0.0.1');
      socket.setEncoding('latin1');
      let data = '';
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      // One request answered: the connection stays open, kept alive.
      socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
      while (!data.includes('\r\n\r\n')) await new Promise((r) => setImmediate(r));
      expect(data.slice(0, 12)).toBe('HTTP/1.1 200');
      data = '';
      closed = t.app.close();
      await closing;
      socket.write('GET /v1/me HTTP/1.1\r\nhost: x\r\n\r\n');
      await ended;
      const head = data.slice(0, data.indexOf('\r\n\r\n')).toLowerCase();
      expect(head.slice(0, 12)).toBe('http/1.1 503');
      expect(head).toContain('retry-after: 1');
      expect(head).toContain('connection: close');
      expect(JSON.parse(data.slice(data.indexOf('\r\n\r\n') + 4))).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'the server is shutting down; retry',
      });
    } finally {
      release();
      await (closed ?? t.app.close());
    }
  });
});
