import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors';

/**
 * Where {@link HashStrategy} reads its key: a built-in source or a function.
 *
 * @remarks
 * - `'path'`: the request path without the query (`/rooms/42`), so every
 *   client of a room meets on one backend.
 * - `{ header }`: a request header such as `x-user-id` (several values are
 *   joined with `,`).
 * - `{ query }`: a query parameter, percent-decoded.
 * - `{ cookie }`: a cookie's value.
 * - a function of the request, for anything else.
 *
 * An absent or empty value yields `undefined`, and the strategy falls back.
 *
 * @example
 * ```ts
 * import type { HashKeySource } from '@switchboard/proxy';
 * const byUser: HashKeySource = { header: 'x-user-id' };
 * const byRoom: HashKeySource = (req) => req.url?.split('/')[2];
 * ```
 * @group Strategies
 */
export type HashKeySource =
  | 'path'
  | { readonly header: string }
  | { readonly query: string }
  | { readonly cookie: string }
  | ((req: IncomingMessage) => string | undefined);

/**
 * Turns a key source into a reader, validating it once so a typo fails at
 * construction rather than silently hashing `undefined` on every request.
 *
 * @internal
 * @example
 * ```ts
 * import { createKeyReader } from './request-keys';
 * const read = createKeyReader({ query: 'room' });
 * ```
 */
export function createKeyReader(source: HashKeySource): (req: IncomingMessage) => string | undefined {
  if (typeof source === 'function') return (req) => nonEmpty(source(req));
  if (source === 'path') return (req) => nonEmpty(pathOf(req.url));
  if (typeof source === 'object' && source !== null) {
    if ('header' in source) {
      const name = requireName('header', source.header).toLowerCase();
      return (req) => {
        const value = req.headers[name];
        return nonEmpty(Array.isArray(value) ? value.join(',') : value);
      };
    }
    if ('query' in source) {
      const name = requireName('query', source.query);
      return (req) => nonEmpty(readQueryParam(req.url, name));
    }
    if ('cookie' in source) {
      const name = requireName('cookie', source.cookie);
      return (req) => nonEmpty(readCookie(req.headers.cookie, name));
    }
  }
  throw new InvalidOptionError(
    `key must be 'path', { header }, { query }, { cookie } or a function, got ${JSON.stringify(source) ?? String(source)}`,
  );
}

/**
 * The client IP as a hash key: IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a
 * dual-stack listener reports) becomes `10.0.0.1`, so a proxy listening on
 * `::` and one on `0.0.0.0` agree.
 *
 * @internal
 * @example
 * ```ts
 * import { normalizeIp } from './request-keys';
 * console.log(normalizeIp('::ffff:10.0.0.1')); // 10.0.0.1
 * ```
 */
export function normalizeIp(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  if (address.length > 7 && address.charCodeAt(0) === 0x3a && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) {
    return address.slice(7);
  }
  return address;
}

/**
 * A cookie's value from a `Cookie` header, or `undefined`.
 *
 * @remarks
 * Hand-written because a pick must stay cheap: one scan, no allocation of a
 * full cookie map. The first cookie of that name wins (RFC 6265 §5.4 sends
 * the most specific path first). Surrounding double quotes are removed.
 *
 * @internal
 * @example
 * ```ts
 * import { readCookie } from './request-keys';
 * console.log(readCookie('a=1; sid=xyz', 'sid')); // xyz
 * ```
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const equals = header.indexOf('=', start);
    if (equals !== -1 && equals < end && header.slice(start, equals).trim() === name) {
      let value = header.slice(equals + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * A query parameter's percent-decoded value from a request URL (`+` is a space).
 *
 * @internal
 * @example
 * ```ts
 * import { readQueryParam } from './request-keys';
 * console.log(readQueryParam('/chat?room=a%20b&x=1', 'room')); // a b
 * ```
 */
export function readQueryParam(url: string | undefined, name: string): string | undefined {
  if (url === undefined) return undefined;
  const question = url.indexOf('?');
  if (question === -1) return undefined;
  const hash = url.indexOf('#', question);
  const query = url.slice(question + 1, hash === -1 ? url.length : hash);
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    if (decodeComponent(rawName) !== name) continue;
    return equals === -1 ? '' : decodeComponent(pair.slice(equals + 1));
  }
  return undefined;
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function decodeComponent(value: string): string {
  const spaced = value.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A malformed escape is still a stable key: hash it as sent.
    return spaced;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function requireName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError(`key.${kind} must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}`);
  }
  return name;
}
