import { Buffer, isUtf8 } from 'node:buffer';

/** Deepest nesting accepted inside a header or payload; claims never need more. */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses UTF-8 bytes as a JSON object, strictly: valid UTF-8, a top-level object
 * (not an array, string or number), no member name repeated at any level, and no
 * nesting deeper than {@link MAX_JSON_DEPTH}. Returns `undefined` when any rule fails.
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  if (!isUtf8(bytes)) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return hasUniqueMembers(text) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Walks text that `JSON.parse` already accepted and reports whether every object's member
 * names are unique (after unescaping, so `"a"` and `"\u0061"` collide) and nesting stays
 * within bounds. `JSON.parse` silently keeps the last duplicate, which lets two parsers
 * disagree about a claim; we refuse such input instead.
 */
export function hasUniqueMembers(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        j = text.indexOf('"', j);
        // Count the backslashes before this quote: an odd number escapes it.
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break;
        escaped = true;
        j++;
      }
      if (expectKey) {
        const members = stack[stack.length - 1] as Set<string>;
        const raw = text.slice(i + 1, j);
        const name = escaped || raw.includes('\\') ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
        if (members.has(name)) return false;
        members.add(name);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */) {
      if (stack.push(new Set()) > MAX_JSON_DEPTH) return false;
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      if (stack.push(null) > MAX_JSON_DEPTH) return false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
    i++;
  }
  return true;
}
