#!/usr/bin/env node
// The `switchboard` bin runs the compiled CLI in dist/. This file is committed (dist/ is not) so
// that npm links the bin on a fresh clone: npm skips a bin whose target does not exist yet at link
// time, and in this repository dist/ is built later, by the root `prepare` script.
'use strict';
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'cli', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write('switchboard: the CLI is not built yet (no dist/cli/main.js): run `npm run build` at the repository root\n');
  process.exit(1);
}
require(main);
