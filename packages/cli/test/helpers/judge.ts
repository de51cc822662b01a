/** Debian ffmpeg/ffprobe as independent judges of a recording. */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/**
 * `ffmpeg -v error -xerror` decodes every frame: exit 0 and nothing on stderr. WebRTC video is
 * variable-rate, so frames keep their own timestamps (`-fps_mode passthrough`, `-enc_time_base -1`).
 */
export function expectFfmpegDecodes(path: string): void {
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-xerror',
      '-i',
      path,
      '-fps_mode',
      'passthrough',
      '-enc_time_base',
      '-1',
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** One stream as ffprobe sees it after decoding every frame. */
export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  nb_read_frames: string;
  duration?: string;
}

/** ffprobe's streams with decoded frame counts, and the container's duration in seconds. */
export function ffprobeMedia(path: string): { streams: ProbedStream[]; duration: number } {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=codec_type,codec_name,width,height,nb_read_frames,duration:format=duration',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  expect(r.status).toBe(0);
  const parsed = JSON.parse(r.stdout) as { streams: ProbedStream[]; format: { duration: string } };
  return { streams: parsed.streams, duration: Number(parsed.format.duration) };
}

/** Whether a playlist file ends with EXT-X-ENDLIST. */
export function playlistEnded(path: string): boolean {
  return readFileSync(path, 'utf8').trimEnd().endsWith('#EXT-X-ENDLIST');
}
