/**
 * Where a command writes, and the exit codes scripts can rely on.
 */

/** A text sink (`process.stdout`, `process.stderr`, or a test's buffer). */
export interface TextOutput {
  write(text: string): unknown;
  /** True when the output is a terminal (status lines are then rewritten in place). */
  isTTY?: boolean;
  /** Terminal width in characters, when known. */
  columns?: number;
}

/** What a command runs against: its outputs, the working directory and a signal that asks it to stop. */
export interface CliIo {
  stdout: TextOutput;
  stderr: TextOutput;
  /** Base for relative paths. Default `process.cwd()`. */
  cwd?: string;
  /** Aborted when the process is asked to stop (Ctrl-C): long-running commands end cleanly. */
  signal?: AbortSignal;
  /** Environment variables (`LIVEKIT_URL`…). Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Exit codes: 0 success, 1 a check found violations or an operation failed, 2 bad usage, 3 the
 * LiveKit room could not be joined (`record`: worth retrying), 130 stopped by a second Ctrl-C.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  connect: 3,
  interrupted: 130,
} as const;

/** Writes one JSON line (JSON Lines: one object per line, no pretty-printing). */
export function writeJsonLine(out: TextOutput, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}
