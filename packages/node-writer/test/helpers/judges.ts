/**
 * Independent judges (Debian's ffmpeg/ffprobe CLI). Optional locally, mandatory when
 * TRACKREC_REQUIRE_JUDGES=1 (CI): then a missing tool fails the test instead of skipping it.
 */

import { spawnSync } from 'node:child_process';

export const requireJudges = process.env.TRACKREC_REQUIRE_JUDGES === '1';

export function hasTool(cmd: string): boolean {
  return spawnSync(cmd, ['-version'], { stdio: 'ignore' }).status === 0;
}

/** Why the judge is unavailable (the test should skip with it), or null when it can run. Throws in CI. */
export function judgeMissing(...tools: string[]): string | null {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return null;
  const reason = `${missing.join(', ')} not installed`;
  if (requireJudges) throw new Error(`TRACKREC_REQUIRE_JUDGES=1 but ${reason}`);
  return reason;
}

export function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Decodes every frame of `input` (a .ts or .m3u8) with -xerror; returns exit status, errors and video frames. */
export function ffmpegDecode(input: string): { status: number | null; stderr: string; videoFrames: number } {
  const r = run('ffmpeg', ['-v', 'error', '-xerror', '-i', input, '-f', 'null', '-']);
  const p = run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-count_frames',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    input,
  ]);
  return { status: r.status, stderr: r.stderr, videoFrames: Number.parseInt(p.stdout.trim(), 10) };
}
