/** Runs `main` in-process with captured output. */

import { main } from '../../src/cli.js';
import type { TextOutput } from '../../src/io.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON Lines. */
  json: Array<Record<string, unknown>>;
}

export function capture(isTTY = false): TextOutput & { text: string } {
  const out = {
    text: '',
    isTTY,
    write(s: string) {
      out.text += s;
      return true;
    },
  };
  return out;
}

export async function runCli(argv: string[], cwd?: string): Promise<CliRun> {
  const stdout = capture();
  const stderr = capture();
  const code = await main(argv, { stdout, stderr, ...(cwd === undefined ? {} : { cwd }) });
  const json = stdout.text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stdout: stdout.text, stderr: stderr.text, json };
}
