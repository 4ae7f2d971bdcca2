import { InvalidOptionError } from '../../../src/errors';
import { DEFAULT_STICKY_COOKIE_NAME, StickyCookieStrategy, type StickyCookieOptions } from '../../../src/strategies/sticky-cookie';
import type { BackendView, PickContext, Strategy } from '../../../src/strategies/strategy';
import { candidatesFor, candidatesOf, fakeBackend, fakeContext, type FakeBackend } from './fakes';

const SECRET = 'a-shared-secret-of-32-characters';

/** Always picks the last candidate and counts: shows when the base strategy decides. */
class LastCandidate implements Strategy {
  readonly name = 'last';
  picks = 0;
  pick(_context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    this.picks++;
    return candidates[candidates.length - 1];
  }
}

function setup(options: StickyCookieOptions = {}): { strategy: StickyCookieStrategy; base: LastCandidate; backends: FakeBackend[] } {
  const base = new LastCandidate();
  const backends = [
    fakeBackend('node-a', { url: 'http://10.20.30.40:3001' }),
    fakeBackend('node-b', { url: 'http://10.20.30.41:3002' }),
    fakeBackend('node-c', { url: 'http://10.20.30.42:3003' }),
  ];
  const strategy = new StickyCookieStrategy({ secret: SECRET, base, ...options });
  strategy.update(backends);
  return { strategy, base, backends };
}

/** The cookie's `name=value` from a responseHeaders() result. */
function cookieFrom(headers: Readonly<Record<string, string | readonly string[]>> | undefined): string {
  const setCookie = headers?.['set-cookie'];
  expect(typeof setCookie).toBe('string');
  return (setCookie as string).split(';')[0];
}

describe('StickyCookieStrategy', () => {
  describe('on a first visit (no cookie)', () => {
    it('lets the base strategy choose and sets an affinity cookie on the response', () => {
      const { strategy, base, backends } = setup();
      const ctx = fakeContext();
      const chosen = strategy.pick(ctx, candidatesOf(backends))!;
      expect(base.picks).toBe(1);
      const headers = strategy.responseHeaders(chosen, ctx);
      expect(headers?.['set-cookie']).toBe(`${DEFAULT_STICKY_COOKIE_NAME}=${strategy.tokenFor(chosen.id)}; Path=/; HttpOnly; SameSite=Lax`);
    });

    it('sets an opaque value that reveals neither the address nor the id', () => {
      const { strategy, backends } = setup();
      for (const backend of backends) {
        const value = cookieFrom(strategy.responseHeaders(backend, fakeContext())).split('=')[1];
        expect(value).toMatch(/^[A-Za-z0-9_-]{22}$/);
        for (const secret of [backend.id, backend.url, '10.20.30', '3001', 'node']) expect(value).not.toContain(secret);
        expect(Buffer.from(value, 'base64url').toString('latin1')).not.toContain('node');
      }
    });
  });

  describe('with a valid cookie', () => {
    it('goes back to the backend named by the cookie, without asking the base strategy', () => {
      const { strategy, base, backends } = setup();
      for (const backend of backends) {
        const ctx = fakeContext({ headers: { cookie: `other=1; ${DEFAULT_STICKY_COOKIE_NAME}=${strategy.tokenFor(backend.id)}` } });
        expect(strategy.pick(ctx, candidatesOf(backends))).toBe(backend);
        expect(strategy.responseHeaders(backend, ctx)).toBeUndefined();
      }
      expect(base.picks).toBe(0);
    });

    it('is recognised by another proxy with the same secret', () => {
      const first = setup();
      const second = setup();
      const cookie = `${DEFAULT_STICKY_COOKIE_NAME}=${first.strategy.tokenFor('node-b')}`;
      expect(second.strategy.pick(fakeContext({ headers: { cookie } }), candidatesOf(second.backends))?.id).toBe('node-b');
    });
  });

  describe.each([
    { case: 'a forged value', cookie: (s: StickyCookieStrategy) => `${s.cookie}=AAAAAAAAAAAAAAAAAAAAAA` },
    { case: 'the plain backend id', cookie: (s: StickyCookieStrategy) => `${s.cookie}=node-a` },
    {
      case: 'a value signed with another secret',
      cookie: (s: StickyCookieStrategy) => `${s.cookie}=${new StickyCookieStrategy({ secret: 'some-other-secret-value-123456' }).tokenFor('node-a')}`,
    },
    { case: 'a value for a backend that no longer exists', cookie: (s: StickyCookieStrategy) => `${s.cookie}=${s.tokenFor('node-gone')}` },
  ])('with $case', ({ cookie }) => {
    it('falls back to the base strategy and sets a fresh cookie', () => {
      const { strategy, base, backends } = setup();
      const ctx = fakeContext({ headers: { cookie: cookie(strategy) } });
      const chosen = strategy.pick(ctx, candidatesOf(backends))!;
      expect(base.picks).toBe(1);
      expect(chosen.id).toBe('node-c');
      expect(cookieFrom(strategy.responseHeaders(chosen, ctx))).toBe(`${strategy.cookie}=${strategy.tokenFor('node-c')}`);
    });
  });

  describe.each([
    { change: 'down', apply: (b: FakeBackend) => (b.state = 'down') },
    { change: 'draining', apply: (b: FakeBackend) => (b.state = 'draining') },
    { change: 'full', apply: (b: FakeBackend) => (b.maxConnections = 0) },
  ])('when the cookie names a backend that is $change', ({ apply }) => {
    it('falls back to the base strategy and re-points the cookie', () => {
      const { strategy, base, backends } = setup();
      apply(backends[0]);
      const ctx = fakeContext({ headers: { cookie: `${strategy.cookie}=${strategy.tokenFor('node-a')}` } });
      const chosen = strategy.pick(ctx, candidatesOf(backends))!;
      expect(chosen.id).not.toBe('node-a');
      expect(base.picks).toBe(1);
      expect(cookieFrom(strategy.responseHeaders(chosen, ctx))).toBe(`${strategy.cookie}=${strategy.tokenFor(chosen.id)}`);
    });
  });

  it('lets the base strategy choose when the cookie names a backend the connection must avoid (a retry)', () => {
    const { strategy, base, backends } = setup();
    const retry = fakeContext({ headers: { cookie: `${strategy.cookie}=${strategy.tokenFor('node-c')}` }, avoid: ['node-c'] });
    const chosen = strategy.pick(retry, candidatesFor(backends, retry));
    expect(base.picks).toBe(1);
    expect(chosen?.id).toBe('node-b');
  });

  it('accepts cookies signed with an older secret while rotating, and re-signs them', () => {
    const old = setup({ secret: 'the-old-secret-0123456789' });
    const rotated = setup({ secret: ['the-new-secret-0123456789', 'the-old-secret-0123456789'] });
    const ctx = fakeContext({ headers: { cookie: `${old.strategy.cookie}=${old.strategy.tokenFor('node-a')}` } });
    const chosen = rotated.strategy.pick(ctx, candidatesOf(rotated.backends))!;
    expect(chosen.id).toBe('node-a');
    expect(cookieFrom(rotated.strategy.responseHeaders(chosen, ctx))).toBe(`${rotated.strategy.cookie}=${rotated.strategy.tokenFor('node-a')}`);
    expect(rotated.strategy.tokenFor('node-a')).not.toBe(old.strategy.tokenFor('node-a'));
  });

  describe('Secure', () => {
    /** A context whose request came over TLS (as a TLSSocket says with `encrypted`). */
    const overTls = (): PickContext => {
      const ctx = fakeContext();
      (ctx.req.socket as { encrypted?: boolean }).encrypted = true;
      return ctx;
    };
    const setCookie = (options: StickyCookieOptions, ctx: PickContext): string => {
      const { strategy, backends } = setup(options);
      return strategy.responseHeaders(backends[0], ctx)?.['set-cookie'] as string;
    };

    it('is sent by default when the request came over TLS, and not over plain HTTP', () => {
      expect(setCookie({}, overTls())).toMatch(/; SameSite=Lax; Secure$/);
      expect(setCookie({}, fakeContext())).toMatch(/; SameSite=Lax$/);
    });

    it('secure: false never sends it; secure: true always does', () => {
      expect(setCookie({ attributes: { secure: false } }, overTls())).toMatch(/; SameSite=Lax$/);
      expect(setCookie({ attributes: { secure: true } }, fakeContext())).toMatch(/; SameSite=Lax; Secure$/);
    });

    it('refuses a secure that is not a boolean', () => {
      expect(() => new StickyCookieStrategy({ secret: SECRET, attributes: { secure: 'yes' as unknown as boolean } })).toThrow(/attributes.secure must be a boolean/);
    });
  });

  it.each([
    [{ cookie: 'lb', attributes: { path: '/socket.io', maxAge: 3_600_000, httpOnly: false } }, 'lb=TOKEN; Path=/socket.io; Max-Age=3600; SameSite=Lax'],
    [{ attributes: { sameSite: 'None' as const, secure: true as const, domain: 'example.com' } }, 'sb_affinity=TOKEN; Path=/; Domain=example.com; HttpOnly; SameSite=None; Secure'],
    [{ attributes: { sameSite: 'Strict' as const } }, 'sb_affinity=TOKEN; Path=/; HttpOnly; SameSite=Strict'],
  ])('writes cookie attributes %j', (options, expected) => {
    const { strategy, backends } = setup(options);
    const header = strategy.responseHeaders(backends[0], fakeContext())?.['set-cookie'];
    expect(header).toBe(expected.replace('TOKEN', strategy.tokenFor(backends[0].id)));
  });

  it('keeps Set-Cookie values of the base strategy', () => {
    const base: Strategy = { name: 'b', pick: (_c, candidates) => candidates[0], responseHeaders: () => ({ 'set-cookie': 'theirs=1' }) };
    const strategy = new StickyCookieStrategy({ secret: SECRET, base });
    const backend = fakeBackend('x');
    strategy.update([backend]);
    const cookies = strategy.responseHeaders(backend, fakeContext())?.['set-cookie'];
    expect(cookies).toEqual(['theirs=1', expect.stringMatching(/^sb_affinity=/)]);
  });

  it('warns once per process that a random secret does not work across a fleet', () => {
    jest.isolateModules(() => {
      const warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const fresh = require('../../../src/strategies/sticky-cookie') as typeof import('../../../src/strategies/sticky-cookie');
        const a = new fresh.StickyCookieStrategy();
        const b = new fresh.StickyCookieStrategy();
        expect(warning).toHaveBeenCalledTimes(1);
        expect(warning.mock.calls[0][1]).toEqual(expect.objectContaining({ code: 'SWITCHBOARD_STICKY_COOKIE_SECRET' }));
        // Random per instance: the two do not recognise each other's cookies.
        expect(a.tokenFor('node-a')).not.toBe(b.tokenFor('node-a'));
      } finally {
        warning.mockRestore();
      }
    });
  });

  it.each([
    [{ secret: 'too-short' }, /at least 16 bytes/],
    [{ secret: [] }, /non-empty array/],
    [{ secret: SECRET, cookie: 'bad name' }, /cookie-name token/],
    [{ secret: SECRET, cookie: 'a=b' }, /cookie-name token/],
    [{ secret: SECRET, attributes: { sameSite: 'None' } }, /requires secure: true/],
    [{ secret: SECRET, attributes: { sameSite: 'Sometimes' } }, /'Strict', 'Lax' or 'None'/],
    [{ secret: SECRET, attributes: { path: '/; Domain=evil' } }, /without ';'/],
    [{ secret: SECRET, attributes: { maxAge: -1 } }, /maxAge/],
    [{ secret: SECRET, base: { name: 'no-pick' } }, /base must be/],
  ])('throws ERR_INVALID_OPTION for %j', (options, message) => {
    expect(() => new StickyCookieStrategy(options as never)).toThrow(InvalidOptionError);
    expect(() => new StickyCookieStrategy(options as never)).toThrow(message);
  });
});
