/**
 * Window-limited CPU profiling for a bench child: the same V8 sampling profiler as `node --cpu-prof`,
 * driven through `node:inspector` so the profile covers exactly the measured window (no start-up,
 * no warm-up, no shutdown). Enabled when the env var BENCH_CPU_PROFILE names the output file.
 *
 * Messages: `profile-start` -> `profile-started`; `profile-stop` -> `profile-written` (after the
 * `.cpuprofile` JSON is on disk).
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { send, type Message } from './ipc';

export function enableWindowProfiling(): void {
  const file = process.env.BENCH_CPU_PROFILE;
  if (file === undefined || file === '') return;
  const intervalUs = Number(process.env.BENCH_CPU_PROFILE_INTERVAL ?? '100');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => {
      session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result)));
    });
  process.on('message', (m: Message) => {
    if (m === null || typeof m !== 'object') return;
    if (m.type === 'profile-start') {
      post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: intervalUs }))
        .then(() => post('Profiler.start'))
        .then(
          () => send({ type: 'profile-started' }),
          (err: Error) => send({ type: 'fatal', message: `profiler: ${err.message}` }),
        );
    } else if (m.type === 'profile-stop') {
      post('Profiler.stop').then(
        (result) => {
          writeFileSync(file, JSON.stringify((result as { profile: unknown }).profile));
          send({ type: 'profile-written', file });
        },
        (err: Error) => send({ type: 'fatal', message: `profiler: ${err.message}` }),
      );
    }
  });
}
