/**
 * The runtime changes a primary replays to workers forked later, kept short: a change that a later one
 * makes moot (an older weight of the same backend, an older drain or undrain, anything but the add before
 * a removal) is dropped, so the log grows with the backends touched, not with the calls made.
 * @internal
 * @module
 */
import type { RuntimeChange } from './messages';

function sameBackend(a: RuntimeChange, b: RuntimeChange): boolean {
  const idOf = (c: RuntimeChange): string => (c.type === 'add' ? (typeof c.spec === 'string' ? c.spec : (c.spec.id ?? c.spec.url)) : c.id);
  return (a.route ?? '') === (b.route ?? '') && idOf(a) === idOf(b);
}

/** Which earlier changes of the same backend `next` replaces. */
function supersedes(next: RuntimeChange, earlier: RuntimeChange): boolean {
  if (next.type === 'weight') return earlier.type === 'weight';
  if (next.type === 'drain' || next.type === 'undrain') return earlier.type === 'drain' || earlier.type === 'undrain';
  if (next.type === 'remove') return earlier.type !== 'add' && earlier.type !== 'remove';
  return false;
}

/** @internal */
export class ReplayLog {
  #changes: RuntimeChange[] = [];

  /** Records a change before it is fanned out, so a worker initialised meanwhile replays it. */
  push(change: RuntimeChange): void {
    this.#changes.push(change);
  }

  /**
   * Once the workers answered: a change no worker accepted is forgotten; an accepted one replaces the
   * earlier changes it makes moot (only now, so a refused change never erases the state before it).
   */
  settle(change: RuntimeChange, accepted: boolean): void {
    const at = this.#changes.indexOf(change);
    if (at === -1) return;
    if (!accepted) return void this.#changes.splice(at, 1);
    this.#changes = this.#changes.filter((c, i) => i >= at || !(sameBackend(change, c) && supersedes(change, c)));
  }

  /** What a new worker replays, oldest first. */
  snapshot(): RuntimeChange[] {
    return [...this.#changes];
  }
}
