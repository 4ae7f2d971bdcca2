import { createRequestGuard } from '../../../src/edge/request-guard';
import { trailerRecord, withoutConnectionHeaders } from '../../../src/http2/h2-request';

describe('withoutConnectionHeaders()', () => {
  it('drops the HTTP/1-only fields (RFC 9113 8.2.2) whatever their case and keeps the rest in order', () => {
    const raw = ['Connection', 'close', 'content-type', 'text/plain', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'UPGRADE', 'h2c', 'Proxy-Connection', 'x', 'TE', 'trailers', 'x-a', '1'];
    expect(withoutConnectionHeaders(raw)).toEqual(['content-type', 'text/plain', 'x-a', '1']);
  });
});

describe('trailerRecord()', () => {
  it('joins repeated trailer names with a comma, as Http2ServerResponse.addTrailers() reads object keys only', () => {
    expect(trailerRecord([['X-Sum', 'a'], ['x-sum', 'b'], ['Grpc-Status', '0']])).toEqual({ 'x-sum': 'a, b', 'grpc-status': '0' });
  });
});

describe('createRequestGuard() for adapted HTTP/2 requests', () => {
  const guard = createRequestGuard();
  const h2 = (rawHeaders: string[]): { httpVersionMajor: number; httpVersionMinor: number; url: string; rawHeaders: string[] } => ({ httpVersionMajor: 2, httpVersionMinor: 0, url: '/', rawHeaders });

  it('lets version 2.0 through only when the request came on an HTTP/2 stream', () => {
    expect(guard(h2(['host', 'a']), true)).toBeUndefined();
    expect(guard(h2(['host', 'a']))).toEqual({ status: 505, reason: 'unsupported HTTP version' });
  });

  it('still needs a Host (from :authority) and refuses Transfer-Encoding on HTTP/2', () => {
    expect(guard(h2([]), true)).toEqual({ status: 400, reason: 'missing Host' });
    expect(guard(h2(['host', 'a', 'transfer-encoding', 'chunked']), true)).toEqual({ status: 400, reason: 'Transfer-Encoding in an HTTP/2 request' });
  });
});
