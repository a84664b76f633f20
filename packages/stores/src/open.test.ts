import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeUser } from './contract/fixtures.js';
import { openStores } from './open.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openStores', () => {
  it('memory: opens in-process stores', async () => {
    const stores = await openStores('memory:');
    await stores.ping();
    await stores.close();
  });

  it('sqlite:<relative path> creates the directory, and the data is there on reopen', async () => {
    const file = join(dir, 'nested', 'deeper', 'tessera.db');
    const url = `sqlite:${relative(process.cwd(), file)}`;
    const user = makeUser();
    const first = await openStores(url);
    await first.users.create(user);
    await first.close();
    expect(existsSync(file)).toBe(true);
    const second = await openStores(`sqlite://${file}`);
    expect(await second.users.findById(user.id)).toEqual(user);
    await second.close();
  });

  it('sqlite::memory: opens a private in-memory database', async () => {
    const stores = await openStores('sqlite::memory:');
    await stores.users.create(makeUser());
    await stores.close();
  });

  it('refuses other schemes, naming the variable and the supported schemes but not the URL', async () => {
    const err: unknown = await openStores('postgres://tessera:hunter2@db.internal/tessera').catch((e: unknown) => e);
    if (!(err instanceof Error)) throw new Error('expected openStores to reject');
    expect(err.message).toContain('TESSERA_DATABASE_URL');
    expect(err.message).toContain('postgres:');
    expect(err.message).toContain('sqlite:');
    expect(err.message).toContain('memory:');
    expect(err.message).not.toContain('hunter2');
    await expect(openStores('sqlite:')).rejects.toThrow('TESSERA_DATABASE_URL');
    await expect(openStores('./data/tessera.db')).rejects.toThrow('TESSERA_DATABASE_URL');
  });
});
