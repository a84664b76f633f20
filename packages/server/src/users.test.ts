import { beforeAll, describe, expect, it } from 'vitest';
import { BLOCKLIST_SIZE } from './lib/passwords.js';
import { createTestApp, type TestApp } from './test-app.js';
import { expectError, json, PASSWORD, register, tokenLogin, uniqueEmail } from './test-helpers.js';

describe('POST /v1/users', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  const signUp = (payload: unknown) => t.app.inject({ method: 'POST', url: '/v1/users', payload: payload as Record<string, unknown> });

  it('creates an account: 201 with id, normalised email, name and created_at, never the password or its hash', async () => {
    const res = await signUp({ email: '  New.User@Example.COM ', password: PASSWORD, name: '  Ada  ' });
    expect(res.statusCode).toBe(201);
    const body = json(res);
    expect(Object.keys(body).sort()).toEqual(['created_at', 'email', 'id', 'name']);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.email).toBe('new.user@example.com');
    expect(body.name).toBe('Ada');
    expect(body.created_at).toBe(new Date(t.clock.now).toISOString());
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toContain('argon2');
    const stored = await t.stores.users.findByEmail('new.user@example.com');
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('normalises emails (trim, NFKC, case-fold): a full-width, upper-case spelling collides → 409 email_taken', async () => {
    await register(t.app, 'alice@example.com');
    const res = await signUp({ email: '  Ａlice@Example.COM ', password: 'a different passphrase' });
    expectError(res, 409, 'email_taken');
    // And the normalised spelling logs in to the first account.
    const tokens = await tokenLogin(t.app, { email: ' ALICE@example.com', password: PASSWORD });
    expect(tokens.token_type).toBe('Bearer');
  });

  it('case-folds fully, not just lower-cases: ß is ss, ς is σ, ﬁ is fi', async () => {
    const app = (await createTestApp()).app;
    const sign = (email: string) =>
      app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: 'a long enough passphrase' } });
    for (const [first, again] of [
      ['straße@example.de', 'STRASSE@example.de'],
      ['GROẞ@example.de', 'gross@example.de'],
      ['ΟΔΟΣ@example.gr', 'οδοσ@example.gr'],
      ['ﬁsh@example.com', 'FISH@example.com'],
    ]) {
      const created = await sign(first as string);
      expect(created.statusCode, first).toBe(201);
      expectError(await sign(again as string), 409, 'email_taken');
      expect(json<{ email: string }>(created).email).toBe((again as string).toLowerCase());
    }
  });

  // Account enumeration: every 409 email_taken confirms an address; one client may learn that only a few times an hour.
  it('throttles a client address that keeps hitting existing emails: 429 with Retry-After after 10, others unaffected, sign-ups never counted', async () => {
    // Room above the sign-ups-per-hour limit (which counts every sign-up): this is about the email_taken counter.
    const app = (await createTestApp({ TESSERA_SIGNUPS_PER_HOUR: '1000' })).app;
    const from = (remoteAddress: string) => (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/users', payload, remoteAddress });
    const prober = from('203.0.113.9');
    // Successful sign-ups take back their charge: 15 in a row from one address all succeed.
    const taken: string[] = [];
    for (let i = 0; i < 15; i++) {
      const email = uniqueEmail('taken');
      expect((await prober({ email, password: PASSWORD })).statusCode).toBe(201);
      taken.push(email);
    }
    for (const email of taken.slice(0, 10)) expectError(await prober({ email, password: PASSWORD }), 409, 'email_taken');
    const blocked = await prober({ email: taken[10], password: PASSWORD });
    expectError(blocked, 429, 'too_many_requests');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The answer no longer says whether the address exists, even for a new one.
    expectError(await prober({ email: uniqueEmail('new'), password: PASSWORD }), 429, 'too_many_requests');
    // Another address is not affected.
    expectError(await from('198.51.100.9')({ email: taken[11], password: PASSWORD }), 409, 'email_taken');
  });

  it('refuses an implausible email with 400 invalid_request', async () => {
    for (const email of ['', 'no-at-sign', 'two@@example.com', 'a b@example.com', `${'x'.repeat(250)}@example.com`]) {
      expectError(await signUp({ email, password: PASSWORD }), 400, 'invalid_request');
    }
  });

  describe('password rules (NIST SP 800-63B)', () => {
    it('refuses fewer than 12 characters, counted after NFKC and in code points', async () => {
      expectError(await signUp({ email: uniqueEmail(), password: 'elevenchars' }), 400, 'weak_password');
      // 12 UTF-16 units but 6 code points.
      expectError(await signUp({ email: uniqueEmail(), password: '😀'.repeat(6) }), 400, 'weak_password');
      // 12 code points that NFKC composes into 6.
      expectError(await signUp({ email: uniqueEmail(), password: 'e\u0301'.repeat(6) }), 400, 'weak_password');
    });

    it('refuses more than 128 characters with weak_password', async () => {
      expectError(await signUp({ email: uniqueEmail(), password: 'x'.repeat(129) }), 400, 'weak_password');
      expectError(await signUp({ email: uniqueEmail(), password: 'y'.repeat(1000) }), 400, 'weak_password');
    });

    it('refuses common passwords from the blocklist, case-insensitively', async () => {
      expect(BLOCKLIST_SIZE).toBeGreaterThan(10_000);
      for (const password of ['password1234', 'PasswordPassword', '123456789012', 'qwerty123456']) {
        expectError(await signUp({ email: uniqueEmail(), password }), 400, 'weak_password');
      }
    });

    it('refuses the email itself (or its local part) as the password', async () => {
      const email = uniqueEmail('longlocalpart');
      expectError(await signUp({ email, password: email }), 400, 'weak_password');
      expectError(await signUp({ email, password: email.toUpperCase() }), 400, 'weak_password');
      expectError(await signUp({ email, password: email.split('@')[0] }), 400, 'weak_password');
    });

    it('refuses a password with an unpaired surrogate, and such a password never logs anyone in', async () => {
      // Sent as JSON escapes: the body is valid JSON, the string is not valid Unicode text.
      const lone = (surrogate: string) => `{"email":"${uniqueEmail()}","password":"a long passphrase ${surrogate}"}`;
      for (const body of [lone('\\ud800'), lone('\\udfff'), lone('\\udc00\\ud800')]) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/users',
          headers: { 'content-type': 'application/json' },
          payload: body,
        });
        expectError(res, 400, 'weak_password');
      }
      // An account whose password ends in U+FFFD (what a lone surrogate would hash as) is not
      // opened by a lone surrogate in its place.
      const user = await register(t.app, uniqueEmail(), 'a long passphrase \ufffd');
      const login = (password: string) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/token',
          headers: { 'content-type': 'application/json' },
          payload: `{"grant_type":"password","username":"${user.email}","password":"${password}"}`,
        });
      expect((await login('a long passphrase \\ufffd')).statusCode).toBe(200);
      expectError(await login('a long passphrase \\ud800'), 400, 'invalid_grant');
    });

    it('has no composition rules: a 12-character lowercase passphrase and 128 characters are accepted', async () => {
      await register(t.app, uniqueEmail(), 'plumtreevase');
      await register(t.app, uniqueEmail(), 'z'.repeat(128));
    });

    it('answers a 5000-character password with 400 and a 1 MB one with 413 (body limit), never hashing them', async () => {
      expectError(await signUp({ email: uniqueEmail(), password: 'p'.repeat(5000) }), 400, 'invalid_request');
      expectError(await signUp({ email: uniqueEmail(), password: 'p'.repeat(1024 * 1024) }), 413);
    });
  });

  describe('malformed requests', () => {
    it('refuses unknown fields with 400 invalid_request naming the field', async () => {
      const body = expectError(await signUp({ email: uniqueEmail(), password: PASSWORD, roles: ['admin'] }), 400, 'invalid_request');
      expect(body.error_description).toContain('roles');
    });

    it('refuses wrong types with 400 invalid_request (no coercion)', async () => {
      for (const payload of [
        { email: 42, password: PASSWORD },
        { email: uniqueEmail(), password: 123456789012345 },
        { email: uniqueEmail(), password: [PASSWORD] },
        { email: uniqueEmail(), password: PASSWORD, name: { first: 'a' } },
        { email: uniqueEmail() },
        { password: PASSWORD },
      ]) {
        expectError(await signUp(payload), 400, 'invalid_request');
      }
      for (const raw of ['[]', '"text"', '123', 'null']) {
        const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: { 'content-type': 'application/json' }, payload: raw });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('refuses malformed JSON with 400 invalid_request', async () => {
      for (const raw of ['{"email":', '{email: "a@b.c"}', '', '{"email":"a@b.c","password":"x"}}']) {
        const res = await t.app.inject({ method: 'POST', url: '/v1/users', headers: { 'content-type': 'application/json' }, payload: raw });
        expectError(res, 400, 'invalid_request');
      }
    });

    it('refuses a content type it does not parse with 415', async () => {
      for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/users',
          headers: { 'content-type': type },
          payload: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
        });
        expectError(res, 415, 'unsupported_media_type');
      }
    });
  });

  it('never creates two accounts for one email under concurrency', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all([signUp({ email, password: PASSWORD }), signUp({ email: email.toUpperCase(), password: PASSWORD })]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
  });
});
