/**
 * A listen failure (EADDRINUSE, EACCES...) as the one line the bin prints.
 * @internal
 * @module
 */
import { CliError } from './args';

/** Says what could not listen where, and what to do about it (exit code 1). */
export function describeListenError(err: NodeJS.ErrnoException, what: string, where: string): CliError {
  if (err.code === 'EADDRINUSE') return new CliError(`cannot listen ${what} on ${where}: address already in use (another process holds that port; stop it or pick another port)`, 1);
  if (err.code === 'EACCES') return new CliError(`cannot listen ${what} on ${where}: permission denied (ports below 1024 need privileges)`, 1);
  if (err.code === 'EADDRNOTAVAIL') return new CliError(`cannot listen ${what} on ${where}: no such local address`, 1);
  return new CliError(`cannot listen ${what} on ${where}: ${err.message}`, 1);
}
