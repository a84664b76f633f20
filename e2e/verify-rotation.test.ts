// Key rotation under load: an auth server and one example service. While a few loops call
// GET /whoami back to back with valid tokens and a fresh login comes every ~100 ms, the keys
// are rotated twice with `node packages/server/dist/bin.js keys rotate` (same environment and
// data dir as the server). No request fails; within ~6 s new tokens carry the new kid and the
// service accepts them the first time it sees them (the key was published ahead as `next`, or
// the unknown kid triggers a JWKS refetch); tokens signed by the old keys still verify.
//
// Needs the build (`npm run build`).
import { performance } from 'node:perf_hooks';
import type { JwksStatus } from '@tessera/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePart, getJson, login, signUp, uniqueEmail, whoami } from './lib/http.js';
import { type AuthServer, cleanUp, rotateKeys, type Service, startAuthServer, startService, waitFor } from './lib/processes.js';

const LOAD_LOOPS = 4;
const LOGIN_EVERY_MS = 100;
/** The server re-reads keys every 5 s; a new kid must be signing (and accepted) within this of the rotate command. */
const NEW_KID_WITHIN_MS = 7_000;

interface Issued {
  token: string;
  kid: string;
  at: number;
  /** Status of the very first request with this token at the service. */
  firstStatus: number;
}

const kidOf = (token: string) => decodePart(token, 0).kid as string;

/** Parses `keys rotate` output (`kid\talg\tstate\tcreated …`) into the current kid. */
function currentKid(output: string): string {
  const line = output.split('\n').find((l) => l.split('\t')[2] === 'current');
  if (!line) throw new Error(`no current key in:\n${output}`);
  return line.split('\t')[0] as string;
}

describe('key rotation under load', () => {
  let auth: AuthServer;
  let service: Service;
  let email: string;

  beforeAll(async () => {
    auth = await startAuthServer();
    service = await startService({ issuer: auth.issuer, audience: auth.issuer });
    email = uniqueEmail('rotation');
    await signUp(auth.base, email);
  });
  afterAll(cleanUp);

  it('two rotations under load: zero failed requests, new kids verify at once, old tokens still verify', async () => {
    const jwksBefore = (await getJson<{ jwks: JwksStatus }>(`${service.base}/status`)).jwks;
    const issued: Issued[] = [];
    const failures: string[] = [];
    let requests = 0;
    let stop = false;

    const present = async (token: string): Promise<number> => {
      const r = await whoami(service.base, token);
      requests++;
      if (r.status !== 200) failures.push(`${r.status} for a token with kid ${kidOf(token)}: ${JSON.stringify(r.body)}`);
      return r.status;
    };
    const issue = async () => {
      const token = (await login(auth.base, email)).access_token;
      issued.push({ token, kid: kidOf(token), at: performance.now(), firstStatus: await present(token) });
    };
    await issue();
    const firstKid = (issued[0] as Issued).kid;

    const logins = (async () => {
      while (!stop) {
        const started = performance.now();
        await issue().catch((err) => failures.push(`login loop: ${String(err)}`));
        const rest = LOGIN_EVERY_MS - (performance.now() - started);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
    })();
    const loops = Array.from({ length: LOAD_LOOPS }, async () => {
      while (!stop) {
        const pick = issued[Math.floor(Math.random() * issued.length)] as Issued;
        await present(pick.token).catch((err) => failures.push(`load loop: ${String(err)}`));
      }
    });

    const rotations: { kid: string; newKidAfterMs: number }[] = [];
    try {
      await waitFor('some load before the first rotation', () => issued.length >= 5 && requests >= 200);
      for (let round = 0; round < 2; round++) {
        const kid = currentKid(await rotateKeys(auth));
        const rotatedAt = performance.now();
        const first = await waitFor(`a fresh token signed with ${kid}`, () => issued.find((i) => i.kid === kid && i.at > rotatedAt), {
          timeoutMs: NEW_KID_WITHIN_MS,
        });
        rotations.push({ kid, newKidAfterMs: Math.round(first.at - rotatedAt) });
        // Accepted the first time the service saw it.
        expect(first.firstStatus).toBe(200);
      }
      const settled = requests;
      await waitFor('more load after the second rotation', () => requests >= settled + 200);
    } finally {
      stop = true;
      await Promise.all([logins, ...loops]);
    }

    console.log(
      `key rotation under load: ${requests} requests, ${issued.length} logins, ${failures.length} failures; ` +
        rotations.map((r, i) => `rotation ${i + 1}: new kid signing and verified ${r.newKidAfterMs} ms after the command`).join('; '),
    );
    expect(failures).toEqual([]);
    expect(rotations.map((r) => r.kid)).not.toContain(firstKid);
    expect(new Set(rotations.map((r) => r.kid)).size).toBe(2);
    // Tokens signed by the retired keys still verify.
    for (const kid of [firstKid, rotations[0]?.kid]) {
      const old = issued.find((i) => i.kid === kid) as Issued;
      expect((await whoami(service.base, old.token)).status).toBe(200);
    }
    // The second new key was not in the JWKS the service had: it fetched again.
    const jwksAfter = (await getJson<{ jwks: JwksStatus }>(`${service.base}/status`)).jwks;
    expect(jwksAfter.fetches).toBeGreaterThan(jwksBefore.fetches);
    expect(jwksAfter.keys).toBeGreaterThanOrEqual(3);
  });
});
