#!/usr/bin/env node
'use strict';
// Builds the optional native relay (build/Release/switchboard_relay.node) with node-gyp.
// It never fails the install: when the addon cannot be built, one warning line says why and the
// JavaScript data plane serves. It never downloads anything either: Node's headers must be local
// (npm's `nodedir`, or the include/node directory next to the running node binary).
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function warn(reason) {
  console.warn(`@switchboard/proxy: native relay not built (${reason}); the JavaScript data plane will be used.`);
  process.exit(0);
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

function nodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(path.join(configured, 'include', 'node', 'node_api.h'))) return configured;
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return undefined;
}

function main() {
  if (process.env.SWITCHBOARD_SKIP_NATIVE === '1') warn('SWITCHBOARD_SKIP_NATIVE=1');
  if (process.platform !== 'linux') warn(`${process.platform} is not supported yet, Linux only`);
  try {
    require.resolve('node-addon-api', { paths: [root] });
  } catch {
    warn('node-addon-api is not installed');
  }
  const gyp = nodeGyp();
  if (gyp === undefined) warn('node-gyp not found');
  const dir = nodeDir();
  if (dir === undefined) warn("Node's headers are not installed locally (set npm's nodedir)");
  const args = [gyp, 'rebuild', `--nodedir=${dir}`, ...process.argv.slice(2)];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_nodedir: dir } });
  if (result.error !== undefined) warn(result.error.message);
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.split('\n').map((l) => l.trim());
    const line = output.find((l) => / error[: ]/i.test(l) && !l.startsWith('gyp info')) ?? output.filter(Boolean).pop() ?? `exit ${result.status}`;
    warn(line.slice(0, 200));
  }
}

main();
