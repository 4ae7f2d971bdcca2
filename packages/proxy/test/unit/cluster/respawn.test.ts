import { CRASH_WINDOW, RESPAWN_BASE_DELAY, RESPAWN_MAX_DELAY, RespawnBackoff } from '../../../src/cluster/respawn';

describe('RespawnBackoff', () => {
  it('replaces the first crash at once, then doubles the delay per crash within the window, up to the cap', () => {
    const backoff = new RespawnBackoff();
    const delays = Array.from({ length: 12 }, (_, i) => backoff.crashed(1000 + i));
    expect(delays.slice(0, 5)).toEqual([0, RESPAWN_BASE_DELAY, RESPAWN_BASE_DELAY * 2, RESPAWN_BASE_DELAY * 4, RESPAWN_BASE_DELAY * 8]);
    expect(Math.max(...delays)).toBe(RESPAWN_MAX_DELAY);
  });

  it('forgets crashes older than the window', () => {
    const backoff = new RespawnBackoff();
    backoff.crashed(0);
    backoff.crashed(1);
    expect(backoff.crashed(2 + CRASH_WINDOW)).toBe(0);
  });
});
