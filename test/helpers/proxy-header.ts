import { isIPv4, isIPv6 } from 'node:net';

/** The 12-byte PROXY protocol v2 signature. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A PROXY protocol v1 line, as HAProxy `send-proxy` writes it. */
export function proxyV1(src: string, dst: string, srcPort: number, dstPort: number): string {
  const family = isIPv4(src) ? 'TCP4' : 'TCP6';
  return `PROXY ${family} ${src} ${dst} ${srcPort} ${dstPort}\r\n`;
}

function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  // Expand '::' and write eight 16-bit groups.
  const [left, right] = address.includes('::') ? address.split('::') : [address, undefined];
  const l = left === '' ? [] : left!.split(':');
  const r = right === undefined || right === '' ? [] : right.split(':');
  const groups = [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g as string, 16), i * 2));
  return out;
}

/** A TLV (type, value) to append after the v2 address block. */
export interface ProxyTlv {
  readonly type: number;
  readonly value: Buffer;
}

/**
 * A PROXY protocol v2 header (HAProxy `send-proxy-v2`, AWS NLB): signature, version/command, family/transport,
 * length, the address block, then TLVs. `command: 'local'` is a balancer health check (no addresses).
 */
export function proxyV2(options: {
  command?: 'proxy' | 'local';
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  tlvs?: readonly ProxyTlv[];
}): Buffer {
  const command = options.command ?? 'proxy';
  let family = 0x00;
  let block = Buffer.alloc(0);
  if (command === 'proxy') {
    const src = ipBytes(options.src ?? '0.0.0.0');
    const dst = ipBytes(options.dst ?? (src.length === 4 ? '0.0.0.0' : '::'));
    if (src.length !== dst.length) throw new Error('source and destination must be the same family');
    family = src.length === 4 ? 0x11 : 0x21; // AF_INET/AF_INET6 + STREAM
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(options.srcPort ?? 0, 0);
    ports.writeUInt16BE(options.dstPort ?? 0, 2);
    block = Buffer.concat([src, dst, ports]);
  }
  const tlvs = (options.tlvs ?? []).map((t) => {
    const h = Buffer.alloc(3);
    h[0] = t.type;
    h.writeUInt16BE(t.value.length, 1);
    return Buffer.concat([h, t.value]);
  });
  const body = Buffer.concat([block, ...tlvs]);
  const preamble = Buffer.alloc(4);
  preamble[0] = 0x20 | (command === 'proxy' ? 0x1 : 0x0);
  preamble[1] = family;
  preamble.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, preamble, body]);
}
