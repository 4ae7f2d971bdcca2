/** How long the process may linger after a clean shutdown before a leaked handle is assumed, in ms. */
const EXIT_GRACE_TIMEOUT = 1000;

/**
 * Runs `close()` on the first SIGINT/SIGTERM and exits at once on a second one.
 *
 * @remarks
 * After a clean close the process is left to exit on its own, so a leaked
 * handle shows up as a message instead of being hidden by `process.exit()`.
 *
 * @example
 * ```ts
 * import { stopOnSignals } from './shutdown';
 * stopOnSignals(async () => { /* close servers *\/ });
 * ```
 */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: shutting down`);
    close().then(
      () => {
        console.log('stopped');
        // Everything is closed, so the process exits on its own; this fires only if something leaked.
        setTimeout(() => {
          console.error('some handle is still open; exiting anyway');
          process.exit(1);
        }, EXIT_GRACE_TIMEOUT).unref();
      },
      (err: unknown) => {
        console.error('shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
