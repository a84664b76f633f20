import { createMemoryStores, type Stores } from '@tessera/stores';
import { describe, it } from 'vitest';
import { createTestApp } from './test-app.js';
import { bearer, expectError, register, tokenLogin, uniqueEmail } from './test-helpers.js';

/**
 * A store that refuses a text value the way PostgreSQL does for a NUL byte (SQLSTATE 22021), so
 * the mapping is tested without a PostgreSQL server; packages/stores' PostgreSQL suite covers
 * the real driver.
 */
function refusingNul(base: Stores): Stores {
  const refuse = (value: unknown) => {
    if (JSON.stringify(value).includes('\\u0000')) {
      throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
    }
  };
  return {
    ...base,
    users: {
      ...base.users,
      create: async (user) => {
        refuse(user);
        return base.users.create(user);
      },
    },
    sessions: {
      ...base.sessions,
      get: async (id) => {
        refuse(id);
        return base.sessions.get(id);
      },
    },
  };
}

// A NUL byte answered 500 on PostgreSQL (22021 is no outage and no bug of ours): a sign-up name,
// needing no login, and a session id in the path. Bad input gets a 400, never a 500.
describe('NUL bytes in input: 400, not 500 (PostgreSQL refuses them)', () => {
  it('a sign-up name with a NUL byte or another control character is refused before anything is stored', async () => {
    const { app } = await createTestApp({}, refusingNul(createMemoryStores()));
    for (const name of ['a\u0000b', 'tab\there', 'bell\u0007']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/users',
        payload: { email: uniqueEmail(), password: 'correct horse battery staple', name },
      });
      expectError(res, 400, 'invalid_request');
    }
  });

  it('a session id that is not one of ours is no such session (404), never read from the store', async () => {
    const { app } = await createTestApp({}, refusingNul(createMemoryStores()));
    const user = await register(app);
    const { access_token } = await tokenLogin(app, user);
    for (const sid of ['%00', 'a%00b', 'a%20b', 'a.b']) {
      const res = await app.inject({ method: 'DELETE', url: `/v1/sessions/${sid}`, headers: bearer(access_token) });
      expectError(res, 404, 'not_found');
    }
  });

  it('a value the database cannot store that gets past the schemas is a 400 invalid_request', async () => {
    const base = createMemoryStores();
    const stores: Stores = {
      ...base,
      users: {
        ...base.users,
        create: async () => {
          throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
        },
      },
    };
    const { app } = await createTestApp({}, stores);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: { email: uniqueEmail(), password: 'correct horse battery staple' },
    });
    expectError(res, 400, 'invalid_request');
  });
});
