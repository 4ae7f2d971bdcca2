import { InvalidOptionError } from '../../../src/errors';
import { resolveClusterOptions, type ClusterOptions } from '../../../src/cluster/cluster-options';

describe('resolveClusterOptions()', () => {
  it('fills the defaults', () => {
    expect(resolveClusterOptions({ workers: 2 })).toMatchObject({ workers: 2, port: 0, host: undefined, requestTimeout: 2000, countsInterval: 25, retireTimeout: 30_000, startTimeout: 15_000 });
  });

  it.each<[string, ClusterOptions, RegExp]>([
    ['workers 0', { workers: 0 }, /cluster workers must be a positive integer, got 0/],
    ['workers 2.5', { workers: 2.5 }, /cluster workers must be a positive integer, got 2.5/],
    ['workers as a string', { workers: '4' as unknown as number }, /cluster workers must be a positive integer, got 4/],
    ['a port out of range', { workers: 1, listen: { port: -1 } }, /listen.port must be an integer from 0 to 65535/],
    ['an empty host', { workers: 1, listen: { host: '' } }, /listen.host must be a non-empty string/],
    ['a negative requestTimeout', { workers: 1, requestTimeout: -5 }, /requestTimeout must be a number of milliseconds/],
    ['args that are not strings', { workers: 1, args: [1 as unknown as string] }, /args must be an array of strings/],
    ['env values that are not strings', { workers: 1, env: { A: 1 as unknown as string } }, /env must map names to strings/],
  ])('refuses %s with ERR_INVALID_OPTION', (_what, options, message) => {
    expect(() => resolveClusterOptions(options)).toThrow(InvalidOptionError);
    expect(() => resolveClusterOptions(options)).toThrow(message);
  });
});
