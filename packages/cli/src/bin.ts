#!/usr/bin/env node
/**
 * The `trackrec` executable: wires the process (argv, stdout/stderr, SIGINT/SIGTERM) to {@link main}.
 */

import { main } from './cli.js';
import { COMMANDS } from './commands/index.js';
import { EXIT } from './io.js';
import { disposeRtc } from './rtc.js';

const argv = process.argv.slice(2);
// Recorders stop by themselves on the first signal (encoders flushed, playlists ended), however long
// that takes; other commands get a second before the process ends anyway.
const graceful = COMMANDS.find((c) => c.name === argv[0])?.handlesSignals === true;
const stop = new AbortController();
let signals = 0;
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    // A second Ctrl-C means "now".
    if (++signals > 1) {
      process.stderr.write(`\ntrackrec: second ${name}, exiting without finishing the outputs\n`);
      process.exit(EXIT.interrupted);
    }
    if (graceful) process.stderr.write(`\ntrackrec: ${name}: stopping (again to abort)\n`);
    stop.abort();
    if (!graceful) setTimeout(() => process.exit(EXIT.interrupted), 1000).unref();
  });
}

const code = await main(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  signal: stop.signal,
});
// rtc-node's native client keeps the event loop alive until disposed; a join abandoned on Ctrl-C
// keeps its timers until it times out. The command has finished: release what can be, let pending
// output drain (pipes are asynchronous on some platforms), and end the process if something still
// holds it after that.
await Promise.race([disposeRtc().catch(() => {}), new Promise((done) => setTimeout(done, 2000).unref())]);
process.exitCode = code;
setTimeout(() => process.exit(code), 500).unref();
