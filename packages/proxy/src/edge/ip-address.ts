/**
 * IP address text <-> bytes, shared by trust-proxy.ts (CIDR matching) and client-limits.ts (per-client keys).
 *
 * Every address is held as 16 bytes; an IPv4 address is stored IPv4-mapped (`::ffff:a.b.c.d`), so the IPv4 range
 * `10.0.0.0/8` and a dual-stack socket's `::ffff:10.1.2.3` compare with one code path, exactly as Node's own
 * `net.BlockList` does. Hand-written instead of `net.BlockList` because the same parse also has to validate
 * forwarded-header entries and mask IPv6 clients to their subnet, which BlockList cannot do.
 *
 * @internal
 * @packageDocumentation
 */

/**
 * A parsed address: 16 bytes (IPv4 mapped into `::ffff:0:0/96`) and the family it was written in.
 *
 * @example
 * ```ts
 * const ip: IpAddress | undefined = parseIp('192.0.2.1'); // { family: 4, bytes: ::ffff:c000:201 }
 * ```
 * @internal
 */
export interface IpAddress {
  readonly bytes: Uint8Array;
  readonly family: 4 | 6;
}

/**
 * Bits in front of an IPv4 address once it is mapped into IPv6 space (`::ffff:0:0/96`).
 *
 * @example
 * ```ts
 * const bitsOf10Slash8 = IPV4_MAPPED_PREFIX_BITS + 8; // 104
 * ```
 * @internal
 */
export const IPV4_MAPPED_PREFIX_BITS = 96;
const IPV6_GROUPS = 8;
const MAX_HEX_DIGITS = 4;
/** Zone ids Node reports for link-local sockets, e.g. `fe80::1%eth0`; kept conservative (RFC 6874 unreserved). */
const ZONE_ID = /^[A-Za-z0-9._~-]+$/;

/**
 * Parses dotted-quad IPv4 text into a 32-bit number, or -1. Leading zeros are refused ("010" might be octal to
 * some other parser, and an ambiguity between two parsers of the same header is how spoofing starts); Node's
 * `net.isIPv4` refuses them too.
 */
function parseIPv4(text: string): number {
  let value = 0;
  let parts = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 0x2e /* . */) continue;
    const len = i - start;
    if (len < 1 || len > 3 || (len > 1 && text.charCodeAt(start) === 0x30 /* 0 */)) return -1;
    let octet = 0;
    for (let j = start; j < i; j++) {
      const d = text.charCodeAt(j) - 0x30;
      if (d < 0 || d > 9) return -1;
      octet = octet * 10 + d;
    }
    if (octet > 255) return -1;
    value = value * 256 + octet;
    parts++;
    start = i + 1;
  }
  return parts === 4 ? value : -1;
}

/** Parses one 1-4 digit hex group, or -1. */
function parseHexGroup(text: string): number {
  if (text.length < 1 || text.length > MAX_HEX_DIGITS) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

/** Turns `a:b:c` (possibly ending in dotted IPv4 when `last`) into 16-bit groups; undefined when malformed. */
function parseGroups(text: string, last: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (last && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 < 0) return undefined;
      groups.push(Math.floor(v4 / 0x10000), v4 & 0xffff);
    } else {
      const g = parseHexGroup(part);
      if (g < 0) return undefined;
      groups.push(g);
    }
  }
  return groups;
}

function parseIPv6(text: string): Uint8Array | undefined {
  const pct = text.indexOf('%');
  if (pct >= 0) {
    // The zone only says which interface; it takes no part in matching, so it is validated and dropped.
    if (!ZONE_ID.test(text.slice(pct + 1))) return undefined;
    text = text.slice(0, pct);
  }
  const gap = text.indexOf('::');
  let groups: number[];
  if (gap < 0) {
    const all = parseGroups(text, true);
    if (all === undefined || all.length !== IPV6_GROUPS) return undefined;
    groups = all;
  } else {
    if (text.indexOf('::', gap + 1) >= 0) return undefined;
    const head = parseGroups(text.slice(0, gap), false);
    const tail = parseGroups(text.slice(gap + 2), true);
    // "::" stands for at least one zero group (Node accepts it for exactly one, so do we).
    if (head === undefined || tail === undefined || head.length + tail.length > IPV6_GROUPS - 1) return undefined;
    groups = [...head, ...new Array<number>(IPV6_GROUPS - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < IPV6_GROUPS; i++) {
    bytes[2 * i] = groups[i] >> 8;
    bytes[2 * i + 1] = groups[i] & 0xff;
  }
  return bytes;
}

/**
 * Parses an IPv4 or IPv6 address (no brackets, no port; an IPv6 zone id is accepted and ignored). Accepts exactly
 * what Node's `net.isIP()` accepts, apart from zone ids outside RFC 6874's unreserved characters.
 *
 * @example
 * ```ts
 * parseIp('::ffff:10.0.0.1')?.family; // 6
 * parseIp('10.0.0.1')?.bytes[15]; // 1
 * parseIp('10.0.0.256'); // undefined
 * ```
 * @internal
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes === undefined ? undefined : { bytes, family: 6 };
  }
  const v4 = parseIPv4(text);
  if (v4 < 0) return undefined;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes[12] = v4 >>> 24;
  bytes[13] = (v4 >>> 16) & 0xff;
  bytes[14] = (v4 >>> 8) & 0xff;
  bytes[15] = v4 & 0xff;
  return { bytes, family: 4 };
}

/**
 * True when the first `bits` bits of `address` equal those of `network`.
 *
 * @example
 * ```ts
 * const net = parseIp('10.0.0.0')!.bytes;
 * matchesPrefix(parseIp('::ffff:10.9.9.9')!.bytes, net, 96 + 8); // true
 * ```
 * @internal
 */
export function matchesPrefix(address: Uint8Array, network: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== network[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole] & mask) === (network[whole] & mask);
}

/**
 * A copy of `address` with every bit after the first `bits` cleared.
 *
 * @example
 * ```ts
 * formatIp(maskIp(parseIp('2001:db8::1')!.bytes, 64)); // '2001:db8::'
 * ```
 * @internal
 */
export function maskIp(address: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  const whole = bits >>> 3;
  out.set(address.subarray(0, whole));
  const rest = bits & 7;
  if (rest !== 0) out[whole] = address[whole] & (0xff << (8 - rest));
  return out;
}

/**
 * True for `::ffff:0:0/96`, the IPv4-mapped block (where {@link parseIp} puts every IPv4 address).
 *
 * @example
 * ```ts
 * isIPv4Mapped(parseIp('192.0.2.1')!.bytes); // true
 * isIPv4Mapped(parseIp('2001:db8::1')!.bytes); // false
 * ```
 * @internal
 */
export function isIPv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Canonical text: dotted quad for IPv4 and IPv4-mapped addresses, RFC 5952 lowercase compressed form for IPv6.
 * One client then has one spelling, whichever socket family or header it arrived through.
 *
 * @example
 * ```ts
 * formatIp(parseIp('::FFFF:10.0.0.1')!.bytes); // '10.0.0.1'
 * formatIp(parseIp('2001:DB8:0:0:0:0:0:1')!.bytes); // '2001:db8::1'
 * ```
 * @internal
 */
export function formatIp(bytes: Uint8Array): string {
  if (isIPv4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < IPV6_GROUPS; i++) groups.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < IPV6_GROUPS; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < IPV6_GROUPS && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Canonical spelling of an address ({@link formatIp}), or `undefined` when `text` is not an IP address.
 *
 * @example
 * ```ts
 * normalizeIp('::ffff:127.0.0.1'); // '127.0.0.1'
 * normalizeIp('not an ip'); // undefined
 * ```
 * @internal
 */
export function normalizeIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip.bytes);
}
