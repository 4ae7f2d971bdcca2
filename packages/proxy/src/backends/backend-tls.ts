import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { BackendTlsOptions } from '../options';

/**
 * Node TLS connect options for a backend: SNI from the option or the URL host (never an IP).
 * @internal
 */
export function tlsOptions(tls: BackendTlsOptions, host: string): ConnectionOptions {
  // SNI carries host names only (RFC 6066).
  const servername = tls.servername ?? (isIP(host) !== 0 ? undefined : host);
  const out: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  if (servername !== undefined) out.servername = servername;
  if (tls.ca !== undefined) out.ca = tls.ca as ConnectionOptions['ca'];
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  // The certificate is checked against the configured name even when connecting by IP.
  if (tls.servername !== undefined) out.checkServerIdentity = (_host, cert) => checkServerIdentity(tls.servername!, cert);
  return out;
}
