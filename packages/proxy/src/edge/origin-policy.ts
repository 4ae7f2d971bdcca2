/**
 * `allowedOrigins`: which web pages may open a WebSocket through the proxy (defence against cross-site WebSocket
 * hijacking, where a hostile page opens a socket that carries the victim's cookies).
 *
 * @packageDocumentation
 */
import { InvalidOptionError } from '../errors';

/**
 * One `allowedOrigins` entry.
 *
 * - `'https://app.example.com'`: exactly that origin (scheme, host, port; default ports may be written or not).
 * - `'https://*.example.com'`: any subdomain of example.com, at any depth, over https on the default port; not
 *   example.com itself (list it too). A port may follow: `'https://*.example.com:8443'`.
 * - `'app.example.com'`, `'*.example.com'`: without a scheme, http and https both match. Prefer the scheme form:
 *   a page served over plain http can be rewritten by anyone on the network path.
 * - a RegExp, tested against the Origin header exactly as sent (`g`/`y` flags are dropped, since they make
 *   `test()` stateful).
 *
 * @example
 * ```ts
 * import type { OriginPattern } from '@switchboard/proxy';
 * const allowed: OriginPattern[] = ['https://app.example.com', 'https://*.example.com', /^https:\/\/pr-\d+\.preview\.dev$/];
 * ```
 * @group Options
 */
export type OriginPattern = string | RegExp;

/**
 * Options of {@link createOriginPolicy}.
 *
 * @example
 * ```ts
 * const options: OriginPolicyOptions = { requireOrigin: true };
 * ```
 */
export interface OriginPolicyOptions {
  /**
   * Refuse requests that carry no Origin header.
   * @defaultValue `false`
   * @remarks Browsers always send Origin on a WebSocket handshake, so a request without one cannot come from a
   * hostile page and is no hijacking risk; it is a native app, a server or a script (which could send any Origin
   * it liked anyway). Turn this on only to keep such clients out.
   */
  readonly requireOrigin?: boolean;
}

/**
 * Answers whether a request with this Origin header value (undefined when absent) may proceed. Never throws.
 *
 * @example
 * ```ts
 * const allow: OriginCheck = createOriginPolicy(['https://example.com']);
 * allow('https://example.com:443'); // true
 * ```
 */
export type OriginCheck = (origin: string | undefined) => boolean;

interface Wildcard {
  /** `https:`, or undefined for both http: and https:. */
  readonly scheme: string | undefined;
  /** Lowercase ASCII suffix with its leading dot, e.g. `.example.com`. */
  readonly suffix: string;
  /** Port as URL writes it: '' for the scheme's default. */
  readonly port: string;
}

const SCHEMES_WITHOUT_SCHEME = ['http:', 'https:'] as const;
/** A label that cannot occur in a real pattern, standing in for `*` while the URL parser normalises the rest. */
const PLACEHOLDER = 'x-switchboard-wildcard';

/** Header values: visible ASCII only (browsers serialise hosts as punycode). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** Configuration may hold Unicode hosts, but no whitespace or controls. */
const SPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/;

/**
 * `scheme://host[:port]`, lowercase ASCII, default port dropped; undefined when `text` is not just an origin.
 *
 * @remarks Whitespace and controls are refused before parsing because the URL parser silently drops tabs and
 * newlines, which must not turn a bad value into a match. `fromConfig` tolerates a trailing `/` and Unicode
 * hosts; a header never has either.
 */
function normalizeOrigin(text: string, fromConfig: boolean): string | undefined {
  if (fromConfig ? SPACE_OR_CONTROL.test(text) : !VISIBLE_ASCII.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  // An origin is scheme, host and port only; anything else is not an Origin value.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return undefined;
  }
  const hostStart = text.indexOf('//') + 2;
  const slash = text.indexOf('/', hostStart);
  if (url.host === '' || (slash >= 0 && !(fromConfig && slash === text.length - 1))) return undefined;
  return `${url.protocol}//${url.host}`.toLowerCase();
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

function entryError(i: number, entry: unknown, why: string): InvalidOptionError {
  return new InvalidOptionError(`allowedOrigins[${i}] ${why}, got ${describe(entry)}`);
}

/** Parses one string entry into exact origins and wildcards, or throws. */
function parseEntry(entry: string, i: number, exact: Set<string>, wildcards: Wildcard[]): void {
  const text = entry.trim();
  if (text === '*') throw entryError(i, entry, 'is "*": to allow every origin, leave allowedOrigins unset');
  if (text.toLowerCase() === 'null') {
    throw entryError(i, entry, 'is "null", which sandboxed iframes and file:// pages all send; allow it with /^null$/ if you must');
  }
  const hasScheme = text.includes('://');
  const schemes = hasScheme ? [undefined] : SCHEMES_WITHOUT_SCHEME;
  const bad = (): InvalidOptionError =>
    entryError(i, entry, 'must be an origin such as https://example.com, a pattern such as https://*.example.com, or a RegExp');
  for (const scheme of schemes) {
    const full = scheme === undefined ? text : `${scheme}//${text}`;
    const star = full.indexOf('*');
    if (star < 0) {
      const origin = normalizeOrigin(full, true);
      if (origin === undefined) throw bad();
      exact.add(origin);
      continue;
    }
    // Only a whole leftmost label may be a wildcard: `*.example.com`, not `a*.example.com` or `example.*`.
    if (full.slice(star - 2, star) !== '//' || full[star + 1] !== '.' || full.indexOf('*', star + 1) >= 0) throw bad();
    const origin = normalizeOrigin(`${full.slice(0, star)}${PLACEHOLDER}${full.slice(star + 1)}`, true);
    if (origin === undefined) throw bad();
    const url = new URL(origin);
    const suffix = url.hostname.slice(PLACEHOLDER.length);
    // `*.com` would allow every site under a top-level domain.
    if (suffix.split('.').length < 3) throw entryError(i, entry, 'has a wildcard over a top-level domain; name at least two labels after "*."');
    wildcards.push({ scheme: hasScheme ? url.protocol : undefined, suffix, port: url.port });
  }
}

/**
 * Builds the Origin check behind `allowedOrigins`, validating every entry up front.
 *
 * @param allowed - exact origins, `*.` subdomain patterns and RegExps ({@link OriginPattern}); `undefined` turns
 *   the check off (every request passes); an empty list lets only requests without Origin through.
 * @throws {@link InvalidOptionError} (`ERR_INVALID_OPTION`) for an entry that is no origin, pattern or RegExp.
 *
 * @remarks A present but unparseable Origin (garbage, several values joined by a comma, a path) is refused unless a
 * RegExp matches it as sent. The proxy should answer a refusal with 403 and forward nothing.
 *
 * @example
 * ```ts
 * const allow = createOriginPolicy(['https://example.com', 'https://*.example.com']);
 * allow('https://chat.example.com'); // true
 * allow('https://example.com.evil.net'); // false
 * allow(undefined); // true: not a browser, so not a hijacking risk
 * createOriginPolicy(['https://example.com'], { requireOrigin: true })(undefined); // false
 * ```
 */
export function createOriginPolicy(allowed: readonly OriginPattern[] | undefined, options: OriginPolicyOptions = {}): OriginCheck {
  const requireOrigin = options.requireOrigin ?? false;
  if (typeof requireOrigin !== 'boolean') {
    throw new InvalidOptionError(`requireOrigin must be a boolean, got ${describe(requireOrigin)}`);
  }
  if (allowed === undefined) return (origin) => origin !== undefined || !requireOrigin;
  if (!Array.isArray(allowed)) {
    throw new InvalidOptionError(`allowedOrigins must be an array of origin strings and RegExps, got ${describe(allowed)}`);
  }
  const exact = new Set<string>();
  const wildcards: Wildcard[] = [];
  const patterns: RegExp[] = [];
  (allowed as readonly unknown[]).forEach((entry, i) => {
    if (entry instanceof RegExp) patterns.push(new RegExp(entry.source, entry.flags.replace(/[gy]/g, '')));
    else if (typeof entry === 'string') parseEntry(entry, i, exact, wildcards);
    else throw entryError(i, entry, 'must be an origin such as https://example.com, a pattern such as https://*.example.com, or a RegExp');
  });
  return (origin) => {
    if (origin === undefined) return !requireOrigin;
    for (const re of patterns) if (re.test(origin)) return true;
    const normalized = normalizeOrigin(origin, false);
    if (normalized === undefined) return false;
    if (exact.has(normalized)) return true;
    if (wildcards.length === 0) return false;
    const url = new URL(normalized);
    for (const w of wildcards) {
      if (w.scheme === undefined ? url.protocol !== 'http:' && url.protocol !== 'https:' : url.protocol !== w.scheme) continue;
      if (url.port === w.port && url.hostname.length > w.suffix.length && url.hostname.endsWith(w.suffix)) return true;
    }
    return false;
  };
}
