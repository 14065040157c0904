#!/usr/bin/env node
'use strict';
// The shardline command: runs the compiled CLI (npm builds dist/ on install).
// The AWS SDK's multi-line "Node 22 will be required from 2027" notice would break one-line error output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A closed pipe (`shardline streams list | head`, or a daemon that went away) ends the command quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error && error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
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
