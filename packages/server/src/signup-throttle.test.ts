import { describe, expect, it } from 'vitest';
import { createTestApp } from './test-app.js';
import { expectError, PASSWORD, type Response, uniqueEmail } from './test-helpers.js';

const LIMIT = 6;
const HOUR_MS = 3_600_000;

async function setUp(limit = LIMIT) {
  const t = await createTestApp({ TESSERA_SIGNUPS_PER_HOUR: String(limit) });
  const signUp = (remoteAddress: string, email = uniqueEmail('flood')) =>
    t.app.inject({ method: 'POST', url: '/v1/users', payload: { email, password: PASSWORD }, remoteAddress });
  return { ...t, signUp };
}

const statuses = (responses: Response[]) => responses.map((r) => r.statusCode).sort();

/**
 * Sign-up flood: 200 sign-ups from one address went through in 1.1 s, and a runaway script made
 * 51 672 accounts from 4 addresses in about 400 s. Every sign-up now counts against
 * TESSERA_SIGNUPS_PER_HOUR per client address, successful or not.
 */
describe('sign-up flood (51 672 accounts from 4 addresses)', () => {
  it('lets exactly signupsPerHour sign-ups through from one address, then 429 with Retry-After; another address is unaffected', async () => {
    const { signUp } = await setUp();
    for (let i = 0; i < LIMIT; i++) expect((await signUp('203.0.113.7')).statusCode).toBe(201);
    for (let i = 0; i < 3; i++) {
      const refused = await signUp('203.0.113.7');
      expectError(refused, 429, 'too_many_requests');
      // The clock is frozen: the whole hour is still ahead.
      expect(refused.headers['retry-after']).toBe('3600');
    }
    expect((await signUp('198.51.100.7')).statusCode).toBe(201);
  });

  it('holds in a parallel burst: signupsPerHour + 6 at once from one address, exactly signupsPerHour created', async () => {
    const { signUp, stores } = await setUp();
    const emails = Array.from({ length: LIMIT + 6 }, () => uniqueEmail('burst'));
    const burst = await Promise.all(emails.map((email) => signUp('203.0.113.8', email)));
    expect(statuses(burst)).toEqual([...Array(LIMIT).fill(201), ...Array(6).fill(429)]);
    for (const refused of burst.filter((r) => r.statusCode === 429)) expect(Number(refused.headers['retry-after'])).toBe(3600);
    const created = await Promise.all(emails.map((email) => stores.users.findByEmail(email)));
    expect(created.filter((u) => u !== null)).toHaveLength(LIMIT);
  });

  it('counts sign-ups that fail too: email_taken answers use up the hour like created accounts', async () => {
    const { signUp } = await setUp(3);
    const email = uniqueEmail('twice');
    expect((await signUp('203.0.113.9', email)).statusCode).toBe(201);
    expectError(await signUp('203.0.113.9', email), 409, 'email_taken');
    expectError(await signUp('203.0.113.9', email), 409, 'email_taken');
    expectError(await signUp('203.0.113.9'), 429, 'too_many_requests');
  });

  it('lets sign-ups through again once the hour has passed, and no sooner', async () => {
    const { signUp, clock } = await setUp();
    for (let i = 0; i < LIMIT; i++) expect((await signUp('203.0.113.10')).statusCode).toBe(201);
    clock.advance(HOUR_MS - 1000);
    expect((await signUp('203.0.113.10')).headers['retry-after']).toBe('1');
    clock.advance(1000);
    for (let i = 0; i < LIMIT; i++) expect((await signUp('203.0.113.10')).statusCode).toBe(201);
    expectError(await signUp('203.0.113.10'), 429, 'too_many_requests');
  });

  it('defaults to 20 an hour per address, one after another and in one parallel burst alike', async () => {
    const t = await createTestApp();
    const signUp = (remoteAddress: string) =>
      t.app.inject({ method: 'POST', url: '/v1/users', payload: { email: uniqueEmail(), password: PASSWORD }, remoteAddress });
    const answers: Response[] = [];
    for (let i = 0; i < 25; i++) answers.push(await signUp('203.0.113.20'));
    expect(statuses(answers)).toEqual([...Array(20).fill(201), ...Array(5).fill(429)]);
    // The email_taken counter is charged only when an email is taken, so it cannot refuse honest
    // sign-ups of a burst that are merely in flight together.
    const burst = await Promise.all(Array.from({ length: 25 }, () => signUp('203.0.113.21')));
    expect(statuses(burst)).toEqual([...Array(20).fill(201), ...Array(5).fill(429)]);
  });
});
