#!/usr/bin/env node
'use strict';
// RSS per idle relayed connection (after a full GC) in a child process holding CONNS connections:
// JS Splice vs native relay. Loopback only; bounded in count.
//   npx tsc -b packages/proxy && node packages/proxy/native/bench/idle-memory.js [conns=2000]
const { fork } = require('node:child_process');
const net = require('node:net');
const { once } = require('node:events');
const path = require('node:path');

const CONNS = Number(process.argv[2] === '--child' ? process.argv[5] : (process.argv[2] ?? 2000));
const SEMI = process.env.SEMI_SPACE_MB; // e.g. 1: --max-semi-space-size for the proxy child
const dist = path.join(__dirname, '..', '..', 'dist');
// Shared, and defined outside the accept callback: a closure made there would keep both destroyed sockets alive.
const HANDLER = { relayEnded() {} };

function child(mode, echoPort) {
  const { Splice } = require(path.join(dist, 'websocket', 'splice.js'));
  const { NativeRelay } = require(path.join(dist, 'native', 'native-relay.js'));
  const relay = mode === 'native' ? new NativeRelay(16384) : undefined;
  let joined = 0;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const backend = net.connect({ port: echoPort, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => {});
    backend.on('error', () => {});
    backend.pause();
    backend.once('connect', () => {
      if (mode === 'native') {
        relay.adopt(client, backend, { frameTracking: true, maxFramePayload: Infinity, maxMessageSize: Infinity }, HANDLER);
      } else {
        const entry = { id: 1, key: 'k', clientAddress: '127.0.0.1', clientPort: 1, backendId: 'b', protocol: 'websocket', openedAt: 0, bytesIn: 0, bytesOut: 0, release: undefined };
        const options = { halfCloseTimeout: 0, idleTimeout: 0, idlePing: false, frameTracking: true, maxFramePayload: Infinity, maxMessageSize: Infinity };
        new Splice(client, backend, entry, options, { spliceDone() {} }).start(undefined, []);
      }
      joined++;
    });
  });
  const rss = () => {
    global.gc();
    global.gc();
    return process.memoryUsage();
  };
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, rss: rss() }));
  process.on('message', (m) => {
    if (m === 'measure') {
      const check = () => (joined < CONNS ? setTimeout(check, 50) : setTimeout(() => process.send({ rss: rss(), joined }), 500));
      check();
    }
    if (m === 'exit') process.exit(0);
  });
}

async function measure(mode) {
  const echo = net.createServer((s) => s.on('error', () => {}));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const proc = fork(__filename, ['--child', mode, String(echo.address().port), String(CONNS)], {
    execArgv: ['--expose-gc', ...(SEMI ? [`--max-semi-space-size=${SEMI}`] : [])],
  });
  const [{ port, rss: b }] = await once(proc, 'message');
  const before = b.rss;
  const sockets = [];
  for (let i = 0; i < CONNS; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    sockets.push(s);
    if (i % 100 === 99) await once(s, 'connect');
  }
  proc.send('measure');
  const [{ rss: a, joined }] = await once(proc, 'message');
  const after = a.rss;
  proc.send('exit');
  await once(proc, 'exit');
  for (const s of sockets) s.destroy();
  echo.close();
  return { mode, conns: joined, rssDeltaMB: Number(((after - before) / 1048576).toFixed(1)), bytesPerConn: Math.round((after - before) / joined),
    heapTotalPerConn: Math.round((a.heapTotal - b.heapTotal) / joined), heapUsedPerConn: Math.round((a.heapUsed - b.heapUsed) / joined),
    externalPerConn: Math.round((a.external - b.external) / joined) };
}

async function main() {
  const rows = [];
  for (const mode of ['js-splice', 'native', 'js-splice', 'native']) rows.push(await measure(mode));
  console.table(rows);
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]));
else main();
