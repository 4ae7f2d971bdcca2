import { DEFAULT_ROUTE } from '../connection-table';

/**
 * The `route` label every metric, diagnostics message and admin row carries: the id of the route a
 * connection or backend belongs to (`default` for the top-level backends).
 * @internal
 */
export function routeLabel(item?: { readonly route?: string }): string {
  return item?.route ?? DEFAULT_ROUTE;
}
