import type { ErrorCode } from '../../../src/errors';
import { ejectionTime, mayEject, OutlierDetector, passiveFailureOf, type PassiveFailure } from '../../../src/backends/outlier-detector';

// A pure clock-injected spec of the backoff; health.test.ts measures the same rules on real timers.
const options = { consecutiveFailures: 2, baseEjectionTime: 100, maxEjectionTime: 500 };

function eject(d: OutlierDetector, now: number): number {
  expect(d.recordFailure()).toBe(false);
  expect(d.recordFailure()).toBe(true);
  return d.eject(now);
}

describe('passiveFailureOf()', () => {
  it.each<[ErrorCode, PassiveFailure | undefined]>([
    ['ERR_BACKEND_CONNECT', 'connect'],
    ['ERR_BACKEND_TIMEOUT', 'timeout'],
    ['ERR_HANDSHAKE_TIMEOUT', 'timeout'],
    ['ERR_BACKEND_RESET', 'reset'],
    ['ERR_BACKEND_PROTOCOL', 'protocol'],
    // The client's side and the proxy's own limits never count against a backend.
    ['ERR_CLIENT_ABORTED', undefined],
    ['ERR_CLIENT_RESET', undefined],
    ['ERR_CLIENT_BODY', undefined],
    ['ERR_REQUEST_BODY_MISMATCH', undefined],
    ['ERR_SOURCE_EXHAUSTED', undefined],
    ['ERR_NO_BACKEND', undefined],
    ['ERR_CLIENT_LIMIT', undefined],
    ['ERR_PROXY_CLOSING', undefined],
  ])('%s counts as %s', (code, kind) => {
    expect(passiveFailureOf(code)).toBe(kind);
  });
});

describe('ejectionTime()', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 500],
    [2000, 500],
  ])('ejection %i in a row lasts %i ms', (n, ms) => {
    expect(ejectionTime(options, n)).toBe(ms);
  });
});

describe('mayEject()', () => {
  it.each([
    // total, ejected, healthy (the one due included), maxEjectionPercent -> may eject
    [2, 0, 2, 50, true],
    [2, 1, 1, 50, false],
    [3, 0, 3, 50, true],
    [3, 1, 2, 50, false],
    [4, 1, 3, 50, true],
    [4, 2, 2, 50, false],
    [10, 4, 6, 50, true],
    [10, 5, 5, 50, false],
    // At least one ejection is always allowed, however small the share.
    [4, 0, 4, 10, true],
    [4, 1, 3, 10, false],
    // Never the last healthy backend, whatever the share allows.
    [1, 0, 1, 100, false],
    [2, 1, 1, 100, false],
    [3, 0, 1, 100, false],
    [3, 1, 2, 100, true],
  ])('%i backends, %i ejected, %i healthy, max %i%%: %s', (total, ejected, healthy, percent, expected) => {
    expect(mayEject({ total, ejected, healthy }, percent)).toBe(expected);
  });
});

describe('OutlierDetector', () => {
  it('is due for ejection on the n-th failure in a row; a success breaks the row', () => {
    const d = new OutlierDetector(options, 0);
    expect(d.recordFailure()).toBe(false);
    d.recordSuccess();
    expect(d.recordFailure()).toBe(false);
    expect(d.recordFailure()).toBe(true);
    expect(d.eject(0)).toBe(100);
    expect(d.streak).toBe(0);
  });

  it('stays due, without counting on, while the pool cannot spare it', () => {
    const d = new OutlierDetector(options, 0);
    for (let i = 0; i < 10; i++) d.recordFailure();
    expect(d.streak).toBe(options.consecutiveFailures);
    expect(d.recordFailure()).toBe(true);
    expect(d.ejections).toBe(0);
  });

  it('doubles while the backend keeps failing soon after each return', () => {
    const d = new OutlierDetector(options, 0);
    const lengths: number[] = [];
    let now = 0;
    for (let i = 0; i < 5; i++) {
      lengths.push(eject(d, now));
      now += lengths[i]!;
      d.markUp(now);
      now += options.maxEjectionTime - 1;
    }
    expect(lengths).toEqual([100, 200, 400, 500, 500]);
  });

  it('starts again from the base after one maxEjectionTime up since the last return', () => {
    const d = new OutlierDetector(options, 0);
    eject(d, 0);
    eject(d, 0);
    d.markUp(1000);
    expect(eject(d, 1000 + options.maxEjectionTime)).toBe(100);
    expect(d.ejections).toBe(1);
  });

  it('counts the healthy period from the latest return, not the first', () => {
    const d = new OutlierDetector(options, 0);
    eject(d, 0);
    d.markUp(100);
    d.markUp(550);
    expect(eject(d, 700)).toBe(200);
  });
});
