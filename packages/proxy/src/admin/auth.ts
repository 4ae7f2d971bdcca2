import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Checks `Authorization: Bearer <token>` against the admin token in constant time.
 *
 * @remarks
 * Both sides are hashed first so `timingSafeEqual` always compares 32 bytes: the time taken
 * tells nothing about the token's length or how many leading bytes matched.
 * @internal
 */
export class BearerAuth {
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#digest = digest(token);
  }

  allows(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header === undefined) return false;
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) return false;
    return timingSafeEqual(digest(match[1]!), this.#digest);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
