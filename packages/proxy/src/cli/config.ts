/**
 * The CLI's settings: the config file (JSON) read and merged under the command-line flags, then
 * validated by the library's own resolveOptions, with errors naming the file (or flag), the path
 * inside it and what was expected.
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProxyOptions } from '../options';
import { PROXY_OPTION_NAMES } from '../option-names';
import { resolveOptions, type ResolvedOptions } from '../resolve-options';
import { CliError, parseHostPort, type CliArgs, type HostPort } from './args';

/** Every createProxy() option a config file may hold: the library's own list, so a new option needs no change here. */
const PROXY_OPTION_KEYS: ReadonlySet<string> = new Set(PROXY_OPTION_NAMES);

/** Keys only the CLI reads. */
const CLI_KEYS = new Set(['listen', 'admin', 'adminToken', 'workers']);

/** Which flag sets which option, to name the flag when its value is the bad one. */
const FLAG_OF: Readonly<Record<string, string>> = { backends: '--backend', strategy: '--strategy', listen: '--listen', admin: '--admin', adminToken: '--admin-token', workers: '--workers' };

export const DEFAULT_LISTEN: HostPort = { host: '127.0.0.1', port: 8080 };

/** Everything the bin runs with, validated. @internal */
export interface Settings {
  /** The config file's absolute path, if one was given. */
  readonly file?: string;
  readonly listen: HostPort;
  readonly admin?: HostPort;
  readonly adminToken?: string;
  /** With `--workers N` (or `"workers"` in the file): run N proxy processes (see cli/cluster-mode.ts). */
  readonly workers?: number;
  /** What goes to createProxy(): file values under flag values. */
  readonly options: ProxyOptions;
  readonly resolved: ResolvedOptions;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read config file ${file}: ${(err as Error).message}`, 1);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config file ${file} is not valid JSON: ${(err as Error).message}`, 1);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`config file ${file}: the top level must be a JSON object of options, got ${Array.isArray(data) ? 'an array' : typeof data}`, 1);
  }
  for (const key of Object.keys(data)) {
    if (!PROXY_OPTION_KEYS.has(key) && !CLI_KEYS.has(key)) {
      throw new CliError(`config file ${file}: ${key} is not an option (expected one of listen, admin, adminToken, workers, ${PROXY_OPTION_NAMES.join(', ')})`, 1);
    }
  }
  return data as Record<string, unknown>;
}

/** "options.backends[2].weight must be ..." -> path "backends[2].weight". */
function pathOf(message: string): string | undefined {
  return /^options((?:\.[A-Za-z_$][\w$]*|\[\d+\])+)/.exec(message)?.[1]?.slice(1);
}

/** Names where a bad value came from: the flag that set it, or the file and the path inside it. */
function sourceOf(key: string, fromFlags: ReadonlySet<string>, file: string | undefined): string {
  if (fromFlags.has(key)) return FLAG_OF[key] ?? key;
  return file === undefined ? key : `config file ${file}`;
}

/**
 * Reads the config file (if any), lays the flags over it and validates the result. Throws
 * {@link CliError} (exit code 1) naming the file or flag, the path and what was expected.
 */
export function loadSettings(args: CliArgs, cwd = process.cwd()): Settings {
  const file = args.config === undefined ? undefined : resolve(cwd, args.config);
  const fromFile = file === undefined ? {} : readConfigFile(file);
  const fromFlags: Record<string, unknown> = {};
  if (args.backends.length > 0) fromFlags.backends = args.backends;
  if (args.strategy !== undefined) fromFlags.strategy = args.strategy;
  if (args.listen !== undefined) fromFlags.listen = args.listen;
  if (args.admin !== undefined) fromFlags.admin = args.admin;
  if (args.adminToken !== undefined) fromFlags.adminToken = args.adminToken;
  if (args.workers !== undefined) fromFlags.workers = /^\d+$/.test(args.workers) ? Number(args.workers) : args.workers;
  const flagKeys = new Set(Object.keys(fromFlags));
  const merged: Record<string, unknown> = { ...fromFile, ...fromFlags };

  const hostPort = (key: string): HostPort | undefined => {
    if (merged[key] === undefined) return undefined;
    const src = sourceOf(key, flagKeys, file);
    return parseHostPort(merged[key], src.startsWith('--') ? src : `${src}: ${key}`);
  };
  const listen = hostPort('listen') ?? DEFAULT_LISTEN;
  const admin = hostPort('admin');
  const adminToken = merged.adminToken;
  if (adminToken !== undefined && (typeof adminToken !== 'string' || adminToken.length === 0)) {
    throw new CliError(`${sourceOf('adminToken', flagKeys, file)}: adminToken must be a non-empty string`, 1);
  }
  if (adminToken !== undefined && admin === undefined) {
    throw new CliError(`${sourceOf('adminToken', flagKeys, file)}: an admin token needs an admin address (--admin HOST:PORT or "admin" in the config file)`, 1);
  }

  const workers = merged.workers;
  if (workers !== undefined && (typeof workers !== 'number' || !Number.isSafeInteger(workers) || workers < 1)) {
    throw new CliError(`${sourceOf('workers', flagKeys, file)}: workers must be a positive integer, got ${JSON.stringify(workers)}`, 1);
  }

  const options = Object.fromEntries(Object.entries(merged).filter(([k]) => !CLI_KEYS.has(k))) as unknown as ProxyOptions;
  if (options.backends === undefined || (Array.isArray(options.backends) && options.backends.length === 0)) {
    throw new CliError(`no backends: give --backend URL (repeatable) or "backends" in a config file (--config FILE)`, 2);
  }
  let resolved: ResolvedOptions;
  try {
    resolved = resolveOptions(options);
  } catch (err) {
    const message = (err as Error).message;
    const path = pathOf(message) ?? '';
    const key = /^[A-Za-z]+/.exec(path)?.[0] ?? '';
    const detail = message.replaceAll('options.', '');
    throw new CliError(`${sourceOf(key, flagKeys, file)}: ${flagKeys.has(key) ? '' : path === '' ? '' : `at ${path}: `}${detail}`, 1);
  }
  return {
    ...(file !== undefined && { file }),
    listen,
    ...(admin !== undefined && { admin }),
    ...(typeof adminToken === 'string' && { adminToken }),
    ...(typeof workers === 'number' && { workers }),
    options,
    resolved,
  };
}
