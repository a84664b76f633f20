// The auth server as a real process, its SQLite database on a 2 MB tmpfs that fills up and is
// then freed. Writes used to answer 500 `server_error` with no Retry-After while /readyz stayed
// 200; now they answer 503 `temporarily_unavailable` with Retry-After, readiness fails, the log
// says so once, Bearer verification keeps working, and the server recovers by itself.
//
// Needs the build (`npm run build`) and permission to mount a tmpfs (root, or CAP_SYS_ADMIN);
// without it the test is skipped, saying why.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { login, PASSWORD, signUp, uniqueEmail } from './lib/http.js';
import { cleanUp, startAuthServer, waitFor } from './lib/processes.js';

// Not a tempDir(): cleanUp() would try to remove it while still mounted.
const mountPoint = mkdtempSync(join(tmpdir(), 'tessera-tmpfs-'));
const mountError = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
  }
})();
if (mountError !== null) console.warn(`skipping the full-disk test: cannot mount a tmpfs here (${mountError})`);

afterAll(async () => {
  // The server first: a process with files open on the tmpfs keeps it busy.
  await cleanUp();
  if (mountError === null) execFileSync('umount', [mountPoint]);
  rmdirSync(mountPoint);
});

/** Writes a file until the file system has no room left (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [64 * 1024, 4 * 1024, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { error?: string };
}

async function call(base: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(base + path, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text === '' ? {} : JSON.parse(text) };
}

/**
 * Sends `attempt` until it is refused, at most `max` times. A write may still fit in room SQLite
 * already holds; every answer is the success `ok` or 503 with Retry-After, never a 500.
 */
async function refusedWithin(max: number, ok: number, attempt: () => Promise<Answer>): Promise<Answer> {
  let last: Answer | undefined;
  for (let i = 0; i < max; i++) {
    last = await attempt();
    if (last.status !== ok) break;
  }
  expect(last).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'temporarily_unavailable' } });
  return last as Answer;
}

describe('a full disk under the SQLite database', () => {
  it.skipIf(mountError !== null)(
    'writes answer 503 with Retry-After, /readyz fails, Bearer works, and the server recovers unaided',
    async () => {
      const cwd = join(mountPoint, 'node');
      mkdirSync(cwd);
      const server = await startAuthServer({ cwd, env: { TESSERA_KEK: Buffer.alloc(32, 7).toString('base64url') } });
      const { base } = server;
      const email = uniqueEmail('full');
      await signUp(base, email);
      const tokens = await login(base, email);
      expect((await call(base, '/readyz')).status).toBe(200);

      const filler = join(mountPoint, 'filler');
      fillDisk(filler);
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      await refusedWithin(10, 200, () =>
        call(base, '/v1/token', { body: { grant_type: 'password', username: email, password: PASSWORD } }),
      );
      await refusedWithin(10, 201, () => call(base, '/v1/users', { body: { email: uniqueEmail('full'), password: PASSWORD } }));
      let refreshToken = tokens.refresh_token;
      await refusedWithin(10, 200, async () => {
        const answer = await call(base, '/v1/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } });
        if (answer.status === 200) refreshToken = (answer.body as { refresh_token: string }).refresh_token;
        return answer;
      });
      const ready = await call(base, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.retryAfter).toBe('5');
      expect((await call(base, '/v1/me', { headers: bearer })).status).toBe(200);
      const log = server.proc.output();
      expect(log.match(/store unavailable/g)).toHaveLength(1);
      expect(log).not.toContain('unhandled error');

      rmSync(filler);
      // Readiness comes back by itself: the hold after the last failure (5 s), then a ping that writes.
      await waitFor('/readyz to answer 200 again', async () => (await call(base, '/readyz')).status === 200, { timeoutMs: 20_000 });
      // The refused rotation left the refresh token as it was: it still works.
      expect((await call(base, '/v1/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } })).status).toBe(200);
      await login(base, email);
      await signUp(base, uniqueEmail('full'));
      expect((await server.proc.stop()).code).toBe(0);
    },
  );
});
