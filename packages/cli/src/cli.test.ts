// The `tessera` command's surface without a server: help, usage errors and exit codes, and
// `token decode` on tokens made here (encrypted, oversized, malformed, expired by a frozen clock).
import { randomBytes } from 'node:crypto';
import { encryptToken, generateEncryptionKeys } from '@tessera/core';
import { createTestApp, testClock } from '@tessera/server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanUp, freePort, PASSWORD, tessera } from './test-support.js';

afterAll(cleanUp);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A compact JWS shape with the given header and claims: `token decode` reads it without verifying. */
const unsigned = (header: object, claims: object) => `${b64(header)}.${b64(claims)}.${randomBytes(64).toString('base64url')}`;

describe('tessera --help and usage errors', () => {
  const commands = [
    [],
    ['serve'],
    ['migrate'],
    ['users'],
    ['users', 'add'],
    ['users', 'list'],
    ['users', 'show'],
    ['users', 'disable'],
    ['users', 'enable'],
    ['users', 'delete'],
    ['roles'],
    ['roles', 'grant'],
    ['roles', 'revoke'],
    ['roles', 'list'],
    ['sessions'],
    ['sessions', 'list'],
    ['sessions', 'revoke'],
    ['keys'],
    ['keys', 'list'],
    ['keys', 'rotate'],
    ['keys', 'export'],
    ['token'],
    ['token', 'decode'],
    ['token', 'verify'],
    ['bench'],
    ['demo'],
  ];

  it.each(commands.map((c) => [c.join(' ') || '(none)', c]))('tessera %s --help: usage on stdout, exit 0', async (_name, command) => {
    const result = await tessera([...command, '--help']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Usage: tessera${command.length > 0 ? ` ${command.join(' ')}` : ''}`);
    expect(result.stderr).toBe('');
  });

  it('serve --help names each flag with its variable, and offers no flag for the key-encryption key', async () => {
    const { stdout } = await tessera(['serve', '--help']);
    for (const [flag, variable] of [
      ['--port', 'PORT'],
      ['--issuer', 'TESSERA_ISSUER'],
      ['--database-url', 'TESSERA_DATABASE_URL'],
      ['--redis-url', 'TESSERA_REDIS_URL'],
      ['--session-store', 'TESSERA_SESSION_STORE'],
      ['--workers', 'TESSERA_WORKERS'],
      ['--signing-alg', 'TESSERA_SIGNING_ALG'],
      ['--cors-origins', 'TESSERA_CORS_ORIGINS'],
      ['--access-token-ttl', 'TESSERA_ACCESS_TOKEN_TTL'],
    ]) {
      expect(stdout).toContain(flag);
      expect(stdout).toContain(`[${variable}]`);
    }
    expect(stdout).not.toMatch(/--kek\b/);
    expect(stdout).not.toContain('TESSERA_RESOURCE_SERVERS');
  });

  it("tessera help <command> prints that command's usage and exits 0", async () => {
    const result = await tessera(['help', 'sessions']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: tessera sessions');
  });

  it('an unknown command exits 2 and names it', async () => {
    const result = await tessera(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('an unknown flag, a missing argument and a bare command group exit 2', async () => {
    const kek = await tessera(['serve', '--kek', randomBytes(32).toString('base64url')]);
    expect(kek.code).toBe(2);
    expect(kek.stderr).toContain("unknown option '--kek'");
    const missing = await tessera(['users', 'show']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'email-or-id'");
    expect((await tessera(['users'])).code).toBe(2);
    const limit = await tessera(['users', 'list', '--limit', 'many']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit');
  });

  it('--version prints the package version', async () => {
    const result = await tessera(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an invalid configuration exits 2 naming the variable and never printing a secret', async () => {
    const secret = 'hunter2-database-password';
    const result = await tessera(['users', 'list'], {
      env: { TESSERA_DATABASE_URL: `postgres://admin:${secret}@127.0.0.1:1/x`, TESSERA_KEK: 'too-short' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TESSERA_KEK');
    expect(result.stderr).not.toContain('too-short');
    expect(result.stderr).not.toContain(secret);
  });
});

describe('tessera token decode', () => {
  it('an encrypted token (JWE): says so and shows its header only', async () => {
    const { encrypt } = generateEncryptionKeys('ECDH-ES+A256KW');
    const jwe = await encryptToken(unsigned({ alg: 'ES256', typ: 'at+jwt' }, { sub: 'secret-subject' }), encrypt);
    const result = await tessera(['token', 'decode', jwe]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Encrypted token (JWE)');
    expect(result.stdout).toMatch(/^ {2}alg\s+ECDH-ES\+A256KW$/m);
    expect(result.stdout).toMatch(/^ {2}enc\s+A256GCM$/m);
    expect(result.stdout).not.toContain('Claims');
    expect(result.stdout).not.toContain('secret-subject');
  });

  it('an oversized token: warns that it is over the cookie budget and near or over the header budget', async () => {
    const roles = Array.from({ length: 400 }, (_, i) => `role-with-a-long-name-${i}`);
    const now = Math.floor(Date.now() / 1000);
    const big = unsigned({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, { sub: 'u1', iat: now, exp: now + 600, roles });
    const result = await tessera(['token', 'decode', big]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: \d+ bytes is over the 4096-byte cookie limit/);
    expect(result.stderr).toMatch(/over the 8192-byte header limit/);
    expect(result.stdout).toMatch(/cookie budget: \d+ of 4096 bytes, \d+% \(OVER the limit\)/);

    const near = unsigned({ alg: 'ES256' }, { sub: 'u1', pad: 'x'.repeat(2500) });
    const nearResult = await tessera(['token', 'decode', near]);
    expect(nearResult.stderr).toMatch(/near the 4096-byte cookie limit/);
    expect(nearResult.stderr).not.toContain('header limit');

    const small = await tessera(['token', 'decode', unsigned({ alg: 'ES256' }, { sub: 'u1' })]);
    expect(small.stderr).not.toContain('warning');
  });

  it('not a token: exit 1 naming the bad part, never echoing the input', async () => {
    const secretish = 'e30.e3$0.c2ln';
    const bad = await tessera(['token', 'decode', secretish]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('payload holds characters outside the base64url alphabet');
    expect(bad.stderr).not.toContain(secretish);
    const parts = await tessera(['token', 'decode', 'abc.def']);
    expect(parts.code).toBe(1);
    expect(parts.stderr).toContain('2 parts');
    const notJson = await tessera(['token', 'decode', `${Buffer.from('hello').toString('base64url')}.e30.sig`]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('header is not base64url-encoded JSON');
    const empty = await tessera(['token', 'decode', '-'], { input: '\n' });
    expect(empty.code).toBe(2);
  });

  // Terminal injection: a token's header and claims are anyone's text. ESC sequences (clear the
  // screen, set the window title, OSC 52 clipboard writes), 8-bit C1 controls and bidi overrides
  // must reach the terminal as visible escapes, never as control characters.
  it('control characters in a hostile token are shown escaped, never sent to the terminal', async () => {
    const hostile = unsigned(
      { alg: 'ES256', kid: 'k\u001b]0;owned\u0007', 'x\u001b[8m': 1 },
      { sub: 'u\u001b[2J\u001b[31mred', name: '\u009b31mc1', note: 'a\u202eb' },
    );
    const result = await tessera(['token', 'decode', hostile]);
    expect(result.code, result.stderr).toBe(0);
    const controls = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
    expect(result.stdout.replaceAll('\n', '')).not.toMatch(controls);
    expect(result.stdout).toMatch(/^ {2}kid\s+k\\u001b]0;owned\\u0007$/m);
    expect(result.stdout).toMatch(/^ {2}sub\s+u\\u001b\[2J\\u001b\[31mred$/m);
    expect(result.stdout).toContain('\\u009b31mc1');
    expect(result.stdout).toContain('a\\u202eb');
    // JSON escapes them too, and still parses to what the token says.
    const json = await tessera(['token', 'decode', '--json', hostile]);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout.replaceAll('\n', '')).not.toMatch(controls);
    expect(JSON.parse(json.stdout).claims).toEqual({ sub: 'u\u001b[2J\u001b[31mred', name: '\u009b31mc1', note: 'a\u202eb' });
  });

  // A JSON bomb: parsing is iterative, printing must not recurse past the stack.
  it('a payload nested 100,000 arrays deep: exit 1 with a message, no stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const bomb = `${b64({ alg: 'ES256' })}.${Buffer.from(`{"a":${deep}}`).toString('base64url')}.sig`;
    for (const args of [
      ['token', 'decode', '-'],
      ['token', 'decode', '--json', '-'],
    ]) {
      const result = await tessera(args, { input: bomb });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('nested too deeply');
      expect(result.stderr).not.toContain('call stack');
    }
  });

  describe('a token of a real server whose clock stands three hours back', () => {
    let expired: string;
    let issuer: string;
    let jwksUri: string;
    let close: () => Promise<void>;

    it('decode: "expired 2 hours ago", times in ISO', async () => {
      const t = await createTestApp({}, undefined, { clock: testClock(Date.now() - 3 * 3600_000) });
      const port = await freePort();
      await t.app.listen({ port, host: '127.0.0.1' });
      close = () => t.app.close();
      issuer = 'http://auth.test';
      jwksUri = `http://127.0.0.1:${port}/.well-known/jwks.json`;
      const email = `old-${randomBytes(4).toString('hex')}@example.com`;
      const signUp = await t.app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD } });
      expect(signUp.statusCode).toBe(201);
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/token',
        payload: { grant_type: 'password', username: email, password: PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      expired = (res.json() as { access_token: string }).access_token;

      const result = await tessera(['token', 'decode', expired]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^ {2}exp\s+\d+ {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}\(expired 2 hours ago\)$/m);
      expect(result.stdout).toMatch(/^ {2}iat\s+.*\(issued 3 hours ago\)$/m);
    });

    it('verify: exit 1 with ERR_TOKEN_EXPIRED', async () => {
      try {
        const result = await tessera(['token', 'verify', expired, '--issuer', issuer, '--jwks', jwksUri]);
        expect(result.code).toBe(1);
        expect(result.stdout.trim()).toBe('invalid: ERR_TOKEN_EXPIRED');
      } finally {
        await close();
      }
    });

    it('verify: a JWKS that cannot be fetched is named as such, not as a key the token does not match', async () => {
      const nobody = `http://127.0.0.1:${await freePort()}/.well-known/jwks.json`;
      const result = await tessera(['token', 'verify', expired, '--issuer', issuer, '--jwks', nobody]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot fetch the JWKS at ${nobody}`);
      expect(result.stdout).not.toContain('ERR_TOKEN_KEY');
    });
  });
});
