import { describe, expect, it } from 'vitest';
import { clientAddressKey } from './client-address.js';

// Per-address throttles and the connection cap counted each full IPv6 address: a client holding
// one /64 had 2^64 fresh allowances (25 sign-ups from 25 addresses of one /64 all went through).
describe('clientAddressKey: one identity per /64', () => {
  it('counts every address of one IPv6 /64 as one client, whatever its spelling', () => {
    const key = clientAddressKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const a of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::abcd%eth0']) {
      expect(clientAddressKey(a)).toBe(key);
    }
    expect(clientAddressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('counts an IPv4-mapped address as the IPv4 address it carries', () => {
    expect(clientAddressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(clientAddressKey('::ffff:c633:6407')).toBe('198.51.100.7');
  });

  it('leaves IPv4 addresses and anything unreadable as they are', () => {
    expect(clientAddressKey('198.51.100.7')).toBe('198.51.100.7');
    expect(clientAddressKey('not an address')).toBe('not an address');
  });
});
