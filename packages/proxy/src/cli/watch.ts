/**
 * Watches the config file for changes, debounced: editors write in bursts or replace the file by
 * renaming a new one over it, so the directory is watched and events for the file's name collapse
 * into one call after a quiet period.
 * @internal
 * @module
 */
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Default quiet period before a change is acted on, in ms. */
export const WATCH_DEBOUNCE = 200;

/** Calls `onChange` once per burst of changes to `file`; returns a function that stops watching. */
export function watchConfig(file: string, onChange: () => void, log: (line: string) => void, debounce = WATCH_DEBOUNCE): () => void {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, debounce);
    });
  } catch (err) {
    log(`cannot watch ${file} (${(err as Error).message}); reload with SIGHUP instead`);
    return () => undefined;
  }
  watcher.on('error', (err) => log(`stopped watching ${file} (${err.message}); reload with SIGHUP instead`));
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
