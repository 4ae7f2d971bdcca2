import fc from 'fast-check';
import { InvalidOptionError } from '../../../src/errors';
import { createOriginPolicy, type OriginPattern } from '../../../src/edge/origin-policy';

describe('createOriginPolicy()', () => {
  describe('with allowedOrigins unset', () => {
    it('lets every request through', () => {
      const allow = createOriginPolicy(undefined);
      expect(allow('https://evil.example')).toBe(true);
      expect(allow(undefined)).toBe(true);
    });

    it('still refuses a missing Origin when requireOrigin is set', () => {
      const allow = createOriginPolicy(undefined, { requireOrigin: true });
      expect(allow(undefined)).toBe(false);
      expect(allow('https://a.example')).toBe(true);
    });
  });

  describe('matching', () => {
    const table: [OriginPattern[], string | undefined, boolean, string][] = [
      [['https://example.com'], 'https://example.com', true, 'exact'],
      [['https://example.com'], 'https://example.com:443', true, 'default port written out'],
      [['https://example.com:443'], 'https://example.com', true, 'default port in the configuration'],
      [['https://example.com/'], 'https://example.com', true, 'trailing slash in the configuration'],
      [['https://EXAMPLE.com'], 'https://example.COM', true, 'case'],
      [['HTTPS://example.com'], 'https://example.com', true, 'scheme case'],
      [['https://example.com'], 'http://example.com', false, 'other scheme'],
      [['https://example.com'], 'https://example.com:8443', false, 'other port'],
      [['https://example.com:8443'], 'https://example.com:8443', true, 'explicit port'],
      [['https://example.com'], 'https://www.example.com', false, 'subdomain of an exact entry'],
      [['https://example.com'], 'https://example.com.evil.net', false, 'suffix attack'],
      [['https://example.com'], 'https://evil.net/https://example.com', false, 'path'],
      [['https://example.com'], 'https://example.com/', false, 'browsers send no trailing slash'],
      [['https://example.com'], 'https://example.com/x', false, 'path'],
      [['https://example.com'], 'https://example.com?x', false, 'query'],
      [['https://example.com'], 'https://user@example.com', false, 'userinfo'],
      [['https://example.com'], 'https://example.com, https://evil.net', false, 'two Origin headers joined'],
      [['https://example.com'], 'https://exam\tple.com', false, 'tab the URL parser would drop'],
      [['https://example.com'], 'https://example.com.', false, 'trailing dot is another origin'],
      [['https://example.com'], 'null', false, 'opaque origin'],
      [['https://example.com'], '', false, 'empty'],
      [['https://example.com'], 'example.com', false, 'no scheme in the header'],
      [['https://bücher.de'], 'https://xn--bcher-kva.de', true, 'IDN configured in Unicode, sent as punycode'],
      [['http://[::1]:8080'], 'http://[::1]:8080', true, 'IPv6 literal'],
      [['http://127.0.0.1:3000'], 'http://127.0.0.1:3000', true, 'IPv4 literal'],
      [['chrome-extension://abcdefgh'], 'chrome-extension://abcdefgh', true, 'non-special scheme'],
      [['https://*.example.com'], 'https://chat.example.com', true, 'wildcard'],
      [['https://*.example.com'], 'https://a.b.example.com', true, 'wildcard at depth'],
      [['https://*.example.com'], 'https://example.com', false, 'wildcard excludes the apex'],
      [['https://*.example.com'], 'https://evilexample.com', false, 'wildcard needs the dot'],
      [['https://*.example.com'], 'https://example.com.evil.net', false, 'wildcard suffix attack'],
      [['https://*.example.com'], 'http://chat.example.com', false, 'wildcard keeps its scheme'],
      [['https://*.example.com'], 'https://chat.example.com:8443', false, 'wildcard keeps its port'],
      [['https://*.example.com:8443'], 'https://chat.example.com:8443', true, 'wildcard with port'],
      [['https://*.EXAMPLE.com'], 'https://Chat.Example.Com', true, 'wildcard case'],
      [['*.example.com'], 'http://chat.example.com', true, 'scheme-less wildcard, http'],
      [['*.example.com'], 'https://chat.example.com', true, 'scheme-less wildcard, https'],
      [['*.example.com'], 'wss://chat.example.com', false, 'scheme-less means http and https only'],
      [['example.com'], 'http://example.com', true, 'scheme-less exact, http'],
      [['example.com'], 'https://example.com', true, 'scheme-less exact, https'],
      [['localhost:3000'], 'http://localhost:3000', true, 'scheme-less with port'],
      [['localhost:3000'], 'http://localhost', false, 'scheme-less with port, other port'],
      [[/^https:\/\/pr-\d+\.preview\.dev$/], 'https://pr-42.preview.dev', true, 'RegExp'],
      [[/^https:\/\/pr-\d+\.preview\.dev$/], 'https://pr-42.preview.dev.evil', false, 'RegExp anchored'],
      [[/^null$/], 'null', true, 'RegExp may allow null on purpose'],
      [[], 'https://example.com', false, 'empty list'],
      [[], undefined, true, 'empty list, no Origin'],
      [['https://example.com'], undefined, true, 'no Origin: not a browser'],
    ];
    it.each(table)('%j with Origin %j -> %s (%s)', (allowed, origin, expected) => {
      expect(createOriginPolicy(allowed)(origin)).toBe(expected);
    });

    it('refuses a missing Origin with requireOrigin', () => {
      expect(createOriginPolicy(['https://example.com'], { requireOrigin: true })(undefined)).toBe(false);
      expect(createOriginPolicy(['https://example.com'], { requireOrigin: true })('https://example.com')).toBe(true);
    });

    it('is not fooled by a global RegExp keeping state between calls', () => {
      const allow = createOriginPolicy([/^https:\/\/a\.dev$/g]);
      for (let i = 0; i < 4; i++) expect(allow('https://a.dev')).toBe(true);
    });

    it('never throws on random Origin values', () => {
      const allow = createOriginPolicy(['https://example.com', 'https://*.example.com', /^x/]);
      fc.assert(
        fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.webUrl(), fc.webUrl().map((u) => new URL(u).origin)), (origin) => {
          expect(typeof allow(origin)).toBe('boolean');
        }),
        { numRuns: 500, interruptAfterTimeLimit: 800 },
      );
    });
  });

  describe('validation', () => {
    const badEntry = 'must be an origin such as https://example.com, a pattern such as https://*.example.com, or a RegExp';
    it.each([
      ['https://example.com/path', `allowedOrigins[0] ${badEntry}, got "https://example.com/path"`],
      ['https://example.com?q', `allowedOrigins[0] ${badEntry}, got "https://example.com?q"`],
      ['https://exa mple.com', `allowedOrigins[0] ${badEntry}, got "https://exa mple.com"`],
      ['https://', `allowedOrigins[0] ${badEntry}, got "https://"`],
      ['', `allowedOrigins[0] ${badEntry}, got ""`],
      ['https://a*.example.com', `allowedOrigins[0] ${badEntry}, got "https://a*.example.com"`],
      ['https://example.*', `allowedOrigins[0] ${badEntry}, got "https://example.*"`],
      ['https://*.*.example.com', `allowedOrigins[0] ${badEntry}, got "https://*.*.example.com"`],
      ['https://*example.com', `allowedOrigins[0] ${badEntry}, got "https://*example.com"`],
      ['https://*.com', 'allowedOrigins[0] has a wildcard over a top-level domain; name at least two labels after "*.", got "https://*.com"'],
      ['*.com', 'allowedOrigins[0] has a wildcard over a top-level domain; name at least two labels after "*.", got "*.com"'],
      ['*', 'allowedOrigins[0] is "*": to allow every origin, leave allowedOrigins unset, got "*"'],
      ['null', 'allowedOrigins[0] is "null", which sandboxed iframes and file:// pages all send; allow it with /^null$/ if you must, got "null"'],
      [42, `allowedOrigins[0] ${badEntry}, got number`],
    ])('refuses the entry %j', (entry, message) => {
      const create = (): unknown => createOriginPolicy([entry as string]);
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(message);
    });

    it('refuses a non-array', () => {
      expect(() => createOriginPolicy('https://example.com' as unknown as string[])).toThrow(
        'allowedOrigins must be an array of origin strings and RegExps, got "https://example.com"',
      );
    });

    it('refuses a non-boolean requireOrigin', () => {
      expect(() => createOriginPolicy([], { requireOrigin: 'yes' as unknown as boolean })).toThrow('requireOrigin must be a boolean, got "yes"');
    });
  });
});
