import type { IncomingHttpHeaders } from 'node:http';
import { ConsumedBodyError, type ErrorContext } from '../errors';

/**
 * A request body that another handler (Express's `express.json()`, Fastify's
 * content-type parsers) read before the proxy saw the request: the stream is
 * spent, so the proxy forwards what the handler kept instead, serialized again.
 *
 * Everything here is pure: it reads stream state and values, and never reads,
 * writes or pauses a stream.
 */

/** The stream state of an `IncomingMessage` that tells whether someone read it. @internal */
export interface BodyStreamState {
  readonly readableEnded: boolean;
  readonly readableDidRead: boolean;
  readonly readable: boolean;
  readonly destroyed: boolean;
}

/** A body ready to send: its bytes, and whether the client's Content-Encoding no longer describes them. @internal */
export interface ReplayBody {
  readonly bytes: Buffer;
  /** True when the bytes were made from a decoded value (an object or a string), so Content-Encoding must go. */
  readonly decoded: boolean;
}

/** Nesting deeper than this in a form object is refused rather than walked (a cycle, or not a parser's output). */
const MAX_FORM_DEPTH = 32;

/** True when the request's headers announce a body (what the proxy would otherwise stream). @internal */
export function declaresBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/**
 * True when another reader already took data from the request stream.
 *
 * @remarks
 * `readableDidRead` is set by the first `'data'` or `read()`, so a body that
 * is complete but still buffered (nobody read it) or an empty chunked body is
 * not taken for consumed. A destroyed stream is an aborted request, not a
 * consumed one: the normal path reports the abort.
 * @internal
 */
export function isBodyConsumed(s: BodyStreamState): boolean {
  if (s.readableEnded) return true;
  if (s.destroyed) return false;
  return s.readableDidRead || !s.readable;
}

/** `type/subtype` of a Content-Type, lowercased, without parameters. */
function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** The Buffer encoding for the Content-Type's charset; utf8 when none; undefined when Node cannot encode it. */
function charsetEncoding(contentType: string | undefined): BufferEncoding | undefined {
  const match = contentType === undefined ? null : /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType);
  const charset = match === null ? 'utf-8' : match[1]!.toLowerCase();
  switch (charset) {
    case 'utf-8':
    case 'utf8':
      return 'utf8';
    case 'iso-8859-1':
    case 'latin1':
    case 'us-ascii':
    case 'ascii':
      return 'latin1';
    case 'utf-16le':
      return 'utf16le';
    default:
      return undefined;
  }
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function isStreamLike(value: object): boolean {
  return typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** Appends the pairs of `value` under `key`, in the bracket form Express's `qs` and PHP read back. */
function flattenForm(key: string, value: unknown, out: [string, string][], depth: number): boolean {
  if (depth > MAX_FORM_DEPTH) return false;
  if (value === null || value === undefined) {
    out.push([key, '']);
    return true;
  }
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      out.push([key, String(value)]);
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    // Repeated keys are what node:querystring (Express's default) and every form parser read as a list.
    if (value.every((v) => v === null || typeof v !== 'object')) return value.every((v) => flattenForm(key, v, out, depth + 1));
    return value.every((v, i) => flattenForm(`${key}[${i}]`, v, out, depth + 1));
  }
  return Object.keys(value).every((k) => flattenForm(`${key}[${k}]`, (value as Record<string, unknown>)[k], out, depth + 1));
}

/** `application/x-www-form-urlencoded` text of a parsed form object, or undefined when it holds something a form cannot. */
function encodeForm(body: object): string | undefined {
  if (Array.isArray(body)) return undefined;
  const pairs: [string, string][] = [];
  for (const key of Object.keys(body)) {
    if (!flattenForm(key, (body as Record<string, unknown>)[key], pairs, 0)) return undefined;
  }
  return new URLSearchParams(pairs).toString();
}

/**
 * The bytes to send for a body a handler kept, or the reason it cannot be sent.
 *
 * @remarks
 * A Buffer (or any Uint8Array) goes as is; a string is encoded in the
 * Content-Type's charset; any other value is serialized by the Content-Type:
 * JSON (`application/json`, `application/*+json`) or
 * `application/x-www-form-urlencoded`. Anything else is refused rather than
 * guessed: a body the backend would misread is worse than a clear 500.
 * @internal
 */
export function serializeBody(body: unknown, contentType: string | undefined): ReplayBody | string {
  if (body === undefined) return 'no body was kept';
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), decoded: false };
  const type = mediaType(contentType);
  const named = type === '' ? 'no Content-Type' : `Content-Type ${type}`;
  if (typeof body === 'string') {
    const encoding = charsetEncoding(contentType);
    if (encoding === undefined) return `a string body cannot be encoded in the charset of ${contentType ?? ''}`;
    return { bytes: Buffer.from(body, encoding), decoded: true };
  }
  if (typeof body === 'object' && body !== null && isStreamLike(body)) return 'a stream body is not supported (pass a Buffer, a string or a parsed object)';
  if (isJsonType(type)) {
    const encoding = charsetEncoding(contentType);
    const text = JSON.stringify(body) as string | undefined;
    if (text === undefined) return `a ${typeof body} body cannot be serialized as JSON`;
    if (encoding === undefined) return `a JSON body cannot be encoded in the charset of ${contentType ?? ''}`;
    return { bytes: Buffer.from(text, encoding), decoded: true };
  }
  if (type === 'application/x-www-form-urlencoded' && typeof body === 'object' && body !== null) {
    const text = encodeForm(body);
    if (text === undefined) return 'the form object holds values a form cannot carry';
    return { bytes: Buffer.from(text, 'latin1'), decoded: true };
  }
  return `a body of type ${body === null ? 'null' : typeof body} cannot be serialized for ${named} (only JSON and application/x-www-form-urlencoded can)`;
}

/**
 * Request headers for a replayed body: Content-Length set to its size,
 * Transfer-Encoding dropped, and Content-Encoding dropped when the bytes were
 * made from a decoded value.
 * @internal
 */
export function withReplayHeaders(headers: readonly string[], body: ReplayBody): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    if (name === 'content-length' || name === 'transfer-encoding' || (body.decoded && name === 'content-encoding')) continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  out.push('Content-Length', String(body.bytes.length));
  return out;
}

/** A request as far as this module looks at it. @internal */
export interface ConsumableRequest extends BodyStreamState {
  readonly headers: IncomingHttpHeaders;
  readonly body?: unknown;
}

/**
 * What to send for a request another handler may have read: undefined when
 * the proxy should stream the request as usual (no body, or nobody read it),
 * the body to replay, or the error to answer with.
 *
 * @param given - the `body` the embedder passed; it wins over `req.body`.
 * @internal
 */
export function consumedBodyOf(req: ConsumableRequest, given: unknown, ctx: ErrorContext): ReplayBody | ConsumedBodyError | undefined {
  if (!declaresBody(req.headers) || !isBodyConsumed(req)) return undefined;
  const body = given !== undefined ? given : req.body;
  const result = serializeBody(body, req.headers['content-type']);
  if (typeof result !== 'string') return result;
  const fix = body === undefined ? 'set req.body or pass the body option of handleRequest()' : 'pass a Buffer or string as the body option of handleRequest()';
  return new ConsumedBodyError(`request body was already read by another handler and cannot be forwarded: ${result}; ${fix}`, ctx);
}
