/**
 * `trackrec serve`: a local web page that lists recordings and plays them, finished or growing.
 */

import { resolve } from 'node:path';
import { numberOption, onePositional, UsageError } from '../args.js';
import { EXIT, writeJsonLine } from '../io.js';
import { startServer } from '../server.js';
import type { Command } from './command.js';

const NAME = 'serve';

/** `trackrec serve <dir>`. */
export const serveCommand: Command = {
  name: NAME,
  summary: 'serve a directory of recordings on 127.0.0.1 with a page that plays them',
  help: `Usage: trackrec serve <dir> [options]

Serves <dir> on http://127.0.0.1:<port>/ with a page that lists its recordings (HLS playlists
and single .ts or .mp4 files) and plays any of them in the browser, finished or still growing:
HLS (TS or fMP4 segments) with hls.js, MPEG-TS with mpegts.js, a growing .ts followed as it is
written, an .mp4 in the browser's own <video> (a finished, progressive one is the sure case).
Served types: .mp4 video/mp4, .m4s video/iso.segment, .ts video/mp2t. Nothing outside <dir>
is served. Stops on Ctrl-C.

Options:
  --port <n>      TCP port (default 8787; 0 picks a free one)
  --idle <s>      a followed .ts ends after it stopped growing this long (default 10)
  --json          print the address as one JSON line
  --verbose       log every request to stderr
  -h, --help      this help

Exit codes: 0 stopped cleanly, 1 cannot listen, 2 usage error.`,
  options: {
    port: { type: 'string' },
    idle: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  async run({ values, positionals, io }) {
    const root = resolve(io.cwd ?? process.cwd(), onePositional(NAME, positionals, 'directory'));
    const port = numberOption(NAME, values, 'port', { min: 0, max: 65535, integer: true }) ?? 8787;
    const idle = numberOption(NAME, values, 'idle', { min: 0.1 }) ?? 10;
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        root,
        port,
        followIdleMs: idle * 1000,
        ...(values.verbose === true ? { log: (line: string) => io.stderr.write(`${line}\n`) } : {}),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || err instanceof TypeError) {
        throw new UsageError(`${root} is not a readable directory`, NAME);
      }
      io.stderr.write(`trackrec serve: cannot listen on 127.0.0.1:${port}: ${code ?? String(err)}\n`);
      return EXIT.failure;
    }
    if (values.json === true) writeJsonLine(io.stdout, { type: 'serve', url: server.url, root });
    else io.stdout.write(`serving ${root} at ${server.url} (Ctrl-C to stop)\n`);
    const signal = io.signal;
    await new Promise<void>((done) => {
      if (signal === undefined) return; // runs until the process is killed
      if (signal.aborted) done();
      else signal.addEventListener('abort', () => done(), { once: true });
    });
    await server.close();
    return EXIT.ok;
  },
};
