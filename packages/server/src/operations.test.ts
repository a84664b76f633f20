import { Writable } from 'node:stream';
import { createMemoryStores } from '@tessera/stores';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { LOG_SERIALIZERS, loggableUrl, REDACT } from './app.js';
import { createTestApp } from './test-app.js';
import { bearer, cookieLogin, expectError, json, me, PASSWORD, refreshGrant, register, tokenLogin, uniqueEmail } from './test-helpers.js';

describe('health', () => {
  it('GET /healthz answers 200', async () => {
    const { app } = await createTestApp();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 while the stores answer, 503 JSON when they do not', async () => {
    const { app, stores } = await createTestApp();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const ping = stores.ping;
    stores.ping = () => Promise.reject(new Error('connection refused: secret-host:5432'));
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    expectError(down, 503, 'not_ready');
    // The cause stays in the server; the client learns nothing about the infrastructure.
    expect(down.body).not.toContain('secret-host');
    stores.ping = ping;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    // Liveness does not depend on the store.
    stores.ping = () => Promise.reject(new Error('down'));
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('GET /metrics', () => {
  /** The value of one sample line, or 0 when it is absent. */
  function sample(text: string, name: string, labels: Record<string, string> = {}): number {
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const have = match[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) return Number(match[3]);
    }
    return 0;
  }

  it('exposes Prometheus counters that move with logins, tokens, refreshes, reuse and revocations', async () => {
    const { app, clock } = await createTestApp();
    const scrape = async () => {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      return res.body;
    };
    const before = await scrape();
    for (const name of [
      'tessera_logins_total',
      'tessera_tokens_issued_total',
      'tessera_refreshes_total',
      'tessera_refresh_reuse_detected_total',
      'tessera_revocations_total',
      'tessera_http_request_duration_seconds',
    ]) {
      expect(before).toContain(`# TYPE ${name}`);
    }
    expect(sample(before, 'tessera_refresh_reuse_detected_total')).toBe(0);

    const user = await register(app);
    const tokens = await tokenLogin(app, user);
    await cookieLogin(app, user);
    await app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: 'wrong wrong wrong' },
    });
    await refreshGrant(app, tokens.refresh_token);
    clock.advance(11_000);
    await refreshGrant(app, tokens.refresh_token); // reuse
    await me(app, bearer(tokens.access_token));

    const after = await scrape();
    expect(sample(after, 'tessera_logins_total', { mode: 'jwt', result: 'success' })).toBe(1);
    expect(sample(after, 'tessera_logins_total', { mode: 'session', result: 'success' })).toBe(1);
    expect(sample(after, 'tessera_logins_total', { mode: 'jwt', result: 'failure' })).toBe(1);
    expect(sample(after, 'tessera_tokens_issued_total', { grant: 'password' })).toBe(1);
    expect(sample(after, 'tessera_tokens_issued_total', { grant: 'refresh_token' })).toBe(1);
    expect(sample(after, 'tessera_refreshes_total', { result: 'rotated' })).toBe(1);
    expect(sample(after, 'tessera_refreshes_total', { result: 'reuse' })).toBe(1);
    expect(sample(after, 'tessera_refresh_reuse_detected_total')).toBe(1);
    expect(sample(after, 'tessera_revocations_total', { reason: 'refresh_reuse' })).toBe(1);
    expect(sample(after, 'tessera_http_request_duration_seconds_count', { route: '/v1/token', method: 'POST', status: '200' })).toBe(2);
    expect(sample(after, 'tessera_http_request_duration_seconds_count', { route: '/v1/me', status: '401' })).toBe(1);
    // Unmatched paths share one label: an attacker cannot blow up the series count.
    await app.inject({ method: 'GET', url: `/${uniqueEmail()}` });
    await app.inject({ method: 'GET', url: `/${uniqueEmail()}` });
    expect(sample(await scrape(), 'tessera_http_request_duration_seconds_count', { route: 'unmatched', status: '404' })).toBe(2);
  });

  it('describes every series with # HELP and # TYPE, and no name says a word twice', async () => {
    const { app } = await createTestApp();
    await register(app); // a request observed, so the histogram has samples too
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const help = new Map<string, string>();
    const type = new Map<string, string>();
    const samples = new Set<string>();
    for (const line of res.body.split('\n')) {
      const described = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (described) {
        (described[1] === 'HELP' ? help : type).set(described[2] as string, described[3] as string);
        continue;
      }
      const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
      if (name) samples.add(name);
    }
    expect(samples.size).toBeGreaterThan(10);
    // The default process metrics carry the namespace once (not tessera_process_process_…).
    expect(samples).toContain('tessera_process_cpu_seconds_total');
    for (const name of samples) {
      // A histogram's (or summary's) series are described under the family's name.
      const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((f) => type.has(f));
      expect(family, `${name} has no # TYPE`).toBeDefined();
      expect(help.get(family as string), `${name} has no # HELP`).toMatch(/\S/);
    }
    for (const name of [...samples, ...type.keys()]) {
      const words = name.split('_');
      expect(new Set(words).size, `${name} repeats a word`).toBe(words.length);
    }
  });
});

describe('logs', () => {
  function capture() {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  }

  async function exercise(logger: FastifyServerOptions['logger'], onApp?: (app: Awaited<ReturnType<typeof createTestApp>>['app']) => void) {
    const t = await createTestApp({}, createMemoryStores(), { logger, beforeReady: onApp });
    const user = await register(t.app, uniqueEmail('logged'), 'a very secret passphrase 42');
    const tokens = await tokenLogin(t.app, user);
    const cookie = await cookieLogin(t.app, user);
    await me(t.app, bearer(tokens.access_token));
    await me(t.app, cookie.cookie);
    await t.app.inject({ method: 'GET', url: `/v1/me?access_token=${tokens.access_token}` });
    await t.app.inject({
      method: 'POST',
      url: `/v1/token?grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}`,
    });
    await t.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: cookie.csrfHeaders });
    const refreshed = json<{ refresh_token: string; access_token: string }>(await refreshGrant(t.app, tokens.refresh_token));
    await t.app.inject({
      method: 'POST',
      url: '/v1/token',
      payload: { grant_type: 'password', username: user.email, password: 'wrong guess of a secret' },
    });
    await t.app.inject({ method: 'POST', url: '/oauth/revoke', payload: { token: refreshed.refresh_token } });
    await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(refreshed.access_token),
      payload: { current_password: user.password, new_password: PASSWORD },
    });
    return {
      secrets: [
        user.password,
        'wrong guess of a secret',
        tokens.access_token,
        tokens.access_token.split('.')[2] as string,
        tokens.refresh_token,
        refreshed.refresh_token,
        refreshed.access_token,
        cookie.value,
        cookie.value.split('.')[1] as string,
        cookie.csrf,
      ],
    };
  }

  it('never prints passwords, tokens, cookies or CSRF tokens with the shipped serializers', async () => {
    const { stream, text } = capture();
    const { secrets } = await exercise({
      level: 'trace',
      stream,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: LOG_SERIALIZERS,
    });
    const log = text();
    expect(log).toContain('"url":"/v1/token"'); // the logger did log the requests
    // Secrets a client put in the query string: the request line keeps the names, not the values.
    expect(log).toContain('"url":"/v1/me?access_token=[redacted]"');
    expect(log).toContain('"url":"/v1/token?grant_type=[redacted]&username=[redacted]&password=[redacted]"');
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toContain('argon2');
  });

  it('redacts credentials even when an operator logs headers and bodies', async () => {
    const { stream, text } = capture();
    const { secrets } = await exercise(
      {
        level: 'trace',
        stream,
        redact: { paths: REDACT, censor: '[redacted]' },
        serializers: {
          req: (req: FastifyRequest) => ({ method: req.method, url: loggableUrl(req.url), headers: req.headers }),
          res: (reply: { statusCode: number; getHeaders?: () => unknown }) => ({
            statusCode: reply.statusCode,
            headers: reply.getHeaders?.() ?? {},
          }),
        },
      },
      (app) => {
        app.addHook('preHandler', async (request) => {
          request.log.info({ body: request.body }, 'body');
          // Deeper and shallower than a request body: nested in a wrapper, and at the top of the line.
          request.log.info({ context: { body: request.body } }, 'nested body');
          request.log.info(request.body as object, 'bare body');
          // Headers logged by hand, outside the request serializer.
          request.log.info({ headers: request.headers }, 'headers');
          request.log.info({ context: { upstream: { headers: request.headers } } }, 'nested headers');
        });
        app.addHook('onSend', async (request, _reply, payload) => {
          if (typeof payload === 'string' && payload.startsWith('{')) request.log.info({ body: JSON.parse(payload) }, 'response body');
          return payload;
        });
      },
    );
    const log = text();
    // Positive controls: headers and bodies really were logged, with the secrets censored.
    expect(log).toContain('"authorization":"[redacted]"');
    expect(log).toContain('"cookie":"[redacted]"');
    expect(log).toContain('"password":"[redacted]"');
    expect(log).toContain('"refresh_token":"[redacted]"');
    expect(log).toContain('"access_token":"[redacted]"');
    expect(log).toContain('"x-csrf-token":"[redacted]"');
    expect(log).toContain('"set-cookie":"[redacted]"');
    expect(log).toContain('"csrf_token":"[redacted]"');
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});

describe('GET / (account page)', () => {
  it('serves the page and its assets with a strict CSP, never framed', async () => {
    const { app } = await createTestApp();
    for (const [url, type] of [
      ['/', /^text\/html/],
      ['/account.js', /^text\/javascript/],
      ['/account.css', /^text\/css/],
    ] as const) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});
