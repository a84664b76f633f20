import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Algorithm, ErrorCodes, exportPublicJwk, type SigningKey, type Verifier } from '../index.js';
import {
  b64,
  claims,
  expectRefused,
  expectRefusedAsync,
  forge,
  generateKeys,
  header,
  signSegments,
  token,
  verifierFor,
} from '../test-fixtures.js';

let keys: Record<Algorithm, SigningKey>;
let attacker: Record<Algorithm, SigningKey>;
let verifier: Verifier;

beforeAll(async () => {
  [keys, attacker] = await Promise.all([generateKeys(), generateKeys()]);
  verifier = verifierFor(Object.values(keys));
});

describe('key-carrying and key-pointing headers', () => {
  // embedded jwk: the token supplies its own verification key, CVE-2018-0114 (node-jose)
  it('refuses an embedded "jwk" signed by the attacker key (ERR_TOKEN_HEADER)', async () => {
    const jwk = await exportPublicJwk(attacker.ES256);
    const ownKid = forge(header(attacker.ES256, { jwk }), claims(), attacker.ES256);
    expectRefused(verifier, ownKid, ErrorCodes.TOKEN_HEADER);
    // …and under the kid of a key the verifier does trust.
    const trustedKid = forge(header(keys.ES256, { jwk }), claims(), attacker.ES256);
    expectRefused(verifier, trustedKid, ErrorCodes.TOKEN_HEADER);
  });

  // x5c: an attacker-made certificate chain carried in the token (key injection via x5c)
  it('refuses "x5c" (ERR_TOKEN_HEADER)', () => {
    const der = attacker.ES256.key.export({ type: 'spki', format: 'der' }).toString('base64');
    expectRefused(verifier, forge(header(attacker.ES256, { x5c: [der] }), claims(), attacker.ES256), ErrorCodes.TOKEN_HEADER);
    expectRefused(verifier, forge(header(keys.ES256, { x5c: [der] }), claims(), keys.ES256), ErrorCodes.TOKEN_HEADER);
  });

  describe('jku and x5u pointing at a listener', () => {
    // jku / x5u: SSRF and key injection through a header URL (RFC 8725 §3.10)
    let server: Server;
    let hits = 0;
    let base = '';

    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url !== '/probe') hits++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** One request of our own: once it is answered, any request the verifier had started has reached the server too. */
    function probe(): Promise<void> {
      return new Promise((resolve, reject) => {
        get(`${base}/probe`, { agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    }

    for (const member of ['jku', 'x5u'] as const) {
      it(`refuses "${member}" and never fetches it (ERR_TOKEN_HEADER)`, async () => {
        const url = `${base}/${member}.json`;
        const hostile = forge(header(attacker.ES256, { [member]: url }), claims(), attacker.ES256);
        expectRefused(verifier, hostile, ErrorCodes.TOKEN_HEADER);
        await expectRefusedAsync(verifier, hostile, ErrorCodes.TOKEN_HEADER);
        const withTrustedKid = forge(header(keys.ES256, { [member]: url }), claims(), keys.ES256);
        expectRefused(verifier, withTrustedKid, ErrorCodes.TOKEN_HEADER);
        await probe();
        expect(hits).toBe(0);
      });
    }
  });
});

describe('kid', () => {
  // kid injection: path traversal, SQL injection (RFC 8725 §3.10) and prototype keys used as lookups
  for (const kid of ['../../etc/passwd', "' OR 1=1 --", '__proto__', 'constructor', 'toString', '/dev/null', 'hasOwnProperty']) {
    it(`treats kid ${JSON.stringify(kid)} as unknown (ERR_TOKEN_KEY)`, () => {
      expectRefused(verifier, forge(header(attacker.ES256, { kid }), claims(), attacker.ES256), ErrorCodes.TOKEN_KEY);
    });
  }

  it('refuses a 10 KB kid at the size cap, and past a raised cap at the header (ERR_TOKEN_TOO_LARGE, ERR_TOKEN_HEADER)', () => {
    const hostile = forge(header(attacker.ES256, { kid: 'k'.repeat(10 * 1024) }), claims(), attacker.ES256);
    expectRefused(verifier, hostile, ErrorCodes.TOKEN_TOO_LARGE);
    expectRefused(verifierFor(Object.values(keys), { maxTokenSize: 65536 }), hostile, ErrorCodes.TOKEN_HEADER);
  });

  it('refuses a missing, empty or non-string kid (ERR_TOKEN_HEADER)', () => {
    for (const kid of [undefined, '', 42, null, ['a'], { a: 1 }]) {
      expectRefused(verifier, forge(header(keys.ES256, { kid }), claims(), keys.ES256), ErrorCodes.TOKEN_HEADER);
    }
  });
});

describe('crit, b64 and zip', () => {
  // crit: an extension we do not implement must fail closed (RFC 7515 §4.1.11)
  it('refuses an unknown "crit" (ERR_TOKEN_HEADER)', () => {
    const hostile = forge(header(keys.ES256, { crit: ['exp-ext'], 'exp-ext': 1 }), claims(), keys.ES256);
    expectRefused(verifier, hostile, ErrorCodes.TOKEN_HEADER);
    expectRefused(verifier, forge(header(keys.ES256, { crit: [] }), claims(), keys.ES256), ErrorCodes.TOKEN_HEADER);
  });

  // b64:false: unencoded payload (RFC 7797) would change what the signature covers
  it('refuses "b64": false with and without crit (ERR_TOKEN_HEADER)', () => {
    expectRefused(verifier, forge(header(keys.ES256, { b64: false, crit: ['b64'] }), claims(), keys.ES256), ErrorCodes.TOKEN_HEADER);
    expectRefused(verifier, forge(header(keys.ES256, { b64: false }), claims(), keys.ES256), ErrorCodes.TOKEN_HEADER);
  });

  // zip in a JWS: decompression bombs and parser differentials
  it('refuses "zip" (ERR_TOKEN_HEADER)', () => {
    expectRefused(verifier, forge(header(keys.ES256, { zip: 'DEF' }), claims(), keys.ES256), ErrorCodes.TOKEN_HEADER);
  });
});

describe('typ', () => {
  // token confusion: an ID token or plain JWT presented as an access token (RFC 9068 §4, RFC 8725 §3.11)
  for (const typ of ['JWT', 'jwt', 'at+JWT ', 'application/jwt', 'dpop+jwt', 'id_token', 42, null, undefined]) {
    it(`refuses typ ${JSON.stringify(typ) ?? 'missing'} (ERR_TOKEN_TYPE)`, () => {
      expectRefused(verifier, token(keys.ES256, {}, { typ }), ErrorCodes.TOKEN_TYPE);
    });
  }

  for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+JWT']) {
    it(`accepts typ ${JSON.stringify(typ)}`, () => {
      expect(verifier.verify(token(keys.ES256, {}, { typ })).sub).toBe('user-1');
    });
  }
});

describe('duplicate header members', () => {
  // parser differential: JSON.parse keeps the last duplicate, other parsers the first (RFC 7515 §5.2, RFC 8725 §3.4)
  it('refuses a repeated member, even one that repeats the same value (ERR_TOKEN_MALFORMED)', () => {
    const { kid } = keys.ES256;
    const twoAlgs = `{"alg":"none","alg":"ES256","kid":"${kid}","typ":"at+jwt"}`;
    const sameKid = `{"alg":"ES256","kid":"${kid}","kid":"${kid}","typ":"at+jwt"}`;
    const escaped = `{"alg":"ES256","kid":"${kid}","typ":"at+jwt","\\u0074yp":"at+jwt"}`;
    for (const h of [twoAlgs, sameKid, escaped]) {
      expectRefused(verifier, signSegments(b64(h), b64(claims()), keys.ES256, 'ES256'), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  it('refuses a header that is not a JSON object (ERR_TOKEN_MALFORMED)', () => {
    for (const h of ['[1,2]', '"ES256"', '1', 'null', '{', `{"alg":"ES256"}x`]) {
      expectRefused(verifier, signSegments(b64(h), b64(claims()), keys.ES256, 'ES256'), ErrorCodes.TOKEN_MALFORMED);
    }
  });
});
