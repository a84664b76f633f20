import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { makeRefresh, makeUser, seedSession } from '../contract/fixtures.js';
import type { RotateResult } from '../types.js';
import { createSqliteStores } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-mp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORKERS = 4;
const TOKENS = 200;
const workerFile = fileURLToPath(new URL('./test-rotate-worker.ts', import.meta.url));
const rolesWorkerFile = fileURLToPath(new URL('./test-roles-worker.ts', import.meta.url));
/** Role grants per worker in the roles race. */
const GRANTS = 50;

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Resolves with the child's stdout once it printed `line` (or the child exits). */
function waitFor(child: Child, done: (out: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      if (done(out)) resolve(out);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.on('exit', (code) => (done(out) ? resolve(out) : reject(new Error(`worker exited with ${code}: ${err}`))));
  });
}

// Several auth processes sharing one SQLite file (e.g. a cluster of workers) must still give
// each refresh token exactly one successor: this is what BEGIN IMMEDIATE is for.
it('sqlite: processes racing to rotate the same tokens on one file each get exactly one winner', async () => {
  const path = join(dir, 'shared.db');
  const setup = createSqliteStores({ path });
  const session = await seedSession(setup);
  for (let i = 0; i < TOKENS; i++) await setup.refreshTokens.create(makeRefresh(session, { id: `rt_${i}` }));
  await setup.close();

  const children: Child[] = Array.from({ length: WORKERS }, (_, w) =>
    spawn(process.execPath, ['--import', 'tsx', workerFile, path, `w${w}`, String(TOKENS)], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const finished = children.map((c) => waitFor(c, (out) => out.includes('\n[')));
  await Promise.all(children.map((c) => waitFor(c, (out) => out.startsWith('ready\n'))));
  for (const c of children) c.stdin.write('go\n');
  const outputs = await Promise.all(finished);
  const results = outputs.map((out) => JSON.parse(out.slice(out.indexOf('['))) as RotateResult[]);

  const check = createSqliteStores({ path });
  try {
    for (let i = 0; i < TOKENS; i++) {
      const winners = results.flatMap((r, w) => (r[i]!.status === 'rotated' ? [w] : []));
      expect(winners, `rt_${i}`).toHaveLength(1);
      const successorId = `rt_${i}_w${winners[0]}`;
      for (const r of results) if (r[i]!.status !== 'rotated') expect(r[i]).toMatchObject({ status: 'already-rotated', successorId });
      expect((await check.refreshTokens.get(`rt_${i}`))?.successorId).toBe(successorId);
    }
    // Exactly one successor row per token: the family holds the originals plus one each.
    expect(await check.refreshTokens.deleteFamily(session.id)).toBe(2 * TOKENS);
  } finally {
    await check.close();
  }
});

// Lost update across processes: each grant reads the roles and writes them back, so without the
// write lock taken before the read, a grant from one process would overwrite another's.
it('sqlite: processes granting roles to one user at once lose none of them', async () => {
  const path = join(dir, 'roles.db');
  const setup = createSqliteStores({ path });
  await setup.users.create(makeUser({ id: 'usr_shared' }));
  await setup.close();

  const children: Child[] = Array.from({ length: WORKERS }, (_, w) =>
    spawn(process.execPath, ['--import', 'tsx', rolesWorkerFile, path, `w${w}`, String(GRANTS)], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const finished = children.map((c) => waitFor(c, (out) => out.includes('done\n')));
  await Promise.all(children.map((c) => waitFor(c, (out) => out.startsWith('ready\n'))));
  for (const c of children) c.stdin.write('go\n');
  await Promise.all(finished);

  const check = createSqliteStores({ path });
  try {
    const expected = Array.from({ length: WORKERS }, (_, w) => Array.from({ length: GRANTS }, (_, i) => `w${w}-${i}`)).flat();
    expect((await check.users.findById('usr_shared'))?.roles).toEqual(expected.sort());
  } finally {
    await check.close();
  }
});
