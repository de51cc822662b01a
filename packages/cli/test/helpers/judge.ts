/** Debian ffmpeg/ffprobe as independent judges of a recording. */

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
// The same judges as core's tests (test code only: no production dependency on core's tests).
import { ffmpegDecode } from '../../../core/test/helpers.js';

export { ffprobeMedia, type ProbedStream } from '../../../core/test/helpers.js';

/** `ffmpeg -v error -xerror` decodes every frame: exit 0 and nothing on stderr. */
export function expectFfmpegDecodes(path: string): void {
  const r = ffmpegDecode(path);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** Whether a playlist file ends with EXT-X-ENDLIST. */
export function playlistEnded(path: string): boolean {
  return readFileSync(path, 'utf8').trimEnd().endsWith('#EXT-X-ENDLIST');
}
