import { isIPv4, isIPv6 } from 'node:net';

/**
 * The identity a per-address limit counts a client under. An IPv6 client usually holds a whole
 * /64 (its provider routes one to each customer), so counting full addresses would give it 2^64
 * fresh allowances: an IPv6 address counts as its /64 prefix. An IPv4-mapped IPv6 address
 * (`::ffff:198.51.100.7`, how a dual-stack socket reports an IPv4 peer) counts as the IPv4 address
 * it carries. Anything else (an IPv4 address, an unparseable value) is used as it is.
 *
 * @example
 * clientAddressKey('2001:db8:1:2:a:b:c:d') // '2001:db8:1:2::/64'
 * clientAddressKey('::ffff:198.51.100.7')  // '198.51.100.7'
 */
export function clientAddressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  if (groups === null) return address;
  // ::ffff:a.b.c.d — the last two groups are the IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or null if it cannot be read. */
function expandIPv6(address: string): number[] | null {
  let text = address.split('%')[0] ?? '';
  // A trailing dotted IPv4 part stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted !== undefined && isIPv4(dotted)) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
