/**
 * SIGTERM/SIGINT for the `switchboard` command, single process or cluster primary: the first signal drains,
 * a second one exits at once.
 */

/** What one running command does when it is told to stop. */
export interface StopPlan {
  log(line: string): void;
  /** How long close() may drain, in ms (the config's closeTimeout). */
  timeout(): number;
  /** What is being drained, for the log line: `draining` or `draining 4 workers`. */
  draining(): string;
  /**
   * How long past `timeout()` to wait before exiting anyway. close() gives up on stragglers itself; this only
   * guards a hang (a cluster primary also waits for its workers to exit).
   */
  readonly backstopMargin: number;
  /** Run once, before closing: stop watching the config file, say. */
  beforeClose(): void;
  /** Drains and closes everything the command opened. */
  close(timeout: number): Promise<unknown>;
  /** On the second signal, before exiting: kill what would outlive this process. */
  force?(): void;
}

/** Installs the SIGTERM and SIGINT handlers for `plan`. */
export function stopOnSignals(plan: StopPlan): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      plan.log(`${signal} again: exiting now`);
      plan.force?.();
      process.exit(1);
    }
    stopping = true;
    const timeout = plan.timeout();
    plan.log(`${signal}: ${plan.draining()} (up to ${timeout} ms; send it again to exit at once)`);
    plan.beforeClose();
    const backstop = setTimeout(() => {
      plan.log('drain did not finish in time: exiting');
      process.exit(1);
    }, timeout + plan.backstopMargin);
    backstop.unref();
    plan.close(timeout).then(
      () => {
        plan.log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        plan.log(`error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
