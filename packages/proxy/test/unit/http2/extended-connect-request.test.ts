import type { Socket } from 'node:net';
import { extendedConnectRequest, extendedConnectStreamOf } from '../../../src/http2/extended-connect-request';
import { validateHandshake } from '../../../src/websocket/upgrade';

const PEER = { remoteAddress: '203.0.113.7', remotePort: 50000 } as Socket;

/** An extended CONNECT's headers as Node's http2 server hands them over (object and flat list). */
function connectHeaders(extra: [string, string][] = []): { headers: Record<string, string>; raw: string[] } {
  const pairs: [string, string][] = [
    [':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'https'], [':path', '/chat?room=1'], [':authority', 'app.example'],
    ['sec-websocket-version', '13'], ...extra,
  ];
  return { headers: Object.fromEntries(pairs), raw: pairs.flat() };
}

describe('extendedConnectRequest()', () => {
  it('is a GET of :path with Host from :authority, a valid HTTP/1.1 WebSocket handshake', () => {
    const { headers, raw } = connectHeaders([['origin', 'https://app.example']]);
    const req = extendedConnectRequest(PEER, headers, raw, 7);
    expect([req.method, req.url, req.httpVersion]).toEqual(['GET', '/chat?room=1', '1.1']);
    expect(req.headers.host).toBe('app.example');
    expect(req.headers.origin).toBe('https://app.example');
    expect(req.rawHeaders.some((h) => h.startsWith(':'))).toBe(false);
    expect(validateHandshake(req, '203.0.113.7:50000')).toBeUndefined();
    expect(extendedConnectStreamOf(req)).toBe(7);
    expect(req.socket.remoteAddress).toBe('203.0.113.7');
  });

  it('makes a fresh Sec-WebSocket-Key for each request and ignores one the client sent', () => {
    const { headers, raw } = connectHeaders([['sec-websocket-key', 'AAAAAAAAAAAAAAAAAAAAAA==']]);
    const a = extendedConnectRequest(PEER, headers, raw, 1).headers['sec-websocket-key'];
    const b = extendedConnectRequest(PEER, headers, raw, 3).headers['sec-websocket-key'];
    expect(a).toMatch(/^[+/0-9A-Za-z]{22}==$/);
    expect(a).not.toBe(b);
    expect(a).not.toBe('AAAAAAAAAAAAAAAAAAAAAA==');
  });

  it('joins split cookie fields into one (RFC 9113 8.2.3) and lets :authority win over a host field', () => {
    const { headers, raw } = connectHeaders([['cookie', 'a=1'], ['host', 'evil.example'], ['cookie', 'b=2']]);
    const req = extendedConnectRequest(PEER, headers, raw, 1);
    expect(req.headers.cookie).toBe('a=1; b=2');
    expect(req.headers.host).toBe('app.example');
    expect(req.rawHeaders.filter((h) => h.toLowerCase() === 'host')).toHaveLength(1);
  });

  it('is not an extended CONNECT request for a plain HTTP/1.1 upgrade', () => {
    expect(extendedConnectStreamOf({} as never)).toBeUndefined();
  });
});
