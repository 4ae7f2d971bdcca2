/**
 * The `route` label every metric, diagnostics message and admin row carries.
 *
 * @remarks
 * Routing is being added separately; until then every connection belongs to the route `default`.
 * This is the one place to switch to the matched route's name.
 * @internal
 */
export function routeLabel(_connection?: unknown): string {
  return 'default';
}
