#!/usr/bin/env node
'use strict';
// Proxy CPU per streamed MB (backend -> client, 1 MiB WebSocket binary frames) through a child process:
// JS Splice (frame tracking on) vs native (tracking on / off) vs native splice(2). Loopback, bounded.
//   npx tsc -b packages/proxy && node packages/proxy/native/bench/stream.js [MiB=512]
const { fork } = require('node:child_process');
const net = require('node:net');
const { once } = require('node:events');
const { startRelayServer, reportCpuOnRequest } = require('./relay-server');

const MIB = Number(process.argv[2] === '--child' ? 0 : (process.argv[2] ?? 512));
const FRAME = Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0]), Buffer.alloc(1 << 20, 5)]);

function child(mode, echoPort) {
  const how = mode.startsWith('native') ? 'native' : mode;
  const adopt = { frameTracking: mode === 'native-tracked', splice: mode === 'native-splice' };
  startRelayServer({ how, echoPort, capacity: 64, adopt }).then((server) => process.send({ port: server.address().port }));
  reportCpuOnRequest();
}


async function measure(mode) {
  let go;
  const started = new Promise((r) => (go = r));
  const source = net.createServer((s) => {
    s.on('error', () => {});
    started.then(() => {
      let sent = 0;
      const more = () => {
        while (sent < MIB) {
          sent++;
          if (!s.write(FRAME)) return void s.once('drain', more);
        }
      };
      more();
    });
  });
  source.listen(0, '127.0.0.1');
  await once(source, 'listening');
  const proc = fork(__filename, ['--child', mode, String(source.address().port)]);
  const [{ port }] = await once(proc, 'message');
  const client = net.connect({ port, host: '127.0.0.1' });
  client.on('error', () => {});
  await once(client, 'connect');
  await new Promise((r) => setTimeout(r, 200));
  let received = 0;
  const total = MIB * FRAME.length;
  const done = new Promise((r) => client.on('data', (c) => { received += c.length; if (received >= total) r(); }));
  proc.send('start');
  const t0 = process.hrtime.bigint();
  go();
  await done;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  proc.send('stop');
  const [cpu] = await once(proc, 'message');
  client.destroy();
  source.close();
  await once(proc, 'exit');
  return { mode, MiB: MIB, ms: Math.round(ms), cpuUsPerMB: Math.round((cpu.user + cpu.system) / (total / 1e6)), userUsPerMB: Math.round(cpu.user / (total / 1e6)) };
}

async function main() {
  const rows = [];
  for (const mode of ['js-splice', 'native-tracked', 'native', 'native-splice', 'js-splice', 'native-tracked', 'native', 'native-splice']) rows.push(await measure(mode));
  console.table(rows);
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]));
else main();
