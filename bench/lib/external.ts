/**
 * Native peer proxies (nginx, HAProxy): finding the Debian binary (apt-get install only when the run asks for
 * it), a free loopback port, a temp dir for the configuration, and one lifecycle for the spawned program
 * (readiness by connecting, worker pids for CPU accounting, stop, temp dir removed even on an early exit).
 * The per-program configuration stays in bench/ws-echo/nginx.ts and haproxy.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild, stopChild, type Child } from './children';
import { childPids } from './proc';
import { sleep } from './quiet';

/** How to find, install and name one program. */
export interface ProgramSpec {
  /** The bench configuration it serves, also the command name (`nginx`, `haproxy`). */
  readonly name: string;
  readonly candidates: readonly string[];
  readonly aptPackage: string;
  /** Env var that lets the bench `apt-get install` the package when it is missing. */
  readonly installEnv: string;
  readonly versionArgs: readonly string[];
  /** First capture group: the version, matched against stdout + stderr of `versionArgs`. */
  readonly versionPattern: RegExp;
}

export type Found = { path: string; version: string } | { note: string };

function which(spec: ProgramSpec): string | undefined {
  for (const p of spec.candidates) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', `command -v ${spec.name}`], { encoding: 'utf8', timeout: 2000 });
  const p = (r.stdout ?? '').trim();
  return p !== '' ? p : undefined;
}

/** Finds the program; installs it with apt-get only when `spec.installEnv` is 1. Else a note saying why it is skipped. */
export function findProgram(spec: ProgramSpec): Found {
  let path = which(spec);
  if (path === undefined && process.env[spec.installEnv] === '1') {
    console.log(`${spec.name} not found; ${spec.installEnv}=1: apt-get install -y ${spec.aptPackage}`);
    const opts = { stdio: 'inherit' as const, timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
    let r = spawnSync('apt-get', ['install', '-y', spec.aptPackage], opts);
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], opts);
      r = spawnSync('apt-get', ['install', '-y', spec.aptPackage], opts);
    }
    path = which(spec);
    if (path === undefined) return { note: `${spec.name} skipped: apt-get install -y ${spec.aptPackage} failed (exit ${r.status ?? r.signal})` };
  }
  if (path === undefined) return { note: `${spec.name} skipped: not installed (set ${spec.installEnv}=1 to let the bench apt-get install it)` };
  const v = spawnSync(path, [...spec.versionArgs], { encoding: 'utf8', timeout: 5000 });
  const version = spec.versionPattern.exec(`${v.stderr ?? ''}${v.stdout ?? ''}`)?.[1] ?? 'unknown';
  return { path, version };
}

/**
 * The configurations a run can measure: each program in `specs` stays only when {@link findProgram} finds it
 * (else its note is printed and added to `notes`), with binaries and versions by program name.
 */
export function programsForRun<C extends string>(
  wanted: readonly C[],
  notes: string[],
  specs: readonly ProgramSpec[],
): { configs: C[]; binaries: Record<string, string>; versions: Record<string, string> } {
  let configs = [...wanted];
  const binaries: Record<string, string> = {};
  const versions: Record<string, string> = {};
  for (const spec of specs) {
    if (!configs.includes(spec.name as C)) continue;
    const found = findProgram(spec);
    if ('path' in found) {
      binaries[spec.name] = found.path;
      versions[spec.name] = found.version;
    } else {
      console.log(found.note);
      notes.push(found.note);
      configs = configs.filter((c) => c !== spec.name);
    }
  }
  return { configs, binaries, versions };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

/** A started native proxy. */
export interface ExternalProxy {
  child: Child;
  port: number;
  /** Every pid whose CPU and RSS count as the proxy's (nginx: master + worker). */
  pids: number[];
  stop(): Promise<void>;
}

export interface ExternalLaunch {
  name: string;
  binary: string;
  /** Command-line arguments, given the temp dir and the configuration file written in it. */
  args: (dir: string, confFile: string) => string[];
  /** The configuration text, given the temp dir (for pid/log/temp paths) and the port to listen on. */
  config: (dir: string, port: number) => string;
  confName: string;
  stopSignal: NodeJS.Signals;
  nofile?: number;
  /** Wait for worker processes under the spawned one (nginx's master-worker); false for a single process. */
  hasWorkers: boolean;
}

/**
 * Writes the configuration into a fresh temp dir, spawns the program (under `ulimit -n` when `nofile` is set),
 * waits until it accepts on the port, and finds its workers. The dir is removed by stop(), or from the
 * 'exit' hook if the orchestrator exits first (children are SIGKILLed from the same hook).
 */
export async function startExternal(l: ExternalLaunch): Promise<ExternalProxy> {
  const dir = mkdtempSync(join(tmpdir(), `switchboard-bench-${l.name}-`));
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const port = await freePort();
  const confFile = join(dir, l.confName);
  writeFileSync(confFile, l.config(dir, port));
  const child = spawnChild(l.name, l.binary, l.args(dir, confFile), l.stopSignal, l.nofile);
  const stop = async (): Promise<void> => {
    child.extraPids = [...new Set([...child.extraPids, ...childPids(child.pid)])];
    await stopChild(child);
    removeDir();
    process.removeListener('exit', removeDir);
  };
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      if (child.proc.exitCode !== null) throw new Error(`${l.name} exited with code ${child.proc.exitCode}`);
      ready = await canConnect(port);
      if (!ready) await sleep(50);
    }
    if (!ready) throw new Error(`${l.name} did not accept connections within 5 s`);
    let workers: number[] = [];
    for (let i = 0; l.hasWorkers && i < 50 && workers.length === 0; i++) {
      workers = childPids(child.pid);
      if (workers.length === 0) await sleep(50);
    }
    child.extraPids = workers;
    return { child, port, pids: [child.pid, ...workers], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
