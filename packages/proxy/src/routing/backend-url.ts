/**
 * Backend URL forms: what a backend URL may carry besides scheme, host and port.
 * A part the proxy would silently drop is refused instead.
 * @internal
 */
import { InvalidOptionError } from '../errors';

/**
 * Throws `ERR_INVALID_OPTION` for a backend URL part that cannot be honoured.
 * @internal
 */
export function checkBackendUrlForm(url: URL, where: string): void {
  if (url.username !== '' || url.password !== '') {
    throw new InvalidOptionError(`${where}.url carries credentials, which are never sent: use headers: { authorization } on the route instead`);
  }
  if (url.search !== '') throw new InvalidOptionError(`${where}.url has a query string, which cannot be merged into each request's; use rewrite instead`);
  if (url.hash !== '') throw new InvalidOptionError(`${where}.url has a fragment, which is never sent to a server`);
  // A path is honoured: it is prepended to every forwarded path (routing/forward-plan.ts).
  if (/%2f|%2e|\/\.\.?(\/|$)|\/\//i.test(url.pathname)) throw new InvalidOptionError(`${where}.url path must be plain segments (no dot segment, empty segment or encoded slash), got ${url.pathname}`);
}
