import { get, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { timeoutOptions } from './http/timeouts.js';
import { createTestApp, type TestApp } from './test-app.js';
import { FEED_ENV, feedAuth, register, tokenLogin } from './test-helpers.js';

/**
 * Clients that open connections and never finish them: a body announced and half sent, headers
 * never completed, nothing sent at all, many such connections from one address. Each must end
 * with an answer or a close within the configured timeouts, never hold its socket for ever,
 * while the long-lived revocation stream is left alone.
 */

/** Whether this host routes all of 127.0.0.0/8 to loopback (Linux does; macOS only has 127.0.0.1). */
async function canBind(address: string): Promise<boolean> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, address, resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
const SECOND_ADDRESS = '127.0.0.2';
const haveSecondAddress = await canBind(SECOND_ADDRESS);
if (!haveSecondAddress) console.warn(`skipping the per-address cap test: ${SECOND_ADDRESS} is not a local address here`);

let t: TestApp | undefined;
/** Every socket a test opened: destroyed after it, so a failing test cannot hold app.close() up. */
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await t?.app.close();
  t = undefined;
});

async function listening(env: Record<string, string>): Promise<{ t: TestApp; port: number }> {
  t = await createTestApp(env);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, port: (t.app.server.address() as AddressInfo).port };
}

interface Opened {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Resolves once the server ended the connection (or it closed), with the error that closed it, if any. */
  closed: Promise<NodeJS.ErrnoException | undefined>;
}

/** A raw connection that sends `raw` and then nothing more. `allowHalfOpen`: our side never closes by itself. */
function open(port: number, raw: string, localAddress = '127.0.0.1'): Opened {
  const socket = connect({ port, host: '127.0.0.1', localAddress, allowHalfOpen: true });
  sockets.add(socket);
  let data = '';
  let failure: NodeJS.ErrnoException | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  socket.on('error', (err) => {
    failure = err;
  });
  // Half-open on our side: the server's FIN shows as 'end', its reset as 'close' with ECONNRESET.
  const closed = new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    socket.once('end', () => resolve(failure));
    socket.once('close', () => resolve(failure));
  });
  if (raw !== '') socket.write(raw, 'latin1');
  return { socket, received: () => data, closed };
}

/** Waits for `condition`, polling, for at most `ms`; false if it never held. */
async function eventually(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The server's own count of open connections. */
function connections(app: TestApp['app']): Promise<number> {
  return new Promise((resolve, reject) => app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** A bounded wait for a close: the timeout, Node's checking interval, and generous slack for a loaded host. */
const CLOSE_BUDGET_MS = 5_000;

const HALF_SENT_BODY =
  'POST /v1/token HTTP/1.1\r\nhost: auth.test\r\ncontent-type: application/json\r\ncontent-length: 16000\r\n\r\n{"grant_type":';

describe('server timeouts', () => {
  it('are on the server as configured: Fastify would leave the request and idle timeouts off', async () => {
    t = await createTestApp({});
    const server = t.app.server;
    expect(server.requestTimeout).toBe(30_000);
    expect(server.headersTimeout).toBe(30_000);
    expect(server.timeout).toBe(120_000);
    expect(server.keepAliveTimeout).toBe(5_000);
  });

  it('keep the headers deadline within the request deadline (Node refuses a server otherwise)', () => {
    for (const seconds of [1, 30, 3600]) {
      const o = timeoutOptions({ requestTimeout: seconds, connectionTimeout: 120, keepAliveTimeout: 5 });
      expect(o.http.headersTimeout).toBeLessThanOrEqual(o.requestTimeout);
      expect(o.http.connectionsCheckingInterval).toBeLessThanOrEqual(o.requestTimeout);
    }
  });
});

describe('slow clients', () => {
  const SHORT = { TESSERA_REQUEST_TIMEOUT: '1', TESSERA_CONNECTION_TIMEOUT: '1', TESSERA_KEEP_ALIVE_TIMEOUT: '1' };

  // Slowloris, body variant: headers announce 16 000 bytes, a few arrive, then nothing. The
  // connection used to stay open past 90 s; 1 100 of them under `ulimit -n 1024` failed /healthz.
  it('a half-sent body is answered 408 and its connection closed within the request timeout', async () => {
    const { t, port } = await listening({ TESSERA_REQUEST_TIMEOUT: '1' });
    const c = open(port, HALF_SENT_BODY);
    const closed = await Promise.race([c.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), CLOSE_BUDGET_MS))]);
    expect(closed).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    const body = c.received().slice(c.received().indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({ error: 'request_timeout', error_description: 'the request took too long to arrive' });
    expect(await eventually(async () => (await connections(t.app)) === 0, CLOSE_BUDGET_MS)).toBe(true);
  });

  // The server keeps half-open sockets: ending its side after the 408 left the descriptor held
  // for as long as the client kept its own side open.
  it('a client that never closes its side after the 408 still loses the connection on the server', async () => {
    const { t, port } = await listening({ TESSERA_REQUEST_TIMEOUT: '1', TESSERA_CONNECTION_TIMEOUT: '3600' });
    const c = open(port, HALF_SENT_BODY);
    expect(await eventually(() => c.received().startsWith('HTTP/1.1 408 '), CLOSE_BUDGET_MS)).toBe(true);
    expect(await eventually(async () => (await connections(t.app)) === 0, CLOSE_BUDGET_MS)).toBe(true);
    c.socket.destroy();
  });

  it('headers dribbled and never finished are answered 408 and closed', async () => {
    // The idle timeout left long, so that the 408 answers rather than a silent close.
    const { port } = await listening({ TESSERA_REQUEST_TIMEOUT: '1' });
    const c = open(port, 'GET /healthz HTTP/1.1\r\nhost: auth.test\r\nx-slow: ');
    const closed = await Promise.race([c.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), CLOSE_BUDGET_MS))]);
    expect(closed).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a connection that sends nothing is closed', async () => {
    const { t, port } = await listening(SHORT);
    const c = open(port, '');
    const closed = await Promise.race([c.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), CLOSE_BUDGET_MS))]);
    expect(closed).toBe(true);
    expect(await connections(t.app)).toBe(0);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const { port } = await listening(SHORT);
    const c = open(port, 'GET /healthz HTTP/1.1\r\nhost: auth.test\r\n\r\n');
    const closed = await Promise.race([c.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), CLOSE_BUDGET_MS))]);
    expect(closed).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('connections per client address', () => {
  const CAP = 20;

  // One source opening connections it never finishes used to exhaust the descriptors, and with
  // them every other client's requests, health checks included.
  it.runIf(haveSecondAddress)('many half-open connections from one address hit the cap; another address is still served', async () => {
    const { t, port } = await listening({ TESSERA_MAX_CONNECTIONS_PER_IP: String(CAP) });
    const flood = Array.from({ length: CAP * 2 }, () => open(port, HALF_SENT_BODY, SECOND_ADDRESS));
    let refused = 0;
    for (const c of flood) void c.closed.then(() => refused++);
    expect(await eventually(() => refused === CAP, CLOSE_BUDGET_MS)).toBe(true);
    expect(await connections(t.app)).toBe(CAP);

    const health = open(port, 'GET /healthz HTTP/1.1\r\nhost: auth.test\r\nconnection: close\r\n\r\n', '127.0.0.1');
    await health.closed;
    expect(health.received()).toMatch(/^HTTP\/1\.1 200 /);
    health.socket.destroy();

    // The count follows closes: once one of the held connections ends, the address may open one more.
    const held = flood.filter((c) => !c.socket.destroyed);
    expect(held).toHaveLength(CAP);
    held[0]?.socket.destroy();
    expect(await eventually(async () => (await connections(t.app)) === CAP - 1, CLOSE_BUDGET_MS)).toBe(true);
    const again = open(port, 'GET /healthz HTTP/1.1\r\nhost: auth.test\r\n\r\n', SECOND_ADDRESS);
    expect(await eventually(() => again.received().startsWith('HTTP/1.1 200 '), CLOSE_BUDGET_MS)).toBe(true);
    for (const c of [...held, again]) c.socket.destroy();
  });

  it('0 turns the cap off', async () => {
    const { t, port } = await listening({ TESSERA_MAX_CONNECTIONS_PER_IP: '0' });
    const many = Array.from({ length: 30 }, () => open(port, HALF_SENT_BODY));
    expect(await eventually(async () => (await connections(t.app)) === 30, CLOSE_BUDGET_MS)).toBe(true);
    for (const c of many) c.socket.destroy();
  });
});

describe('the revocation stream and the timeouts', () => {
  // The stream is idle between heartbeats by design: a connection timeout shorter than the
  // heartbeat interval must not cut it, nor must the request or keep-alive timeouts.
  it('an SSE stream outlives a short connection, request and keep-alive timeout and still delivers events', async () => {
    const { t, port } = await listening({
      ...FEED_ENV,
      TESSERA_CONNECTION_TIMEOUT: '1',
      TESSERA_REQUEST_TIMEOUT: '1',
      TESSERA_KEEP_ALIVE_TIMEOUT: '1',
    });
    const user = await register(t.app);
    const tokens = await tokenLogin(t.app, user);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`http://127.0.0.1:${port}/v1/revocations/stream`, { headers: feedAuth() }, resolve).on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    let text = '';
    let ended = false;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
    });
    res.on('close', () => {
      ended = true;
    });
    expect(await eventually(() => text.includes(': connected'), CLOSE_BUDGET_MS)).toBe(true);

    // Three times every timeout, plus Node's checking interval.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(ended).toBe(false);

    const logout = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(logout.statusCode).toBe(204);
    expect(await eventually(() => text.includes('event: revocation'), CLOSE_BUDGET_MS)).toBe(true);
    expect(ended).toBe(false);
    res.destroy();
  });
});
