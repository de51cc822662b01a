/**
 * The sinks fed by the real @trackrec/muxer with real H.264/AAC (ffmpeg CLI), judged by the muxer's
 * independent inspector and by ffmpeg's decoder; repair with the muxer's completePrefixLength.
 */

import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { TsMuxer, type TsSink } from '@trackrec/muxer';
import { completePrefixLength, inspectTs } from '@trackrec/muxer/inspect';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileSink, repairHls, repairTs, SegmentSink } from '../src/index.js';
import { readPlaylist } from './helpers/hls.js';
import { ffmpegDecode, judgeMissing } from './helpers/judges.js';
import { ffmpegMedia, type Media, writeInterleaved } from './helpers/media.js';
import { useTmpDir } from './helpers/tmp.js';
import { segmentDuration } from './helpers/ts.js';

const tmp = useTmpDir();
const missing = judgeMissing('ffmpeg', 'ffprobe');
let media: Media;

beforeAll(() => {
  if (missing === null) media = ffmpegMedia(10);
});

/** Muxes `media` up to `seconds` into `sink`, interleaved by time; calls `tick` after each access unit. */
function mux(sink: TsSink, seconds: number, opts: { video?: boolean; tick?: (m: TsMuxer) => void } = {}) {
  const m = new TsMuxer({ sink });
  const withVideo = opts.video ?? true;
  const v = withVideo ? m.addTrack({ codec: 'h264' }) : -1;
  const a = m.addTrack({ codec: 'aac', timescale: 48_000 });
  const video = withVideo ? media.video.filter((f) => f.pts < seconds * 90_000) : [];
  const audio = media.audio.filter((f) => f.pts < seconds * 48_000);
  const tick = opts.tick;
  writeInterleaved(m, v, a, video, audio, tick && (() => tick(m)));
  return m;
}

describe('with the real muxer', () => {
  it('HLS: every segment is a valid stream on its own, and ffmpeg decodes the whole playlist', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new SegmentSink({ dir, targetDuration: 2, fsync: 'none' });
    mux(hls.asTsSink(), 10).close();
    hls.close();
    const { manifest } = readPlaylist(dir);
    expect(manifest.endList).toBe(true);
    // Keyframes every second, 2 s target: five 2 s segments.
    expect(manifest.segments.map((s) => s.duration)).toEqual([2, 2, 2, 2, expect.closeTo(2, 1)]);
    for (const s of manifest.segments) {
      const bytes = new Uint8Array(readFileSync(join(dir, s.uri)));
      const report = inspectTs(bytes);
      expect(report.violations).toEqual([]);
      expect(completePrefixLength(bytes, { lastVideoPesComplete: true })).toBe(bytes.byteLength);
    }
    const decoded = ffmpegDecode(join(dir, 'playlist.m3u8'));
    expect(decoded.stderr).toBe('');
    expect(decoded.status).toBe(0);
    expect(decoded.videoFrames).toBe(300);
  });

  it('audio only: wantsRotation → muxer.startSegment() cuts segments at the target', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new SegmentSink({ dir, targetDuration: 2, fsync: 'none' });
    let requests = 0;
    const m = mux(hls.asTsSink(), 9, {
      video: false,
      tick: (muxer) => {
        if (hls.wantsRotation) {
          requests++;
          muxer.startSegment();
        }
      },
    });
    m.close();
    hls.close();
    const { manifest } = readPlaylist(dir);
    expect(requests).toBeGreaterThanOrEqual(4);
    const durations = manifest.segments.map((s) => s.duration);
    expect(durations.length).toBe(5);
    // Each cut lands within one audio PES (≤ 100 ms) after the 2 s target.
    for (const d of durations.slice(0, 4)) {
      expect(d).toBeGreaterThanOrEqual(2);
      expect(d).toBeLessThanOrEqual(2.1);
    }
    for (const s of manifest.segments) {
      expect(inspectTs(new Uint8Array(readFileSync(join(dir, s.uri)))).violations).toEqual([]);
    }
    expect(ffmpegDecode(join(dir, 'playlist.m3u8')).status).toBe(0);
  });

  it('crash: a torn file and a torn HLS recording decode cleanly after repair', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const out = tmp();
    const filePath = join(out, 'rec.ts');
    const file = new FileSink(filePath, { fsync: 'none' });
    const hlsDir = join(out, 'hls');
    const hls = new SegmentSink({ dir: hlsDir, targetDuration: 2, fsync: 'none' });
    // No close(): the process "dies" after 7 s of media; the last write of each is torn mid-packet.
    mux((chunk, info) => {
      file.write(chunk, info);
      hls.write(chunk, info);
    }, 7);
    truncateSync(filePath, statSync(filePath).size - 1000);
    const last = readdirSync(hlsDir)
      .filter((n) => n.endsWith('.ts'))
      .sort()
      .at(-1)!;
    truncateSync(join(hlsDir, last), statSync(join(hlsDir, last)).size - 1000);
    // Before repair ffmpeg stumbles on the torn tail of the file.
    const ts = repairTs(filePath, completePrefixLength);
    expect(ts.repairedBytes % 188).toBe(0);
    expect(inspectTs(new Uint8Array(readFileSync(filePath))).violations).toEqual([]);
    const fileDecode = ffmpegDecode(filePath);
    expect(fileDecode.status).toBe(0);
    expect(fileDecode.videoFrames).toBeGreaterThan(200);

    const report = repairHls({ dir: hlsDir, completePrefixLength, segmentDuration });
    expect(report.segmentsAdded).toEqual([last]);
    const { manifest } = readPlaylist(hlsDir);
    expect(manifest.endList).toBe(true);
    expect(manifest.segments.length).toBe(4);
    const decoded = ffmpegDecode(join(hlsDir, 'playlist.m3u8'));
    expect(decoded.stderr).toBe('');
    expect(decoded.status).toBe(0);
    expect(decoded.videoFrames).toBe(fileDecode.videoFrames);
  });
});
