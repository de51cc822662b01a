/**
 * The shape of a CLI command. The command table (`COMMANDS` in `commands/index.ts`) lists them; `main`
 * dispatches on the first argument, and `--help` prints each command's usage.
 */

import type { OptionSpec, ParsedArgs } from '../args.js';
import type { CliIo } from '../io.js';

/** What a command's `run` receives. */
export interface CommandContext extends ParsedArgs {
  io: CliIo;
}

/** One `trackrec <name>` command. */
export interface Command {
  /** The word after `trackrec`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help: usage line, arguments, options, exit codes. */
  help: string;
  /**
   * True when `run` watches `io.signal` and ends cleanly by itself (flushing encoders, ending
   * playlists): the executable then waits for it after the first SIGINT/SIGTERM instead of forcing an
   * exit a second later. A second signal still exits at once.
   */
  handlesSignals?: boolean;
  /** Options (`--help` is added by `main`). */
  options: OptionSpec;
  /** Runs the command; resolves to the process exit code. Throws `UsageError` for bad usage. */
  run(context: CommandContext): Promise<number>;
}
