/**
 * kill -9 of a process recording fragmented MP4 through TrackRecording: what it leaves is read by
 * mp4box.js and decoded by ffmpeg up to the last whole fragment (after repairMp4 when the last one was
 * torn), and repairFmp4Hls makes the fMP4 playlist whole.
 */

import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { completeFragmentedLength } from '@trackrec/muxer/mp4';
import { repairFmp4Hls, repairMp4 } from '@trackrec/node-writer';
import { describe, expect, it } from 'vitest';
import { ffmpegDecode, judgeAvailable, parsePlaylist } from './helpers.js';
import { mp4box } from './mp4box.js';
import { tempDirPerTest } from './temp-dirs.js';

const REPO = resolve(import.meta.dirname, '../../..');
const CHILD = 'packages/core/test/mp4-kill9-child.ts';
const ITERATIONS = Number(process.env.TRACKREC_KILL_ITERATIONS ?? 3);

const dir = tempDirPerTest();

/** Starts the child, waits for `ready`, lets it record `ms` more, then SIGKILLs it. */
function runAndKill(outDir: string, ms: number): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, outDir], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) setTimeout(() => child.kill('SIGKILL'), ms);
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') done();
      else fail(new Error(`child exited on its own (code ${code}): ${stderr}`));
    });
  });
}

/** Offsets where each top-level moof starts (independent of the muxer's walker). */
function moofStarts(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  let o = 0;
  while (o + 8 <= bytes.length) {
    const size = view.getUint32(o);
    const type = String.fromCharCode(...bytes.subarray(o + 4, o + 8));
    if (type === 'moof') out.push(o);
    if (size < 8) break;
    o += size;
  }
  return out;
}

/** Checks a whole fragmented file: mp4box reads every fragment, ffmpeg decodes all with -xerror. */
function expectReadable(path: string): void {
  const size = statSync(path).size;
  const parsed = mp4box(readFileSync(path));
  const moofs = parsed.boxes.filter((b) => b === 'moof').length;
  const samples = parsed.tracks.map((t) => t.samples);
  expect(parsed.errors).toEqual([]);
  expect(moofs).toBe(moofStarts(readFileSync(path)).length);
  expect(moofs).toBeGreaterThan(0);
  // The first fragment may hold only the audio before the first IDR: count samples over both tracks.
  expect((samples[0] ?? 0) + (samples[1] ?? 0)).toBeGreaterThan(0);
  expect(completeFragmentedLength(readFileSync(path))).toBe(size);
  // ffmpeg needs at least one frame of every stream (the first fragment can be audio only).
  if (samples[0] !== 0 && judgeAvailable('ffmpeg')) {
    expect(ffmpegDecode(path)).toEqual({ status: 0, stderr: '' });
  }
}

describe('kill -9 while recording fragmented MP4', () => {
  it(`leaves a file readable up to its last whole fragment; repairMp4 cuts a torn one (${ITERATIONS} kills)`, async () => {
    for (let i = 0; i < ITERATIONS; i++) {
      const out = dir();
      await runAndKill(out, 300 + Math.floor(Math.random() * 1200));
      const path = join(out, 'rec.mp4');
      const bytes = readFileSync(path);
      const whole = completeFragmentedLength(bytes);
      expect(whole).toBeGreaterThan(0);
      // Each fragment is one write: at most the last can be torn.
      const starts = moofStarts(bytes);
      expect(whole).toBeGreaterThanOrEqual(starts.at(-2) ?? 0);
      const report = repairMp4(path, completeFragmentedLength);
      expect(report.repairedBytes).toBe(whole);
      expectReadable(path);
      expect(mp4box(readFileSync(path)).tracks[0]?.samples).toBeGreaterThan(0);

      // A torn last fragment, made for certain on a copy: repair cuts exactly to the previous fragment.
      const torn = join(out, 'torn.mp4');
      copyFileSync(path, torn);
      const last = moofStarts(readFileSync(torn)).at(-1) as number;
      truncateSync(torn, last + Math.floor((statSync(torn).size - last) / 2));
      expect(repairMp4(torn, completeFragmentedLength).repairedBytes).toBe(last);
      if (moofStarts(readFileSync(torn)).length > 0) expectReadable(torn);

      // The fMP4 playlist: repairFmp4Hls lists what the crash left unlisted and closes it; every segment
      // on disk is then listed, and ffmpeg decodes the whole playlist.
      const hls = join(out, 'hls');
      expect(readFileSync(join(hls, 'rec.m3u8'), 'utf8')).toContain('#EXT-X-VERSION:7');
      const fixed = repairFmp4Hls({
        dir: hls,
        prefix: 'rec',
        playlistName: 'rec.m3u8',
        completeFragmentedLength,
      });
      expect(fixed.endListAdded).toBe(true);
      const pl = parsePlaylist(readFileSync(join(hls, 'rec.m3u8'), 'utf8'));
      expect(pl.endList).toBe(true);
      const onDisk = readdirSync(hls)
        .filter((n) => n.endsWith('.m4s'))
        .sort();
      expect(pl.segments.map((x) => x.uri)).toEqual(onDisk);
      if (onDisk.length > 0 && judgeAvailable('ffmpeg')) {
        expect(ffmpegDecode(join(hls, 'rec.m3u8'))).toEqual({ status: 0, stderr: '' });
      }
    }
  }, 120_000);
});
