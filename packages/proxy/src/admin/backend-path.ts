/**
 * The backend routes of the admin API (`/api/backends/<id>` and its drain/undrain/weight actions), parsed the
 * same way by a proxy's admin and a cluster primary's.
 */
import { AdminHttpError } from './json-body';

/** A matched `/api/backends/<id>[/<action>]` path. */
export interface BackendPath {
  readonly id: string;
  /** Undefined for the backend itself (DELETE). */
  readonly action: 'drain' | 'undrain' | 'weight' | undefined;
}

const BACKEND_PATH = /^\/api\/backends\/([^/]+)(?:\/(drain|undrain|weight))?$/;

/** The backend id and action of `path`, or undefined when it is not a backend route; bad escapes are a 400. */
export function matchBackendPath(path: string): BackendPath | undefined {
  const match = BACKEND_PATH.exec(path);
  if (match === null) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(match[1]!);
  } catch {
    throw new AdminHttpError(400, 'backend id is not valid percent-encoding');
  }
  return { id, action: match[2] as BackendPath['action'] };
}
