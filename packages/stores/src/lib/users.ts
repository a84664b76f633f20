import type { RoleChange } from '../types.js';

/**
 * Applies a {@link RoleChange} to `roles`: `set` replaces them, then `grant` adds and `revoke`
 * removes. The result is unique and sorted by code point, so every backend stores one form and
 * two changes that end with the same roles store the same array.
 */
export function applyRoleChange(roles: readonly string[], change: RoleChange): string[] {
  const next = new Set(change.set ?? roles);
  for (const role of change.grant ?? []) next.add(role);
  for (const role of change.revoke ?? []) next.delete(role);
  return [...next].sort(compareCodePoints);
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 form: the order
 * of SQLite's BINARY and PostgreSQL's "C" collation. JavaScript's `<` compares UTF-16 code units,
 * which differs for characters above U+FFFF against those from U+E000 to U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate (a code point above U+FFFF) sorts after any non-surrogate unit at or above U+E000.
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
