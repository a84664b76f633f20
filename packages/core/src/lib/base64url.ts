import { Buffer } from 'node:buffer';

// Value of each base64url character, -1 for anything outside the alphabet.
const VALUE = new Int8Array(128).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** True when `s` is non-empty, uses only `[A-Za-z0-9_-]`, and is the canonical (unpadded) encoding of some bytes. */
export function isCanonicalBase64url(s: string, start = 0, end = s.length): boolean {
  const len = end - start;
  if (len === 0 || len % 4 === 1) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || VALUE[c] === -1) return false;
  }
  // Non-canonical encodings set bits that decoding throws away; two strings must never decode to the same bytes.
  const last = VALUE[s.charCodeAt(end - 1)] as number;
  const rem = len % 4;
  if (rem === 2) return (last & 0x0f) === 0;
  if (rem === 3) return (last & 0x03) === 0;
  return true;
}

const TAIL_MASK = [0, 0, 0x0f, 0x03];

/**
 * Decodes `text.slice(start, end)` when it is non-empty canonical base64url, else returns
 * `undefined`. The caller has already made sure that `text` is ASCII and holds no '+' or '/'
 * in that range. Node's decoder reads '+' and '/' as 62 and 63, but skips every other byte
 * outside the alphabet (whitespace, '.', controls) and stops at '=': any such character leaves
 * fewer bytes than the segment's length implies, so an exact byte count proves the alphabet and
 * the absence of padding without a character scan in JavaScript. The last character must carry
 * no stray low bits, so that two strings never decode to the same bytes.
 */
export function decodeAsciiSegment(text: string, start: number, end: number): Buffer | undefined {
  const len = end - start;
  const rem = len & 3;
  if (len === 0 || rem === 1) return undefined;
  const bytes = Buffer.from(text.slice(start, end), 'base64url');
  if (bytes.length !== (len * 3) >> 2) return undefined;
  return ((VALUE[text.charCodeAt(end - 1)] as number) & (TAIL_MASK[rem] as number)) === 0 ? bytes : undefined;
}

/** Decodes a segment already checked by {@link isCanonicalBase64url}. */
export function decodeBase64url(s: string): Buffer {
  return Buffer.from(s, 'base64url');
}

/** Encodes bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength)).toString(
    'base64url',
  );
}
