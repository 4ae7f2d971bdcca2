#!/usr/bin/env node
'use strict';
// Proxy CPU per 64-byte WebSocket-framed round trip: Switchboard's JS Splice (frame tracking on) against
// the native relay (frame tracking on) and a plain socket.pipe() relay, each in a child process whose own
// CPU (all threads) is measured while CONNS clients ping-pong through it. Loopback only, bounded in time.
//   npx tsc -b packages/proxy && node packages/proxy/native/bench/pingpong.js [seconds=5] [conns=50]
const { fork } = require('node:child_process');
const net = require('node:net');
const { once } = require('node:events');
const { startRelayServer, reportCpuOnRequest } = require('./relay-server');

const SECONDS = Number(process.argv[2] ?? 5);
const CONNS = Number(process.argv[3] ?? 50);

// 64 bytes each: a masked binary frame (6-byte header + 58) and an unmasked one (2 + 62).
const UP = Buffer.concat([Buffer.from([0x82, 0x80 | 58, 1, 2, 3, 4]), Buffer.alloc(58, 9)]);
const DOWN = Buffer.concat([Buffer.from([0x82, 62]), Buffer.alloc(62, 7)]);

function child(mode, echoPort) {
  startRelayServer({ how: mode, echoPort, capacity: 1024 }).then((server) => process.send({ port: server.address().port }));
  reportCpuOnRequest();
}


async function measure(mode) {
  const echo = net.createServer((s) => {
    let have = 0;
    s.on('data', (c) => {
      have += c.length;
      while (have >= 64) {
        have -= 64;
        s.write(DOWN);
      }
    });
    s.on('error', () => {});
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const proc = fork(__filename, ['--child', mode, String(echo.address().port)]);
  const [{ port }] = await once(proc, 'message');
  let trips = 0;
  const sockets = [];
  for (let i = 0; i < CONNS; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    let have = 0;
    s.on('data', (c) => {
      have += c.length;
      while (have >= 64) {
        have -= 64;
        trips++;
        s.write(UP);
      }
    });
    s.on('error', () => {});
    await once(s, 'connect');
    s.write(UP);
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 1000));
  proc.send('start');
  const from = trips;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const done = trips - from;
  proc.send('stop');
  const [cpu] = await once(proc, 'message');
  for (const s of sockets) s.destroy();
  echo.close();
  await once(proc, 'exit');
  const us = (cpu.user + cpu.system) / done;
  return { mode, roundTrips: done, perSecond: Math.round(done / SECONDS), cpuUsPerRoundTrip: Number(us.toFixed(2)), userUs: Number((cpu.user / done).toFixed(2)), systemUs: Number((cpu.system / done).toFixed(2)) };
}

async function main() {
  const rows = [];
  for (const mode of ['js-splice', 'native', 'pipe', 'native', 'js-splice']) rows.push(await measure(mode));
  console.table(rows);
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]));
else main();
