/**
 * Fragmented MP4 on disk: Mp4FileSink, Fmp4SegmentSink, writeProgressiveMp4 and repairMp4 fed by the
 * real Fmp4Muxer with ffmpeg-encoded H.264/AAC, judged by mp4box.js (every box parsed, sample counts)
 * and by ffmpeg's decoder with -xerror.
 */

import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildProgressiveHeader,
  completeFragmentedLength,
  Fmp4Muxer,
  type Fmp4Sink,
  progressiveFromFragmented,
} from '@trackrec/muxer/mp4';
import { createFile, MP4BoxBuffer } from 'mp4box';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DiskFullError,
  Fmp4SegmentSink,
  Mp4FileSink,
  partPath,
  repairFmp4Hls,
  repairMp4,
  SinkClosedError,
  writeProgressiveMp4,
} from '../src/index.js';
import { parseM3u8 } from './helpers/hls.js';
import { judgeMissing, run } from './helpers/judges.js';
import {
  encodeCached,
  ffmpegMedia,
  type Media,
  splitAccessUnits,
  writeInterleaved,
} from './helpers/media.js';
import { spyFs, sysError } from './helpers/spy-fs.js';
import { expectSameBytes, useTmpDir } from './helpers/tmp.js';

const tmp = useTmpDir();
const missing = judgeMissing('ffmpeg', 'ffprobe');
let media: Media;
let wide: Media['video'];

beforeAll(() => {
  if (missing !== null) return;
  media = ffmpegMedia(10);
  wide = h264At(4, '256x144');
});

/** H.264 access units of another size (for a resolution change), Annex B with AUDs, 30 fps, GOP 30. */
function h264At(seconds: number, size: string): Media['video'] {
  const dir = join(tmpdir(), 'trackrec-writer-media-v1');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `v${seconds}-${size}.h264`);
  encodeCached(out, [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-bf', '0'],
    ...['-x264-params', 'aud=1', '-f', 'h264'],
  ]);
  return splitAccessUnits(readFileSync(out));
}

interface Fed {
  muxer: Fmp4Muxer;
  videoFrames: number;
  audioFrames: number;
}

/**
 * Muxes `seconds` of media (video then, with `more`, more video of another size continuing the clock)
 * with AAC, interleaved by time. `tick` runs after each access unit.
 */
function feed(
  sink: Fmp4Sink,
  seconds: number,
  opts: { more?: Media['video']; tick?: () => void; fragmentDurationMs?: number } = {},
): Fed {
  const muxer = new Fmp4Muxer({ sink, fragmentDurationMs: opts.fragmentDurationMs ?? 500 });
  const v = muxer.addTrack({ codec: 'h264' });
  const a = muxer.addTrack({ codec: 'aac', timescale: 48_000 });
  const video = media.video.filter((f) => f.pts < seconds * 90_000);
  const end = video.length * 3000;
  for (const f of opts.more ?? []) video.push({ ...f, pts: f.pts + end });
  const total = video.length * 3000;
  const audio = media.audio.filter((f) => f.pts * 90_000 < total * 48_000);
  writeInterleaved(muxer, v, a, video, audio, opts.tick);
  return { muxer, videoFrames: video.length, audioFrames: audio.length };
}

/** EXT-X-MAP URI of a segment as m3u8-parser reads it (its typings here omit `map`). */
function mapOf(segment: object): string | undefined {
  return (segment as { map?: { uri: string } }).map?.uri;
}

interface Parsed {
  errors: string[];
  samples: number[];
  boxes: string[];
  fragmented: boolean;
}

/** mp4box.js over a whole file: parse errors, per-track sample counts, top-level boxes. */
function mp4box(path: string): Parsed {
  const file = createFile();
  const errors: string[] = [];
  file.onError = (module, message) => errors.push(`${module}: ${message}`);
  const bytes = readFileSync(path);
  file.appendBuffer(
    MP4BoxBuffer.fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), 0),
  );
  file.flush();
  const info = file.getInfo();
  const boxes = (file as unknown as { boxes: { type: string }[] }).boxes.map((b) => b.type);
  return { errors, samples: info.tracks.map((t) => t.nb_samples), boxes, fragmented: info.isFragmented };
}

/** ffmpeg -xerror decodes every frame; returns the decoded video frame count and size(s). */
function decode(input: string): { status: number | null; stderr: string; frames: number; sizes: string[] } {
  const r = run('ffmpeg', ['-v', 'error', '-xerror', '-i', input, '-f', 'null', '-']);
  const p = run('ffprobe', [
    ...[
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'frame=width,height',
      '-of',
      'csv=p=0',
      input,
    ],
  ]);
  // One "width,height" line per frame (some builds append side-data fields).
  const lines = p.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(',').slice(0, 2).join(','));
  return { status: r.status, stderr: r.stderr, frames: lines.length, sizes: [...new Set(lines)] };
}

describe('Mp4FileSink', () => {
  it('writes each init segment and fragment in one write; mp4box and ffmpeg read every sample', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const path = join(tmp(), 'rec.mp4');
    const fs = spyFs();
    const file = new Mp4FileSink(path, { fsync: 'always', fs });
    let chunks = 0;
    let largest = 0;
    const fed = feed((chunk, info) => {
      chunks++;
      largest = Math.max(largest, chunk.byteLength);
      file.write(chunk, info);
    }, 6);
    fed.muxer.close();
    file.close();
    // One writeSync per chunk (none were short) and one fdatasync per chunk with 'always'.
    const fd = fs.calls.find((c) => c.name === 'writeSync')!.target;
    expect(fs.count('writeSync', fd)).toBe(chunks);
    expect(fs.count('fdatasyncSync', fd)).toBe(chunks);
    expect(largest).toBeGreaterThan(4096);
    expect(file.parts).toHaveLength(1);
    expect(file.parts[0]!.bytes).toBe(statSync(path).size);
    const parsed = mp4box(path);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fragmented).toBe(true);
    expect(parsed.samples).toEqual([fed.videoFrames, fed.audioFrames]);
    expect(parsed.boxes.slice(0, 3)).toEqual(['ftyp', 'moov', 'moof']);
    const d = decode(path);
    expect(d).toMatchObject({ status: 0, stderr: '', frames: fed.videoFrames, sizes: ['320,180'] });
  });

  it('starts name.1.mp4 at a new init segment (resolution change); both files decode', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const path = join(tmp(), 'rec.mp4');
    const file = new Mp4FileSink(path, { fsync: 'none' });
    const fed = feed(file.asFmp4Sink(), 3, { more: wide });
    fed.muxer.close();
    file.close();
    const parts = file.parts;
    expect(parts.map((p) => p.path)).toEqual([path, `${path.slice(0, -4)}.1.mp4`]);
    expect(partPath(path, 1)).toBe(parts[1]!.path);
    const first = decode(parts[0]!.path);
    const second = decode(parts[1]!.path);
    expect(first).toMatchObject({ status: 0, stderr: '', frames: 90, sizes: ['320,180'] });
    expect(second).toMatchObject({ status: 0, stderr: '', frames: wide.length, sizes: ['256,144'] });
    const p0 = mp4box(parts[0]!.path);
    const p1 = mp4box(parts[1]!.path);
    expect(p0.errors).toEqual([]);
    expect(p1.errors).toEqual([]);
    expect(p0.samples[0]! + p1.samples[0]!).toBe(fed.videoFrames);
    expect(p0.samples[1]! + p1.samples[1]!).toBe(fed.audioFrames);
    // The second file's timeline continues the first (tfdt runs on): it starts at the first wide frame.
    expect(parts[1]!.firstDts).toBe(90 * 3000);
    expect(parts[0]!.endDts).toBeGreaterThanOrEqual(90 * 3000);
  });
});

describe('writeProgressiveMp4', () => {
  it('writes moov before mdat with the same samples; the fragmented file is only read', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const path = join(dir, 'rec.mp4');
    const file = new Mp4FileSink(path, { fsync: 'none' });
    const fed = feed(file.asFmp4Sink(), 6);
    fed.muxer.close();
    file.close();
    const fragmented = readFileSync(path);
    const table = fed.muxer.sampleTable();
    const out = join(dir, 'rec.progressive.mp4');
    const report = writeProgressiveMp4(path, buildProgressiveHeader(table), table, out);
    expect(report.bytes).toBe(statSync(out).size);
    expectSameBytes(readFileSync(path), fragmented);
    expect(readdirSync(dir).sort()).toEqual(['rec.mp4', 'rec.progressive.mp4']);
    const parsed = mp4box(out);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fragmented).toBe(false);
    expect(parsed.boxes).toEqual(['ftyp', 'moov', 'mdat']);
    expect(parsed.samples).toEqual([fed.videoFrames, fed.audioFrames]);
    expect(decode(out)).toMatchObject({ status: 0, stderr: '', frames: fed.videoFrames });
    // The same bytes as the muxer's own in-memory rebuild from the fragmented bytes.
    expectSameBytes(readFileSync(out), progressiveFromFragmented(table, fragmented));

    // In place: the fragmented file is replaced only once the progressive one is complete.
    writeProgressiveMp4(path, buildProgressiveHeader(table), table, path);
    expectSameBytes(readFileSync(path), readFileSync(out));
  });

  it('keeps the fragmented file and leaves no temp file when the disk fills mid-copy', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const path = join(dir, 'rec.mp4');
    const file = new Mp4FileSink(path, { fsync: 'none' });
    const fed = feed(file.asFmp4Sink(), 4);
    fed.muxer.close();
    file.close();
    const before = readFileSync(path);
    const table = fed.muxer.sampleTable();
    const fs = spyFs();
    let writes = 0;
    fs.hook = (name) => {
      if (name === 'writeSync' && ++writes === 3) throw sysError('ENOSPC', 'write');
      return undefined;
    };
    expect(() =>
      writeProgressiveMp4(path, buildProgressiveHeader(table), table, path, { fs, bufferBytes: 4096 }),
    ).toThrow(DiskFullError);
    expectSameBytes(readFileSync(path), before);
    expect(readdirSync(dir)).toEqual(['rec.mp4']);
    expect(decode(path)).toMatchObject({ status: 0, stderr: '', frames: fed.videoFrames });
  });
});

describe('repairMp4', () => {
  it('cuts a torn last fragment; mp4box and ffmpeg then read every whole fragment', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const path = join(tmp(), 'rec.mp4');
    const file = new Mp4FileSink(path, { fsync: 'none' });
    const ends: { end: number }[] = [];
    let end = 0;
    const fed = feed((chunk, info) => {
      file.write(chunk, info);
      end += chunk.byteLength;
      if (info.kind === 'fragment') ends.push({ end });
    }, 4);
    fed.muxer.close();
    file.close();
    const table = fed.muxer.sampleTable();
    const whole = statSync(path).size;
    expect(repairMp4(path, completeFragmentedLength).bytesTruncated).toBe(0);
    // Tear the file inside the 5th fragment.
    const cut = ends[4]!.end - 100;
    truncateSync(path, cut);
    const report = repairMp4(path, completeFragmentedLength);
    expect(report).toMatchObject({ originalBytes: cut, repairedBytes: ends[3]!.end });
    expect(statSync(path).size).toBe(ends[3]!.end);
    const parsed = mp4box(path);
    expect(parsed.errors).toEqual([]);
    // The samples of the first four fragments: from the table's chunk layout (one chunk per fragment).
    const counts = table.samples.map((s) => (s.chunkCount > 4 ? s.chunkFirstSample[4]! : s.sampleCount));
    expect(parsed.samples).toEqual(counts);
    expect(counts[0]).toBeGreaterThan(0);
    expect(decode(path)).toMatchObject({ status: 0, stderr: '', frames: counts[0] });
    expect(whole).toBeGreaterThan(cut);
  });
});

describe('Fmp4SegmentSink', () => {
  it('writes an EXT-X-MAP playlist of .m4s segments cut at random-access fragments; ffmpeg decodes it', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new Fmp4SegmentSink({
      dir,
      prefix: 'rec',
      targetDuration: 2,
      fsync: 'none',
      livePlaylistName: 'live.m3u8',
    });
    let rotationAsked = 0;
    const fed = feed(hls.asFmp4Sink(), 10, {
      tick: () => {
        if (hls.wantsRotation) rotationAsked++;
      },
    });
    fed.muxer.close();
    hls.close();
    const text = readFileSync(hls.playlistPath, 'utf8');
    expect(text.startsWith('#EXTM3U\n#EXT-X-VERSION:7\n')).toBe(true);
    expect(text).toContain('#EXT-X-MAP:URI="rec_init.mp4"');
    expect(text.match(/#EXT-X-MAP/g)).toHaveLength(1);
    const { manifest, warnings } = parseM3u8(text);
    expect(warnings).toEqual([]);
    expect(manifest.endList).toBe(true);
    // Keyframes every second, 2 s target: five 2 s segments.
    expect(manifest.segments.map((s) => s.uri)).toEqual([0, 1, 2, 3, 4].map((i) => `rec_0000${i}.m4s`));
    for (const s of manifest.segments) expect(s.duration).toBeCloseTo(2, 2);
    expect(mapOf(manifest.segments[0]!)).toBe('rec_init.mp4');
    expect(rotationAsked).toBeGreaterThan(0);
    // Each segment is whole fragments: init + segment parses on its own in mp4box.
    const live = parseM3u8(readFileSync(join(dir, 'live.m3u8'), 'utf8')).manifest;
    expect(mapOf(live.segments[0]!)).toBe('rec_init.mp4');
    const d = decode(hls.playlistPath);
    expect(d).toMatchObject({ status: 0, stderr: '', frames: fed.videoFrames });
  });

  it('writes a new init segment and EXT-X-DISCONTINUITY + EXT-X-MAP at a resolution change', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new Fmp4SegmentSink({ dir, prefix: 'rec', targetDuration: 1, fsync: { intervalMs: 100 } });
    const fed = feed(hls.asFmp4Sink(), 3, { more: wide });
    fed.muxer.close();
    hls.close();
    expect(hls.initSegments).toEqual(['rec_init.mp4', 'rec_init-1.mp4']);
    const text = readFileSync(hls.playlistPath, 'utf8');
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="rec_init-1\.mp4"\n/);
    const { manifest, warnings } = parseM3u8(text);
    expect(warnings).toEqual([]);
    const maps = manifest.segments.map((s) => mapOf(s));
    expect(maps.filter((m) => m === 'rec_init.mp4')).toHaveLength(3);
    expect(maps.filter((m) => m === 'rec_init-1.mp4')).toHaveLength(4);
    // FFmpeg's HLS demuxer keeps the first init segment's avcC across EXT-X-MAP changes, so it cannot
    // judge the playlist as a whole here; each init segment followed by its segments must decode.
    let frames = 0;
    for (const [k, init] of hls.initSegments.entries()) {
      const names = manifest.segments.filter((s) => mapOf(s) === init).map((s) => s.uri);
      const joined = join(dir, `joined-${k}.mp4`);
      writeFileSync(joined, Buffer.concat([init, ...names].map((n) => readFileSync(join(dir, n)))));
      const d = decode(joined);
      expect(d).toMatchObject({ status: 0, stderr: '', sizes: [k === 0 ? '320,180' : '256,144'] });
      frames += d.frames;
    }
    expect(frames).toBe(fed.videoFrames);
  });
});

/** Seconds of video in an init segment + fragments, from mp4box.js's sample table (independent of ours). */
function videoSeconds(bytes: Uint8Array): number {
  const file = createFile();
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, 0));
  file.flush();
  const moov = (
    file as unknown as {
      moov: { traks: { samples: { dts: number; duration: number; timescale: number }[] }[] };
    }
  ).moov;
  const samples = moov.traks[0]!.samples;
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined) return 0;
  return (last.dts + last.duration - first.dts) / first.timescale;
}

/** Decodes each init segment followed by its listed segments; returns the frames decoded in all. */
function decodeGroups(dir: string, text: string): number {
  const { manifest } = parseM3u8(text);
  const inits = [...new Set(manifest.segments.map((s) => mapOf(s)))];
  let frames = 0;
  for (const [k, init] of inits.entries()) {
    const names = manifest.segments.filter((s) => mapOf(s) === init).map((s) => s.uri);
    const joined = join(dir, `joined-${k}.mp4`);
    writeFileSync(joined, Buffer.concat([init!, ...names].map((n) => readFileSync(join(dir, n)))));
    const d = decode(joined);
    expect(d).toMatchObject({ status: 0, stderr: '' });
    frames += d.frames;
  }
  return frames;
}

describe('Fmp4SegmentSink faults', () => {
  it('a full disk mid-segment: the fragment is cut back, the sink fails, repair lists the whole fragments', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const fs = spyFs();
    let fragments = 0;
    let torn = false;
    fs.hook = (name, args) => {
      if (name !== 'writeSync') return undefined;
      // The 14th fragment: a short write of 1000 bytes, then ENOSPC on the rest.
      if (torn) throw sysError('ENOSPC', 'write');
      if ((args[1] as Uint8Array).byteLength > 2000 && ++fragments === 14) {
        torn = true;
        return 1000;
      }
      return undefined;
    };
    const hls = new Fmp4SegmentSink({ dir, prefix: 'rec', targetDuration: 1, fsync: 'none', fs });
    let failure: unknown = null;
    try {
      feed(hls.asFmp4Sink(), 10, { fragmentDurationMs: 250 });
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(DiskFullError);
    expect(hls.failure).toBe(failure);
    expect(() =>
      hls.write(new Uint8Array(8), {
        kind: 'fragment',
        newInit: false,
        randomAccess: false,
        dts: 0,
        duration: 0,
      }),
    ).toThrow(SinkClosedError);
    hls.close();
    // Every listed segment is whole; the failed one holds whole fragments only and is not listed yet.
    const text = readFileSync(hls.playlistPath, 'utf8');
    const listed = parseM3u8(text).manifest.segments.map((x) => x.uri);
    const onDisk = readdirSync(dir)
      .filter((n) => n.endsWith('.m4s'))
      .sort();
    expect(listed).toEqual(onDisk.slice(0, -1));
    const init = readFileSync(join(dir, 'rec_init.mp4'));
    for (const n of onDisk) {
      const joined = Buffer.concat([init, readFileSync(join(dir, n))]);
      expect(completeFragmentedLength(joined)).toBe(joined.byteLength);
    }
    const report = repairFmp4Hls({ dir, prefix: 'rec', completeFragmentedLength });
    expect(report).toMatchObject({ segmentsAdded: [onDisk.at(-1)], bytesTruncated: 0, endListAdded: true });
    expect(decode(hls.playlistPath)).toMatchObject({ status: 0, stderr: '' });
  });
});

describe('repairFmp4Hls', () => {
  it('lists the segments a crash left unlisted, cutting a torn one to whole fragments', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new Fmp4SegmentSink({
      dir,
      prefix: 'rec',
      targetDuration: 1,
      fsync: 'none',
      livePlaylistName: 'live.m3u8',
    });
    // The process "dies": neither the muxer nor the sink is closed. 250 ms fragments: the open segment
    // holds three whole fragments when the last is torn.
    feed(hls.asFmp4Sink(), 5, { fragmentDurationMs: 250 });
    const before = parseM3u8(readFileSync(hls.playlistPath, 'utf8')).manifest;
    expect(before.endList).toBeUndefined();
    const onDisk = readdirSync(dir)
      .filter((n) => n.endsWith('.m4s'))
      .sort();
    const open = onDisk.at(-1)!;
    expect(before.segments.map((s) => s.uri)).toEqual(onDisk.slice(0, -1));
    truncateSync(join(dir, open), statSync(join(dir, open)).size - 100);

    const report = repairFmp4Hls({
      dir,
      prefix: 'rec',
      livePlaylistName: 'live.m3u8',
      targetDuration: 1,
      completeFragmentedLength,
      segmentDuration: videoSeconds,
    });
    expect(report).toMatchObject({ endListAdded: true, segmentsAdded: [open], segmentsRemoved: [] });
    expect(report.bytesTruncated).toBeGreaterThan(0);
    const text = readFileSync(hls.playlistPath, 'utf8');
    const after = parseM3u8(text);
    expect(after.warnings).toEqual([]);
    expect(after.manifest.endList).toBe(true);
    expect(after.manifest.segments.map((s) => s.uri)).toEqual(onDisk);
    expect(mapOf(after.manifest.segments.at(-1)!)).toBe('rec_init.mp4');
    const init = readFileSync(join(dir, 'rec_init.mp4'));
    const repaired = Buffer.concat([init, readFileSync(join(dir, open))]);
    expect(completeFragmentedLength(repaired)).toBe(repaired.byteLength);
    expect(after.manifest.segments.at(-1)!.duration).toBeCloseTo(videoSeconds(repaired), 3);
    const d = decode(hls.playlistPath);
    expect(d).toMatchObject({ status: 0, stderr: '' });
    expect(d.frames).toBe(mp4box(writeJoined(dir, ['rec_init.mp4', ...onDisk])).samples[0]);
    // Idempotent.
    expect(repairFmp4Hls({ dir, prefix: 'rec', completeFragmentedLength })).toMatchObject({
      endListAdded: false,
      segmentsAdded: [],
    });
    expect(readFileSync(hls.playlistPath, 'utf8')).toBe(text);
  });

  it('gives segments after a new init segment its EXT-X-MAP behind a discontinuity', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new Fmp4SegmentSink({ dir, prefix: 'rec', targetDuration: 2, fsync: 'none' });
    feed(hls.asFmp4Sink(), 3, { more: wide });
    // The open segment at the new init was listed before the init segment was written.
    const before = parseM3u8(readFileSync(hls.playlistPath, 'utf8')).manifest;
    expect(before.segments.filter((s) => mapOf(s) === 'rec_init.mp4').length).toBe(2);
    const report = repairFmp4Hls({ dir, prefix: 'rec', completeFragmentedLength });
    expect(report.segmentsAdded).toHaveLength(1);
    const text = readFileSync(hls.playlistPath, 'utf8');
    expect(text.match(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="rec_init-1\.mp4"\n/g)).toHaveLength(1);
    expect(parseM3u8(text).warnings).toEqual([]);
    const last = parseM3u8(text).manifest.segments.at(-1)!;
    expect(mapOf(last)).toBe('rec_init-1.mp4');
    expect(decodeGroups(dir, text)).toBe(
      mp4box(writeJoined(dir, ['rec_init.mp4', ...before.segments.map((s) => s.uri)])).samples[0]! +
        mp4box(writeJoined(dir, ['rec_init-1.mp4', last.uri])).samples[0]!,
    );
  });

  it('a crash right after a new init segment leaves nothing unlisted of the old configuration', (ctx) => {
    if (missing !== null) return ctx.skip(missing);
    const dir = tmp();
    const hls = new Fmp4SegmentSink({ dir, prefix: 'rec', targetDuration: 2, fsync: 'none' });
    let dead = false;
    feed(
      (chunk, info) => {
        if (dead) return;
        hls.write(chunk, info);
        if (info.kind === 'init' && info.newInit) dead = true;
      },
      3,
      { more: wide },
    );
    const report = repairFmp4Hls({ dir, prefix: 'rec', completeFragmentedLength });
    expect(report).toMatchObject({ endListAdded: true, segmentsAdded: [], segmentsRemoved: [] });
    const text = readFileSync(hls.playlistPath, 'utf8');
    expect(text).not.toContain('rec_init-1.mp4');
    expect(decodeGroups(dir, text)).toBe(90);
  });
});

/** Concatenates files of `dir` into one temp file there; returns its path. */
function writeJoined(dir: string, names: string[]): string {
  const path = join(dir, `joined-${names.length}-${names[0]}`);
  writeFileSync(path, Buffer.concat(names.map((n) => readFileSync(join(dir, n)))));
  return path;
}
