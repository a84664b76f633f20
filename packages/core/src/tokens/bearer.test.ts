import { describe, expect, it } from 'vitest';
import { bearerCredential } from './bearer.js';

describe('bearerCredential', () => {
  it('reads the token after the scheme, in any case, trimmed', () => {
    expect(bearerCredential('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerCredential('bearer abc')).toBe('abc');
    expect(bearerCredential('BEARER   abc  ')).toBe('abc');
  });

  it('no value or another scheme: no Bearer credential (null)', () => {
    for (const value of [undefined, '', 'Basic dXNlcjpwYXNz', 'Token abc', 'Bearerabc', 'Digest', 'abc.def.ghi']) {
      expect(bearerCredential(value), String(value)).toBeNull();
    }
  });

  it('malformed: a Bearer without a token, or two values joined by a comma (false)', () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer    ', 'bearer\t', 'Bearer a, Bearer b', 'Bearer a,b']) {
      expect(bearerCredential(value), value).toBe(false);
    }
  });
});
