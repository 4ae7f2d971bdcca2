import { InvalidOptionError } from '../errors';
import { NativeRelay, nativeRelayLoadError } from './native-relay';

/**
 * Which data plane relays WebSockets after their 101.
 * - `auto`: the native relay where it applies (Linux, addon built, plain TCP on both sides), the JS splice otherwise.
 * - `native`: as `auto`, but `createProxy()` throws when the addon is not available.
 * - `js`: always the JS splice.
 *
 * @example
 * ```ts
 * import { createProxy, type DataPlaneMode } from '@switchboard/proxy';
 * const mode: DataPlaneMode = process.platform === 'linux' ? 'auto' : 'js';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], dataPlane: mode });
 * console.log(proxy.dataPlane.mode, proxy.dataPlane.native);
 * ```
 */
export type DataPlaneMode = 'auto' | 'js' | 'native';

/**
 * Which data plane a proxy can use, as {@link Proxy.dataPlane} reports it.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * if (!proxy.dataPlane.native) console.warn(`WebSockets relayed in JS: ${proxy.dataPlane.reason}`);
 * ```
 */
export interface DataPlaneStatus {
  /** The mode in effect (the option, else `SWITCHBOARD_DATA_PLANE`, else `auto`). */
  readonly mode: DataPlaneMode;
  /** True when plain-TCP WebSockets are handed to the native relay. */
  readonly native: boolean;
  /** Why not, when `native` is false. */
  readonly reason?: string;
}

/** The environment variable that sets the default mode (an explicit option wins). */
export const DATA_PLANE_ENV = 'SWITCHBOARD_DATA_PLANE';

const MODES: readonly string[] = ['auto', 'js', 'native'];

/**
 * The mode from the option, else from `env` (the value of {@link DATA_PLANE_ENV}), else `auto`. `native` without the addon
 * throws, naming the load error: a deployment that asked for it should not silently run without it.
 * @throws InvalidOptionError for an unknown value, or `native` when the addon did not load.
 * @internal
 */
export function resolveDataPlane(option: unknown, env: string | undefined): DataPlaneMode {
  let mode: DataPlaneMode;
  let where: string;
  if (option !== undefined) {
    if (typeof option !== 'string' || !MODES.includes(option)) throw new InvalidOptionError(`options.dataPlane must be 'auto', 'js' or 'native', got ${String(option)}`);
    mode = option as DataPlaneMode;
    where = 'options.dataPlane';
  } else if (env !== undefined && env !== '') {
    if (!MODES.includes(env)) throw new InvalidOptionError(`${DATA_PLANE_ENV} must be auto, js or native, got ${env}`);
    mode = env as DataPlaneMode;
    where = DATA_PLANE_ENV;
  } else {
    return 'auto';
  }
  if (mode === 'native' && !NativeRelay.available) {
    throw new InvalidOptionError(`${where} is 'native' but the native relay is not available (${nativeRelayLoadError ?? 'unknown reason'})`);
  }
  return mode;
}

/**
 * One proxy's data plane: the status it reports, and its relay thread, started on the first native
 * WebSocket and stopped when the proxy closes.
 * @internal
 */
export class DataPlane {
  readonly status: DataPlaneStatus;
  #relay: NativeRelay | undefined;
  #closed = false;

  constructor(mode: DataPlaneMode) {
    const reason = mode === 'js' ? "dataPlane is 'js'" : NativeRelay.available ? undefined : (nativeRelayLoadError ?? 'native relay not available');
    this.status = Object.freeze(reason === undefined ? { mode, native: true } : { mode, native: false, reason });
  }

  /** The relay for a new native connection, or `undefined` when the JS splice must serve. */
  relay(): NativeRelay | undefined {
    if (!this.status.native || this.#closed) return undefined;
    this.#relay ??= new NativeRelay();
    return this.#relay;
  }

  /** Stops the relay thread (closing any socket it still holds); later connections would use the JS splice. */
  close(): void {
    this.#closed = true;
    this.#relay?.close();
    this.#relay = undefined;
  }
}
