import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeAsciiSegment, isCanonicalBase64url } from './base64url.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SEGMENT = Buffer.from('{"sub":"user-1","scope":"read write"}').toString('base64url');

describe('decodeAsciiSegment', () => {
  it('decodes canonical segments of every length class, inside a larger text', () => {
    for (const n of [1, 2, 3, 31, 32, 33, 256]) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      const seg = bytes.toString('base64url');
      const text = `x.${seg}.y`;
      expect(decodeAsciiSegment(text, 2, 2 + seg.length)).toEqual(bytes);
      expect(isCanonicalBase64url(seg)).toBe(true);
    }
  });

  it('refuses empty segments, lengths of 1 mod 4 and stray low bits in the last character', () => {
    expect(decodeAsciiSegment('', 0, 0)).toBeUndefined();
    expect(decodeAsciiSegment('QUJDR', 0, 5)).toBeUndefined();
    for (const seg of ['QR', 'QUK', 'QUJDRF']) {
      expect(Buffer.from(seg, 'base64url').toString('base64url')).not.toBe(seg);
      expect(decodeAsciiSegment(seg, 0, seg.length)).toBeUndefined();
      expect(isCanonicalBase64url(seg)).toBe(false);
    }
  });

  // The decoder behaviour the byte count relies on: every ASCII character outside the alphabet
  // but '+' and '/' is skipped or ends decoding. A Node release that changed this fails here.
  it('refuses every other ASCII character at any position, because Node decodes it to fewer bytes', () => {
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      if (ALPHABET.includes(ch) || ch === '+' || ch === '/') continue;
      for (const at of [0, 1, 2, 3, SEGMENT.length >> 1, SEGMENT.length - 1]) {
        const replaced = SEGMENT.slice(0, at) + ch + SEGMENT.slice(at + 1);
        const inserted = SEGMENT.slice(0, at) + ch + SEGMENT.slice(at);
        for (const seg of [replaced, inserted]) {
          expect(decodeAsciiSegment(seg, 0, seg.length), JSON.stringify(seg)).toBeUndefined();
          expect(isCanonicalBase64url(seg)).toBe(false);
        }
      }
    }
  });

  it('reads "+" and "/" as alphabet characters, which is why callers refuse them first', () => {
    expect(Buffer.from('ab+/', 'base64url')).toEqual(Buffer.from('ab-_', 'base64url'));
    expect(isCanonicalBase64url('ab+/')).toBe(false);
  });
});
