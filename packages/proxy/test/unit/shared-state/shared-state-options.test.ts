import { createProxy } from '../../../src/create-proxy';
import { DEFAULT_SUMMARY_TTL, resolveSharedState } from '../../../src/shared-state/shared-state-options';

const BACKENDS = ['http://127.0.0.1:9001'];

/** createProxy() with `sharedState`, expected to throw ERR_INVALID_OPTION with this message. */
function refused(sharedState: unknown): string {
  try {
    createProxy({ backends: BACKENDS, sharedState: sharedState as never });
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    return (err as Error).message;
  }
  throw new Error('createProxy accepted the option');
}

describe('resolveSharedState()', () => {
  it('is undefined without the option: no Redis client is loaded and nothing connects', () => {
    expect(resolveSharedState(undefined)).toBeUndefined();
  });

  it('fills the defaults into a new frozen object and derives the key prefix from the fleet', () => {
    const input = { redis: 'redis://user:pw@10.0.0.5:6379/2' };
    const resolved = resolveSharedState(input)!;
    expect(resolved).toMatchObject({ redis: input.redis, fleet: 'default', summaryTtl: DEFAULT_SUMMARY_TTL, advertise: undefined, prefix: 'switchboard:default:' });
    expect(resolved.proxyId).toMatch(/^.+:\d+:[0-9a-f]{8}$/);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(input).toEqual({ redis: 'redis://user:pw@10.0.0.5:6379/2' });
    expect(resolveSharedState({ redis: 'rediss://cache.internal', fleet: 'edge-eu.1', proxyId: 'p1', summaryTtl: 300, advertise: 'lb.example:443' })).toMatchObject({
      fleet: 'edge-eu.1',
      proxyId: 'p1',
      summaryTtl: 300,
      advertise: 'lb.example:443',
      prefix: 'switchboard:edge-eu.1:',
    });
  });

  it('accepts an ioredis-like client (anything with duplicate())', () => {
    const client = { duplicate: () => ({}) };
    expect(resolveSharedState({ redis: client })!.redis).toBe(client);
  });

  it.each([
    ['not an object', 'redis://127.0.0.1:6379', /must be an object/],
    ['an array', [], /must be an object/],
    ['no redis', {}, /sharedState\.redis must be a redis:\/\/ or rediss:\/\/ URL/],
    ['an http URL', { redis: 'http://127.0.0.1:6379' }, /redis:\/\/ or rediss:\/\//],
    ['not a URL', { redis: '127.0.0.1:6379' }, /redis:\/\/ or rediss:\/\//],
    ['an object without duplicate()', { redis: { host: '127.0.0.1' } }, /or an ioredis client/],
    ['an unknown key', { redis: 'redis://h', prefix: 'x' }, /sharedState\.prefix is not an option/],
    ['a fleet with a space', { redis: 'redis://h', fleet: 'a b' }, /sharedState\.fleet must be 1-64/],
    ['a fleet with a colon', { redis: 'redis://h', fleet: 'a:b' }, /sharedState\.fleet/],
    ['an empty fleet', { redis: 'redis://h', fleet: '' }, /sharedState\.fleet/],
    ['an empty proxyId', { redis: 'redis://h', proxyId: '' }, /sharedState\.proxyId/],
    ['a proxyId with whitespace', { redis: 'redis://h', proxyId: 'a b' }, /sharedState\.proxyId/],
    ['a summaryTtl below 300 ms', { redis: 'redis://h', summaryTtl: 299 }, /summaryTtl must be an integer number of ms >= 300/],
    ['a fractional summaryTtl', { redis: 'redis://h', summaryTtl: 1000.5 }, /summaryTtl/],
    ['an empty advertise', { redis: 'redis://h', advertise: '' }, /sharedState\.advertise/],
  ])('createProxy refuses %s with ERR_INVALID_OPTION', (_name, value, message) => {
    expect(refused(value)).toMatch(message);
  });
});
