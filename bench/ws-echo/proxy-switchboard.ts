/**
 * Switchboard, standalone in its own process, from the built package (packages/proxy/dist):
 * `createProxy({ backends: [target] }).listen({ port: 0, host: '127.0.0.1' })`.
 * argv[2]: backend URL, or several separated by commas; argv[3] (optional): JSON of extra
 * `createProxy` options (e.g. `{ "sourceAddresses": ["127.0.0.2", ...] }`; the Switchboard variants of
 * bench/ws-echo/configs.ts are passed this way). Reports `{ type: 'ready', port }`; answers `gc` and `elu` requests (lib/ipc.ts).
 */
import { createProxy } from '@switchboard/proxy';
import { answerEluRequests, answerGcRequests, exitOnStop, send } from '../lib/ipc';
import { enableWindowProfiling } from '../lib/profiler';

enableWindowProfiling();
answerGcRequests();
answerEluRequests();

const target = process.argv[2];
if (target === undefined) throw new Error('usage: proxy-switchboard <backend-url>');

const extra = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
const proxy = createProxy({ ...extra, backends: target.split(',') });
// Errors while serving (not the ones our own shutdown reports) are printed when the process stops.
const errors = new Map<string, number>();
let stopping = false;
proxy.on('error', (err) => {
  if (stopping) return;
  errors.set(err.code, (errors.get(err.code) ?? 0) + 1);
});

exitOnStop(async () => {
  stopping = true;
  if (errors.size > 0) process.stderr.write(`switchboard: error events while serving: ${JSON.stringify(Object.fromEntries(errors))}\n`);
  await proxy.destroy();
});

proxy.listen({ port: 0, host: '127.0.0.1' }).then(
  (addr) => send({ type: 'ready', port: addr.port }),
  (err: Error) => {
    send({ type: 'fatal', message: `switchboard listen: ${err.message}` });
    process.exit(1);
  },
);
