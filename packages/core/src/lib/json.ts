import { Buffer, isUtf8 } from 'node:buffer';

/** Deepest nesting accepted inside a header or payload; claims never need more. */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses UTF-8 bytes as a JSON object, strictly: valid UTF-8, a top-level object
 * (not an array, string or number), no member name repeated at any level, and no
 * nesting deeper than {@link MAX_JSON_DEPTH}. Returns `undefined` when any rule fails.
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
  // The decoder replaces every invalid sequence with U+FFFD, so text without one came from valid
  // UTF-8; only text holding one (invalid input, or a genuine U+FFFD) needs the full check.
  if (text.includes('\uFFFD') && !isUtf8(bytes)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return uniqueMembers(text, value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Reports whether every object in JSON `text` (which `JSON.parse` accepts) has unique member
 * names, after unescaping, so `"a"` and `"\u0061"` collide, and nesting stays within
 * {@link MAX_JSON_DEPTH}. `JSON.parse` silently keeps the last duplicate, which lets two
 * parsers disagree about a claim; we refuse such input instead.
 */
export function hasUniqueMembers(text: string): boolean {
  return uniqueMembers(text, JSON.parse(text) as unknown);
}

/**
 * `JSON.parse` keeps one member per distinct name, so the text has a repeated name somewhere
 * exactly when it spells more member names than the parsed value holds members. Counting both
 * sides needs no set of names and no unescaping, and is the same check as comparing names.
 */
function uniqueMembers(text: string, value: unknown): boolean {
  const names = countMemberNames(text);
  // for...in also walks enumerable members inherited from a polluted Object.prototype (which no
  // JSON text spells): then each name is checked to be the object's own.
  return names >= 0 && names === countMembers(value, prototypePolluted());
}

const EMPTY: Record<string, unknown> = {};

/** True when Object.prototype (or anything else every plain object inherits) has an enumerable member. */
function prototypePolluted(): boolean {
  for (const name in EMPTY) if (name !== undefined) return true;
  return false;
}

// Kind of each open container while walking: 1 for an object, 0 for an array.
const OPEN = new Uint8Array(MAX_JSON_DEPTH);

/** Member names spelled in `text` (valid JSON), or -1 when nesting exceeds {@link MAX_JSON_DEPTH}. */
function countMemberNames(text: string): number {
  let depth = 0;
  let names = 0;
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      if (expectKey) {
        names++;
        expectKey = false;
      }
      // Skip to the closing quote: one preceded by an even number of backslashes.
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      if (depth === MAX_JSON_DEPTH) return -1;
      OPEN[depth++] = 1;
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      if (depth === MAX_JSON_DEPTH) return -1;
      OPEN[depth++] = 0;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      expectKey = OPEN[depth - 1] === 1;
    }
  }
  return names;
}

/**
 * Members of every object inside a parsed JSON value. `JSON.parse` creates plain objects whose
 * members are all own and enumerable (and never touches the prototype, even for `__proto__`), so
 * `for...in` counts exactly them without the array `Object.values` would allocate. With
 * `ownOnly` (Object.prototype was polluted, see {@link uniqueMembers}) inherited names are skipped.
 */
function countMembers(value: unknown, ownOnly: boolean): number {
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) n += countMembers(v, ownOnly);
    }
    return n;
  }
  const object = value as Record<string, unknown>;
  for (const name in object) {
    if (ownOnly && !Object.hasOwn(object, name)) continue;
    n++;
    const v = object[name];
    if (typeof v === 'object' && v !== null) n += countMembers(v, ownOnly);
  }
  return n;
}
