#!/usr/bin/env node
/**
 * The `trackrec` executable: wires the process (argv, stdout/stderr, SIGINT/SIGTERM) to {@link main}.
 */

import { main } from './cli.js';

const stop = new AbortController();
let signals = 0;
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    // A second Ctrl-C means "now".
    if (++signals > 1) process.exit(130);
    stop.abort();
    // Commands that do not watch the signal (a long probe) still end promptly; `serve` closes first.
    setTimeout(() => process.exit(130), 1000).unref();
  });
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  signal: stop.signal,
});
