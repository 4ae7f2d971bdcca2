import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createProxy } from '@switchboard/proxy';
import { WS_HEADERS, wsFrame } from './helpers/raw';
import { waitFor } from './helpers/servers';

/** 10,000 cycles per plane (~12 s native, ~15 s JS on a quiet 2-core machine). A longer soak: SWITCHBOARD_CHURN_CYCLES=100000. */
const CYCLES = Number(process.env.SWITCHBOARD_CHURN_CYCLES ?? 10_000);
const CONCURRENCY = 40;

/**
 * How a cycle ends. Before / during / after the 101 for the client; the backend after it; both at once;
 * and a clean close handshake, so each data plane sees every end.
 */
const ENDINGS = ['client-before-101', 'client-at-101', 'client-after-frame', 'backend-after-frame', 'both-after-frame', 'clean-close'] as const;
type Ending = (typeof ENDINGS)[number];

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A raw WebSocket backend: answers the handshake (except for client-before-101), echoes frames, resets on request. */
async function startRawBackend(sockets: Set<Socket>): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    let ending: Ending | undefined;
    s.on('data', (chunk: Buffer) => {
      if (ending === undefined) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        ending = head.slice(5, head.indexOf(' ', 5)) as Ending;
        // Never answered: the client resets while the proxy waits for the 101.
        if (ending === 'client-before-101') return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        return;
      }
      if (ending === 'backend-after-frame' || ending === 'both-after-frame') {
        s.resetAndDestroy();
        return;
      }
      // Echo the first frame's opcode back unmasked: a text frame as "ok", a close as a close (then FIN).
      const opcode = chunk[0]! & 0x0f;
      if (opcode === 0x8) s.end(wsFrame(0x8, Buffer.from([0x03, 0xe8]), { masked: false }));
      else s.write(wsFrame(0x1, 'ok', { masked: false }));
    });
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** One client cycle through the proxy; resolves once its socket is closed. */
function cycle(port: number, ending: Ending): Promise<void> {
  return new Promise<void>((resolve) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    let got = Buffer.alloc(0);
    let stage = 0;
    s.on('connect', () => {
      s.write(`GET /${ending} HTTP/1.1\r\nHost: x\r\n${WS_HEADERS.join('\r\n')}\r\n\r\n`);
      // Give the proxy time to connect and forward, then reset while the backend holds the 101 back.
      if (ending === 'client-before-101') setTimeout(() => s.resetAndDestroy(), 5);
    });
    s.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (stage === 0) {
        if (got.indexOf('\r\n\r\n') < 0) return;
        stage = 1;
        if (ending === 'client-at-101') return void s.resetAndDestroy();
        s.write(ending === 'clean-close' ? wsFrame(0x8, Buffer.from([0x03, 0xe8])) : wsFrame(0x1, 'hi'));
        if (ending === 'both-after-frame') setImmediate(() => s.resetAndDestroy());
        return;
      }
      if (ending === 'client-after-frame') s.resetAndDestroy();
      // The proxy's 1011 for the backend that reset: answered, so no parting grace period is waited out.
      else if (ending === 'backend-after-frame' && !s.writableEnded) s.end(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
    });
    s.on('end', () => s.end());
  });
}

describe.each(['native', 'js'] as const)('WebSocket reset churn (dataPlane %s)', (plane) => {
  // The native relay may be absent (non-Linux, failed build): 'auto' then serves on JS and the counts still hold.
  const dataPlane = plane === 'js' ? 'js' : 'auto';

  it(`ends ${CYCLES} open/close cycles with resets before, at and after the 101, from either side or both, with the table empty and fds at baseline`, async () => {
    const backendSockets = new Set<Socket>();
    const backend = await startRawBackend(backendSockets);
    const baseline = openFds();
    const proxy = createProxy({ backends: [`http://127.0.0.1:${backend.port}`], dataPlane, halfCloseTimeout: 1000, handshakeTimeout: 5000 });
    const errors = new Map<string, number>();
    proxy.on('error', (err) => errors.set(err.code, (errors.get(err.code) ?? 0) + 1));
    let closed = 0;
    const planes = new Map<string, number>();
    proxy.on('connectionClose', (record) => {
      closed++;
      planes.set(record.dataPlane, (planes.get(record.dataPlane) ?? 0) + 1);
    });
    const { port } = await proxy.listen({ port: 0, host: '127.0.0.1' });
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < CYCLES) {
        const i = next++;
        await cycle(port, ENDINGS[i % ENDINGS.length]!);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await waitFor(() => proxy.connections().length === 0 && backendSockets.size === 0, 10_000, 'empty table and backend');
    const seconds = (Date.now() - started) / 1000;
    expect(closed).toBe(CYCLES);
    // Ends after the 101 on the plane asked for (the relayed ones); before it every connection is JS.
    if (plane === 'js') expect(planes.get('native')).toBeUndefined();
    else if (proxy.dataPlane.native) expect(planes.get('native')).toBeGreaterThanOrEqual(Math.floor((CYCLES * 4) / ENDINGS.length));
    // Sockets in TIME_WAIT hold no fd; every accepted and connected socket is gone, the relay thread's own fds included.
    await proxy.close();
    await waitFor(() => openFds() <= baseline, 5000, `fds back to ${baseline} (now ${openFds()})`);
    await backend.close();
    console.log(
      `reset churn (${plane}): ${CYCLES} cycles in ${seconds.toFixed(1)} s, ends ${JSON.stringify(Object.fromEntries(planes))}, errors ${JSON.stringify(Object.fromEntries(errors))}`,
    );
  }, 180_000);
});
