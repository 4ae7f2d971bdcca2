/**
 * Between routing and forwarding: registers `errorResponse` for the request, runs `onRequest`, and
 * either forwards, answers the hook's refusal, or answers 500 when the hook failed. No backend is
 * contacted before this says go.
 * @internal
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HookError, InvalidOptionError, type SwitchboardError } from '../errors';
import { sendHttpError, sendRawError, setErrorResponder, type ErrorResponder } from '../http/error-response';
import type { ResolvedOptions } from '../resolve-options';
import { planOf, type ForwardPlan } from './forward-plan';
import type { RejectionLog } from '../logging/proxy-log';
import type { HookOptions } from './hook-options';
import { inOrder, runOnRequest, type Rejection } from './hooks';
import { headerEditProblem } from './resolve-routes';
import { clientKey } from '../connection-table';
import type { EdgeGuard } from '../edge/edge-guard';
import { validateHandshake } from '../websocket/upgrade';

/** @internal */
export interface GateDeps {
  readonly hooks: HookOptions;
  readonly options: ResolvedOptions;
  readonly edge: EdgeGuard;
  /** Access line for a ctx.reject() refusal, when a logger is set. */
  readonly logRejected: RejectionLog | undefined;
  isClosing(): boolean;
  reportError(err: SwitchboardError): void;
}

/**
 * True when the request path will refuse this request anyway (closing, malformed, bad handshake,
 * forbidden Origin): then onRequest is skipped and the path answers as it always does, so hostile
 * requests never reach the embedder's hook. These checks are pure; per-client limits are not (they
 * take a slot) and still run after the hook.
 */
function refusedAnyway(deps: GateDeps, req: IncomingMessage, protocol: 'http' | 'websocket'): boolean {
  if (deps.isClosing()) return true;
  const clientAddress = clientKey(req.socket?.remoteAddress ?? '', req.socket?.remotePort ?? 0);
  if (protocol === 'websocket' && validateHandshake(req, clientAddress) !== undefined) return true;
  return deps.edge.check(req, protocol, clientAddress) !== undefined;
}

/** Validates the hook options (functions or absent). @internal */
export function resolveHooks(input: HookOptions): HookOptions {
  for (const name of ['onRequest', 'onResponse', 'errorResponse'] as const) {
    if (input[name] !== undefined && typeof input[name] !== 'function') throw new InvalidOptionError(`options.${name} must be a function`);
  }
  return Object.freeze({ onRequest: input.onRequest, onResponse: input.onResponse, errorResponse: input.errorResponse });
}

/** Wraps errorResponse: a usable answer, or undefined (and an `error` event) when it throws or returns junk. */
function responderFor(deps: GateDeps, req: IncomingMessage): ErrorResponder | undefined {
  const hook = deps.hooks.errorResponse;
  if (hook === undefined) return undefined;
  return (err) => {
    try {
      const reply = hook(err, req);
      if (reply === undefined) return undefined;
      const status = reply.status ?? err.status;
      if (!Number.isInteger(status) || status < 400 || status > 599) throw new TypeError(`errorResponse status must be 400-599, got ${String(status)}`);
      const headers = reply.headers ?? {};
      for (const [name, value] of Object.entries(headers)) {
        const problem = headerEditProblem(name, value, true);
        if (problem !== undefined) throw new TypeError(`errorResponse headers: ${problem}`);
      }
      const body = reply.body ?? `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
      if (typeof body !== 'string' && !Buffer.isBuffer(body)) throw new TypeError('errorResponse body must be a string or a Buffer');
      return { status, headers, body };
    } catch (cause) {
      deps.reportError(new HookError('errorResponse threw', { cause }));
      return undefined;
    }
  };
}

/** Answers an HTTP request with an onRequest refusal. */
function rejectHttp(res: ServerResponse, rejection: Rejection): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(rejection.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(rejection.body) });
  res.end(rejection.body);
}

/** Answers an upgrade with an onRequest refusal on its raw socket, then closes it. */
function rejectUpgrade(socket: Duplex, rejection: Rejection): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = `HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(rejection.body)}\r\n\r\n`;
  socket.end(head + rejection.body, () => socket.destroy());
}

/**
 * Runs the gate for an HTTP request; calls `forward` when it may go to a backend.
 * @internal
 */
export function gateHttp(deps: GateDeps, req: IncomingMessage, res: ServerResponse, forward: () => void): void {
  const responder = responderFor(deps, req);
  if (responder !== undefined) setErrorResponder(req, responder);
  const hook = deps.hooks.onRequest;
  const plan = planOf(req);
  if (hook === undefined || plan === undefined || refusedAnyway(deps, req, 'http')) return forward();
  inOrder(req.socket, runOnRequest(hook, req, plan, 'http'), (outcome) => {
    // A client that left while the hook ran gets nothing forwarded: its response would never close.
    if (res.destroyed || res.writableEnded || req.socket.destroyed) return;
    if (outcome === undefined) forward();
    else if (outcome instanceof Error) {
      deps.reportError(outcome);
      sendHttpError(res, outcome, deps.options.retryAfter, deps.options.server);
    } else {
      logRejection(deps, req, plan, 'http', outcome.status);
      rejectHttp(res, outcome);
    }
  });
}

/**
 * Runs the gate for an upgrade; calls `forward` when it may go to a backend.
 * @internal
 */
export function gateUpgrade(deps: GateDeps, req: IncomingMessage, socket: Duplex, head: Buffer, forward: (head: Buffer) => void): void {
  const responder = responderFor(deps, req);
  if (responder !== undefined) setErrorResponder(socket, responder);
  const hook = deps.hooks.onRequest;
  const plan = planOf(req);
  if (hook === undefined || plan === undefined || refusedAnyway(deps, req, 'websocket')) return forward(head);
  socket.on('error', noop);
  const outcome = runOnRequest(hook, req, plan, 'websocket');
  // While an async hook runs, bytes the client sends early are kept for the tunnel (as part of its
  // head); the socket keeps reading, so a client that leaves is seen.
  const early: Buffer[] = [head];
  let earlyBytes = head.length;
  const keep = (chunk: Buffer): void => {
    earlyBytes += chunk.length;
    if (earlyBytes > MAX_EARLY_BYTES) socket.destroy();
    else early.push(chunk);
  };
  const held = outcome instanceof Promise;
  if (held) socket.on('data', keep);
  inOrder(socket, outcome, (decided) => {
    socket.removeListener('data', keep);
    // A client that ended its side while the hook ran has left: its 'end' came before any tunnel listened.
    if (socket.readableEnded) socket.destroy();
    if (socket.destroyed) return;
    if (decided === undefined) forward(early.length === 1 ? head : Buffer.concat(early));
    else if (decided instanceof Error) {
      deps.reportError(decided);
      sendRawError(socket, decided, deps.options.retryAfter, deps.options.server);
    } else {
      logRejection(deps, req, plan, 'websocket', decided.status);
      rejectUpgrade(socket, decided);
    }
  });
}

/** Most bytes kept from a client before its upgrade is decided (the tunnel has the same bound). */
const MAX_EARLY_BYTES = 64 * 1024;

function logRejection(deps: GateDeps, req: IncomingMessage, plan: ForwardPlan, protocol: 'http' | 'websocket', status: number): void {
  deps.logRejected?.({ client: clientKey(req.socket?.remoteAddress ?? '', req.socket?.remotePort ?? 0), route: plan.route.id, protocol, status, path: plan.path });
}

function noop(): void {}
