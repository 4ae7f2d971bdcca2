import { isIP } from 'node:net';
import fc from 'fast-check';
import { formatIp, maskIp, matchesPrefix, normalizeIp, parseIp } from '../../../src/edge/ip-address';

const RUN = { numRuns: 1000, interruptAfterTimeLimit: 700 } as const;

describe('parseIp()', () => {
  it.each([
    ['1.2.3.4', 4],
    ['0.0.0.0', 4],
    ['255.255.255.255', 4],
    ['::', 6],
    ['::1', 6],
    ['::ffff:1.2.3.4', 6],
    ['::FFFF:1.2.3.4', 6],
    ['1:2:3:4:5:6:7:8', 6],
    ['1:2:3:4:5:6:1.2.3.4', 6],
    ['1:2:3:4:5:6:7::', 6],
    ['::2:3:4:5:6:7:8', 6],
    ['fe80::1%eth0', 6],
  ] as const)('accepts %s as IPv%d', (text, family) => {
    expect(parseIp(text)?.family).toBe(family);
  });

  it.each([
    '', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4%eth0', '[::1]', '1::2::3',
    '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', ':1::2', '1::2:', '00000::1', 'fe80::1%', 'fe80::1%a b', '::1.2.3.4:5',
    '1.2.3.4::', 'g::1', '-1.2.3.4', '1.2.3.-4', '١.2.3.4',
  ])('refuses %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('maps IPv4 into ::ffff:0:0/96 so both spellings give the same bytes', () => {
    expect(parseIp('10.1.2.3')?.bytes).toEqual(parseIp('::ffff:10.1.2.3')?.bytes);
    expect(parseIp('10.1.2.3')?.bytes).toEqual(parseIp('::ffff:a01:203')?.bytes);
  });

  it('agrees with net.isIP() on random address-like text', () => {
    const char = fc.constantFrom(...'0123456789abcdefABCDEF:.:.:'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 45 }), (text) => {
        expect(parseIp(text)?.family ?? 0).toBe(isIP(text));
      }),
      RUN,
    );
  });

  it('agrees with net.isIP() on well-formed addresses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (text) => {
        expect(parseIp(text)?.family ?? 0).toBe(isIP(text));
      }),
      RUN,
    );
  });
});

describe('formatIp()', () => {
  it.each([
    ['::ffff:7f00:1', '127.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
  ])('writes %s as %s (RFC 5952)', (input, output) => {
    expect(normalizeIp(input)).toBe(output);
  });

  it('matches the WHATWG URL serialiser for IPv6 and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIp(bytes);
        expect(parseIp(text)?.bytes).toEqual(bytes);
        if (parseIp(text)?.family === 6) expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
      RUN,
    );
  });
});

describe('matchesPrefix() and maskIp()', () => {
  const bytes = (text: string): Uint8Array => {
    const ip = parseIp(text);
    if (ip === undefined) throw new Error(text);
    return ip.bytes;
  };

  it('compares whole and partial bytes', () => {
    expect(matchesPrefix(bytes('172.31.255.255'), bytes('172.16.0.0'), 96 + 12)).toBe(true);
    expect(matchesPrefix(bytes('172.32.0.0'), bytes('172.16.0.0'), 96 + 12)).toBe(false);
    expect(matchesPrefix(bytes('2001:db8::1'), bytes('::'), 0)).toBe(true);
  });

  it('clears the bits after the prefix', () => {
    expect(formatIp(maskIp(bytes('2001:db8:1:2:3:4:5:6'), 64))).toBe('2001:db8:1:2::');
    expect(formatIp(maskIp(bytes('2001:db8:1:2ff:3:4:5:6'), 60))).toBe('2001:db8:1:2f0::');
  });
});
