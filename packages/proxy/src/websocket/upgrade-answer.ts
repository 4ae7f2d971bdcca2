/**
 * Checks a backend's 101 against the handshake the proxy sent, before the two sockets are spliced.
 *
 * @remarks
 * A splice is a raw TCP tunnel: once it exists, the client can send anything and the proxy's request checks,
 * `X-Forwarded-*` replacement and per-client limits no longer see it. So a 101 is only taken as a WebSocket if it
 * proves the backend is one (RFC 6455 section 4.1, the checks a client makes): `Upgrade: websocket`, `upgrade` in
 * `Connection`, the `Sec-WebSocket-Accept` derived from the key the proxy sent, and no subprotocol or extension the
 * client did not offer. A route that reflects a status, or a handler that answers 101 for anything, fails here.
 * @internal
 */
import { createHash } from 'node:crypto';

/** RFC 6455 section 1.3: appended to the key before hashing. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What the proxy offered the backend in its handshake, as the 101 must match it. */
export interface UpgradeOffer {
  /** The `Sec-WebSocket-Accept` value the backend must answer with. */
  readonly accept: string;
  /** Subprotocols the client offered (case-sensitive, as RFC 6455 compares them). */
  readonly protocols: ReadonlySet<string>;
  /** Extension names the client offered, lower-cased. */
  readonly extensions: ReadonlySet<string>;
}

/** The `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** Reads the offer out of the headers actually sent to the backend (flat `[name, value, ...]`). */
export function upgradeOffer(sentHeaders: readonly string[]): UpgradeOffer {
  let key = '';
  const protocols = new Set<string>();
  const extensions = new Set<string>();
  for (let i = 0; i < sentHeaders.length; i += 2) {
    const name = sentHeaders[i]!.toLowerCase();
    const value = sentHeaders[i + 1]!;
    if (name === 'sec-websocket-key') key = value.trim();
    else if (name === 'sec-websocket-protocol') {
      for (const p of value.split(',')) if (p.trim() !== '') protocols.add(p.trim());
    } else if (name === 'sec-websocket-extensions') {
      for (const e of extensionNames(value) ?? []) extensions.add(e);
    }
  }
  return { accept: acceptFor(key), protocols, extensions };
}

/**
 * Returns `undefined` when the 101's headers (flat `[name, value, ...]`) answer `offer` as a WebSocket server must,
 * else a short reason naming the fault (never quoting the backend's values).
 */
export function checkUpgradeAnswer(rawHeaders: readonly string[], offer: UpgradeOffer): string | undefined {
  const upgrade: string[] = [];
  const accept: string[] = [];
  const protocol: string[] = [];
  const extensions: string[] = [];
  let connectionUpgrade = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const value = rawHeaders[i + 1]!;
    switch (rawHeaders[i]!.toLowerCase()) {
      case 'upgrade':
        upgrade.push(value);
        break;
      case 'connection':
        if (value.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) connectionUpgrade = true;
        break;
      case 'sec-websocket-accept':
        accept.push(value);
        break;
      case 'sec-websocket-protocol':
        protocol.push(value);
        break;
      case 'sec-websocket-extensions':
        extensions.push(value);
        break;
    }
  }
  if (upgrade.length !== 1 || upgrade[0]!.trim().toLowerCase() !== 'websocket') return '101 without Upgrade: websocket';
  if (!connectionUpgrade) return '101 without Connection: upgrade';
  if (accept.length !== 1 || accept[0]!.trim() !== offer.accept) return '101 with a missing or wrong Sec-WebSocket-Accept';
  if (protocol.length > 1) return '101 with more than one Sec-WebSocket-Protocol';
  if (protocol.length === 1 && !offer.protocols.has(protocol[0]!.trim())) return '101 with a subprotocol the client did not offer';
  const seen = new Set<string>();
  for (const value of extensions) {
    const names = extensionNames(value);
    if (names === undefined) return '101 with an invalid Sec-WebSocket-Extensions';
    for (const name of names) {
      if (!offer.extensions.has(name) || seen.has(name)) return '101 with an extension the client did not offer';
      seen.add(name);
    }
  }
  return undefined;
}

/**
 * The lower-cased extension names of one `Sec-WebSocket-Extensions` value (RFC 6455 section 9.1), or `undefined`
 * when a name is not a token. Commas and semicolons inside quoted parameter values do not split.
 */
function extensionNames(value: string): string[] | undefined {
  const names: string[] = [];
  let start = 0;
  let inName = true;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value[i] : ',';
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ';' || c === ',') {
      if (inName) {
        const name = value.slice(start, i).trim();
        // An empty list element ("a, , b") is allowed by the list rule; an empty name with parameters is not.
        if (name !== '') {
          if (!TOKEN.test(name)) return undefined;
          names.push(name.toLowerCase());
        } else if (c === ';') return undefined;
      }
      inName = c === ',';
      start = i + 1;
    }
  }
  return quoted ? undefined : names;
}
