import { createHmac, randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../errors';
import { isCandidate } from './admission';
import { LeastConnectionsStrategy } from './least-connections';
import { readCookie } from './request-keys';
import type { BackendView, PickContext, Strategy } from './strategy';

/**
 * Default name of the affinity cookie.
 *
 * @example
 * ```ts
 * import { DEFAULT_STICKY_COOKIE_NAME } from '@switchboard/proxy';
 * console.log(DEFAULT_STICKY_COOKIE_NAME); // sb_affinity
 * ```
 * @group Constants
 */
export const DEFAULT_STICKY_COOKIE_NAME = 'sb_affinity';

/** Shortest secret accepted: 128 bits, the strength of the truncated tag. */
const MIN_SECRET_BYTES = 16;

/** Characters of base64url kept from the HMAC-SHA256 tag: 22 x 6 = 132 bits. */
const TOKEN_LENGTH = 22;

/** Domain separation: the tag is only ever valid as an affinity cookie of this version. */
const TOKEN_CONTEXT = 'switchboard.sticky-cookie.v1:';

/** RFC 6265 cookie-name token: visible ASCII minus separators. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Characters that would end or split an attribute value in a Set-Cookie header. */
const UNSAFE_ATTRIBUTE = /[;\r\n\0]/;

let warnedRandomSecret = false;

/**
 * Attributes of the affinity cookie. `SameSite=None` requires `secure: true`
 * (browsers drop the cookie otherwise), so the type only allows it with it.
 *
 * `secure`: `true` always sends `Secure`, `false` never does; left undefined
 * (the default) it is sent when the request reached the proxy over TLS.
 *
 * @remarks
 * A cookie set over https without `Secure` is also sent over plain http, where
 * anyone on the path can read or replace it, and so choose the backend. Behind
 * a balancer that terminates TLS the proxy sees plain http: set `secure: true`.
 *
 * @example
 * ```ts
 * import type { StickyCookieAttributes } from '@switchboard/proxy';
 * const attributes: StickyCookieAttributes = { sameSite: 'None', secure: true, maxAge: 3_600_000 };
 * ```
 * @group Strategies
 */
export type StickyCookieAttributes = StickyCookieCommonAttributes &
  ({ readonly sameSite?: 'Strict' | 'Lax'; readonly secure?: boolean } | { readonly sameSite: 'None'; readonly secure: true });

/**
 * Cookie attributes other than `SameSite` and `Secure`.
 *
 * @example
 * ```ts
 * import type { StickyCookieCommonAttributes } from '@switchboard/proxy';
 * const common: StickyCookieCommonAttributes = { path: '/socket.io', httpOnly: true };
 * ```
 * @group Strategies
 */
export interface StickyCookieCommonAttributes {
  /**
   * `Path` attribute.
   * @defaultValue `'/'`
   */
  readonly path?: string;
  /**
   * `Domain` attribute.
   * @defaultValue none (host-only cookie)
   */
  readonly domain?: string;
  /**
   * Lifetime in ms, sent as `Max-Age` in whole seconds.
   * @defaultValue none (a session cookie, gone when the browser closes)
   */
  readonly maxAge?: number;
  /**
   * `HttpOnly`: page scripts cannot read the cookie.
   * @defaultValue `true`
   */
  readonly httpOnly?: boolean;
}

/**
 * Options of {@link StickyCookieStrategy}.
 *
 * @example
 * ```ts
 * import { StickyCookieStrategy, type StickyCookieOptions } from '@switchboard/proxy';
 * const options: StickyCookieOptions = {
 *   cookie: 'lb',
 *   secret: process.env.AFFINITY_SECRET ?? 'dev-only-secret-at-least-16-bytes',
 *   attributes: { sameSite: 'Lax', maxAge: 86_400_000 },
 * };
 * const strategy = new StickyCookieStrategy(options);
 * ```
 * @group Strategies
 */
export interface StickyCookieOptions {
  /**
   * Cookie name.
   * @defaultValue {@link DEFAULT_STICKY_COOKIE_NAME} (`sb_affinity`)
   */
  readonly cookie?: string;
  /**
   * HMAC key, at least 16 bytes; an array rotates keys: the first signs new
   * cookies, all are accepted.
   * @defaultValue 32 random bytes per process, with a one-time warning
   * @remarks Every proxy of a fleet must share the secret, or a client whose
   * next request reaches another proxy loses its affinity.
   */
  readonly secret?: string | Uint8Array | readonly (string | Uint8Array)[];
  /**
   * Places connections that carry no valid cookie.
   * @defaultValue a new {@link LeastConnectionsStrategy}
   */
  readonly base?: Strategy;
  /** Cookie attributes; see {@link StickyCookieAttributes}. */
  readonly attributes?: StickyCookieAttributes;
}

/**
 * Cookie affinity: the first response (or 101) sets a cookie naming the
 * backend, and later connections carrying it go back to that backend.
 *
 * @remarks
 * The cookie value is `base64url(HMAC-SHA256(secret, id))`, truncated to 132
 * bits: opaque (it reveals neither the address nor the id) and unforgeable
 * without the secret. Tokens are computed in `update()` into a token-to-backend
 * map, so a pick is one cookie scan and one map lookup, no crypto. A cookie
 * that is forged, signed with an unknown secret, or names a backend that is
 * gone, down, draining or full is ignored: the `base` strategy places the
 * connection and the response sets a fresh cookie.
 *
 * This is the L7 answer to socket.io and other protocols that open several
 * HTTP requests before the WebSocket: every request of one browser session
 * carries the cookie. Clients that do not keep cookies (many native clients)
 * need `ip-hash` instead.
 *
 * @example
 * ```ts
 * import { createProxy, StickyCookieStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
 *   strategy: new StickyCookieStrategy({ secret: process.env.AFFINITY_SECRET ?? 'dev-only-secret-at-least-16-bytes' }),
 * });
 * ```
 * @group Strategies
 */
export class StickyCookieStrategy implements Strategy {
  readonly name = 'sticky-cookie';
  /** The cookie's name. */
  readonly cookie: string;
  readonly #secrets: readonly Uint8Array[];
  readonly #base: Strategy;
  /** Attributes without `Secure`, and with it. */
  readonly #attributes: string;
  readonly #secureAttributes: string;
  /** `Secure` always (true), never (false), or when the request came over TLS (undefined). */
  readonly #secure: boolean | undefined;
  /** Token (under any accepted secret) -> backend. */
  #byToken = new Map<string, BackendView>();
  /** Backend -> token under the signing secret. */
  #tokenOf = new Map<BackendView, string>();
  #updated = false;

  constructor(options: StickyCookieOptions = {}) {
    const cookie = options.cookie ?? DEFAULT_STICKY_COOKIE_NAME;
    if (typeof cookie !== 'string' || !COOKIE_NAME.test(cookie)) {
      throw new InvalidOptionError(`StickyCookieStrategy: cookie must be a cookie-name token, got ${JSON.stringify(cookie)}`);
    }
    this.cookie = cookie;
    this.#secrets = resolveSecrets(options.secret);
    const base = options.base ?? new LeastConnectionsStrategy();
    if (typeof base !== 'object' || base === null || typeof base.pick !== 'function') {
      throw new InvalidOptionError('StickyCookieStrategy: base must be a strategy object with pick()');
    }
    this.#base = base;
    const attributes = options.attributes ?? {};
    this.#attributes = formatAttributes(attributes);
    this.#secureAttributes = `${this.#attributes}; Secure`;
    const secure: unknown = attributes.secure;
    if (secure !== undefined && typeof secure !== 'boolean') {
      throw new InvalidOptionError(`StickyCookieStrategy: attributes.secure must be a boolean or undefined, got ${String(secure)}`);
    }
    this.#secure = secure;
  }

  /** The opaque cookie value for `id` under the signing secret. */
  tokenFor(id: string): string {
    return sign(this.#secrets[0], id);
  }

  update(backends: readonly BackendView[]): void {
    this.#updated = true;
    this.#base.update?.(backends);
    const byToken = new Map<string, BackendView>();
    const tokenOf = new Map<BackendView, string>();
    // Later secrets first, so the signing secret wins should two tokens collide.
    for (let s = this.#secrets.length - 1; s >= 0; s--) {
      for (const backend of backends) byToken.set(sign(this.#secrets[s], backend.id), backend);
    }
    for (const backend of backends) tokenOf.set(backend, sign(this.#secrets[0], backend.id));
    this.#byToken = byToken;
    this.#tokenOf = tokenOf;
  }

  onLoadChange(backends: readonly BackendView[]): void {
    this.#base.onLoadChange?.(backends);
  }

  pick(context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    const token = readCookie(context.req.headers.cookie, this.cookie);
    // The proxy calls update() first; a hand-driven strategy learns the candidates.
    if (!this.#updated) this.update(candidates);
    if (token !== undefined) {
      const backend = this.#byToken.get(token);
      if (backend !== undefined && isCandidate(backend, context)) return backend;
    }
    return this.#base.pick(context, candidates);
  }

  responseHeaders(backend: BackendView, context: PickContext): Readonly<Record<string, string | readonly string[]>> | undefined {
    const extra = this.#base.responseHeaders?.(backend, context);
    const token = this.#tokenOf.get(backend) ?? this.tokenFor(backend.id);
    // Already carrying the current token for this backend: nothing to set.
    if (readCookie(context.req.headers.cookie, this.cookie) === token) return extra;
    const secure = this.#secure ?? (context.req.socket as { encrypted?: boolean }).encrypted === true;
    const setCookie = `${this.cookie}=${token}${secure ? this.#secureAttributes : this.#attributes}`;
    const previous = extra?.['set-cookie'];
    const cookies = previous === undefined ? setCookie : [...(typeof previous === 'string' ? [previous] : previous), setCookie];
    return { ...extra, 'set-cookie': cookies };
  }

  onConnectionOpen(backend: BackendView, context: PickContext): void {
    this.#base.onConnectionOpen?.(backend, context);
  }

  onConnectionClose(backend: BackendView): void {
    this.#base.onConnectionClose?.(backend);
  }
}

function sign(secret: Uint8Array, id: string): string {
  return createHmac('sha256', secret).update(TOKEN_CONTEXT + id).digest('base64url').slice(0, TOKEN_LENGTH);
}

/**
 * Where a cluster primary hands its workers the random secret used when none is given.
 * @internal
 */
export const CLUSTER_SECRET_ENV = 'SWITCHBOARD_CLUSTER_STICKY_SECRET';

function resolveSecrets(secret: StickyCookieOptions['secret']): readonly Uint8Array[] {
  // Cluster workers forked by createCluster() share one random secret, so their cookies agree.
  const shared = secret === undefined ? process.env[CLUSTER_SECRET_ENV] : undefined;
  if (shared !== undefined && shared.length > 0) return [Buffer.from(shared, 'base64')];
  if (secret === undefined) {
    if (!warnedRandomSecret) {
      warnedRandomSecret = true;
      process.emitWarning(
        'StickyCookieStrategy has no secret: using a random one for this process. ' +
          'Cookies set by one proxy will not be recognised by another or after a restart; give every proxy the same `secret`.',
        { code: 'SWITCHBOARD_STICKY_COOKIE_SECRET' },
      );
    }
    return [randomBytes(32)];
  }
  const list = typeof secret === 'string' || secret instanceof Uint8Array ? [secret] : secret;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidOptionError('StickyCookieStrategy: secret must be a string, a Uint8Array or a non-empty array of them');
  }
  return list.map((item: unknown, i) => {
    const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : item instanceof Uint8Array ? item : undefined;
    if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
      throw new InvalidOptionError(`StickyCookieStrategy: secret[${i}] must be a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`);
    }
    return Uint8Array.from(bytes);
  });
}

function formatAttributes(attributes: StickyCookieAttributes): string {
  const path = attributes.path ?? '/';
  const parts = [`Path=${checkValue('path', path)}`];
  if (attributes.domain !== undefined) parts.push(`Domain=${checkValue('domain', attributes.domain)}`);
  if (attributes.maxAge !== undefined) {
    const maxAge = attributes.maxAge;
    if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0) {
      throw new InvalidOptionError(`StickyCookieStrategy: attributes.maxAge must be a finite number of ms >= 0, got ${String(maxAge)}`);
    }
    parts.push(`Max-Age=${Math.floor(maxAge / 1000)}`);
  }
  if (attributes.httpOnly ?? true) parts.push('HttpOnly');
  const sameSite = attributes.sameSite ?? 'Lax';
  if (sameSite !== 'Strict' && sameSite !== 'Lax' && sameSite !== 'None') {
    throw new InvalidOptionError(`StickyCookieStrategy: attributes.sameSite must be 'Strict', 'Lax' or 'None', got ${String(sameSite)}`);
  }
  if (sameSite === 'None' && attributes.secure !== true) {
    throw new InvalidOptionError("StickyCookieStrategy: attributes.sameSite 'None' requires secure: true");
  }
  parts.push(`SameSite=${sameSite}`);
  return `; ${parts.join('; ')}`;
}

function checkValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || UNSAFE_ATTRIBUTE.test(value)) {
    throw new InvalidOptionError(`StickyCookieStrategy: attributes.${name} must be a non-empty string without ';' or line breaks`);
  }
  return value;
}
