/**
 * Runs the onRequest and onResponse hooks around a request's forward plan.
 * @internal
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { clientKey } from '../connection-table';
import { HookError, type SwitchboardError } from '../errors';
import type { HiddenHeaders } from '../http/header-policy';
import type { ForwardPlan } from './forward-plan';
import type { HookOptions, ProxyResponseHead, RequestHookContext } from './hook-options';
import { headerEditProblem } from './resolve-routes';

/** An onRequest refusal: the answer to send instead of forwarding. @internal */
export interface Rejection {
  readonly status: number;
  readonly body: string;
}

/** What onRequest decided: go on (undefined), refuse, or fail. @internal */
export type RequestOutcome = Rejection | SwitchboardError | undefined;

function contextOf(req: IncomingMessage): { clientAddress: string } {
  return { clientAddress: clientKey(req.socket?.remoteAddress ?? '', req.socket?.remotePort ?? 0) };
}

/**
 * Calls onRequest with a context that edits `plan`. Returns the outcome, or a promise of it when the
 * hook is async. Never throws.
 * @internal
 */
export function runOnRequest(hook: NonNullable<HookOptions['onRequest']>, req: IncomingMessage, plan: ForwardPlan, protocol: 'http' | 'websocket'): RequestOutcome | Promise<RequestOutcome> {
  let rejected: Rejection | undefined;
  const ctx: RequestHookContext = {
    route: plan.route.id,
    protocol,
    path: plan.path,
    setHeader(name, value) {
      const problem = headerEditProblem(name, value);
      if (problem !== undefined) throw new TypeError(`onRequest setHeader: ${problem}`);
      if (rejected === undefined) plan.edits.set(name.toLowerCase(), value);
    },
    removeHeader(name) {
      const problem = headerEditProblem(name, null);
      if (problem !== undefined) throw new TypeError(`onRequest removeHeader: ${problem}`);
      if (rejected === undefined) plan.edits.set(name.toLowerCase(), null);
    },
    reject(status, body) {
      if (!Number.isInteger(status) || status < 400 || status > 599) throw new TypeError(`reject status must be an integer from 400 to 599, got ${String(status)}`);
      if (body !== undefined && typeof body !== 'string') throw new TypeError('reject body must be a string');
      rejected ??= { status, body: body ?? `${status} ${STATUS_CODES[status] ?? 'Error'}\n` };
    },
  };
  const failed = (err: unknown): SwitchboardError => new HookError('onRequest threw', { cause: err, ...contextOf(req) });
  let result: unknown;
  try {
    result = hook(req, ctx);
  } catch (err) {
    return failed(err);
  }
  if (typeof (result as Promise<void> | undefined)?.then !== 'function') return rejected;
  return (result as Promise<void>).then(() => rejected, failed);
}

/** Requests of one client connection whose onRequest is still running, so the next waits its turn. */
const inFlight = new WeakMap<object, Promise<unknown>>();

/**
 * Calls `proceed` with the outcome once it is known and every earlier request of the same connection
 * (`key`, its socket) has proceeded: async hooks run concurrently, but requests go on in order.
 * @internal
 */
export function inOrder(key: object, outcome: RequestOutcome | Promise<RequestOutcome>, proceed: (outcome: RequestOutcome) => void): void {
  const prev = inFlight.get(key);
  if (prev === undefined && !(outcome instanceof Promise)) {
    proceed(outcome);
    return;
  }
  const next = (prev ?? Promise.resolve()).then(() => outcome).then(proceed);
  inFlight.set(key, next);
  void next.finally(() => {
    if (inFlight.get(key) === next) inFlight.delete(key);
  });
}

function isHiddenName(lower: string, hidden: HiddenHeaders): boolean {
  return hidden.exact.has(lower) || hidden.prefixes.some((p) => lower.startsWith(p));
}

/**
 * Runs onResponse on a response head (flat name/value list, already filtered). Returns the edited
 * list, or a HookError when the hook threw.
 * @internal
 */
export function runOnResponse(
  hook: NonNullable<HookOptions['onResponse']>,
  headers: string[],
  status: number,
  ctx: { route: string; backend: string; request: IncomingMessage },
  hidden: HiddenHeaders,
): string[] | SwitchboardError {
  let list = headers;
  const without = (lower: string): string[] => {
    const out: string[] = [];
    for (let i = 0; i < list.length; i += 2) if (list[i]!.toLowerCase() !== lower) out.push(list[i]!, list[i + 1]!);
    return out;
  };
  const head: ProxyResponseHead = {
    status,
    getHeader(name) {
      const lower = name.toLowerCase();
      const values: string[] = [];
      for (let i = 0; i < list.length; i += 2) if (list[i]!.toLowerCase() === lower) values.push(list[i + 1]!);
      return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
    },
    setHeader(name, value) {
      const lower = name.toLowerCase();
      if (isHiddenName(lower, hidden)) throw new TypeError(`onResponse cannot set ${lower}: the proxy hides it`);
      const values = typeof value === 'string' ? [value] : [...value];
      for (const v of values) {
        const problem = headerEditProblem(name, v, true);
        if (problem !== undefined) throw new TypeError(`onResponse setHeader: ${problem}`);
      }
      list = without(lower);
      for (const v of values) list.push(name, v);
    },
    removeHeader(name) {
      list = without(name.toLowerCase());
    },
  };
  try {
    hook(head, ctx);
  } catch (err) {
    return new HookError('onResponse threw', { cause: err, backendId: ctx.backend, ...contextOf(ctx.request) });
  }
  return list;
}
