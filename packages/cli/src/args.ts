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

/** The container choices of `demo` and `record`. */
export interface OutputFormats {
  /** `--format`: the growing file as MPEG-TS (default) or MP4 (fragmented while recording, progressive after a clean stop). */
  file: 'ts' | 'mp4';
  /** `--hls-format`: HLS segments as MPEG-TS (default) or fMP4. */
  hls: 'ts' | 'fmp4';
}

/** Reads `--format` and `--hls-format` (the latter only with `--hls`). */
export function outputFormats(command: string, values: ParsedArgs['values']): OutputFormats {
  const file = (values.format as string | undefined) ?? 'ts';
  if (file !== 'ts' && file !== 'mp4') {
    throw new UsageError(`--format must be ts or mp4 (got ${JSON.stringify(file)})`, command);
  }
  const hls = (values['hls-format'] as string | undefined) ?? 'ts';
  if (hls !== 'ts' && hls !== 'fmp4') {
    throw new UsageError(`--hls-format must be ts or fmp4 (got ${JSON.stringify(hls)})`, command);
  }
  if (values['hls-format'] !== undefined && values.hls !== true) {
    throw new UsageError('--hls-format applies with --hls', command);
  }
  return { file, hls };
}

/** The `file` recording option for a file template in the chosen format. */
export function fileOption(
  filepath: string,
  formats: OutputFormats,
): { filepath: string; fileType?: 'mp4'; progressive?: boolean } {
  return formats.file === 'mp4' ? { filepath, fileType: 'mp4', progressive: true } : { filepath };
}
