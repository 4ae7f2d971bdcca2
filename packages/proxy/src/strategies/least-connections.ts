import { isCandidate } from './admission';
import type { BackendView, PickContext, Strategy } from './strategy';

/**
 * Weighted least-connections: the candidate with the fewest live connections
 * per unit of weight.
 *
 * @remarks
 * WebSockets live for hours, so the number of open connections, not the
 * request rate, is what loads a backend; a node restarted after a deploy
 * starts empty and should take new clients until it catches up, which
 * round-robin does not do. Counts are read live from the connection table.
 *
 * Loads are compared as `active / weight` by cross-multiplying
 * (`a.active x b.weight < b.active x a.weight`), so no float rounding decides a
 * tie. Ties go to the backend picked least recently, so equally loaded
 * backends take turns instead of the first configured always winning.
 *
 * The up backends sit in a binary min-heap ordered by (load, last pick), as
 * HAProxy's `leastconn` keeps servers in a tree: `onConnectionOpen` /
 * `onConnectionClose` re-sift the one backend whose count changed, and a pick
 * reads the top, O(log n). This relies on the proxy calling those hooks after
 * every change of a count, and `update()` after every change of state or
 * weight, as it does. Before the first `update()` a pick scans the candidates,
 * starting one further on each time so that ties still take turns.
 *
 * @example
 * ```ts
 * import { createProxy, LeastConnectionsStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
 *   strategy: new LeastConnectionsStrategy(),
 * });
 * ```
 * @group Strategies
 */
export class LeastConnectionsStrategy implements Strategy {
  readonly name = 'least-connections';
  /** Up backends, heap-ordered; `#stamps[i]` is when `#heap[i]` was last picked. */
  #heap: BackendView[] = [];
  #stamps: number[] = [];
  #position = new Map<BackendView, number>();
  #clock = 0;
  #built = false;
  /** Rotating start of the fallback scan, so equal loads take turns there too. */
  #scanStart = 0;
  /** Heap indexes still to look at when the top cannot take a connection (reused, no allocation). */
  readonly #frontier: number[] = [];

  update(backends: readonly BackendView[]): void {
    // Carry last-pick stamps over, so a state change does not reset the turns.
    const previous = new Map(this.#heap.map((b, i) => [b, this.#stamps[i]]));
    const up = backends.filter((b) => b.state === 'up' && b.weight > 0);
    // Never-picked backends go first, in configured order.
    this.#heap = up;
    this.#stamps = up.map((b, i) => previous.get(b) ?? i - up.length);
    this.#position = new Map(up.map((b, i) => [b, i]));
    for (let i = (up.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
    this.#built = true;
  }

  /** Other workers' counts moved: re-heapify (stamps are kept, so ties still take turns). */
  onLoadChange(backends: readonly BackendView[]): void {
    this.update(backends);
  }

  pick(context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    const index = this.#built ? this.#leastAdmissible(context) : -1;
    if (index === -1) return this.#scan(candidates);
    const chosen = this.#heap[index];
    this.#stamps[index] = ++this.#clock;
    this.#siftDown(index);
    return chosen;
  }

  onConnectionOpen(backend: BackendView): void {
    const index = this.#position.get(backend);
    if (index !== undefined) this.#siftDown(index);
  }

  onConnectionClose(backend: BackendView): void {
    const index = this.#position.get(backend);
    if (index !== undefined) this.#siftUp(index);
  }

  /**
   * Heap index of the least loaded backend that can take a connection, or -1.
   * Usually the top; if the top is full or avoided, a best-first walk down the heap
   * finds the next one without disturbing the heap.
   */
  #leastAdmissible(context: PickContext): number {
    const heap = this.#heap;
    if (heap.length === 0) return -1;
    if (isCandidate(heap[0], context)) return 0;
    const frontier = this.#frontier;
    frontier.length = 0;
    frontier.push(0);
    while (frontier.length > 0) {
      let best = 0;
      for (let f = 1; f < frontier.length; f++) if (this.#less(frontier[f], frontier[best])) best = f;
      const index = frontier[best];
      if (isCandidate(heap[index], context)) return index;
      frontier[best] = frontier[frontier.length - 1];
      frontier.pop();
      const child = 2 * index + 1;
      if (child < heap.length) frontier.push(child);
      if (child + 1 < heap.length) frontier.push(child + 1);
    }
    return -1;
  }

  /**
   * O(candidates) scan, before the first `update()` (or if the candidates are
   * not the backends `update()` announced). The start rotates so equal loads
   * take turns.
   */
  #scan(candidates: readonly BackendView[]): BackendView | undefined {
    const count = candidates.length;
    if (count === 0) return undefined;
    const start = this.#scanStart++ % count;
    let best = candidates[start];
    for (let offset = 1; offset < count; offset++) {
      const backend = candidates[(start + offset) % count];
      // backend.active/backend.weight < best.active/best.weight, without division.
      if (backend.activeConnections * best.weight < best.activeConnections * backend.weight) best = backend;
    }
    return best;
  }

  /** Whether heap entry i orders before j: lower load per weight, then picked longer ago. */
  #less(i: number, j: number): boolean {
    const a = this.#heap[i];
    const b = this.#heap[j];
    const left = a.activeConnections * b.weight;
    const right = b.activeConnections * a.weight;
    return left < right || (left === right && this.#stamps[i] < this.#stamps[j]);
  }

  #siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #siftDown(index: number): void {
    const length = this.#heap.length;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.#less(right, left) ? right : left;
      if (!this.#less(child, i)) break;
      this.#swap(i, child);
      i = child;
    }
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const stamps = this.#stamps;
    [heap[i], heap[j]] = [heap[j], heap[i]];
    [stamps[i], stamps[j]] = [stamps[j], stamps[i]];
    this.#position.set(heap[i], i);
    this.#position.set(heap[j], j);
  }
}

