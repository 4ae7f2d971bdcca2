import { isIP } from 'node:net';
import { InvalidOptionError } from '../errors';

/**
 * Local addresses the proxy binds its backend connections to, in turn.
 *
 * @remarks
 * The kernel tells TCP connections apart by (source ip, source port, destination
 * ip, destination port), so one source address reaches one backend address with
 * at most the ~28k-64k ports of `ip_local_port_range`. A proxy holds a backend
 * socket for every client socket; rotating over N local addresses multiplies the
 * ceiling by N. On Linux every 127.0.0.0/8 address is local, so `127.0.0.2`,
 * `127.0.0.3`, ... work without configuration toward loopback backends; toward
 * other hosts use addresses assigned to the machine's interfaces.
 * @internal
 */
export class SourceAddressPool {
  readonly #addresses: readonly string[];
  #next = 0;

  constructor(addresses: readonly string[]) {
    this.#addresses = addresses;
  }

  get size(): number {
    return this.#addresses.length;
  }

  /** The next address in turn, or undefined when the pool is empty (let the kernel choose). */
  next(): string | undefined {
    if (this.#addresses.length === 0) return undefined;
    const address = this.#addresses[this.#next]!;
    this.#next = (this.#next + 1) % this.#addresses.length;
    return address;
  }
}

/**
 * Validates the `sourceAddresses` option.
 * @internal
 */
export function resolveSourceAddresses(value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string' && isIP(a) !== 0)) {
    throw new InvalidOptionError('options.sourceAddresses must be an array of IP address strings');
  }
  return Object.freeze([...new Set(value as string[])]);
}

/** True for the error a connect gets when its source address has no free port left toward that destination. */
export function isSourceExhausted(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EADDRNOTAVAIL' || err.code === 'EADDRINUSE';
}
