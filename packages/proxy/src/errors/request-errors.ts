/** HTTP requests the proxy will not forward as they are: a bad target or version, over a size limit, or a body it cannot send. */

import { SwitchboardError } from './switchboard-error';

/**
 * The client's HTTP request cannot be forwarded (e.g. an absolute-form or `*` request target). Client gets 400.
 *
 * @example
 * ```ts
 * import { BadRequestError } from '@switchboard/proxy';
 * console.log(new BadRequestError('target').status); // 400
 * ```
 * @group Errors
 */
export class BadRequestError extends SwitchboardError {
  readonly code = 'ERR_BAD_REQUEST' as const;
  override readonly name = 'BadRequestError';
}

/**
 * The request target is longer than `maxUrlLength`. Client gets 414.
 *
 * @example
 * ```ts
 * import { UriTooLongError } from '@switchboard/proxy';
 * console.log(new UriTooLongError('long').status); // 414
 * ```
 * @group Errors
 */
export class UriTooLongError extends SwitchboardError {
  readonly code = 'ERR_URI_TOO_LONG' as const;
  override readonly name = 'UriTooLongError';
}

/**
 * The request has more header lines than `maxHeaderCount`. Client gets 431.
 *
 * @example
 * ```ts
 * import { HeadersTooLargeError } from '@switchboard/proxy';
 * console.log(new HeadersTooLargeError('many').status); // 431
 * ```
 * @group Errors
 */
export class HeadersTooLargeError extends SwitchboardError {
  readonly code = 'ERR_HEADERS_TOO_LARGE' as const;
  override readonly name = 'HeadersTooLargeError';
}

/**
 * The request uses an HTTP version other than 1.0 or 1.1. Client gets 505.
 *
 * @example
 * ```ts
 * import { HttpVersionError } from '@switchboard/proxy';
 * console.log(new HttpVersionError('0.9').status); // 505
 * ```
 * @group Errors
 */
export class HttpVersionError extends SwitchboardError {
  readonly code = 'ERR_HTTP_VERSION' as const;
  override readonly name = 'HttpVersionError';
}

/**
 * The request body was already read by another handler (a body parser) and the
 * proxy has no body it can forward in its place: none was given in `req.body`
 * or the `body` option of `proxy.handleRequest()`, or it is an object the
 * proxy cannot serialize for the request's Content-Type. Client gets 500; the
 * backend is not contacted and its health is not touched.
 *
 * @example
 * ```ts
 * import { ConsumedBodyError } from '@switchboard/proxy';
 * console.log(new ConsumedBodyError('read by a parser').status); // 500
 * ```
 * @group Errors
 */
export class ConsumedBodyError extends SwitchboardError {
  readonly code = 'ERR_BODY_CONSUMED' as const;
  override readonly name = 'ConsumedBodyError';
}

/**
 * The request the proxy was handed carries fewer or more body bytes than its `Content-Length`,
 * usually because a framework in front (a body parser) read the body before the proxy did.
 * Client gets 500: the fault is on the proxy's side of the client, not in the backend, whose
 * health is never touched.
 *
 * @example
 * ```ts
 * import { RequestBodyMismatchError } from '@switchboard/proxy';
 * console.log(new RequestBodyMismatchError('body already read').status); // 500
 * ```
 * @group Errors
 */
export class RequestBodyMismatchError extends SwitchboardError {
  readonly code = 'ERR_REQUEST_BODY_MISMATCH' as const;
  override readonly name = 'RequestBodyMismatchError';
}
