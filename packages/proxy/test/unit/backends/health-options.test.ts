import { isSwitchboardError } from '../../../src/errors';
import { DEFAULT_HEALTH_CHECK, DEFAULT_OUTLIER_DETECTION, resolveHealthCheckOptions, resolveOutlierDetectionOptions } from '../../../src/backends/health-options';

function thrown(fn: () => unknown): { code: string | false; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: isSwitchboardError(err) && err.code, message: (err as Error).message };
  }
  throw new Error('expected a throw');
}

describe('resolveHealthCheckOptions()', () => {
  it('fills in the documented defaults and accepts 200-399', () => {
    expect(DEFAULT_HEALTH_CHECK).toEqual({ path: '/healthz', interval: 5000, timeout: 2000, rise: 2, fall: 3, jitter: 0.1 });
    const r = resolveHealthCheckOptions({});
    expect(r).toMatchObject({ ...DEFAULT_HEALTH_CHECK, headers: { 'user-agent': 'switchboard-health-check' } });
    expect([199, 200, 399, 400].map(r.expectStatus)).toEqual([false, true, true, false]);
    expect(Object.isFrozen(r) && Object.isFrozen(r.headers)).toBe(true);
  });

  it('never mutates the input and keeps a caller-chosen user-agent', () => {
    const input = { headers: { 'User-Agent': 'lb/1' } };
    const r = resolveHealthCheckOptions(input);
    expect(input).toEqual({ headers: { 'User-Agent': 'lb/1' } });
    expect(r.headers).toEqual({ 'User-Agent': 'lb/1' });
  });

  it('accepts its own output (the proxy may resolve once and the checker again)', () => {
    const once = resolveHealthCheckOptions({ expectStatus: [204, 205], path: '/ready?deep=1' });
    const twice = resolveHealthCheckOptions(once);
    expect([twice.path, twice.expectStatus(204), twice.expectStatus(200)]).toEqual(['/ready?deep=1', true, false]);
  });

  it('names the option object the caller chose', () => {
    expect(thrown(() => resolveHealthCheckOptions({ interval: -1 }, 'options.healthCheck')).message).toBe('options.healthCheck.interval must be a positive number of milliseconds, got -1');
  });

  it.each<[string, unknown, string]>([
    ['interval', { interval: -1 }, 'health.interval must be a positive number of milliseconds, got -1'],
    ['interval type', { interval: '5s' }, 'health.interval must be a positive number of milliseconds, got 5s'],
    ['interval too long', { interval: 2 ** 31 }, 'health.interval must be at most 2147483647 ms (the longest Node.js timer), got 2147483648'],
    ['timeout', { timeout: 0 }, 'health.timeout must be a positive number of milliseconds, got 0'],
    ['rise', { rise: 1.5 }, 'health.rise must be a positive integer, got 1.5'],
    ['fall', { fall: 0 }, 'health.fall must be a positive integer, got 0'],
    ['jitter', { jitter: 2 }, 'health.jitter must be a number from 0 to 1, got 2'],
    ['path', { path: 'healthz' }, 'health.path must start with a single / and contain only visible ASCII characters, got "healthz"'],
    ['protocol-relative path', { path: '//evil/x' }, 'health.path must start with a single / and contain only visible ASCII characters, got "//evil/x"'],
    ['path with a space', { path: '/a b' }, 'health.path must start with a single / and contain only visible ASCII characters, got "/a b"'],
    ['expectStatus', { expectStatus: [] }, 'health.expectStatus must be an HTTP status (100-599), a non-empty array of them, or a function, got []'],
    ['expectStatus out of range', { expectStatus: 600 }, 'health.expectStatus must be an HTTP status (100-599), a non-empty array of them, or a function, got 600'],
    ['headers type', { headers: ['x'] }, 'health.headers must be an object of header name -> string value'],
    ['header name', { headers: { 'x a': '1' } }, 'health.headers has an invalid header name: "x a"'],
    ['reserved header', { headers: { Connection: 'keep-alive' } }, 'health.headers.Connection cannot be set: the probe manages its own connection'],
    ['header injection', { headers: { 'x-a': 'b\r\nx-c: d' } }, 'health.headers.x-a must be a string without control characters'],
    ['unknown key', { intervall: 5 }, 'health.intervall is not a known option (expected one of path, interval, timeout, rise, fall, jitter, expectStatus, headers)'],
    ['type', true, 'health must be an object, got boolean'],
  ])('rejects a bad %s with ERR_INVALID_OPTION and an exact sentence', (_name, input, message) => {
    expect(thrown(() => resolveHealthCheckOptions(input))).toEqual({ code: 'ERR_INVALID_OPTION', message });
  });
});

describe('resolveOutlierDetectionOptions()', () => {
  it('fills in the documented defaults: 5xx not counted, at most half of the backends ejected', () => {
    expect(DEFAULT_OUTLIER_DETECTION).toEqual({ consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000, countServerErrors: false, maxEjectionPercent: 50 });
    expect(resolveOutlierDetectionOptions({})).toEqual(DEFAULT_OUTLIER_DETECTION);
  });

  it('raises the default cap to a larger base instead of rejecting a value the caller never wrote', () => {
    expect(resolveOutlierDetectionOptions({ baseEjectionTime: 600_000 }).maxEjectionTime).toBe(600_000);
  });

  it.each<[string, unknown, string]>([
    ['consecutiveFailures', { consecutiveFailures: 0 }, 'outlier.consecutiveFailures must be a positive integer, got 0'],
    ['baseEjectionTime', { baseEjectionTime: Number.NaN }, 'outlier.baseEjectionTime must be a positive number of milliseconds, got NaN'],
    ['maxEjectionTime', { maxEjectionTime: Infinity }, 'outlier.maxEjectionTime must be a positive number of milliseconds, got Infinity'],
    ['max below base', { baseEjectionTime: 1000, maxEjectionTime: 500 }, 'outlier.maxEjectionTime must be at least outlier.baseEjectionTime (1000), got 500'],
    ['countServerErrors', { countServerErrors: 1 }, 'outlier.countServerErrors must be true or false, got 1'],
    ['maxEjectionPercent of 0', { maxEjectionPercent: 0 }, 'outlier.maxEjectionPercent must be a number from 1 to 100, got 0'],
    ['maxEjectionPercent over 100', { maxEjectionPercent: 101 }, 'outlier.maxEjectionPercent must be a number from 1 to 100, got 101'],
    ['maxEjectionPercent type', { maxEjectionPercent: '50' }, 'outlier.maxEjectionPercent must be a number from 1 to 100, got 50'],
    [
      'unknown key',
      { baseEjection: 5 },
      'outlier.baseEjection is not a known option (expected one of consecutiveFailures, baseEjectionTime, maxEjectionTime, countServerErrors, maxEjectionPercent)',
    ],
  ])('rejects a bad %s with ERR_INVALID_OPTION and an exact sentence', (_name, input, message) => {
    expect(thrown(() => resolveOutlierDetectionOptions(input))).toEqual({ code: 'ERR_INVALID_OPTION', message });
  });
});
