import fc from 'fast-check';
import { InvalidOptionError } from '../../../src/errors';
import { createTrustPolicy, resolveClientAddress, TRUST_PRESETS } from '../../../src/edge/trust-proxy';

describe('createTrustPolicy()', () => {
  it('trusts nobody for false and everybody for true', () => {
    expect(createTrustPolicy(false).isTrusted('127.0.0.1')).toBe(false);
    expect(createTrustPolicy(true).isTrusted('203.0.113.1')).toBe(true);
  });

  it('asks a function', () => {
    const seen: string[] = [];
    const policy = createTrustPolicy((a) => { seen.push(a); return a === '10.0.0.1'; });
    expect(policy.isTrusted('10.0.0.1')).toBe(true);
    expect(policy.isTrusted('10.0.0.2')).toBe(false);
    expect(seen).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it.each([
    // [list, address, trusted]
    [['loopback'], '127.0.0.1', true],
    [['loopback'], '127.255.0.9', true],
    [['loopback'], '::1', true],
    [['loopback'], '::ffff:127.0.0.1', true],
    [['loopback'], '128.0.0.1', false],
    [['loopback'], '::2', false],
    [['linklocal'], '169.254.10.1', true],
    [['linklocal'], 'fe80::abcd%eth0', true],
    [['linklocal'], 'fec0::1', false],
    [['uniquelocal'], '172.16.0.1', true],
    [['uniquelocal'], '172.31.255.255', true],
    [['uniquelocal'], '172.32.0.0', false],
    [['uniquelocal'], '192.168.1.1', true],
    [['uniquelocal'], 'fd12::1', true],
    [['uniquelocal'], 'fe00::1', false],
    [['10.0.0.0/8'], '::ffff:10.9.8.7', true],
    [['10.0.0.0/8'], '::ffff:a09:807', true],
    [['10.0.0.0/8'], '11.0.0.0', false],
    [['10.0.0.1/8'], '10.200.0.0', true], // host bits in the range are ignored, as in proxy-addr
    [['192.0.2.7'], '192.0.2.7', true],
    [['192.0.2.7'], '192.0.2.8', false],
    [['0.0.0.0/0'], '198.51.100.1', true],
    [['0.0.0.0/0'], '2001:db8::1', false], // all of IPv4 is not all of IPv6
    [['::/0'], '198.51.100.1', true], // all of IPv6 includes the IPv4-mapped block
    [['2001:db8::/32'], '2001:DB8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['::ffff:10.0.0.0/104'], '10.1.1.1', true],
    [[' 10.0.0.1 '], '10.0.0.1', true],
    [[], '127.0.0.1', false],
    [['loopback'], 'not-an-ip', false],
    [['loopback'], '', false],
    [['loopback'], '[::1]', false],
  ] as const)('%j trusts %j: %s', (list, address, trusted) => {
    expect(createTrustPolicy(list).isTrusted(address)).toBe(trusted);
  });

  it('offers the Express presets', () => {
    expect(Object.keys(TRUST_PRESETS).sort()).toEqual(['linklocal', 'loopback', 'uniquelocal']);
  });

  it.each([
    ['10.0.0.0/33', '"10.0.0.0/33"'],
    ['::/129', '"::/129"'],
    ['10.0.0.0/', '"10.0.0.0/"'],
    ['10.0.0.0/-1', '"10.0.0.0/-1"'],
    ['10.0.0/8', '"10.0.0/8"'],
    ['fe80::1%eth0/64', '"fe80::1%eth0/64"'],
    ['localhost', '"localhost"'],
    ['', '""'],
    [42, 'number'],
    [null, 'null'],
  ])('refuses the entry %j with an exact sentence', (entry, shown) => {
    const attempt = (): unknown => createTrustPolicy(['loopback', entry] as unknown as string[]);
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(
      `trustProxy[1] must be an IP address, a CIDR range such as 10.0.0.0/8 or fd00::/8, or one of 'loopback', 'linklocal', 'uniquelocal', got ${shown}`,
    );
    try { attempt(); } catch (err) { expect((err as InvalidOptionError).code).toBe('ERR_INVALID_OPTION'); }
  });

  it.each([
    ['loopback', '"loopback"'],
    [1, 'number'],
    [{}, 'object'],
  ])('refuses the setting %j', (setting, shown) => {
    expect(() => createTrustPolicy(setting as unknown as string[])).toThrow(
      `trustProxy must be true, false, an array of IP addresses, CIDR ranges or preset names, or a function, got ${shown}`,
    );
  });
});

describe('resolveClientAddress()', () => {
  const internal = createTrustPolicy(['10.0.0.0/8', 'loopback']);

  describe('with X-Forwarded-For', () => {
    it.each([
      // [peer, X-Forwarded-For, expected, why]
      ['203.0.113.5', '198.51.100.1', '203.0.113.5', 'an untrusted peer is the client; its header is ignored'],
      ['::ffff:203.0.113.5', '198.51.100.1', '203.0.113.5', 'an untrusted IPv4-mapped peer comes back as a dotted quad'],
      ['10.0.0.2', '198.51.100.1', '198.51.100.1', 'a trusted peer is believed'],
      ['::ffff:10.0.0.2', '198.51.100.1', '198.51.100.1', 'a trusted dual-stack peer is believed'],
      ['10.0.0.2', '6.6.6.6, 198.51.100.1', '198.51.100.1', 'entries left of the first untrusted hop are the client\'s own'],
      ['10.0.0.2', '6.6.6.6, 198.51.100.1, 10.0.0.9, 127.0.0.1', '198.51.100.1', 'trusted hops are skipped'],
      ['10.0.0.2', '10.0.0.7, 10.0.0.9', '10.0.0.7', 'all trusted: the left-most hop'],
      ['10.0.0.2', ' 198.51.100.1 ,\t10.0.0.9 ', '198.51.100.1', 'whitespace around entries'],
      ['10.0.0.2', '198.51.100.1:5555', '198.51.100.1', 'IPv4 with a port'],
      ['10.0.0.2', '[2001:DB8::1]:5555', '2001:db8::1', 'bracketed IPv6 with a port, canonicalised'],
      ['10.0.0.2', '2001:db8::1', '2001:db8::1', 'bare IPv6'],
      ['10.0.0.2', '[2001:db8::1]', '2001:db8::1', 'bracketed IPv6'],
      ['10.0.0.2', '::ffff:198.51.100.1', '198.51.100.1', 'IPv4-mapped in the header'],
      ['10.0.0.2', '6.6.6.6, garbage', '10.0.0.2', 'an unreadable hop stops the walk at the last readable (trusted) address'],
      ['10.0.0.2', '6.6.6.6, 10.0.0.9, unknown', '10.0.0.2', 'unknown stops the walk'],
      ['10.0.0.2', '6.6.6.6, garbage, 10.0.0.9', '10.0.0.9', 'unreadable behind a trusted hop: that hop'],
      ['10.0.0.2', '', '10.0.0.2', 'empty header'],
      ['10.0.0.2', '198.51.100.1,', '10.0.0.2', 'empty right-most entry'],
      ['10.0.0.2', ',198.51.100.1', '198.51.100.1', 'empty left-most entry is never reached'],
      ['10.0.0.2', '10.0.0.3,,198.51.100.1', '198.51.100.1', 'first untrusted before the empty entry'],
      ['10.0.0.2', '10.0.0.3,,10.0.0.4', '10.0.0.4', 'empty entry behind trusted ones'],
      ['10.0.0.2', '198.51.100.1:99999', '10.0.0.2', 'port out of range'],
      ['10.0.0.2', '198.51.100.1:', '10.0.0.2', 'empty port'],
      ['10.0.0.2', '[198.51.100.1]', '10.0.0.2', 'bracketed IPv4'],
      ['10.0.0.2', '[2001:db8::1', '10.0.0.2', 'unclosed bracket'],
      ['10.0.0.2', '"198.51.100.1"', '10.0.0.2', 'quotes are not X-Forwarded-For syntax'],
      ['10.0.0.2', '198.051.100.1', '10.0.0.2', 'leading zero (octal to some parsers)'],
      ['not-an-ip', '198.51.100.1', 'not-an-ip', 'an unreadable peer is untrusted and returned as given'],
    ])('peer %j, X-Forwarded-For %j -> %j (%s)', (peer, xff, expected) => {
      expect(resolveClientAddress(peer, xff, undefined, internal)).toBe(expected);
    });
  });

  describe('with Forwarded (RFC 7239)', () => {
    it.each([
      // [Forwarded, expected, why]
      ['for=198.51.100.1', '198.51.100.1', 'token'],
      ['For=198.51.100.1', '198.51.100.1', 'parameter names are case-insensitive'],
      ['for="198.51.100.1"', '198.51.100.1', 'quoted'],
      ['for="198.51.100.1:4711"', '198.51.100.1', 'IPv4 with port'],
      ['for="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17', 'quoted IPv6 with brackets and port'],
      ['for="[2001:db8:cafe::17]"', '2001:db8:cafe::17', 'quoted IPv6 with brackets'],
      ['for="[2001:db8:cafe::17]:_port"', '2001:db8:cafe::17', 'obfuscated port'],
      ['for="\\[2001:db8::17\\]"', '2001:db8::17', 'quoted-pair escapes'],
      ['for=198.51.100.1;proto=https;by=10.0.0.1', '198.51.100.1', 'other parameters'],
      ['proto=https;for=198.51.100.1', '198.51.100.1', 'for= need not come first'],
      ['for=6.6.6.6, for=198.51.100.1;proto=http', '198.51.100.1', 'left of the client is ignored'],
      ['for=6.6.6.6, for=198.51.100.1, for=10.0.0.9', '198.51.100.1', 'trusted hop skipped'],
      ['for=6.6.6.6, for=unknown', '10.0.0.2', 'unknown stops the walk'],
      ['for=6.6.6.6, for=UNKNOWN, for=10.0.0.9', '10.0.0.9', 'unknown behind a trusted hop'],
      ['for=6.6.6.6, for=_hidden', '10.0.0.2', 'obfuscated identifier stops the walk'],
      ['for=6.6.6.6, for="_hidden:_port"', '10.0.0.2', 'obfuscated identifier with port'],
      ['for=2001:db8::1', '10.0.0.2', 'unquoted IPv6 is not a token'],
      ['for="2001:db8::1"', '10.0.0.2', 'IPv6 without brackets'],
      ['for="[198.51.100.1]"', '10.0.0.2', 'bracketed IPv4'],
      ['for="198.51.100.1', '10.0.0.2', 'unterminated quote'],
      ['for=198.51.100.1;for=6.6.6.6', '10.0.0.2', 'two for= in one element'],
      ['proto=https', '10.0.0.2', 'no for='],
      ['for=', '10.0.0.2', 'empty value'],
      ['for 198.51.100.1', '10.0.0.2', 'no ='],
      ['for=198.51.100.1 x', '10.0.0.2', 'junk after a value'],
      ['for="6.6.6.6;for=1.1.1.1", for=198.51.100.1', '198.51.100.1', 'a quoted ; does not split a pair'],
      [' for=198.51.100.1 ', '198.51.100.1', 'whitespace around the element'],
      ['', '10.0.0.2', 'empty header'],
    ])('Forwarded %j -> %j (%s)', (forwarded, expected) => {
      expect(resolveClientAddress('10.0.0.2', undefined, forwarded, internal)).toBe(expected);
    });

    it('ignores Forwarded from an untrusted peer', () => {
      expect(resolveClientAddress('203.0.113.5', undefined, 'for=198.51.100.1', internal)).toBe('203.0.113.5');
    });
  });

  describe('with both headers', () => {
    it('uses them when they agree', () => {
      expect(resolveClientAddress('10.0.0.2', '6.6.6.6, 198.51.100.1', 'for=198.51.100.1', internal)).toBe('198.51.100.1');
    });

    it('returns the peer when they disagree, since one of them was written by the client', () => {
      // The front balancer appends only X-Forwarded-For; the client forged Forwarded.
      expect(resolveClientAddress('10.0.0.2', '198.51.100.1', 'for=6.6.6.6', internal)).toBe('10.0.0.2');
    });
  });

  it('never returns an address left of an untrusted hop, and never throws', () => {
    // Model: the client writes any prefix; each trusted balancer appends the address it saw. Whatever the
    // client wrote, the result is the real client, or (when the prefix ends the walk early) a trusted hop.
    const trusted = fc.constantFrom('10.0.0.1', '10.0.0.2', '127.0.0.1');
    const client = fc.constantFrom('198.51.100.1', '2001:db8::1');
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), client, fc.array(trusted, { maxLength: 3 }), trusted, (forged, real, hops, peer) => {
        const chain = [real, ...hops].join(', ');
        const xff = forged === '' ? chain : `${forged}, ${chain}`;
        expect(resolveClientAddress(peer, xff, undefined, internal)).toBe(real);
        const fwd = [real, ...hops].map((a) => (a.includes(':') ? `for="[${a}]"` : `for=${a}`)).join(', ');
        expect(resolveClientAddress(peer, undefined, forged === '' ? fwd : `${forged}, ${fwd}`, internal)).toBe(real);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 1000 },
    );
  });

  it('never throws on random headers', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (xff, fwd) => {
        expect(typeof resolveClientAddress('10.0.0.2', xff, fwd, internal)).toBe('string');
      }),
      { numRuns: 500, interruptAfterTimeLimit: 800 },
    );
  });
});
