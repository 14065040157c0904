#!/usr/bin/env node
'use strict';
// The shardline command: runs the compiled CLI (npm builds dist/ on install).
const { main } = require('../dist/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (error) => {
    process.stderr.write(`shardline: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
