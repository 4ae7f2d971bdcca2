/**
 * What the chat example sends where: the Redis channel payload that nodes share, and the JSON
 * frames a node sends its WebSocket clients. Clients send plain text frames; each one is a message.
 */

/** Redis channel every node publishes to and subscribes to, unless `channel` says otherwise. */
export const DEFAULT_CHANNEL = 'switchboard:chat';
/** Longest accepted WebSocket frame from a client, in bytes; a longer one closes the client with 1009. */
export const MAX_MESSAGE_BYTES = 8 * 1024;
/** Longest display name, in characters; longer names are cut. */
export const MAX_NAME_LENGTH = 32;

/** One chat line as published on the Redis channel. */
export interface ChannelMessage {
  /** `<node>-<sequence>`: unique across the cluster, increasing per node. */
  readonly id: string;
  /** Display name of the sender. */
  readonly from: string;
  /** Name of the node the sender is connected to. */
  readonly node: string;
  readonly text: string;
  /** When the sender's node published it (ms since the epoch). */
  readonly sentAt: number;
}

/** A frame a node sends to one of its WebSocket clients, as JSON text. */
export type ServerFrame =
  /**
   * First frame on every connection: which node the client landed on, under which name, and the client address the
   * node was given (the last `X-Forwarded-For` entry, which the proxy in front writes; else the TCP peer).
   */
  | { readonly type: 'welcome'; readonly node: string; readonly name: string; readonly client: string }
  /** A chat line from anyone in the cluster, the client's own lines included. */
  | ({ readonly type: 'message' } & ChannelMessage)
  /** The client's last line was not delivered (the node cannot reach Redis right now); nothing was published. */
  | { readonly type: 'error'; readonly text: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Parses a channel payload; `undefined` for anything that is not a well-formed {@link ChannelMessage}. */
export function parseChannelMessage(payload: string): ChannelMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { id, from, node, text, sentAt } = value;
  if (typeof id !== 'string' || typeof from !== 'string' || typeof node !== 'string' || typeof text !== 'string' || typeof sentAt !== 'number') {
    return undefined;
  }
  return { id, from, node, text, sentAt };
}

/** A display name from the `?name=` query parameter: control characters removed, trimmed, cut to {@link MAX_NAME_LENGTH}. */
export function cleanName(raw: string | null, fallback: string): string {
  const name = (raw ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME_LENGTH);
  return name === '' ? fallback : name;
}

/**
 * The client address a node behind one proxy should believe: the last `X-Forwarded-For` entry (the one the proxy
 * in front wrote; entries left of it were written by someone further out, possibly the client), else the TCP peer.
 * Only sound because a node listens on loopback, where nothing but the proxy reaches it.
 */
export function forwardedClient(xForwardedFor: string | string[] | undefined, peer: string | undefined): string {
  const header = Array.isArray(xForwardedFor) ? xForwardedFor.join(',') : xForwardedFor;
  const last = header?.split(',').pop()?.trim();
  return last !== undefined && last !== '' ? last : (peer ?? '');
}
