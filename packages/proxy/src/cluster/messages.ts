/**
 * The IPC protocol between a cluster primary and its workers: every message is a plain object tagged
 * {@link TAG} (so an embedder's own `process.send` traffic is left alone), sent with Node's `advanced`
 * serialization (structured clone: Maps and `Infinity` survive).
 * @internal
 * @module
 */
import type { BackendSnapshot } from '../backends/backend-pool';
import type { ConnectionRecord } from '../connection-table';
import type { BackendSpec } from '../options';
import type { Family } from '../admin/metric-families';

/** Marks Switchboard's messages among whatever else travels on the IPC channel. */
export const TAG = 'switchboard.cluster';

/** A runtime change the primary fans out to every worker, and replays to workers forked later. */
export type RuntimeChange =
  | { readonly type: 'add'; readonly spec: string | BackendSpec; readonly route?: string }
  | { readonly type: 'remove'; readonly id: string; readonly route?: string; readonly drain?: boolean; readonly timeout?: number }
  | { readonly type: 'drain'; readonly id: string; readonly route?: string; readonly timeout?: number; readonly code?: number }
  | { readonly type: 'undrain'; readonly id: string; readonly route?: string }
  | { readonly type: 'weight'; readonly id: string; readonly weight: number; readonly route?: string };

/** What the primary can ask a worker. */
export type WorkerRequest =
  | { readonly op: 'connections' }
  | { readonly op: 'backends' }
  | { readonly op: 'metrics' }
  | { readonly op: 'change'; readonly change: RuntimeChange }
  | { readonly op: 'reload' };

/** The answer type of each request. */
export interface WorkerAnswers {
  connections: ConnectionRecord[];
  backends: BackendSnapshot[];
  metrics: Family[];
  change: null;
  reload: null;
}

/** Per-backend counts, keyed as the connection table keys them. */
export type Counts = ReadonlyMap<string, number>;

/** Primary -> worker. */
export type ToWorker =
  | { readonly tag: typeof TAG; readonly kind: 'init'; readonly host: string | undefined; readonly port: number; readonly countsInterval: number; readonly replay: readonly RuntimeChange[] }
  | { readonly tag: typeof TAG; readonly kind: 'request'; readonly id: number; readonly request: WorkerRequest }
  | { readonly tag: typeof TAG; readonly kind: 'counts'; readonly remote: Counts }
  | { readonly tag: typeof TAG; readonly kind: 'retire'; readonly code: number; readonly timeout: number };

/** An error as it crosses the channel: enough to rebuild a SwitchboardError's code and message. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/** Worker -> primary. */
export type FromWorker =
  | { readonly tag: typeof TAG; readonly kind: 'hello' }
  | { readonly tag: typeof TAG; readonly kind: 'listening'; readonly address: string; readonly port: number; readonly family: string }
  | { readonly tag: typeof TAG; readonly kind: 'failed'; readonly error: WireError }
  | { readonly tag: typeof TAG; readonly kind: 'response'; readonly id: number; readonly value?: unknown; readonly error?: WireError }
  | { readonly tag: typeof TAG; readonly kind: 'counts'; readonly local: Counts };

/** Whether an IPC message is one of ours. */
export function isClusterMessage<T extends { tag: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === TAG;
}

/** An Error as it crosses the channel. */
export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' && { code }) };
  }
  return { name: 'Error', message: String(err) };
}
