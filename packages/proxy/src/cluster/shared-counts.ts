/**
 * Machine-wide per-backend connection counts for least-connections, power-of-two-choices, bounded load
 * and `maxConnections`. Each worker reports its own counts when they change (coalesced: at most one
 * report per `countsInterval`); the primary answers every worker with the sum of the *other* workers'
 * counts. A worker then reads "others, as last reported" plus "its own, exact", so the only stale part
 * of what it sees is the other workers' changes of the last `countsInterval` ms plus two IPC hops.
 * @internal
 * @module
 */
import { isDeepStrictEqual } from 'node:util';
import type { ProxyInternals } from '../proxy-internals';
import type { Counts } from './messages';

/** The worker side: reports local counts, applies the others'. @internal */
export class CountsReporter {
  #timer: NodeJS.Timeout | undefined;
  #last: Counts = new Map();
  #stopped = false;

  constructor(
    readonly internals: ProxyInternals,
    readonly interval: number,
    readonly send: (local: Counts) => void,
  ) {
    internals.table.onCountChange = () => this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => this.#flush(), this.interval);
    // A proxy with nothing else to do must not be kept alive by a pending report.
    this.#timer.unref();
  }

  #flush(): void {
    this.#timer = undefined;
    const now = new Map(this.internals.table.localCounts());
    if (isDeepStrictEqual(now, this.#last)) return;
    this.#last = now;
    this.send(now);
  }

  /** Reports at once (on start, so the primary has a baseline). */
  flushNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#last = new Map(this.internals.table.localCounts());
    this.send(this.#last);
  }

  /** The other workers' counts arrived: strategies that order by load re-sort. */
  applyRemote(remote: Counts): void {
    this.internals.table.setRemoteCounts(remote);
    for (const pool of this.internals.pools()) pool.loadsChanged();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.internals.table.onCountChange = undefined;
  }
}

/** The primary side: keeps each worker's last report and sends each worker the others' sum. @internal */
export class CountsHub {
  readonly #reports = new Map<number, Counts>();
  readonly #sent = new Map<number, Counts>();
  #scheduled = false;

  constructor(
    /** Workers that take counts now (initialised), and how to reach them. */
    readonly targets: () => Iterable<{ readonly id: number; send(remote: Counts): void }>,
  ) {}

  report(workerId: number, local: Counts): void {
    this.#reports.set(workerId, local);
    this.#schedule();
  }

  /** A worker is gone: its connections no longer count anywhere. */
  forget(workerId: number): void {
    this.#reports.delete(workerId);
    this.#sent.delete(workerId);
    this.#schedule();
  }

  /** Sends a worker its view even if unchanged (a worker just initialised). */
  resend(workerId: number): void {
    this.#sent.delete(workerId);
    this.#schedule();
  }

  /** Reports that arrive together (several workers, one tick) make one broadcast. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#broadcast();
    });
  }

  #broadcast(): void {
    const total = new Map<string, number>();
    for (const counts of this.#reports.values()) for (const [k, n] of counts) total.set(k, (total.get(k) ?? 0) + n);
    for (const target of this.targets()) {
      const own = this.#reports.get(target.id);
      const remote = new Map<string, number>();
      for (const [k, n] of total) {
        const others = n - (own?.get(k) ?? 0);
        if (others > 0) remote.set(k, others);
      }
      const before = this.#sent.get(target.id);
      if (before !== undefined && isDeepStrictEqual(before, remote)) continue;
      this.#sent.set(target.id, remote);
      target.send(remote);
    }
  }
}
