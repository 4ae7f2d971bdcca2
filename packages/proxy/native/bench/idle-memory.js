#!/usr/bin/env node
'use strict';
// RSS per idle relayed connection (after a full GC) in a child process holding CONNS connections:
// JS Splice vs native relay. Loopback only; bounded in count.
//   npx tsc -b packages/proxy && node packages/proxy/native/bench/idle-memory.js [conns=2000]
const { fork } = require('node:child_process');
const net = require('node:net');
const { once } = require('node:events');
const { startRelayServer } = require('./relay-server');

const CONNS = Number(process.argv[2] === '--child' ? process.argv[5] : (process.argv[2] ?? 2000));
const SEMI = process.env.SEMI_SPACE_MB; // e.g. 1: --max-semi-space-size for the proxy child

function child(mode, echoPort) {
  let joined = 0;
  const rss = () => {
    global.gc();
    global.gc();
    return process.memoryUsage();
  };
  startRelayServer({ how: mode, echoPort, capacity: 16384, onJoined: () => joined++ }).then((server) =>
    process.send({ port: server.address().port, rss: rss() }),
  );
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
