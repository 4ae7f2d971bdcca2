import { killAllSync, liveChildren } from './children';

/**
 * Runs a bench's main(): every child process is killed on exit, on Ctrl-C / SIGTERM and on failure,
 * and main()'s result becomes the exit code.
 */
export function runMain(main: () => Promise<number>): void {
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      killAllSync();
      process.exit(130);
    });
  }
  main()
    .then((code) => {
      if (liveChildren() > 0) console.error(`warning: ${liveChildren()} child process(es) still tracked; killing`);
      killAllSync();
      process.exitCode = code;
    })
    .catch((err: Error) => {
      console.error(err.stack ?? err.message);
      killAllSync();
      process.exitCode = 1;
    });
}
