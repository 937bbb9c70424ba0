#!/usr/bin/env node
// Entry point of the `keyledger` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs
// through the `prepare` script).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`keyledger: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
