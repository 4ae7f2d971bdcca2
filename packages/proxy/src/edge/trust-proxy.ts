/**
 * Which peers may tell us who the client is (`trustProxy`), and who the client then is.
 *
 * Semantics follow Express's `trust proxy` (proxy-addr): start at the socket's peer, and while the current hop is
 * trusted, step one entry left in the forwarding chain; the first untrusted address is the client. Entries left of
 * it were written by the client itself and are never believed.
 *
 * @packageDocumentation
 */
import { InvalidOptionError } from '../errors';
import { formatIp, IPV4_MAPPED_PREFIX_BITS, matchesPrefix, parseIp } from './ip-address';

/**
 * Decides whether one hop may be believed about the hop before it.
 *
 * @example
 * ```ts
 * const policy: TrustPolicy = createTrustPolicy(['loopback']);
 * policy.isTrusted('::ffff:127.0.0.1'); // true
 * ```
 */
export interface TrustPolicy {
  /** True when `address` (an IP address without brackets or port) is a trusted proxy. Never throws for bad text. */
  isTrusted(address: string): boolean;
}

/**
 * What `trustProxy` accepts.
 *
 * - `false` (the default a careful operator wants): no peer is trusted; forwarding headers are ignored.
 * - `true`: every peer is trusted, so the left-most forwarded address wins, which the client itself can write.
 *   Only for a proxy that is reachable solely through a front balancer that overwrites the header.
 * - a list of IP addresses, CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `::ffff:10.0.0.0/104`) and preset names
 *   (see {@link TRUST_PRESETS}).
 * - a function, called with each hop's address in canonical form (IPv4-mapped peers as a dotted quad; no
 *   brackets, port or zone id); it must not throw.
 *
 * @example
 * ```ts
 * import { createProxy, type TrustProxySetting } from '@switchboard/proxy';
 * const trust: TrustProxySetting = ['loopback', '10.0.0.0/8'];
 * createProxy({ backends: ['http://127.0.0.1:9001'], trustProxy: trust });
 * ```
 * @group Options
 */
export type TrustProxySetting = boolean | readonly string[] | ((address: string) => boolean);

/**
 * Named ranges accepted in a `trustProxy` list, the same three names as Express.
 *
 * @example
 * ```ts
 * import { TRUST_PRESETS } from '@switchboard/proxy';
 * console.log(TRUST_PRESETS.uniquelocal); // ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
 * ```
 * @group Options
 */
export const TRUST_PRESETS: Readonly<Record<'loopback' | 'linklocal' | 'uniquelocal', readonly string[]>> = Object.freeze({
  loopback: Object.freeze(['127.0.0.0/8', '::1/128']),
  linklocal: Object.freeze(['169.254.0.0/16', 'fe80::/10']),
  uniquelocal: Object.freeze(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
});

interface Range {
  readonly network: Uint8Array;
  readonly bits: number;
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;
const DECIMAL = /^[0-9]{1,3}$/;

/** Parses `addr` or `addr/bits` into a 128-bit range; undefined when malformed. */
function parseRange(text: string): Range | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined || (slash >= 0 && text.slice(0, slash).includes('%'))) return undefined;
  const max = ip.family === 4 ? IPV4_BITS : IPV6_BITS;
  let bits = max;
  if (slash >= 0) {
    const suffix = text.slice(slash + 1);
    if (!DECIMAL.test(suffix)) return undefined;
    bits = Number(suffix);
    if (bits > max) return undefined;
  }
  // IPv4 lives in ::ffff:0:0/96, so an IPv4 prefix also matches the IPv4-mapped form Node gives dual-stack sockets.
  return { network: ip.bytes, bits: ip.family === 4 ? IPV4_MAPPED_PREFIX_BITS + bits : bits };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

/**
 * Builds a {@link TrustPolicy} from a `trustProxy` setting, validating it up front.
 *
 * @throws {@link InvalidOptionError} (`ERR_INVALID_OPTION`) when the setting or a list entry is malformed.
 *
 * @example
 * ```ts
 * const policy = createTrustPolicy(['loopback', '10.0.0.0/8', '2001:db8::/32']);
 * policy.isTrusted('10.1.2.3'); // true
 * policy.isTrusted('::ffff:10.1.2.3'); // true: IPv4-mapped form from a dual-stack socket
 * policy.isTrusted('192.0.2.1'); // false
 * ```
 */
export function createTrustPolicy(trust: TrustProxySetting): TrustPolicy {
  if (trust === true) return { isTrusted: () => true };
  if (trust === false) return { isTrusted: () => false };
  if (typeof trust === 'function') return { isTrusted: (address) => trust(address) };
  if (!Array.isArray(trust)) {
    throw new InvalidOptionError(
      `trustProxy must be true, false, an array of IP addresses, CIDR ranges or preset names, or a function, got ${describe(trust)}`,
    );
  }
  const ranges: Range[] = [];
  const entries = trust as readonly unknown[];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const text = typeof entry === 'string' ? entry.trim() : '';
    const specs = Object.hasOwn(TRUST_PRESETS, text) ? TRUST_PRESETS[text as keyof typeof TRUST_PRESETS] : [text];
    for (const spec of specs) {
      const range = parseRange(spec);
      if (range === undefined) {
        throw new InvalidOptionError(
          `trustProxy[${i}] must be an IP address, a CIDR range such as 10.0.0.0/8 or fd00::/8, or one of 'loopback', 'linklocal', 'uniquelocal', got ${describe(entry)}`,
        );
      }
      ranges.push(range);
    }
  }
  return {
    isTrusted(address: string): boolean {
      if (ranges.length === 0) return false;
      const ip = parseIp(address);
      if (ip === undefined) return false;
      for (const r of ranges) if (matchesPrefix(ip.bytes, r.network, r.bits)) return true;
      return false;
    },
  };
}

const PORT = /^[0-9]{1,5}$/;
const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;

/** True for a port after an address: 0-65535 in digits, or an RFC 7239 obfuscated port (`_abc`) when `obfPort`. */
function isPort(text: string, obfPort: boolean): boolean {
  return (PORT.test(text) && Number(text) <= 65535) || (obfPort && OBFUSCATED.test(text));
}

/**
 * An address written as `a.b.c.d`, `a.b.c.d:port`, `x:x::x`, `[x:x::x]` or `[x:x::x]:port` -> canonical address,
 * or undefined when it is anything else. `bareIPv6` is false for RFC 7239, where IPv6 must be bracketed.
 */
function parseNode(text: string, bareIPv6: boolean, obfPort: boolean): string | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    const rest = text.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1), obfPort))) return undefined;
    const ip = parseIp(text.slice(1, close));
    return ip?.family === 6 ? formatIp(ip.bytes) : undefined;
  }
  const colon = text.indexOf(':');
  if (colon >= 0 && text.indexOf(':', colon + 1) < 0) {
    // Exactly one colon: IPv4 with a port (some balancers, e.g. Azure, put ports into X-Forwarded-For).
    if (!isPort(text.slice(colon + 1), obfPort)) return undefined;
    const ip = parseIp(text.slice(0, colon));
    return ip?.family === 4 ? formatIp(ip.bytes) : undefined;
  }
  const ip = parseIp(text);
  if (ip === undefined || (ip.family === 6 && !bareIPv6)) return undefined;
  return formatIp(ip.bytes);
}

const OWS = /^[ \t]+|[ \t]+$/g;

/** One X-Forwarded-For entry -> canonical address, or undefined (which stops the walk). */
function parseXffEntry(entry: string): string | undefined {
  return parseNode(entry.replace(OWS, ''), true, false);
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * The `for=` value of one RFC 7239 forwarded-element, unquoted; `null` when the element is malformed or has no
 * (or more than one) `for`. Quote-aware, so `;` inside a quoted value does not split it.
 */
function forwardedFor(element: string): string | null {
  const s = element.replace(OWS, '');
  let found: string | null = null;
  let i = 0;
  while (i < s.length) {
    if (s[i] === ';') { i++; continue; }
    const nameStart = i;
    while (i < s.length && TCHAR.test(s[i])) i++;
    if (i === nameStart || s[i] !== '=') return null;
    const name = s.slice(nameStart, i).toLowerCase();
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return null;
        const c = s[i];
        if (c === '"') { i++; break; }
        if (c === '\\') {
          if (i + 1 >= s.length) return null;
          value += s[i + 1];
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
    } else {
      const valueStart = i;
      while (i < s.length && TCHAR.test(s[i])) i++;
      if (i === valueStart) return null;
      value = s.slice(valueStart, i);
    }
    if (i < s.length && s[i] !== ';') return null;
    if (name === 'for') {
      if (found !== null) return null;
      found = value;
    }
  }
  return found;
}

/** One RFC 7239 element -> canonical address, or undefined for `unknown`, obfuscated ids and malformed input. */
function parseForwardedElement(element: string): string | undefined {
  const node = forwardedFor(element);
  // `unknown` and `_obfuscated` identifiers are legitimate, but they name no address: the walk stops there.
  if (node === null || node.toLowerCase() === 'unknown' || node.startsWith('_')) return undefined;
  return parseNode(node, false, true);
}

/**
 * Walks a comma-separated chain from the right. Splitting on every comma, even inside a quoted string, is safe:
 * entries to the right of the client's own bytes are written by trusted hops and never contain one, and anything
 * a split can conjure out of the client's part is something the client could have written plainly.
 */
function walkChain(peer: string, header: string, policy: TrustPolicy, parse: (entry: string) => string | undefined): string {
  let current = peer;
  let end = header.length;
  for (;;) {
    const comma = end === 0 ? -1 : header.lastIndexOf(',', end - 1);
    const address = parse(header.slice(comma + 1, end));
    // A hop we cannot read (garbage, `unknown`, obfuscated): the last address we could read is the best we know.
    if (address === undefined) return current;
    current = address;
    if (!policy.isTrusted(address)) return address;
    if (comma < 0) break;
    end = comma;
  }
  // Every hop was trusted: the left-most one is the client (Express does the same).
  return current;
}

/**
 * The client's address: the first untrusted hop, walking from the socket's peer leftwards through
 * `X-Forwarded-For` or RFC 7239 `Forwarded: for=`.
 *
 * @param peer - the socket's `remoteAddress` (dual-stack `::ffff:a.b.c.d` is fine).
 * @param xForwardedFor - the `X-Forwarded-For` header (repeated lines joined with `,`), or undefined.
 * @param forwarded - the `Forwarded` header (repeated lines joined with `,`), or undefined.
 * @returns a canonical address (dotted quad for IPv4 and IPv4-mapped, lowercase compressed IPv6, no brackets, port
 *   or zone id); the peer as given when it is not an IP address at all.
 *
 * @remarks
 * - An untrusted peer's headers are ignored entirely: the result is the peer.
 * - An entry that is malformed, `unknown` or an obfuscated identifier stops the walk, and the last address that
 *   could be read (a trusted hop) is returned; nothing here throws.
 * - Only pass a header the front balancer really writes: a header it does not touch is written wholly by the
 *   client. When both are passed they must name the same client; if they differ one of them is forged and cannot
 *   be told apart, so the peer is returned (the forger is lumped in with the balancer, never given an identity of
 *   its choice).
 *
 * @example
 * ```ts
 * const policy = createTrustPolicy(['10.0.0.0/8']);
 * resolveClientAddress('10.0.0.2', '198.51.100.7, 203.0.113.9, 10.0.0.1', undefined, policy); // '203.0.113.9'
 * resolveClientAddress('192.0.2.1', '198.51.100.7', undefined, policy); // '192.0.2.1': peer not trusted
 * resolveClientAddress('10.0.0.2', undefined, 'for="[2001:db8::7]:4711"', policy); // '2001:db8::7'
 * ```
 */
export function resolveClientAddress(
  peer: string,
  xForwardedFor: string | undefined,
  forwarded: string | undefined,
  policy: TrustPolicy,
): string {
  const self = parseIp(peer);
  const start = self === undefined ? peer : formatIp(self.bytes);
  if (!policy.isTrusted(start)) return start;
  const fromXff = xForwardedFor === undefined ? undefined : walkChain(start, xForwardedFor, policy, parseXffEntry);
  const fromForwarded = forwarded === undefined ? undefined : walkChain(start, forwarded, policy, parseForwardedElement);
  if (fromXff !== undefined && fromForwarded !== undefined && fromXff !== fromForwarded) return start;
  return fromXff ?? fromForwarded ?? start;
}
