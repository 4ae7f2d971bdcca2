import { hasDotSegment, RouteTable, type RoutePattern } from '../../../src/routing/route-table';

const ROUTES: RoutePattern[] = [
  { id: 'default' },
  { id: 'api', path: '/api' },
  { id: 'api-v2', path: '/api/v2/' },
  { id: 'ws', path: '/ws' },
  { id: 'admin-host', host: 'admin.example.com' },
  { id: 'admin-host-api', host: 'admin.example.com', path: '/api' },
  { id: 'tenants', host: '*.example.com' },
  { id: 'deep-tenants', host: '*.eu.example.com' },
];

describe('RouteTable.match', () => {
  const table = new RouteTable(ROUTES);

  it.each([
    // [host header, target, expected route]
    ['proxy.local', '/', 'default'],
    ['proxy.local', '/api', 'api'],
    ['proxy.local', '/api/', 'api'],
    ['proxy.local', '/api/users?x=1', 'api'],
    ['proxy.local', '/apix', 'default'],
    ['proxy.local', '/api?x=/v2', 'api'],
    ['proxy.local', '/api/v2', 'api-v2'],
    ['proxy.local', '/api/v2/users', 'api-v2'],
    ['proxy.local', '/api/v20', 'api'],
    ['proxy.local', '/ws', 'ws'],
    ['proxy.local', '/ws/chat', 'ws'],
    ['proxy.local', '/API', 'default'],
    ['admin.example.com', '/', 'admin-host'],
    ['ADMIN.example.com:8443', '/x', 'admin-host'],
    ['admin.example.com.', '/x', 'admin-host'],
    ['admin.example.com', '/api/users', 'admin-host-api'],
    ['admin.example.com', '/ws', 'admin-host'],
    ['a.example.com', '/ws', 'tenants'],
    ['a.b.example.com', '/', 'tenants'],
    ['x.eu.example.com', '/api', 'deep-tenants'],
    ['example.com', '/api', 'api'],
    ['evil-example.com', '/', 'default'],
    [undefined, '/api', 'api'],
  ])('Host %p %p -> %p', (host, target, expected) => {
    expect(table.match(host, target)?.id).toBe(expected);
  });

  it('orders host routes before host-less ones, then longest path first', () => {
    expect(table.order()).toEqual(['admin-host-api', 'admin-host', 'deep-tenants', 'tenants', 'api-v2', 'api', 'ws', 'default']);
  });

  it('matches nothing without a catch-all route', () => {
    const t = new RouteTable([{ id: 'api', path: '/api' }]);
    expect(t.match('h', '/other')).toBeUndefined();
    expect(t.match('h', '/api/x')?.id).toBe('api');
  });

  it.each([
    [[{ id: 'a', path: 'api' }], /path must start with \//],
    [[{ id: 'a', path: '/a/../b' }], /plain prefix/],
    [[{ id: 'a', path: '/a?x' }], /plain prefix/],
    [[{ id: 'a', host: 'h:80' }], /host must be a host name/],
    [[{ id: 'a', host: '*' }], /host must be a host name/],
    [[{ id: 'a' }, { id: 'a', path: '/x' }], /used twice/],
    [[{ id: 'a', path: '/x' }, { id: 'b', path: '/x/' }], /same host and path/],
  ])('refuses bad tables: %j', (routes, message) => {
    expect(() => new RouteTable(routes as RoutePattern[])).toThrow(message);
  });
});

describe('hasDotSegment', () => {
  it.each([
    ['/api/../admin', true],
    ['/api/%2e%2E/admin', true],
    ['/api/./x', true],
    ['/api/..', true],
    ['/api%2fx', true],
    ['/api\\..\\x', true],
    ['/api/..x/y', false],
    ['/api/x.y', false],
    ['/api?q=/../', false],
  ])('%p -> %p', (target, expected) => {
    expect(hasDotSegment(target)).toBe(expected);
  });
});
