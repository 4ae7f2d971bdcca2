import { performance } from 'node:perf_hooks';
import { machineBusyMicros } from './proc';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits (at most `waitSeconds`) until the machine as a whole used under `maxOtherPct` % of a core over
 * one second (call it when none of our children runs). Returns the last reading.
 */
export async function waitQuiet(maxOtherPct: number, waitSeconds: number): Promise<number> {
  let other = Number.NaN;
  const deadline = performance.now() + waitSeconds * 1000;
  for (let i = 0; i < 600; i++) {
    const m0 = machineBusyMicros();
    const t0 = performance.now();
    await sleep(1000);
    const m1 = machineBusyMicros();
    if (m0 === undefined || m1 === undefined) return Number.NaN;
    other = ((m1 - m0) / ((performance.now() - t0) * 1000)) * 100;
    if (other <= maxOtherPct || performance.now() >= deadline) break;
  }
  return other;
}

