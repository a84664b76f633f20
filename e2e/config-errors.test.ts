// Every configuration error stops the real process with exit code 2 and a message naming the
// variable (or file) to fix, never a secret's value: what an operator sees in their terminal.
//
// Needs the build (`npm run build`): it runs packages/server/dist/bin.js.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, SERVER_BIN, spawnNode, tempDir } from './lib/processes.js';

const kek = () => randomBytes(32).toString('base64url');

/** Runs `bin.js ...args` in a fresh data dir (or `dir`) and waits for it to exit. */
async function run(env: Record<string, string>, args: string[] = [], dir = tempDir()) {
  const proc = spawnNode('server', [SERVER_BIN, ...args], {
    cwd: dir,
    env: { PORT: '0', HOST: '127.0.0.1', TESSERA_LOG_LEVEL: 'warn', TESSERA_DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`, ...env },
  });
  // 'close', not 'exit': the output pipes may still hold the last lines when the process exits.
  await new Promise((resolve) => proc.child.once('close', resolve));
  const exit = await proc.exited;
  return { code: exit.code, output: proc.output(), dir };
}

beforeAll(() => {
  if (!existsSync(SERVER_BIN)) throw new Error(`${SERVER_BIN} is missing: run \`npm run build\` first`);
});

afterAll(async () => {
  await cleanUp();
});

describe('configuration errors at start', () => {
  // Fastify's own check said only "invalid IP address", naming nothing.
  it('TESSERA_TRUST_PROXY=bogus exits 2 naming TESSERA_TRUST_PROXY', async () => {
    const { code, output } = await run({ TESSERA_TRUST_PROXY: 'bogus' });
    expect(code).toBe(2);
    expect(output).toMatch(/invalid configuration: TESSERA_TRUST_PROXY: /);
  });

  it('TESSERA_SIGNING_ALG=HS256 exits 2 naming it, unless TESSERA_ALLOW_SHARED_SECRET=true acknowledges it', async () => {
    const refused = await run({ TESSERA_SIGNING_ALG: 'HS256' });
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/invalid configuration: TESSERA_SIGNING_ALG: .*TESSERA_ALLOW_SHARED_SECRET=true/);

    const acknowledged = await run({ TESSERA_SIGNING_ALG: 'HS256', TESSERA_ALLOW_SHARED_SECRET: 'true' }, ['keys', 'export-secret']);
    expect(acknowledged.code).toBe(0);
    const { keys } = JSON.parse(acknowledged.output) as { keys: { kty: string; alg: string; k: string }[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).toMatchObject({ kty: 'oct', alg: 'HS256' });
  });

  // Was "Unsupported state or unable to authenticate data" (AES-GCM's words), exit 1.
  it('a TESSERA_KEK that cannot decrypt the stored keys exits 2 naming TESSERA_KEK, without the key', async () => {
    const first = await run({ TESSERA_KEK: kek() }, ['keys', 'list']);
    expect(first.code, first.output).toBe(0);
    const wrong = kek();
    const { code, output } = await run({ TESSERA_KEK: wrong }, [], first.dir);
    expect(code).toBe(2);
    expect(output).toMatch(/invalid configuration: TESSERA_KEK: cannot decrypt the signing keys/);
    expect(output).toMatch(/every node/);
    expect(output).not.toContain(wrong);
  });

  it('a kek file that cannot decrypt the stored keys exits 2 naming the file and TESSERA_KEK, without the key', async () => {
    const first = await run({}, ['keys', 'list']);
    expect(first.code, first.output).toBe(0);
    const file = join(first.dir, 'kek');
    const wrong = kek();
    writeFileSync(file, `${wrong}\n`);
    const { code, output } = await run({}, [], first.dir);
    expect(code).toBe(2);
    expect(output).toContain('TESSERA_KEK');
    expect(output).toContain(file);
    expect(output).not.toContain(wrong);
  });
});
