/**
 * When to replace a worker that died: at once the first time, then after a delay that doubles with
 * every further crash within a minute, so a worker that crashes on start cannot fork-storm the machine.
 * @internal
 * @module
 */

/** Crashes older than this no longer count, in ms. */
export const CRASH_WINDOW = 60_000;
/** The delay after the second crash in the window, in ms; it doubles from there. */
export const RESPAWN_BASE_DELAY = 250;
/** The longest delay between a crash and its replacement, in ms. */
export const RESPAWN_MAX_DELAY = 30_000;

/** @internal */
export class RespawnBackoff {
  #crashes: number[] = [];

  /** Records a crash at `now`; returns how long to wait before forking its replacement, in ms. */
  crashed(now: number): number {
    this.#crashes = this.#crashes.filter((t) => now - t < CRASH_WINDOW);
    this.#crashes.push(now);
    const recent = this.#crashes.length;
    if (recent <= 1) return 0;
    return Math.min(RESPAWN_MAX_DELAY, RESPAWN_BASE_DELAY * 2 ** (recent - 2));
  }
}
