import { rewriteCookie, stripPrefix } from '../../../src/routing/forward-plan';

describe('stripPrefix', () => {
  it.each([
    ['/api/users', '/api', '/users'],
    ['/api', '/api', '/'],
    ['/api/', '/api', '/'],
    ['/api?x=1', '/api', '/?x=1'],
    ['/api/users?next=/api/x', '/api', '/users?next=/api/x'],
    ['/apix/users', '/api', '/apix/users'],
    ['/other', '/api', '/other'],
    ['/a/b/c', '/a/b', '/c'],
    ['/anything', '', '/anything'],
  ])('%p without %p -> %p', (target, prefix, expected) => {
    expect(stripPrefix(target, prefix)).toBe(expected);
  });
});

describe('rewriteCookie', () => {
  it.each([
    // [cookie, stripped prefix, backend URL path, backend host, expected]
    ['a=1; Path=/; HttpOnly', '/api', '', '10.0.0.5', 'a=1; Path=/api; HttpOnly'],
    ['a=1; Path=/cart', '/shop', '', '10.0.0.5', 'a=1; Path=/shop/cart'],
    ['a=1; Path=/v1/cart', '', '/v1', '10.0.0.5', 'a=1; Path=/cart'],
    ['a=1; Path=/v1', '/shop', '/v1', '10.0.0.5', 'a=1; Path=/shop'],
    ['a=1; Path=/v10', '', '/v1', '10.0.0.5', 'a=1; Path=/v10'],
    ['a=1; Domain=10.0.0.5; Secure', '', '', '10.0.0.5', 'a=1; Secure'],
    ['a=1; domain=.API.internal', '', '', 'api.internal', 'a=1'],
    ['a=1; Domain=example.com', '/api', '', 'api.internal', 'a=1; Domain=example.com'],
    ['a=1', '/api', '/v1', 'api.internal', 'a=1'],
    ['a=b=c; Path=/; SameSite=Lax', '/api', '', 'h', 'a=b=c; Path=/api; SameSite=Lax'],
  ])('%p (strip %p, backend path %p, host %p) -> %p', (cookie, strip, backendPath, host, expected) => {
    expect(rewriteCookie(cookie, strip, backendPath, host)).toBe(expected);
  });
});
