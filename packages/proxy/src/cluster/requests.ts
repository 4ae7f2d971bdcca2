/**
 * Requests from the primary to one worker over IPC, each answered or given up after a timeout, so a
 * worker that hangs or dies never hangs the caller.
 * @internal
 * @module
 */
import type { Worker } from 'node:cluster';
import { SwitchboardError } from '../errors';
import { InvalidOptionError } from '../errors';
import { TAG, type FromWorker, type WireError, type WorkerAnswers, type WorkerRequest } from './messages';

/** Why a worker's answer is missing. @internal */
export class NoAnswer {
  constructor(
    readonly workerId: number,
    readonly why: 'timeout' | 'exited' | 'unreachable',
  ) {}
}

interface Pending {
  readonly workerId: number;
  readonly resolve: (value: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/** An error a worker threw, rebuilt on the primary's side with its code. */
function fromWire(error: WireError): Error {
  if (error.code === 'ERR_INVALID_OPTION') return new InvalidOptionError(error.message);
  const err = new Error(error.message);
  err.name = error.name;
  if (error.code !== undefined) Object.assign(err, { code: error.code });
  return err;
}

/** @internal */
export class RequestTracker {
  #next = 1;
  readonly #pending = new Map<number, Pending>();

  /**
   * Sends `request` to `worker`; resolves with its answer, with an Error it threw, or with
   * {@link NoAnswer} after `timeout` ms or when it exits. Never rejects.
   */
  ask<R extends WorkerRequest>(worker: Worker, request: R, timeout: number): Promise<WorkerAnswers[R['op']] | Error | NoAnswer> {
    const id = this.#next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(new NoAnswer(worker.id, 'timeout'));
      }, timeout);
      this.#pending.set(id, { workerId: worker.id, resolve: resolve as (value: unknown) => void, timer });
      try {
        worker.send({ tag: TAG, kind: 'request', id, request }, (err: Error | null) => {
          if (err !== null) this.#settle(id, new NoAnswer(worker.id, 'unreachable'));
        });
      } catch {
        this.#settle(id, new NoAnswer(worker.id, 'unreachable'));
      }
    });
  }

  /** Delivers a worker's response. */
  answered(message: Extract<FromWorker, { kind: 'response' }>): void {
    this.#settle(message.id, message.error === undefined ? message.value : fromWire(message.error));
  }

  /** A worker exited: its pending requests get {@link NoAnswer} now rather than at their timeout. */
  workerGone(workerId: number): void {
    for (const [id, p] of this.#pending) if (p.workerId === workerId) this.#settle(id, new NoAnswer(workerId, 'exited'));
  }

  #settle(id: number, value: unknown): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(value);
  }
}

/** Whether a worker's answer is an error it reported (as opposed to a value or no answer). */
export function isFailure(value: unknown): value is Error {
  return value instanceof Error || value instanceof SwitchboardError;
}
