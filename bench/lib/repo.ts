/**
 * Where the repository is, and what a results file says about the code it measured.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (bench/dist/lib -> ../../..). */
export const REPO = resolve(__dirname, '../../..');

/** The installed version of a package, or 'unknown'. */
export function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The commit measured, flagged when packages/proxy/src has uncommitted changes. */
export function gitState(): string {
  try {
    const head = execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5000 }).trim();
    const dirty = execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'packages/proxy/src'], { encoding: 'utf8', timeout: 5000 }).trim();
    return dirty === '' ? head : `${head} (+ uncommitted changes in packages/proxy/src)`;
  } catch {
    return 'unknown';
  }
}
