// Per-test temporary directories for vitest files (kept apart from helpers.ts, which the reliability
// suite also loads outside vitest).
import { afterEach } from 'vitest';
import { removeDir, tempDir } from './helpers.js';

/**
 * Registers an `afterEach` that removes every directory the returned function made during the test
 * (kept when the environment sets KEEP, to look at the outputs), and returns that function.
 */
export function tempDirPerTest(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) if (!process.env.KEEP) removeDir(d);
  });
  return () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
}
