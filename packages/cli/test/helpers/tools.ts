/**
 * Debian tools the tests use as independent judges or players (ffmpeg CLI, chromium). A test that
 * needs one runs when it is installed, and also when `TRACKREC_REQUIRE_JUDGES=1` (CI), where a missing
 * tool then fails the test instead of skipping it.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const REQUIRE_JUDGES = process.env.TRACKREC_REQUIRE_JUDGES === '1';

/** Path of Debian's chromium. */
export const CHROMIUM = '/usr/bin/chromium';

export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Whether a test needing `available` runs: installed, or required (then it fails on the missing tool). */
export function toolRuns(available: boolean): boolean {
  return available || REQUIRE_JUDGES;
}

/** Throws when a required tool is missing (inside a test that ran because judges are required). */
export function needTool(available: boolean, name: string): void {
  if (!available) throw new Error(`TRACKREC_REQUIRE_JUDGES=1 but ${name} is not installed`);
}
