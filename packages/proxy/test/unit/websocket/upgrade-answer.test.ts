import { acceptFor, checkUpgradeAnswer, upgradeOffer } from '../../../src/websocket/upgrade-answer';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** RFC 6455 section 1.3's worked example. */
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

describe('upgrade answer', () => {
  describe('acceptFor()', () => {
    it('gives the RFC 6455 sample accept for the sample key', () => {
      expect(acceptFor(KEY)).toBe(ACCEPT);
    });
  });

  describe('upgradeOffer()', () => {
    it('reads the key, subprotocols and extension names from the headers sent, across repeated lines', () => {
      const offer = upgradeOffer([
        'Host', 'a',
        'Sec-WebSocket-Key', KEY,
        'Sec-WebSocket-Protocol', 'chat, superchat',
        'sec-websocket-protocol', 'v2',
        'Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits, x-Foo; p="a,b;c"',
      ]);
      expect(offer.accept).toBe(ACCEPT);
      expect([...offer.protocols]).toEqual(['chat', 'superchat', 'v2']);
      expect([...offer.extensions]).toEqual(['permessage-deflate', 'x-foo']);
    });
  });

  describe('checkUpgradeAnswer()', () => {
    const offer = upgradeOffer([
      'Sec-WebSocket-Key', KEY,
      'Sec-WebSocket-Protocol', 'chat, superchat',
      'Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits',
    ]);
    const valid = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', ACCEPT];

    it.each([
      ['the minimal valid answer', valid],
      ['case-insensitive names and values, a Connection list', ['upgrade', 'WebSocket', 'connection', 'keep-alive, upgrade', 'sec-websocket-accept', ACCEPT]],
      ['an offered subprotocol', [...valid, 'Sec-WebSocket-Protocol', 'superchat']],
      ['an offered extension with parameters', [...valid, 'Sec-WebSocket-Extensions', 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10']],
    ])('accepts %s', (_name, headers) => {
      expect(checkUpgradeAnswer(headers, offer)).toBeUndefined();
    });

    it.each([
      ['no header at all', [], '101 without Upgrade: websocket'],
      ['Upgrade: h2c', ['Upgrade', 'h2c', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', ACCEPT], '101 without Upgrade: websocket'],
      ['two Upgrade lines', [...valid, 'Upgrade', 'websocket'], '101 without Upgrade: websocket'],
      ['no Connection: upgrade', ['Upgrade', 'websocket', 'Connection', 'upgraded', 'Sec-WebSocket-Accept', ACCEPT], '101 without Connection: upgrade'],
      ['no accept', ['Upgrade', 'websocket', 'Connection', 'Upgrade'], '101 with a missing or wrong Sec-WebSocket-Accept'],
      ['the key as accept', ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', KEY], '101 with a missing or wrong Sec-WebSocket-Accept'],
      ['two accept lines', [...valid, 'Sec-WebSocket-Accept', ACCEPT], '101 with a missing or wrong Sec-WebSocket-Accept'],
      ['a subprotocol not offered', [...valid, 'Sec-WebSocket-Protocol', 'admin'], '101 with a subprotocol the client did not offer'],
      ['a subprotocol in another case', [...valid, 'Sec-WebSocket-Protocol', 'Chat'], '101 with a subprotocol the client did not offer'],
      ['two subprotocols in one value', [...valid, 'Sec-WebSocket-Protocol', 'chat, superchat'], '101 with a subprotocol the client did not offer'],
      ['two subprotocol lines', [...valid, 'Sec-WebSocket-Protocol', 'chat', 'Sec-WebSocket-Protocol', 'chat'], '101 with more than one Sec-WebSocket-Protocol'],
      ['an extension not offered', [...valid, 'Sec-WebSocket-Extensions', 'x-webkit-deflate-frame'], '101 with an extension the client did not offer'],
      ['an offered extension twice', [...valid, 'Sec-WebSocket-Extensions', 'permessage-deflate, permessage-deflate'], '101 with an extension the client did not offer'],
      ['an extension name that is not a token', [...valid, 'Sec-WebSocket-Extensions', 'perm"essage'], '101 with an invalid Sec-WebSocket-Extensions'],
      ['parameters without a name', [...valid, 'Sec-WebSocket-Extensions', '; a=1'], '101 with an invalid Sec-WebSocket-Extensions'],
    ])('refuses %s', (_name, headers, fault) => {
      expect(checkUpgradeAnswer(headers, offer)).toBe(fault);
    });

    it('refuses any subprotocol or extension when the client offered none', () => {
      const bare = upgradeOffer(['Sec-WebSocket-Key', KEY]);
      expect(checkUpgradeAnswer(valid, bare)).toBeUndefined();
      expect(checkUpgradeAnswer([...valid, 'Sec-WebSocket-Protocol', ''], bare)).toBe('101 with a subprotocol the client did not offer');
      expect(checkUpgradeAnswer([...valid, 'Sec-WebSocket-Extensions', 'permessage-deflate'], bare)).toBe('101 with an extension the client did not offer');
    });
  });
});
