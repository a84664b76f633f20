import { StoreUnavailableError } from '@tessera/stores';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './test-app.js';
import { expectError, passwordGrant, type Registered, type Response, register, sessionLogin, uniqueEmail } from './test-helpers.js';

const WRONG = 'definitely not the password';

let ipCounter = 0;
/** A fresh client address per attempt: isolates the per-account rule from the per-IP one. */
const freshIp = () => {
  ipCounter++;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
};

const retryAfter = (res: Response) => Number(res.headers['retry-after']);

/**
 * Login throttling (DESIGN "HTTP contract"): only failures count; during a back-off every
 * attempt for the identifier gets 429 with Retry-After, right password or not; unknown
 * identifiers are throttled exactly like known ones; no permanent lockout.
 */
describe('login throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  const attempt = (email: string, password: string) => passwordGrant(t.app, email, password, { remoteAddress: freshIp() });

  it('after 5 failures for one account, even the right password gets 429 with Retry-After (both login modes)', async () => {
    const user = await register(t.app);
    for (let i = 0; i < 5; i++) expectError(await attempt(user.email, WRONG), 400, 'invalid_grant');
    const blocked = await attempt(user.email, user.password);
    expectError(blocked, 429, 'too_many_requests');
    expect(retryAfter(blocked)).toBe(1);
    const cookie = await sessionLogin(t.app, user.email, user.password, { remoteAddress: freshIp() });
    expectError(cookie, 429, 'too_many_requests');
    expect(cookie.headers['retry-after']).toBe('1');
    expect(cookie.headers['set-cookie']).toBeUndefined();
    // The account key is the normalised email: another spelling is the same account.
    expectError(await attempt(`  ${user.email.toUpperCase()}`, user.password), 429);
  });

  it('backs off exponentially, and waiting Retry-After lets exactly one attempt through', async () => {
    const user = await register(t.app);
    for (let i = 0; i < 5; i++) await attempt(user.email, WRONG);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const blocked = await attempt(user.email, WRONG);
      expectError(blocked, 429);
      const wait = retryAfter(blocked);
      waits.push(wait);
      // One second short of the back-off: still refused, and refusals are not failures.
      t.clock.advance((wait - 1) * 1000);
      if (wait > 1) expectError(await attempt(user.email, user.password), 429);
      t.clock.advance(1000);
      expectError(await attempt(user.email, WRONG), 400, 'invalid_grant');
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32]);
    const blocked = await attempt(user.email, user.password);
    expect(retryAfter(blocked)).toBe(64);
    t.clock.advance(64_000);
    // The right password after the wait logs in and clears the counter.
    expect((await attempt(user.email, user.password)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expectError(await attempt(user.email, WRONG), 400);
    expectError(await attempt(user.email, WRONG), 429);
  });

  it('counts failures only: successful logins never throttle, and a success resets the account counter', async () => {
    const user = await register(t.app);
    for (let i = 0; i < 8; i++) expect((await attempt(user.email, user.password)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expectError(await attempt(user.email, WRONG), 400);
    expect((await attempt(user.email, user.password)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expectError(await attempt(user.email, WRONG), 400);
    expectError(await attempt(user.email, WRONG), 400);
    expectError(await attempt(user.email, user.password), 429);
  });

  it('parallel logins with the right password are never turned away by each other (one address or many, both modes)', async () => {
    const user = await register(t.app);
    const spread = await Promise.all(Array.from({ length: 24 }, () => attempt(user.email, user.password)));
    expect(spread.filter((r) => r.statusCode !== 200).map((r) => `${r.statusCode} ${r.body}`)).toEqual([]);
    const office = '192.0.2.200';
    const sameAddress = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2 === 0
          ? passwordGrant(t.app, user.email, user.password, { remoteAddress: office })
          : sessionLogin(t.app, user.email, user.password, { remoteAddress: office }),
      ),
    );
    expect(sameAddress.map((r) => r.statusCode).sort()).toEqual([...Array(15).fill(200), ...Array(15).fill(201)]);
    // And none of it left a charge behind: five failures still come before the back-off.
    for (let i = 0; i < 5; i++) expectError(await attempt(user.email, WRONG), 400);
    expectError(await attempt(user.email, user.password), 429);
  });

  it('a store error during a login leaves nothing behind that later logins would wait on', async () => {
    const user = await register(t.app);
    const store = t.stores.rateLimits;
    const original = store.recordFailure.bind(store);
    let failNext = true;
    store.recordFailure = async (...args) => {
      if (failNext) {
        failNext = false;
        throw new Error('the store is down');
      }
      return original(...args);
    };
    try {
      expect((await attempt(user.email, user.password)).statusCode).toBeGreaterThanOrEqual(500);
    } finally {
      store.recordFailure = original;
    }
    const parallel = await Promise.all(Array.from({ length: 12 }, () => attempt(user.email, user.password)));
    expect(parallel.filter((r) => r.statusCode !== 200)).toEqual([]);
    // And a real back-off is answered at once, without waiting on anything.
    for (let i = 0; i < 5; i++) expectError(await attempt(user.email, WRONG), 400);
    expectError(await attempt(user.email, user.password), 429);
  });

  it('an outage of the user store throttles nobody: logins get 503 while it lasts, and the right password works at once after', async () => {
    const [user, other] = [await register(t.app), await register(t.app)];
    const ip = freshIp();
    const users = t.stores.users;
    const findByEmail = users.findByEmail.bind(users);
    users.findByEmail = async () => {
      throw new StoreUnavailableError('the database is unreachable');
    };
    try {
      // More attempts than either rule lets fail freely (5 per account, 20 per address), from one address.
      for (let i = 0; i < 25; i++) {
        const res = await passwordGrant(t.app, user.email, user.password, { remoteAddress: ip });
        expectError(res, 503, 'temporarily_unavailable');
      }
    } finally {
      users.findByEmail = findByEmail;
    }
    expect((await passwordGrant(t.app, user.email, user.password, { remoteAddress: ip })).statusCode).toBe(200);
    expect((await passwordGrant(t.app, other.email, other.password, { remoteAddress: ip })).statusCode).toBe(200);
    // Wrong passwords still count from the first: the account's back-off starts after 5 of them.
    for (let i = 0; i < 5; i++) expectError(await passwordGrant(t.app, user.email, WRONG, { remoteAddress: ip }), 400);
    expectError(await passwordGrant(t.app, user.email, user.password, { remoteAddress: ip }), 429);
  });

  it('throttles unknown emails exactly like known ones: same statuses, bodies and Retry-After sequence', async () => {
    const known = await register(t.app);
    const unknown = uniqueEmail('nobody');
    const trace = async (email: string) => {
      const start = t.clock.now;
      const seen: string[] = [];
      for (let i = 0; i < 16; i++) {
        const res = await attempt(email, WRONG);
        seen.push(`${res.statusCode} ${res.headers['retry-after'] ?? '-'} ${res.body}`);
        if (res.statusCode === 429) t.clock.advance(retryAfter(res) * 1000);
      }
      t.clock.now = start;
      return seen;
    };
    const a = await trace(known.email);
    const b = await trace(unknown);
    expect(b).toEqual(a);
    expect(a.filter((s) => s.startsWith('429'))).toHaveLength(6);
  });

  it('caps a single back-off at 15 minutes and lets no more than 100 failures per account through in any hour', async () => {
    const user = await register(t.app);
    const start = t.clock.now;
    const through: number[] = [];
    let longest = 0;
    // A patient attacker from a botnet (a fresh IP each time), retrying the instant it is allowed, for three hours.
    while (t.clock.now < start + 3 * 3_600_000) {
      const res = await attempt(user.email, WRONG);
      if (res.statusCode === 429) {
        longest = Math.max(longest, retryAfter(res));
        t.clock.advance(retryAfter(res) * 1000);
      } else {
        expectError(res, 400, 'invalid_grant');
        through.push(t.clock.now);
      }
    }
    expect(longest).toBe(900);
    for (const from of through) {
      expect(through.filter((x) => x >= from && x < from + 3_600_000).length).toBeLessThanOrEqual(100);
    }
    // An impatient one polling every 5 s gets no further.
    const impatient = await register(t.app);
    const begin = t.clock.now;
    let passed = 0;
    while (t.clock.now < begin + 3_600_000) {
      const res = await attempt(impatient.email, WRONG);
      if (res.statusCode !== 429) passed++;
      t.clock.advance(5_000);
    }
    expect(passed).toBeLessThanOrEqual(100);
    expect(passed).toBeGreaterThan(5);
  });

  // Check-then-act race: a burst of concurrent guesses all passed the back-off check before any failure was recorded.
  it('holds under a concurrent burst: 300 simultaneous guesses for one account get no more through than sequential ones', async () => {
    const user = await register(t.app);
    const burst = await Promise.all(Array.from({ length: 300 }, () => attempt(user.email, WRONG)));
    const through = burst.filter((r) => r.statusCode !== 429);
    for (const r of through) expectError(r, 400, 'invalid_grant');
    expect(through.length).toBeLessThanOrEqual(5);
    for (const r of burst.filter((x) => x.statusCode === 429)) expect(retryAfter(r)).toBeGreaterThanOrEqual(1);
    // And after a back-off a second burst lets exactly one through.
    const blocked = await attempt(user.email, WRONG);
    expectError(blocked, 429);
    t.clock.advance(retryAfter(blocked) * 1000);
    const second = await Promise.all(Array.from({ length: 50 }, () => attempt(user.email, WRONG)));
    expect(second.filter((r) => r.statusCode !== 429)).toHaveLength(1);
  });

  it('never locks out for good: once the back-off has passed, the right password works', async () => {
    const user = await register(t.app);
    for (let i = 0; i < 5; i++) await attempt(user.email, WRONG);
    // Push the back-off up to its cap.
    for (let i = 0; i < 12; i++) {
      const res = await attempt(user.email, WRONG);
      if (res.statusCode === 429) t.clock.advance(retryAfter(res) * 1000);
    }
    const blocked = await attempt(user.email, user.password);
    expectError(blocked, 429);
    expect(retryAfter(blocked)).toBeLessThanOrEqual(900);
    t.clock.advance(retryAfter(blocked) * 1000);
    expect((await attempt(user.email, user.password)).statusCode).toBe(200);
    // And after the window ends, the counter is gone altogether.
    for (let i = 0; i < 5; i++) await attempt(user.email, WRONG);
    t.clock.advance(3_600_000);
    expect((await attempt(user.email, user.password)).statusCode).toBe(200);
  });
});

describe('per-IP throttling', () => {
  let t: TestApp;
  let victim: Registered;
  beforeAll(async () => {
    t = await createTestApp();
    victim = await register(t.app);
  });

  it('throttles one client address spraying many accounts, and only that address', async () => {
    const ip = '203.0.113.7';
    // 20 failures, each on a different account: no account reaches its own limit.
    for (let i = 0; i < 20; i++)
      expectError(await passwordGrant(t.app, uniqueEmail('spray'), WRONG, { remoteAddress: ip }), 400, 'invalid_grant');
    const blocked = await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip });
    expectError(blocked, 429, 'too_many_requests');
    expect(retryAfter(blocked)).toBeGreaterThanOrEqual(1);
    expectError(await sessionLogin(t.app, victim.email, victim.password, { remoteAddress: ip }), 429);
    // Another address is not affected, and the victim's account was never charged.
    expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: '198.51.100.1' })).statusCode).toBe(200);
    // The address is let through again after its back-off.
    t.clock.advance(retryAfter(blocked) * 1000);
    expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip })).statusCode).toBe(200);
  });

  // Check-then-act race on the address: guesses sprayed over many accounts in parallel all passed the
  // address's check when it was charged only after each failure.
  it('holds under a concurrent burst: 300 simultaneous guesses over 300 accounts from one address get no more through than sequential ones', async () => {
    const ip = '203.0.113.50';
    const burst = await Promise.all(
      Array.from({ length: 300 }, () => passwordGrant(t.app, uniqueEmail('burst'), WRONG, { remoteAddress: ip })),
    );
    const through = burst.filter((r) => r.statusCode !== 429);
    for (const r of through) expectError(r, 400, 'invalid_grant');
    expect(through.length).toBeLessThanOrEqual(20);
    expect(through.length).toBeGreaterThan(0);
    // The victim's own account was not charged by the refused attempts: another address logs in.
    expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: '198.51.100.50' })).statusCode).toBe(200);
  });

  it('a success takes back only its own charge: many good logins never throttle an address, and one does not wipe its failures', async () => {
    const ip = '203.0.113.60';
    for (let i = 0; i < 30; i++)
      expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip })).statusCode).toBe(200);
    for (let i = 0; i < 10; i++)
      expectError(await passwordGrant(t.app, uniqueEmail('mix'), WRONG, { remoteAddress: ip }), 400, 'invalid_grant');
    expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip })).statusCode).toBe(200);
    for (let i = 0; i < 10; i++)
      expectError(await passwordGrant(t.app, uniqueEmail('mix'), WRONG, { remoteAddress: ip }), 400, 'invalid_grant');
    expectError(await passwordGrant(t.app, uniqueEmail('mix'), WRONG, { remoteAddress: ip }), 429, 'too_many_requests');
  });

  // A shared address (NAT) in back-off: a good login must not restart the back-off for everyone behind it.
  it('a success during an address back-off does not restart it', async () => {
    const ip = '203.0.113.70';
    for (let i = 0; i < 20; i++)
      expectError(await passwordGrant(t.app, uniqueEmail('nat'), WRONG, { remoteAddress: ip }), 400, 'invalid_grant');
    t.clock.advance(1_000);
    expectError(await passwordGrant(t.app, uniqueEmail('nat'), WRONG, { remoteAddress: ip }), 400, 'invalid_grant');
    const blocked = await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip });
    expectError(blocked, 429);
    t.clock.advance(retryAfter(blocked) * 1000);
    expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip })).statusCode).toBe(200);
    expect((await passwordGrant(t.app, victim.email, victim.password, { remoteAddress: ip })).statusCode).toBe(200);
  });

  it('reads the client address from X-Forwarded-For only when TESSERA_TRUST_PROXY says so', async () => {
    const direct = await createTestApp();
    // Without trust, a spoofed header does not split one attacker into many.
    for (let i = 0; i < 20; i++) {
      await passwordGrant(direct.app, uniqueEmail('xff'), WRONG, {
        remoteAddress: '192.0.2.1',
        headers: { 'x-forwarded-for': `10.0.0.${i}` },
      });
    }
    expectError(
      await passwordGrant(direct.app, uniqueEmail('xff'), WRONG, {
        remoteAddress: '192.0.2.1',
        headers: { 'x-forwarded-for': '10.0.1.1' },
      }),
      429,
    );

    const proxied = await createTestApp({ TESSERA_TRUST_PROXY: '1' });
    for (let i = 0; i < 20; i++) {
      await passwordGrant(proxied.app, uniqueEmail('xff'), WRONG, {
        remoteAddress: '192.0.2.1',
        headers: { 'x-forwarded-for': '198.51.100.9' },
      });
    }
    expectError(
      await passwordGrant(proxied.app, uniqueEmail('xff'), WRONG, {
        remoteAddress: '192.0.2.1',
        headers: { 'x-forwarded-for': '198.51.100.9' },
      }),
      429,
    );
    expectError(
      await passwordGrant(proxied.app, uniqueEmail('xff'), WRONG, {
        remoteAddress: '192.0.2.1',
        headers: { 'x-forwarded-for': '198.51.100.10' },
      }),
      400,
    );
  });
});
