import type { IncomingMessage } from 'node:http';

/** A request the admin API refuses: its HTTP status and a message safe to show the caller. @internal */
export class AdminHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminHttpError';
  }
}

/**
 * Reads a JSON object body of at most `limit` bytes. Mutating routes require
 * `Content-Type: application/json` even for an empty body: a cross-site page can send a "simple"
 * POST (text/plain, forms) without a preflight, but not this one.
 * @internal
 */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new AdminHttpError(415, 'Content-Type must be application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new AdminHttpError(413, `body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new AdminHttpError(413, `body larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AdminHttpError(400, 'body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AdminHttpError(400, 'body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Rejects keys outside `allowed`, so a typo ("wieght") is an error instead of a silent no-op. @internal */
export function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw new AdminHttpError(400, `unknown field "${key}" (expected ${allowed.join(', ')})`);
}

/** An optional positive integer field, or a 400 naming the field. @internal */
export function optionalInteger(body: Record<string, unknown>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new AdminHttpError(400, `"${key}" must be an integer from ${min} to ${max}`);
  return value;
}

/** An optional non-empty string field of at most `max` characters, or a 400. @internal */
export function optionalString(body: Record<string, unknown>, key: string, max = 2048): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new AdminHttpError(400, `"${key}" must be a non-empty string of at most ${max} characters`);
  return value;
}
