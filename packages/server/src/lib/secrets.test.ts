import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  parseRefreshToken,
  parseSessionCookie,
  randomId,
  randomSecret,
  ServerSecrets,
  safeEqual,
  sha256Hex,
  sha256Matches,
} from './secrets.js';

describe('secrets', () => {
  it('sha256Hex is lowercase hex SHA-256 of the UTF-8 text', () => {
    for (const text of ['', 'abc', 'pässwörd ✓', randomSecret()]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
  });

  it('sha256Matches accepts only the hash of the very secret', () => {
    const secret = randomSecret();
    const stored = sha256Hex(secret);
    expect(sha256Matches(secret, stored)).toBe(true);
    expect(sha256Matches(`${secret}x`, stored)).toBe(false);
    expect(sha256Matches(secret.slice(1), stored)).toBe(false);
    // One character off anywhere, first to last, is a mismatch.
    for (let i = 0; i < stored.length; i++) {
      const flipped = stored.slice(0, i) + (stored[i] === '0' ? '1' : '0') + stored.slice(i + 1);
      expect(sha256Matches(secret, flipped)).toBe(false);
    }
    expect(sha256Matches(secret, stored.toUpperCase() === stored ? `${stored}0` : stored.toUpperCase())).toBe(false);
    expect(sha256Matches(secret, stored.slice(0, 63))).toBe(false);
    expect(sha256Matches(secret, `${stored}0`)).toBe(false);
    expect(sha256Matches(secret, '')).toBe(false);
  });

  it('safeEqual compares whole strings', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('é', 'e\u0301')).toBe(false);
  });

  it('csrfToken is a function of the KEK and the session id alone: 43 base64url characters, never the id', () => {
    const kek = randomBytes(32);
    const sid = randomId();
    const token = new ServerSecrets(kek).csrfToken(sid);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Another instance over the same key (a restart, another node) derives the same token.
    expect(new ServerSecrets(Buffer.from(kek)).csrfToken(sid)).toBe(token);
    expect(new ServerSecrets(randomBytes(32)).csrfToken(sid)).not.toBe(token);
    expect(new ServerSecrets(kek).csrfToken(randomId())).not.toBe(token);
    expect(token).not.toContain(sid);
    // Its own key: not the refresh-rotation key's output for the same input.
    expect(Object.values(new ServerSecrets(kek).successor(sid, ''))).not.toContain(token);
  });

  it('parses only well-formed session cookies and refresh tokens', () => {
    const sid = randomId();
    const secret = randomSecret();
    expect(parseSessionCookie(`${sid}.${secret}`)).toEqual({ sid, secret });
    for (const bad of [`${sid}:${secret}`, `${sid}.${secret}=`, `${sid.slice(1)}.${secret}x`, `${sid}.${secret.slice(1)}+`, 42, null]) {
      expect(parseSessionCookie(bad)).toBeNull();
    }
    expect(parseRefreshToken(`rt_${sid}${secret}`)).toEqual({ id: sid, secret });
    expect(parseRefreshToken(`rt_${sid}${secret}=`)).toBeNull();
    expect(parseRefreshToken(`RT_${sid}${secret}`)).toBeNull();
  });
});
