'use strict';
// The proxy side every native bench runs in its child process: a TCP server on 127.0.0.1:0 that connects each
// client to the echo backend and joins the two with the native relay, the JS Splice or plain pipe().
const net = require('node:net');
const path = require('node:path');

const dist = path.join(__dirname, '..', '..', 'dist');
// Shared, and defined outside the accept callback: a closure made there would keep both destroyed sockets alive.
const HANDLER = { relayEnded() {} };
const NO_LIMITS = { maxFramePayload: Infinity, maxMessageSize: Infinity };

/**
 * Starts the server. `how` is 'native' | 'js' | 'pipe'; `adopt` the relay's options for native (frame tracking,
 * splice); `onJoined` is called once per joined pair. Resolves with the server once it listens.
 */
function startRelayServer({ how, echoPort, capacity = 1024, adopt = { frameTracking: true }, onJoined = () => {} }) {
  const { Splice } = require(path.join(dist, 'websocket', 'splice.js'));
  const { NativeRelay } = require(path.join(dist, 'native', 'native-relay.js'));
  const relay = how === 'native' ? new NativeRelay(capacity) : undefined;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const backend = net.connect({ port: echoPort, host: '127.0.0.1', allowHalfOpen: true });
    // Resets at the end of a run are expected.
    client.on('error', () => {});
    backend.on('error', () => {});
    backend.pause();
    backend.once('connect', () => {
      if (relay !== undefined) {
        relay.adopt(client, backend, { ...NO_LIMITS, ...adopt }, HANDLER);
      } else if (how === 'pipe') {
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
      } else {
        const entry = { id: 1, key: 'k', clientAddress: '127.0.0.1', clientPort: 1, backendId: 'b', protocol: 'websocket', openedAt: 0, bytesIn: 0, bytesOut: 0, release: undefined };
        const options = { halfCloseTimeout: 0, idleTimeout: 0, idlePing: false, frameTracking: true, ...NO_LIMITS };
        new Splice(client, backend, entry, options, { spliceDone() {} }).start(undefined, []);
      }
      onJoined();
    });
  });
  server.listen(0, '127.0.0.1');
  return new Promise((resolve) => server.once('listening', () => resolve(server)));
}

/** Answers the parent's 'start' / 'stop' with the CPU the child used in between, then exits. */
function reportCpuOnRequest() {
  let start;
  process.on('message', (m) => {
    if (m === 'start') start = process.cpuUsage();
    if (m === 'stop') {
      const d = process.cpuUsage(start);
      process.send({ user: d.user, system: d.system });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

module.exports = { startRelayServer, reportCpuOnRequest };
