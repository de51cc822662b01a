/**
 * `trackrec` entry: dispatches to a command of the table, prints help, maps errors to exit codes.
 */

import { readFileSync } from 'node:fs';
import { parseCommandArgs, UsageError } from './args.js';
import type { Command } from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { type CliIo, EXIT } from './io.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The top-level help: usage and the commands of `commands`. */
export function topLevelHelp(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: trackrec <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run trackrec <command> --help for a command's options.
Exit codes: 0 ok, 1 violations or failure, 2 usage error, 3 cannot join the LiveKit room
(record), 130 stopped by a second Ctrl-C.`;
}

/**
 * Runs `trackrec` with `argv` (the arguments after the program name) and resolves to the exit code.
 * Never calls `process.exit`: the caller decides.
 */
export async function main(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : commands.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) {
      io.stderr.write(`trackrec: unknown command "${topic}"\n\n${topLevelHelp(commands)}\n`);
      return EXIT.usage;
    }
    const text = command?.help ?? topLevelHelp(commands);
    (first === undefined ? io.stderr : io.stdout).write(`${text}\n`);
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === first);
  if (command === undefined) {
    io.stderr.write(`trackrec: unknown command "${first}"\n\n${topLevelHelp(commands)}\n`);
    return EXIT.usage;
  }
  try {
    const parsed = parseCommandArgs(command.name, rest, {
      ...command.options,
      help: { type: 'boolean', short: 'h' },
    });
    if (parsed.values.help === true) {
      io.stdout.write(`${command.help}\n`);
      return EXIT.ok;
    }
    return await command.run({ ...parsed, io });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(
        `trackrec ${command.name}: ${err.message}\nRun trackrec ${command.name} --help for usage.\n`,
      );
      return EXIT.usage;
    }
    io.stderr.write(`trackrec ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failure;
  }
}
