import {
  compileHidden,
  filterTrailerBlock,
  filterTrailers,
  forwardRequestHeaders,
  requestHost,
  rewriteBackendUrl,
  type ForwardContext,
  type ResponsePolicy,
} from '../../../src/http/header-policy';
import { DEFAULT_HIDDEN_HEADERS } from '../../../src/options';

const BACKENDS = new Set(['10.0.0.7:9001', '127.0.0.1:80']);
const PUBLIC = 'https://www.public.example';

const POLICY: ResponsePolicy = { hidden: compileHidden(DEFAULT_HIDDEN_HEADERS), server: 'switchboard', backendHosts: BACKENDS };

const CTX: ForwardContext = { clientAddress: '203.0.113.7', proto: 'http', xForwarded: true, forwarded: false, upgrade: false };

/** The forwarded headers as `name: value` lines, names lowercased. */
function forwarded(raw: string[], ctx: ForwardContext = CTX): string[] {
  const out = forwardRequestHeaders(raw, ctx);
  const lines: string[] = [];
  for (let i = 0; i < out.length; i += 2) lines.push(`${out[i]!.toLowerCase()}: ${out[i + 1]}`);
  return lines;
}

describe('header policy', () => {
  describe('rewriteBackendUrl() resolves a reference as a browser would', () => {
    it.each([
      'http://10.0.0.7:9001/x',
      'HTTP://10.0.0.7:9001/x',
      '//10.0.0.7:9001/x',
      '\\\\10.0.0.7:9001\\x',
      '/\\10.0.0.7:9001/x',
      '/\t/10.0.0.7:9001/x',
      'http:\\\\10.0.0.7:9001\\x',
      'http:/10.0.0.7:9001/x',
      'http:10.0.0.7:9001/x',
      'https:10.0.0.7:9001/x',
      'http://0xa.0.0.7:9001/x',
      'http://167772167:9001/x',
      'http://user:pw@10.0.0.7:9001/x',
      ' http://10.0.0.7:9001/x',
      'http://127.0.0.1/x',
      'ws://127.0.0.1/x',
    ])('%j names a backend: rewritten to the public origin', (value) => {
      expect(rewriteBackendUrl(value, BACKENDS, PUBLIC)).toBe(`${PUBLIC}/x`);
    });

    it.each(['/x', 'x', '?q', '#f', '', '//other.example/x', 'http://10.0.0.7:9002/x', 'https://127.0.0.1/x', 'http://[::1', 'mailto:ops@example.com'])(
      '%j does not: unchanged',
      (value) => {
        expect(rewriteBackendUrl(value, BACKENDS, PUBLIC)).toBe(value);
      },
    );

    it('keeps only path, query and fragment when the public origin is unknown', () => {
      expect(rewriteBackendUrl('//10.0.0.7:9001/a?b#c', BACKENDS, undefined)).toBe('/a?b#c');
    });
  });

  describe('forwardRequestHeaders()', () => {
    it('never lets Connection remove Host, Content-Length or the WebSocket key and version', () => {
      const lines = forwarded(['Host', 'www.public.example', 'Content-Length', '2', 'Connection', 'host, Content-Length, x-app', 'X-App', '1']);
      expect(lines.slice(0, 2)).toEqual(['host: www.public.example', 'content-length: 2']);
      expect(lines.some((l) => l.startsWith('x-app'))).toBe(false);
      const ws = forwarded(['Host', 'h', 'Connection', 'Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13'], {
        ...CTX,
        upgrade: true,
      });
      expect(ws).toEqual(expect.arrayContaining(['sec-websocket-key: k', 'sec-websocket-version: 13', 'upgrade: websocket', 'connection: Upgrade']));
    });

    it('drops every X-Forwarded-* and the aliases apps believe, and writes For, Proto and Host afresh', () => {
      const lines = forwarded([
        'Host', 'www.public.example',
        'X-Forwarded-Ssl', 'on', 'x-forwarded-port', '443', 'X-FORWARDED-PREFIX', '/admin', 'X-Forwarded-Anything', 'x',
        'X-Real-IP', '6.6.6.6', 'Front-End-Https', 'on', 'X-Url-Scheme', 'https', 'X-Forwarded-Proto', 'https',
        'X-Forwarded', 'kept: not a forwarding name of ours',
      ]);
      expect(lines).toEqual([
        'host: www.public.example',
        'x-forwarded: kept: not a forwarding name of ours',
        'x-forwarded-for: 203.0.113.7',
        'x-forwarded-proto: http',
        'x-forwarded-host: www.public.example',
      ]);
    });

    it('sends the fallback host only when the request has none', () => {
      expect(forwarded([], { ...CTX, fallbackHost: '127.0.0.1:8080' })).toEqual([
        'host: 127.0.0.1:8080',
        'x-forwarded-for: 203.0.113.7',
        'x-forwarded-proto: http',
        'x-forwarded-host: 127.0.0.1:8080',
      ]);
      expect(forwarded(['Host', 'a.example'], { ...CTX, fallbackHost: '127.0.0.1:8080' })[0]).toBe('host: a.example');
    });
  });

  describe('requestHost()', () => {
    it.each([
      [{ host: 'a.example' }, '127.0.0.1', 'a.example'],
      [{}, '127.0.0.1', '127.0.0.1:8080'],
      [{}, '::ffff:10.0.0.1', '10.0.0.1:8080'],
      [{}, '::1', '[::1]:8080'],
      [{}, 'fe80::1%eth0', '[fe80::1]:8080'],
    ])('%j on %s -> %s', (headers, localAddress, expected) => {
      expect(requestHost({ headers, socket: { localAddress, localPort: 8080 } })).toBe(expected);
    });

    it('is undefined for a socket that has no local address any more', () => {
      expect(requestHost({ headers: {}, socket: {} })).toBeUndefined();
    });
  });

  describe('trailers', () => {
    it('filterTrailers() drops hidden and hop-by-hop fields and rewrites Location, without adding Server', () => {
      expect(
        filterTrailers(['X-Backend-Server', 'b7', 'Server', 'x', 'Transfer-Encoding', 'chunked', 'Location', '//10.0.0.7:9001/t', 'X-Checksum', 'abc'], POLICY, PUBLIC),
      ).toEqual(['Location', `${PUBLIC}/t`, 'X-Checksum', 'abc']);
    });

    it('filterTrailerBlock() filters a raw trailer section and ends it with the blank line', () => {
      const block = 'X-Powered-By: Express\r\nLocation: http://10.0.0.7:9001/t\nnot a field\r\nX-Checksum:  abc \r\n\r\n';
      expect(filterTrailerBlock(block, POLICY, PUBLIC)).toBe(`Location: ${PUBLIC}/t\r\nX-Checksum: abc\r\n\r\n`);
      expect(filterTrailerBlock('\r\n', POLICY, PUBLIC)).toBe('\r\n');
    });
  });
});
