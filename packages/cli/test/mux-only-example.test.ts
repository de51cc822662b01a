/**
 * examples/mux-only.ts runs as documented (`node --import tsx examples/mux-only.ts out.ts`) and writes a
 * file that our checker, the CLI and ffprobe read back frame for frame. Needs the ffmpeg CLI (it
 * makes the example's input): skipped without it unless TRACKREC_REQUIRE_JUDGES=1.
 */

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { ffprobeMedia } from './helpers/judge.js';
import { tempDir } from './helpers/tmp.js';
import { needTool, onPath, toolRuns } from './helpers/tools.js';

const repo = resolve(import.meta.dirname, '../../..');
const hasFfmpeg = onPath('ffmpeg') && onPath('ffprobe');

/** Decoded frames per codec (ffprobe -count_frames). */
function countFrames(file: string): Record<string, number> {
  return Object.fromEntries(ffprobeMedia(file).streams.map((s) => [s.codec_name, Number(s.nb_read_frames)]));
}

describe.runIf(toolRuns(hasFfmpeg))('examples/mux-only.ts', () => {
  const dir = tempDir('example');

  it('muxes ffmpeg-made H.264 + ADTS into a file that checks clean', async () => {
    needTool(hasFfmpeg, 'ffmpeg/ffprobe');
    const out = join(dir, 'out.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/mux-only.ts', out], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('150 video frames, 236 AAC frames');
    expect(run.stdout).toContain('violations: none');
    expect(countFrames(out)).toEqual({ h264: 150, aac: 236 });
    expect((await runCli(['probe', out])).code).toBe(0);
  });

  it('splits access units without AUDs, from the caller’s own streams', async () => {
    needTool(hasFfmpeg, 'ffmpeg/ffprobe');
    const h264 = join(dir, 'noaud.h264');
    const aac = join(dir, 'tone.aac');
    const make = spawnSync(
      'ffmpeg',
      [
        ['-v', 'error', '-f', 'lavfi', '-t', '2', '-i', 'testsrc2=size=320x240:rate=25'],
        ['-f', 'lavfi', '-t', '2', '-i', 'sine=sample_rate=44100'],
        [
          '-map',
          '0:v',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-bf',
          '0',
          '-g',
          '25',
          '-pix_fmt',
          'yuv420p',
        ],
        ['-x264-params', 'slices=4', '-f', 'h264', h264],
        ['-map', '1:a', '-c:a', 'aac', '-f', 'adts', aac],
      ].flat(),
      { encoding: 'utf8' },
    );
    expect(make.stderr).toBe('');
    const out = join(dir, 'own.ts');
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'examples/mux-only.ts', out, h264, aac, '25'],
      {
        cwd: repo,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const frames = countFrames(out);
    // 4 slices per picture, no AUDs: still one access unit (one frame) per picture.
    expect(frames.h264).toBe(50);
    expect(frames.aac).toBeGreaterThanOrEqual(86);
    const probe = await runCli(['probe', out, '--json']);
    expect(probe.code).toBe(0);
    const video = (
      probe.json[0]!.streams as Array<{ codec: string; frames: number; keyframes: number }>
    ).find((s) => s.codec === 'h264')!;
    expect(video.frames).toBe(50);
    expect(video.keyframes).toBe(2);
  });
});
