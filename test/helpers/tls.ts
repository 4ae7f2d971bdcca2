import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Proxy } from '@switchboard/proxy';
import type { Resources } from './servers';

export interface TestPki {
  ca: string;
  /** Certificate for `localhost` / 127.0.0.1 / backend.internal, signed by `ca`. */
  cert: string;
  key: string;
}

/** A throwaway CA and a server certificate it signs, made with the openssl CLI in a temp dir. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  try {
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=Switchboard Test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,DNS:backend.internal,IP:127.0.0.1\n');
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem');
    return {
      ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
      key: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Serves `proxy` behind an https server on 127.0.0.1:0 with the test PKI's certificate; the proxy and the server are
 * closed at clean-up. Resolves with the port.
 */
export async function listenHttps(res: Resources, proxy: Proxy, pki: TestPki): Promise<number> {
  const front = createHttpsServer({ cert: pki.cert, key: pki.key });
  proxy.attach(front);
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  res.add(async () => {
    await proxy.close();
    front.closeAllConnections();
    await new Promise<void>((r) => front.close(() => r()));
  });
  return (front.address() as AddressInfo).port;
}
