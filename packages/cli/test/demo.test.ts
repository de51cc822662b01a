/**
 * `trackrec demo` end to end, for real: rtc-node local tracks paced in real time → @trackrec/core →
 * files on disk, judged by the muxer's checker (in the command) and by Debian ffmpeg/ffprobe.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSize } from '../src/commands/demo.js';
import { TestPicture, TestTone } from '../src/test-pattern.js';
import { runCli } from './helpers/cli.js';
import { expectFfmpegDecodes, ffprobeMedia, playlistEnded } from './helpers/judge.js';
import { tempDir } from './helpers/tmp.js';
import { needTool, onPath, toolRuns } from './helpers/tools.js';

const pkg = resolve(import.meta.dirname, '..');
const bin = join(pkg, 'src', 'bin.ts');
const hasFfmpeg = onPath('ffmpeg') && onPath('ffprobe');
const dir = tempDir('demo');

/** The one .ts file directly in `out`, and the playlist of its HLS directory if any. */
function outputsOf(out: string): { ts: string; playlist: string | null } {
  const names = readdirSync(out);
  const ts = names.filter((n) => n.endsWith('.ts'));
  expect(ts).toHaveLength(1);
  const sub = names.find((n) => !n.endsWith('.ts'));
  return { ts: join(out, ts[0]!), playlist: sub === undefined ? null : join(out, sub, 'demo.m3u8') };
}

/** ffprobe: ~`seconds` of 640x360 H.264 (every frame decoded) and an audio stream of `audio`. */
function expectMedia(path: string, audio: string, seconds: number): void {
  const { streams, duration } = ffprobeMedia(path);
  const video = streams.find((s) => s.codec_type === 'video');
  const sound = streams.find((s) => s.codec_type === 'audio');
  expect(video).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
  expect(sound?.codec_name).toBe(audio);
  // 30 fps paced in real time: within a few frames of the duration asked for.
  expect(Number(video!.nb_read_frames)).toBeGreaterThanOrEqual(seconds * 30 - 6);
  expect(Number(video!.nb_read_frames)).toBeLessThanOrEqual(seconds * 30 + 3);
  expect(Math.abs(duration - seconds), JSON.stringify({ duration, streams })).toBeLessThan(0.5);
  expect(Number(sound!.nb_read_frames)).toBeGreaterThan(0);
}

describe('trackrec demo', () => {
  it('records 3 s of 640x360 + AAC to a .ts and HLS that decode cleanly (in-process)', async () => {
    const out = join(dir, 'aac');
    const run = await runCli(['demo', '--duration', '3', '--out', out, '--hls', '--size', '640x360']);
    expect(run.stderr).not.toMatch(/error|warning/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/video\s+\d+ frames in, \d+ encoded, 0 dropped/);
    expect(run.stdout).toMatch(/check\s+file ok \(h264 \+ aac/);
    expect(run.stdout).toMatch(/check\s+playlist ok \(\d+ segments, .*EXT-X-ENDLIST\)/);
    expect(run.stdout).toContain('result: ok');
    // The status line ran (plain mode: not a terminal) and ended with the final figures.
    expect(run.stderr).toMatch(/demo {2}rec 0:0[23] {2}[\d.]+ kB/);
    const { ts, playlist } = outputsOf(out);
    expect(run.stdout).toContain(ts);
    expect(playlist).not.toBeNull();
    expect(playlistEnded(playlist!)).toBe(true);
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg/ffprobe');
      expectFfmpegDecodes(ts);
      expectMedia(ts, 'aac', 3);
      expectFfmpegDecodes(playlist!);
      expectMedia(playlist!, 'aac', 3);
    }
  });

  it('records Opus through the executable, which then exits by itself', async () => {
    const out = join(dir, 'opus');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        bin,
        'demo',
        '--duration',
        '3',
        '--out',
        out,
        '--size',
        '640x360',
        '--audio',
        'opus',
      ],
      { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stdout = collect(child.stdout!);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stdout.text).toMatch(/check\s+file ok \(h264 \+ opus/);
    const { ts, playlist } = outputsOf(out);
    expect(playlist).toBeNull();
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg/ffprobe');
      expectFfmpegDecodes(ts);
      expectMedia(ts, 'opus', 3);
    }
  });

  it('stops cleanly on SIGINT: outputs finished, playlist ended, exit 0', async () => {
    const out = join(dir, 'sigint');
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', bin, 'demo', '--duration', '60', '--out', out, '--size', '320x240', '--hls'],
      { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stdout = collect(child.stdout!);
    const stderr = collect(child.stderr!);
    // Plain status lines come every 5 s; wait for the recording to be under way instead.
    await waitFor(() => {
      try {
        const { playlist } = outputsOf(out);
        return playlist !== null && readdirSync(join(playlist, '..')).some((n) => n.endsWith('.ts'));
      } catch {
        return false;
      }
    }, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(stderr.text).toContain('SIGINT: stopping');
    expect(code).toBe(0);
    expect(stdout.text).toContain('(stopped early)');
    expect(stdout.text).toContain('result: ok');
    const { ts, playlist } = outputsOf(out);
    expect(playlistEnded(playlist!)).toBe(true);
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg');
      expectFfmpegDecodes(ts);
    }
  });

  it('refuses bad options with exit 2', async () => {
    for (const args of [
      ['--size', '641x360'],
      ['--size', 'big'],
      ['--audio', 'mp3'],
      ['--duration', '0'],
      ['--x264-preset', 'placebo'],
      ['extra'],
    ]) {
      const run = await runCli(['demo', ...args, '--out', join(dir, 'never')]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^trackrec demo: /);
    }
    expect(readdirSync(dir)).not.toContain('never');
    expect(parseSize('demo', '1920x1080')).toEqual({ width: 1920, height: 1080 });
  });
});

describe('test pattern', () => {
  it('moves: successive pictures differ, chroma of the square is neutral, sizes are I420', () => {
    const p = new TestPicture(64, 32);
    const a = p.frame(0);
    const b = p.frame(1);
    expect(a.length).toBe(64 * 32 * 1.5);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).not.toBe(0);
    expect(a[0]).toBe(235); // the square starts at the top left
    expect(a[64 * 32]).toBe(128); // U under it
  });

  it('beeps at 880 Hz for the first 100 ms of each second, 440 Hz otherwise', () => {
    const t = new TestTone(48_000, 2);
    const pcm = t.next(48_000);
    const crossings = (from: number, to: number): number => {
      let n = 0;
      for (let i = from + 1; i < to; i++) if (pcm[2 * (i - 1)]! < 0 && pcm[2 * i]! >= 0) n++;
      return n;
    };
    expect(crossings(0, 4800)).toBeGreaterThanOrEqual(87); // 880 Hz × 0.1 s
    expect(crossings(4800, 48_000)).toBeGreaterThanOrEqual(395); // 440 Hz × 0.9 s
    expect(crossings(4800, 48_000)).toBeLessThanOrEqual(397);
    expect(pcm[1]).toBe(pcm[0]); // stereo: both channels equal
  });
});

function collect(stream: NodeJS.ReadableStream): { text: string } {
  const acc = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => {
    acc.text += c;
  });
  return acc;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
