import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchRedis } from './lib/revocation-bus.js';
import { createTestApp } from './test-app.js';

/** A port nothing listens on: bind port 0, read it, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A logger that keeps its calls. */
function memoryLog() {
  const lines: { level: string; details: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (details: Record<string, unknown>) => lines.push({ level: 'info', details }),
    warn: (details: Record<string, unknown>) => lines.push({ level: 'warn', details }),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Redis connection logging', () => {
  // ioredis prints "[ioredis] Unhandled error event" on every failed reconnect unless 'error'
  // is handled: an unreachable TESSERA_REDIS_URL flooded the log with unstructured lines.
  it('unreachable Redis: many retries, one structured down line, nothing printed by ioredis', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await freePort();
    const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 5, maxRetriesPerRequest: 1 });
    let errors = 0;
    client.on('error', () => {
      errors++;
    });
    const log = memoryLog();
    watchRedis(client, log);
    const deadline = Date.now() + 10_000;
    while (errors < 20 && Date.now() < deadline) await sleep(20);
    client.disconnect();
    expect(errors).toBeGreaterThanOrEqual(20);
    expect(log.lines).toEqual([{ level: 'warn', details: { redis: 'down', err: 'ECONNREFUSED' } }]);
    expect(printed).not.toHaveBeenCalled();
  });

  it('logs one line per state change: down, back up, down again', () => {
    const client = new EventEmitter();
    const log = memoryLog();
    watchRedis(client, log);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    client.emit('ready');
    client.emit('error', refused);
    client.emit('error', refused);
    client.emit('end');
    client.emit('ready');
    client.emit('ready');
    client.emit('error', new Error('no code here'));
    expect(log.lines.map((l) => l.details)).toEqual([
      { redis: 'up' },
      { redis: 'down', err: 'ECONNREFUSED' },
      { redis: 'up' },
      { redis: 'down', err: 'Error' },
    ]);
  });

  it('the server with an unreachable TESSERA_REDIS_URL logs it down once, without the password', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await freePort();
    let output = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        output += String(chunk);
        done();
      },
    });
    const { app } = await createTestApp({ TESSERA_REDIS_URL: `redis://:hunter2-redis-password@127.0.0.1:${port}` }, undefined, {
      logger: { level: 'info', stream },
    });
    // ioredis backs off 50, 100, 150… ms: about seven attempts in 1.5 s.
    await sleep(1_500);
    await app.close();
    const redisLines = output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => 'redis' in line);
    expect(redisLines.filter((l) => l.redis === 'down')).toHaveLength(1);
    expect(redisLines[0]).toMatchObject({ redis: 'down', err: 'ECONNREFUSED' });
    expect(output).not.toContain('hunter2');
    expect(printed).not.toHaveBeenCalled();
  });
});
