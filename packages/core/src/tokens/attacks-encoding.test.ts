import { Buffer } from 'node:buffer';
import { sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Algorithm, ErrorCodes, type SigningKey, type Verifier } from '../index.js';
import { b64, claims, expectRefused, forge, generateKeys, header, signSegments, token, verifierFor } from '../test-fixtures.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Order of the P-256 group. */
const P256_N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');

let keys: Record<Algorithm, SigningKey>;
let verifier: Verifier;

beforeAll(async () => {
  keys = await generateKeys();
  verifier = verifierFor(Object.values(keys));
});

/** Replaces segment `index` of a token. */
function withSegment(tokenText: string, index: number, value: string): string {
  const parts = tokenText.split('.');
  parts[index] = value;
  return parts.join('.');
}

/** A token whose ES256 signature segment is `sig`. */
function withSignature(tokenText: string, sig: Uint8Array): string {
  return withSegment(tokenText, 2, Buffer.from(sig).toString('base64url'));
}

/** JSON text padded with trailing spaces until its base64url length leaves a partial last group (length % 4 of 2 or 3). */
function partialGroupJson(value: unknown): string {
  let text = JSON.stringify(value);
  while ([0, 1].includes(b64(text).length % 4)) text += ' ';
  return text;
}

/** Sets the lowest bit of the last character: same decoded bytes, non-canonical text. */
function strayLowBit(segment: string): string {
  const last = ALPHABET.indexOf(segment[segment.length - 1] as string);
  return segment.slice(0, -1) + ALPHABET[last | 1];
}

describe('signature bytes', () => {
  // psychic signatures: ECDSA with r = s = 0 verified in Java 15–18, CVE-2022-21449
  it('refuses r = s = 0, r = 0 alone and s = 0 alone (ERR_TOKEN_SIGNATURE)', () => {
    const good = token(keys.ES256);
    const sig = Buffer.from(good.split('.')[2] as string, 'base64url');
    const zero = Buffer.alloc(32);
    expectRefused(verifier, withSignature(good, Buffer.alloc(64)), ErrorCodes.TOKEN_SIGNATURE);
    expectRefused(verifier, withSignature(good, Buffer.concat([zero, sig.subarray(32)])), ErrorCodes.TOKEN_SIGNATURE);
    expectRefused(verifier, withSignature(good, Buffer.concat([sig.subarray(0, 32), zero])), ErrorCodes.TOKEN_SIGNATURE);
  });

  // psychic signatures' sibling: r = s = n (the group order), which is 0 mod n
  it('refuses r = s = n (ERR_TOKEN_SIGNATURE)', () => {
    expectRefused(verifier, withSignature(token(keys.ES256), Buffer.concat([P256_N, P256_N])), ErrorCodes.TOKEN_SIGNATURE);
  });

  // signature encoding confusion: JWS ES256 is r‖s (RFC 7518 §3.4), never ASN.1 DER
  it('refuses a DER-encoded ES256 signature (ERR_TOKEN_SIGNATURE)', () => {
    const h = b64(header(keys.ES256));
    const p = b64(claims());
    const der = sign('sha256', Buffer.from(`${h}.${p}`), { key: keys.ES256.privateKey, dsaEncoding: 'der' });
    expectRefused(verifier, `${h}.${p}.${der.toString('base64url')}`, ErrorCodes.TOKEN_SIGNATURE);
  });

  // signature length confusion: truncated MACs, and trailing bytes a lenient decoder would ignore
  for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256'] as const) {
    it(`refuses a truncated or extended ${alg} signature (ERR_TOKEN_SIGNATURE)`, () => {
      const good = token(keys[alg]);
      expect(verifier.verify(good).sub).toBe('user-1');
      const sig = Buffer.from(good.split('.')[2] as string, 'base64url');
      for (const bad of [
        sig.subarray(0, sig.length - 1),
        sig.subarray(0, 16),
        sig.subarray(1),
        Buffer.concat([sig, Buffer.alloc(1)]),
        Buffer.concat([Buffer.alloc(1), sig]),
        Buffer.concat([sig, sig]),
      ]) {
        expectRefused(verifier, withSignature(good, bad), ErrorCodes.TOKEN_SIGNATURE);
      }
    });
  }
});

describe('compact serialization', () => {
  // lenient base64 decoding: Buffer.from(…, 'base64url') silently skips padding, whitespace and '+' '/' (token aliasing)
  for (const [index, name] of [
    [0, 'header'],
    [1, 'payload'],
    [2, 'signature'],
  ] as const) {
    it(`refuses padding, whitespace, '+' and '/' in the ${name} (ERR_TOKEN_MALFORMED)`, () => {
      const good = token(keys.ES256);
      const seg = good.split('.')[index] as string;
      const mid = seg.length >> 1;
      const variants = [`${seg}=`, `${seg}==`, `${seg.slice(0, mid)}=${seg.slice(mid)}`];
      for (const ws of [' ', '\n', '\t', '\r', '\u00a0']) variants.push(ws + seg, seg + ws, seg.slice(0, mid) + ws + seg.slice(mid));
      for (const ch of ['+', '/']) variants.push(seg.slice(0, mid) + ch + seg.slice(mid + 1), seg + ch);
      for (const v of variants) expectRefused(verifier, withSegment(good, index, v), ErrorCodes.TOKEN_MALFORMED);
    });
  }

  // lenient decoding of non-ASCII: latin1 and base64 passes keep only a character's low byte, so
  // U+0144 reads as 'D'; a token respelled that way would decode and sign as the original
  for (const [index, name] of [
    [0, 'header'],
    [1, 'payload'],
    [2, 'signature'],
  ] as const) {
    it(`refuses non-ASCII characters in the ${name}, also ones whose low byte is the original character (ERR_TOKEN_MALFORMED)`, () => {
      const good = token(keys.ES256);
      const seg = good.split('.')[index] as string;
      const mid = seg.length >> 1;
      const original = seg.charCodeAt(mid);
      const variants = [
        '\u0080',
        '\u00c4',
        '\u00ff',
        '\ud83d\ude00',
        String.fromCharCode(0x100 | original),
        String.fromCharCode(0xff00 | original),
      ].map((ch) => seg.slice(0, mid) + ch + seg.slice(mid + 1));
      expect(verifier.verify(good).sub).toBe('user-1'); // the header segment is known from here on
      for (const bad of variants) {
        expectRefused(verifier, withSegment(good, index, bad), ErrorCodes.TOKEN_MALFORMED);
        expectRefused(verifierFor(Object.values(keys)), withSegment(good, index, bad), ErrorCodes.TOKEN_MALFORMED); // first sight
      }
    });
  }

  it('refuses whitespace around the whole token (ERR_TOKEN_MALFORMED)', () => {
    const good = token(keys.ES256);
    for (const v of [` ${good}`, `${good} `, `${good}\n`, `\t${good}`, `Bearer ${good}`]) {
      expectRefused(verifier, v, ErrorCodes.TOKEN_MALFORMED);
    }
  });

  // non-canonical base64url: stray low bits decode to the same bytes, so one token would have many spellings
  it('refuses stray low bits in the last character of each segment (ERR_TOKEN_MALFORMED)', () => {
    const h = b64(partialGroupJson(header(keys.ES256)));
    const p = b64(partialGroupJson(claims()));
    const good = signSegments(h, p, keys.ES256);
    expect(verifier.verify(good).sub).toBe('user-1');
    expectRefused(verifier, signSegments(strayLowBit(h), p, keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    expectRefused(verifier, signSegments(h, strayLowBit(p), keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    const sig = good.split('.')[2] as string;
    expect(sig.length % 4).toBe(2);
    expectRefused(verifier, withSegment(good, 2, strayLowBit(sig)), ErrorCodes.TOKEN_MALFORMED);
  });

  it('refuses a segment whose length is 1 mod 4 (ERR_TOKEN_MALFORMED)', () => {
    const good = token(keys.ES256);
    for (const index of [0, 1, 2]) {
      const seg = good.split('.')[index] as string;
      const cut = seg.length % 4 === 0 ? `${seg}A` : seg.slice(0, seg.length - (seg.length % 4) + 1);
      expect(cut.length % 4).toBe(1);
      expectRefused(verifier, withSegment(good, index, cut), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  it('refuses 1, 2, 4 and 5 segments and empty segments (ERR_TOKEN_MALFORMED)', () => {
    const good = token(keys.ES256);
    const [h, p, s] = good.split('.') as [string, string, string];
    for (const v of ['', '.', '..', h, `${h}.${p}`, `${good}.${s}`, `${good}.`, `${h}..${s}`, `.${p}.${s}`, `${good}.${p}.${s}`]) {
      expectRefused(verifier, v, ErrorCodes.TOKEN_MALFORMED);
    }
  });

  it('refuses non-string input (ERR_TOKEN_MALFORMED)', () => {
    const good = token(keys.ES256);
    for (const v of [undefined, null, 42, {}, [good], Buffer.from(good), new String(good)]) {
      expectRefused(verifier, v, ErrorCodes.TOKEN_MALFORMED);
    }
  });
});

describe('size', () => {
  // resource exhaustion: decode and hash nothing before the size cap
  it('refuses a 1 MB token at once (ERR_TOKEN_TOO_LARGE)', () => {
    const huge = `${b64(header(keys.ES256))}.${'A'.repeat(1024 * 1024)}.${'A'.repeat(86)}`;
    expectRefused(verifier, huge, ErrorCodes.TOKEN_TOO_LARGE);
    expectRefused(verifier, 'x'.repeat(1024 * 1024), ErrorCodes.TOKEN_TOO_LARGE);
  });

  it('accepts a token exactly at maxTokenSize and refuses one character over it', () => {
    const good = token(keys.ES256, { pad: 'p'.repeat(200) });
    expect(verifierFor(Object.values(keys), { maxTokenSize: good.length }).verify(good).sub).toBe('user-1');
    expectRefused(verifierFor(Object.values(keys), { maxTokenSize: good.length - 1 }), good, ErrorCodes.TOKEN_TOO_LARGE);
  });
});

describe('payload and header bytes', () => {
  // invalid UTF-8: lossy decoding turns distinct byte strings into the same text (RFC 8259 §8.1)
  const INVALID_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82])];

  it('refuses invalid UTF-8 in the header (ERR_TOKEN_MALFORMED)', () => {
    for (const bad of INVALID_UTF8) {
      const h = Buffer.concat([Buffer.from(`{"alg":"ES256","kid":"${keys.ES256.kid}","typ":"at+jwt","x":"`), bad, Buffer.from('"}')]);
      expectRefused(verifier, forge(h, claims(), keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  it('refuses invalid UTF-8 in a validly signed payload (ERR_TOKEN_MALFORMED)', () => {
    for (const bad of INVALID_UTF8) {
      const text = JSON.stringify(claims({ name: '#' }));
      const p = Buffer.concat([Buffer.from(text.slice(0, text.indexOf('#'))), bad, Buffer.from(text.slice(text.indexOf('#') + 1))]);
      expectRefused(verifier, forge(header(keys.ES256), p, keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  it('refuses a validly signed payload that is not a JSON object (ERR_TOKEN_MALFORMED)', () => {
    for (const p of ['[1,2]', '"x"', '1', 'null', 'true', '{"sub":"a"', `${JSON.stringify(claims())} x`]) {
      expectRefused(verifier, forge(header(keys.ES256), p, keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  // duplicate claims: JSON.parse keeps the last "sub", another service's parser the first (RFC 7519 §4, RFC 8725 §3.4)
  it('refuses a duplicate claim, also spelled with an escape or nested (ERR_TOKEN_MALFORMED)', () => {
    const base = JSON.stringify(claims()).slice(0, -1);
    for (const p of [
      `${base},"sub":"admin"}`,
      `${base},"\\u0073ub":"admin"}`,
      `${base},"s\\u0075b":"user-1"}`,
      `${base},"exp":99999999999}`,
      `${base},"ctx":{"a":1,"a":2}}`,
      `${base},"list":[{"a":1},{"b":1,"b":2}]}`,
    ]) {
      expectRefused(verifier, forge(header(keys.ES256), p, keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  // prototype pollution: a "__proto__" member must stay plain data, and a repeated one is still a duplicate
  it('keeps a "__proto__" claim as data and refuses it repeated (ERR_TOKEN_MALFORMED)', () => {
    const base = JSON.stringify(claims()).slice(0, -1);
    const verified = verifier.verify(forge(header(keys.ES256), `${base},"__proto__":{"admin":true}}`, keys.ES256));
    expect(Object.getPrototypeOf(verified)).toBe(Object.prototype);
    expect((verified as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    for (const p of [`${base},"__proto__":{},"__proto__":{}}`, `${base},"__proto__":{},"\\u005f_proto__":{}}`]) {
      expectRefused(verifier, forge(header(keys.ES256), p, keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    }
  });

  // prototype pollution elsewhere in the process: inherited enumerable members are not in any token's text
  it('still counts members right when Object.prototype was polluted (no recursion, duplicates still refused)', () => {
    const base = JSON.stringify(claims()).slice(0, -1);
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.injected = { nested: {} };
    try {
      const fresh = verifierFor(Object.values(keys), { cache: false });
      expect(fresh.verify(forge(header(keys.ES256), `${base},"ctx":{"a":[{"b":1}]}}`, keys.ES256)).sub).toBe('user-1');
      expectRefused(fresh, forge(header(keys.ES256), `${base},"ctx":{"a":1,"a":2}}`, keys.ES256), ErrorCodes.TOKEN_MALFORMED);
    } finally {
      delete polluted.injected;
    }
  });

  it('accepts repeated names in different objects and escaped quotes in values', () => {
    const base = JSON.stringify(claims({ name: 'a "quoted" \\ name' })).slice(0, -1);
    const p = `${base},"x":{"sub":1},"y":[{"sub":1},{"sub":2}]}`;
    expect(verifier.verify(forge(header(keys.ES256), p, keys.ES256)).name).toBe('a "quoted" \\ name');
  });

  // deep nesting: stack exhaustion in recursive parsers and walkers
  it('refuses a 100 000-deep payload: over the default cap, and past a raised cap (ERR_TOKEN_TOO_LARGE, ERR_TOKEN_MALFORMED)', () => {
    const base = JSON.stringify(claims()).slice(0, -1);
    for (const p of [
      `${base},"d":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      `${base},"d":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
    ]) {
      const deep = forge(header(keys.ES256), p, keys.ES256);
      expectRefused(verifier, deep, ErrorCodes.TOKEN_TOO_LARGE);
      expectRefused(verifierFor(Object.values(keys), { maxTokenSize: 2_000_000 }), deep, ErrorCodes.TOKEN_MALFORMED);
    }
  });

  it('accepts nesting up to 32 levels and refuses 33 (ERR_TOKEN_MALFORMED)', () => {
    const base = JSON.stringify(claims()).slice(0, -1);
    const nested = (n: number) => forge(header(keys.ES256), `${base},"d":${'['.repeat(n)}${']'.repeat(n)}}`, keys.ES256);
    expect(verifier.verify(nested(31)).sub).toBe('user-1');
    expectRefused(verifier, nested(32), ErrorCodes.TOKEN_MALFORMED);
  });
});
