/**
 * WebSockets over HTTP/2 (RFC 8441) from the client side, with Node's http2 client: a TLS front (node:http2 secure
 * server, `allowHTTP1`) the proxy is attached to, sessions that wait for SETTINGS_ENABLE_CONNECT_PROTOCOL, and an
 * extended CONNECT whose stream carries RFC 6455 frames (masked by hand, the server's parsed here).
 */
import { once } from 'node:events';
import { connect, constants, createSecureServer, type ClientHttp2Session, type ClientHttp2Stream, type Http2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Proxy } from '@switchboard/proxy';
import { wsFrame } from './raw';
import type { Resources } from './servers';
import type { TestPki } from './tls';

/** Serves `proxy` on a node:http2 TLS server on 127.0.0.1:0; clean-up closes the proxy, every session, the server. */
export async function listenH2(res: Resources, proxy: Proxy, pki: TestPki): Promise<number> {
  const server = createSecureServer({ ...proxy.http2ServerOptions(), cert: pki.cert, key: pki.key });
  const sessions = new Set<Http2Session>();
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  proxy.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  res.add(async () => {
    await proxy.close();
    for (const s of sessions) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

/** An HTTP/2 client session to the front, once the server's settings allow extended CONNECT. */
export async function connectH2(res: Resources, port: number, pki: TestPki): Promise<ClientHttp2Session> {
  const session = connect(`https://127.0.0.1:${port}`, { ca: pki.ca });
  session.on('error', () => undefined);
  res.add(() => {
    if (!session.destroyed) session.destroy();
  });
  await once(session, 'remoteSettings');
  if (session.remoteSettings.enableConnectProtocol !== true) throw new Error('server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL');
  return session;
}

/** One frame from the server. */
export interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Parses unmasked server frames out of a byte stream. */
export class FrameParser {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ServerFrame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: ServerFrame[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return out;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return out;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return out;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if ((b[1]! & 0x80) !== 0) throw new Error('server frame is masked');
      if (b.length < at + len) return out;
      out.push({ fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, payload: b.subarray(at, at + len) });
      this.#buf = b.subarray(at + len);
    }
  }
}

/** A message or the close the server sent. */
export type Received = { readonly kind: 'message'; readonly data: Buffer; readonly binary: boolean } | { readonly kind: 'close'; readonly code: number; readonly reason: string };

/** A WebSocket over one HTTP/2 stream, or the refusal answered on it. */
export interface H2WebSocket {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly stream: ClientHttp2Stream;
  /** Sends one masked frame (text for a string). */
  send(data: string | Buffer, opcode?: number): void;
  /** Sends a close frame. */
  close(code: number, reason?: string): void;
  /** Resolves with the next message or close frame from the server. */
  next(timeoutMs?: number): Promise<Received>;
  /** Resolves once the stream is closed, with the RST_STREAM code (0: a clean END_STREAM both ways). */
  readonly ended: Promise<number>;
  /** The server ended its side (END_STREAM). */
  readonly serverEnded: () => boolean;
  /** The response body, for refusals (resolves at END_STREAM). */
  readonly body: Promise<string>;
}

/** The pseudo-headers of a valid extended CONNECT for a WebSocket. */
export function wsConnectHeaders(port: number, path = '/'): Record<string, string> {
  return { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': path, ':authority': `localhost:${port}`, 'sec-websocket-version': '13' };
}

/** Sends a CONNECT with `headers` (default: a valid extended CONNECT) and resolves once its answer's headers came. */
export async function openH2WebSocket(session: ClientHttp2Session, headers: Record<string, string | string[]>): Promise<H2WebSocket> {
  const stream = session.request(headers, { endStream: false });
  stream.on('error', () => undefined);
  const parser = new FrameParser();
  const queue: Received[] = [];
  const waiters: ((r: Received) => void)[] = [];
  const chunks: Buffer[] = [];
  let fragments: Buffer[] = [];
  let fragmentOpcode = 0;
  let ended = false;
  const deliver = (r: Received): void => {
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(r);
    else queue.push(r);
  };
  const [response] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  const status = Number(response[':status']);
  stream.on('data', (chunk: Buffer) => {
    if (status !== 200) {
      chunks.push(chunk);
      return;
    }
    for (const f of parser.push(chunk)) {
      if (f.opcode === 0x8) {
        deliver({ kind: 'close', code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString() });
      } else if (f.opcode === 0x9) {
        stream.write(wsFrame(0xa, f.payload));
      } else if (f.opcode === 0x1 || f.opcode === 0x2 || f.opcode === 0x0) {
        if (f.opcode !== 0x0) fragmentOpcode = f.opcode;
        fragments.push(f.payload);
        if (f.fin) {
          deliver({ kind: 'message', data: Buffer.concat(fragments), binary: fragmentOpcode === 0x2 });
          fragments = [];
        }
      }
    }
  });
  const body = new Promise<string>((resolve) => stream.on('end', () => resolve(Buffer.concat(chunks).toString())));
  stream.on('end', () => {
    ended = true;
  });
  const endedP = new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? constants.NGHTTP2_NO_ERROR)));
  return {
    status,
    headers: response,
    stream,
    send(data, opcode) {
      stream.write(wsFrame(opcode ?? (typeof data === 'string' ? 0x1 : 0x2), data));
    },
    close(code, reason = '') {
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2);
      stream.write(wsFrame(0x8, payload));
    },
    next(timeoutMs = 3000) {
      const ready = queue.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no frame from the server in time')), timeoutMs);
        waiters.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
    ended: endedP,
    serverEnded: () => ended,
    body,
  };
}

/** Sends a text message and resolves with the answer's text. */
export async function h2RoundTrip(ws: H2WebSocket, text: string): Promise<string> {
  ws.send(text);
  const got = await ws.next();
  if (got.kind !== 'message') throw new Error(`expected a message, got close ${got.code}`);
  return got.data.toString();
}
