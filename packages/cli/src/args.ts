/**
 * Argument parsing on `node:util` `parseArgs`, with usage errors that a command turns into exit code 2.
 */

import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Bad command-line usage: unknown option, missing argument, malformed value. Exit code 2. */
export class UsageError extends Error {
  /** The command whose usage was wrong, or null for the top level. */
  readonly command: string | null;

  /**
   * @param message what was wrong, for the user.
   * @param command the command whose help to point at.
   */
  constructor(message: string, command: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Option definitions in `parseArgs` form. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Values and positionals of a parsed command line. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Strict parse: unknown options and wrong value types become a {@link UsageError}. */
export function parseCommandArgs(command: string, argv: readonly string[], options: OptionSpec): ParsedArgs {
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message, command);
  }
}

/** Reads an optional numeric option; a value that is not a finite number in range is a {@link UsageError}. */
export function numberOption(
  command: string,
  values: ParsedArgs['values'],
  name: string,
  check: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  const bad =
    !Number.isFinite(n) ||
    (check.integer === true && !Number.isInteger(n)) ||
    (check.min !== undefined && n < check.min) ||
    (check.max !== undefined && n > check.max);
  if (bad) {
    const range =
      check.min !== undefined && check.max !== undefined
        ? ` between ${check.min} and ${check.max}`
        : check.min !== undefined
          ? ` ≥ ${check.min}`
          : '';
    throw new UsageError(
      `--${name} must be ${check.integer ? 'an integer' : 'a number'}${range} (got ${JSON.stringify(raw)})`,
      command,
    );
  }
  return n;
}

/** Exactly one positional argument, or a {@link UsageError} naming what is expected. */
export function onePositional(command: string, positionals: readonly string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`missing ${what}`, command);
  if (positionals.length > 1) {
    throw new UsageError(
      `expected one ${what}, got ${positionals.length}: ${positionals.join(' ')}`,
      command,
    );
  }
  return positionals[0]!;
}
