import { ejectionTime, OutlierDetector } from '../../src/outlier-detector';

// A pure clock-injected spec of the backoff; health.test.ts measures the same rules on real timers.
const options = { consecutiveFailures: 2, baseEjectionTime: 100, maxEjectionTime: 500 };

function eject(d: OutlierDetector, now: number): number {
  expect(d.recordFailure(now)).toBe(0);
  return d.recordFailure(now);
}

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

describe('OutlierDetector', () => {
  it('ejects on the n-th failure in a row; a success breaks the row', () => {
    const d = new OutlierDetector(options, 0);
    expect(d.recordFailure(0)).toBe(0);
    d.recordSuccess();
    expect(d.recordFailure(0)).toBe(0);
    expect(d.recordFailure(0)).toBe(100);
    expect(d.streak).toBe(0);
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
