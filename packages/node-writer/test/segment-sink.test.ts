import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type FinishedSegment,
  repairHls,
  SegmentSink,
  type SegmentSinkOptions,
  SinkClosedError,
  WriteError,
} from '../src/index.js';
import { parseM3u8, readPlaylist } from './helpers/hls.js';
import { spyFs, sysError } from './helpers/spy-fs.js';
import { expectSameBytes, useTmpDir } from './helpers/tmp.js';
import {
  AUDIO_PID,
  completePrefixLength,
  concat,
  makeStream,
  prng,
  type StreamOptions,
  segmentDuration,
  TsCrafter,
  VIDEO_PID,
} from './helpers/ts.js';

const tmp = useTmpDir();
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);

/** Feeds a stream, advancing a fake wall clock with media time; returns what it wrote. */
function record(
  options: Partial<SegmentSinkOptions>,
  stream: StreamOptions,
  each?: (hls: SegmentSink) => void,
) {
  const dir = options.dir ?? tmp();
  let now = T0;
  const finished: FinishedSegment[] = [];
  const hls = new SegmentSink({ dir, now: () => now, onSegment: (s) => finished.push(s), ...options });
  const chunks: Uint8Array[] = [];
  const start = stream.startPts ?? 126_000;
  for (const { bytes, info } of makeStream(stream)) {
    if (info.kind !== 'clock') now = T0 + Math.round((info.pts - start) / 90);
    hls.write(bytes, info);
    chunks.push(bytes);
    each?.(hls);
  }
  return { dir, hls, finished, chunks };
}

describe('SegmentSink rotation and playlists', () => {
  it('rotates at keyframes after 4 s; the playlist parses and is consistent after every write', () => {
    let checks = 0;
    let lastCount = 0;
    const { dir, hls, finished, chunks } = record(
      { fsync: 'none', livePlaylistName: 'live.m3u8' },
      { seconds: 41, gop: 60 },
      (h) => {
        const { manifest } = readPlaylist(h.dir);
        expect(manifest.playlistType).toBe('EVENT');
        expect(manifest.endList).toBeUndefined();
        expect(manifest.segments.length).toBe(h.stats.segmentCount);
        expect(manifest.segments.length).toBeGreaterThanOrEqual(lastCount);
        lastCount = manifest.segments.length;
        const live = readPlaylist(h.dir, 'live.m3u8').manifest;
        expect(live.mediaSequence).toBe(Math.max(0, lastCount - 5));
        expect(live.segments.map((s) => s.uri)).toEqual(manifest.segments.slice(-5).map((s) => s.uri));
        checks++;
      },
    );
    expect(checks).toBe(chunks.length);
    expect(hls.wantsRotation).toBe(false);
    hls.close();
    const { manifest, text } = readPlaylist(dir);
    expect(manifest.endList).toBe(true);
    expect(manifest.version).toBe(3);
    expect(manifest.targetDuration).toBe(4);
    // Keyframes every 2 s, 4 s target: ten 4 s segments (next first PTS − first PTS), then the last one,
    // timed to its latest end: its last audio PES ends at 1.045 s.
    expect(manifest.segments.map((s) => s.duration)).toEqual([...Array(10).fill(4), 1.045]);
    expect(manifest.segments.map((s) => s.uri)).toEqual(
      Array.from({ length: 11 }, (_, i) => `segment_${String(i).padStart(5, '0')}.ts`),
    );
    // EXT-X-PROGRAM-DATE-TIME: the wall clock when each segment's first chunk was written.
    expect(manifest.segments.map((s) => s.dateTimeString)).toEqual(
      Array.from({ length: 11 }, (_, i) => new Date(T0 + i * 4000).toISOString()),
    );
    expect(text).not.toContain('#EXT-X-DISCONTINUITY');
    // The segments hold exactly the stream, each starting with PAT (PID 0) and a random-access chunk.
    const files = manifest.segments.map((s) => readFileSync(join(dir, s.uri)));
    expectSameBytes(concat(files), concat(chunks));
    for (const f of files) expect([f[0], f[1]! & 0x1f, f[2]]).toEqual([0x47, 0, 0]);
    expect(finished.map((f) => f.index)).toEqual([...Array(11).keys()]);
    expect(finished.map((f) => f.bytes)).toEqual(files.map((f) => f.length));
    expect(finished[3]).toMatchObject({
      duration: 4,
      firstPts: 126_000 + 3 * 360_000,
      programDateTime: T0 + 12_000,
    });
    expect(hls.stats).toMatchObject({ segmentCount: 11, current: null });
    expect(hls.stats.duration).toBeCloseTo(41.045, 3);
    expect(hls.stats.bytesWritten).toBe(concat(chunks).length);

    const live = readPlaylist(dir, 'live.m3u8');
    expect(live.manifest.mediaSequence).toBe(6);
    expect(live.manifest.discontinuitySequence).toBe(0);
    expect(live.manifest.playlistType).toBeUndefined();
    expect(live.manifest.endList).toBe(true);
    expect(live.manifest.segments.map((s) => s.uri)).toEqual(manifest.segments.slice(6).map((s) => s.uri));
  });

  it('wantsRotation turns true at the target and stays until the next keyframe; TARGETDURATION covers long segments', () => {
    const seen: { pts: number; wants: boolean }[] = [];
    const { dir, hls } = record({ fsync: 'none' }, { seconds: 16, gop: 150 }, (h) => {
      const cur = h.stats.current;
      if (cur !== null) seen.push({ pts: cur.duration, wants: h.wantsRotation });
    });
    hls.close();
    // Within a segment, wantsRotation flips once media reaches 4 s and holds until the 5 s keyframe.
    const firstWant = seen.findIndex((s) => s.wants);
    expect(firstWant).toBeGreaterThan(0);
    expect(seen[firstWant]!.pts).toBeGreaterThanOrEqual(4);
    expect(seen[firstWant - 1]!.pts).toBeLessThan(4);
    expect(seen.slice(firstWant, firstWant + 20).every((s) => s.wants)).toBe(true);
    const { manifest } = readPlaylist(dir);
    expect(manifest.segments.map((s) => s.duration)).toEqual([5, 5, 5, 1.043]);
    expect(manifest.targetDuration).toBe(5);
  });

  it('a keyframe forced when wantsRotation turns true always starts a segment, even with audio ahead of video', () => {
    const crafter = new TsCrafter();
    const dir = tmp();
    const hls = new SegmentSink({ dir, fsync: 'none', targetDuration: 2 });
    const rnd = prng(5);
    const payload = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    let forced = 0;
    let key = true;
    let audioPts = 126_000;
    for (let f = 0; f < 30 * 9; f++) {
      const vpts = 126_000 + f * 3000;
      // Audio runs 40 ms ahead of video, so media time reaches the target before the video does.
      while (audioPts < vpts + 3600) {
        const bytes = crafter.pes(AUDIO_PID, payload(300), audioPts, null, true);
        hls.write(bytes, { trackId: 1, kind: 'audio', pts: audioPts, duration: 7680, randomAccess: false });
        audioPts += 7680;
      }
      const pes = crafter.pes(VIDEO_PID, payload(key ? 3000 : 500), vpts, vpts, false);
      const bytes = key ? concat([crafter.pat(), crafter.pmt(), pes]) : pes;
      hls.write(bytes, { trackId: 0, kind: 'video', pts: vpts, randomAccess: key, keyframe: key });
      // The core's reaction: force a keyframe on the next frame.
      key = hls.wantsRotation;
      if (key) forced++;
    }
    hls.close();
    const { manifest } = readPlaylist(dir);
    // Every forced keyframe cut a segment, and no segment ran past the target.
    expect(forced).toBe(manifest.segments.length - 1);
    expect(manifest.segments.length).toBe(5);
    for (const seg of manifest.segments.slice(0, -1)) {
      expect(seg.duration).toBeGreaterThan(1.9);
      expect(seg.duration).toBeLessThanOrEqual(2);
    }
    expect(manifest.targetDuration).toBe(2);
  });

  it('a discontinuity flagged by the muxer forces a rotation at its random-access chunk, tagged once', () => {
    // Timestamps restart at frame 100 (3.33 s): before the 4 s target.
    const { dir, hls } = record(
      { fsync: 'none', livePlaylistName: 'live.m3u8', liveSegmentCount: 2 },
      {
        seconds: 20,
        gop: 60,
        discontinuityAtFrames: [100],
      },
    );
    hls.close();
    const { manifest, text } = readPlaylist(dir);
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)?.length).toBe(1);
    expect(manifest.discontinuityStarts).toEqual([1]);
    // Segment 0 ends at the jump after 100 frames, timed from its own PTS span (+1 frame), not the next PTS.
    // Then keyframes at frames 120, 180, 240…: the first ≥ 4 s after 100 is 240.
    expect(manifest.segments.map((s) => s.duration)).toEqual([3.333, 4.667, 4, 4, 4]);
    expect(manifest.targetDuration).toBe(5);
    const live = readPlaylist(dir, 'live.m3u8');
    expect(live.manifest.mediaSequence).toBe(manifest.segments.length - 2);
    expect(live.manifest.discontinuitySequence).toBe(1);
  });

  it('markDiscontinuity() tags the next segment and rotates at the next keyframe even before the target', () => {
    const dir = tmp();
    const hls = new SegmentSink({ dir, fsync: 'none', now: () => T0 });
    let n = 0;
    for (const { bytes, info } of makeStream({ seconds: 6, gop: 30 })) {
      if (info.kind === 'video' && n++ === 40) {
        hls.markDiscontinuity();
        expect(hls.wantsRotation).toBe(true);
      }
      hls.write(bytes, info);
    }
    hls.close();
    const { manifest } = readPlaylist(dir);
    // Keyframes each second: the mark at frame 40 cuts at frame 60 (2 s of video; the audio written before
    // that keyframe runs to 2.048 s), then the 4 s rest.
    expect(manifest.segments.map((s) => s.duration)).toEqual([2.048, 4]);
    expect(manifest.discontinuityStarts).toEqual([1]);
  });

  it("names segments by start time with naming: 'timestamp'", () => {
    const { dir, hls } = record(
      { fsync: 'none', naming: 'timestamp', prefix: 'room' },
      { seconds: 9, gop: 60 },
    );
    hls.close();
    const { manifest } = readPlaylist(dir);
    expect(manifest.segments.map((s) => s.uri)).toEqual([
      'room_20260102T030405000Z.ts',
      'room_20260102T030409000Z.ts',
      'room_20260102T030413000Z.ts',
    ]);
    // A clock that stands still still gives unique names in recording order, and repair keeps that order.
    const still = tmp();
    const frozen = new SegmentSink({
      dir: still,
      fsync: 'none',
      naming: 'timestamp',
      targetDuration: 1,
      now: () => T0,
    });
    for (const { bytes, info } of makeStream({ seconds: 4, gop: 30 })) frozen.write(bytes, info);
    const names = readdirSync(still).filter((n) => n.endsWith('.ts'));
    expect(names.sort()).toEqual(
      [0, 1, 2, 3].map((i) => `segment_${new Date(T0 + i).toISOString().replace(/[-:.]/g, '')}.ts`),
    );
    repairHls({ dir: still, completePrefixLength, segmentDuration });
    expect(readPlaylist(still).manifest.segments.map((s) => s.uri)).toEqual(names);
  });

  it('syncs segments per policy and every playlist rewrite (temp fsync, rename, directory fsync)', () => {
    const fs = spyFs();
    const { dir, hls } = record({ fsync: 'always', fs }, { seconds: 9, gop: 60 });
    const writes = fs.count('writeSync');
    hls.close();
    const playlist = join(dir, 'playlist.m3u8');
    // Initial empty playlist + one rewrite per finished segment (3, the last at close).
    expect(fs.count('renameSync', playlist)).toBe(4);
    // 'always': one fdatasync per chunk write plus one per playlist temp file.
    expect(fs.count('fdatasyncSync')).toBe(fs.count('writeSync'));
    expect(writes).toBeGreaterThan(300);
    // Directory fsyncs: one per playlist rename and one per created segment.
    expect(fs.count('fsyncSync')).toBe(4 + 3);
    expect(readdirSync(dir).sort()).toEqual([
      'playlist.m3u8',
      'segment_00000.ts',
      'segment_00001.ts',
      'segment_00002.ts',
    ]);
  });

  it('close without any chunk writes an empty, ended playlist; calls after close throw', () => {
    const dir = tmp();
    const hls = new SegmentSink({ dir, targetDuration: 6 });
    expect(readPlaylist(dir).manifest.targetDuration).toBe(6);
    hls.close();
    hls.close();
    const { manifest } = readPlaylist(dir);
    expect(manifest.endList).toBe(true);
    expect(manifest.segments).toEqual([]);
    expect(() => hls.write(new Uint8Array(188), { kind: 'clock', pts: 0, randomAccess: true })).toThrow(
      SinkClosedError,
    );
  });

  it('refuses to overwrite an existing recording unless asked', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'playlist.m3u8'), '#EXTM3U\n');
    expect(() => new SegmentSink({ dir })).toThrow(
      expect.objectContaining({ name: 'WriteError', code: 'EEXIST' }),
    );
    expect(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).toBe('#EXTM3U\n');
    const hls = new SegmentSink({ dir, overwrite: true, fsync: 'none' });
    hls.close();
    expect(parseM3u8(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).manifest.endList).toBe(true);
  });

  it('requires chunk info and validates options', () => {
    const dir = tmp();
    expect(() => new SegmentSink({ dir, targetDuration: 0 })).toThrow(
      new RangeError('options.targetDuration must be a positive number'),
    );
    expect(() => new SegmentSink({ dir, liveSegmentCount: 0, livePlaylistName: 'l.m3u8' })).toThrow(
      /options\.liveSegmentCount/,
    );
    expect(() => new SegmentSink({ dir, playlistName: 'index.txt' })).toThrow(/must end in \.m3u8/);
    expect(() => new SegmentSink({ dir, playlistName: 'a.m3u8', livePlaylistName: 'a.m3u8' })).toThrow(
      /differ/,
    );
    const hls = new SegmentSink({ dir, fsync: 'none' });
    expect(() => hls.write(new Uint8Array(188), undefined as never)).toThrow(TypeError);
    expect(() =>
      hls.write(new Uint8Array(188), { kind: 'video', pts: Number.NaN, randomAccess: true }),
    ).toThrow(/info\.pts/);
    hls.close();
  });

  it('a crash between segment close and playlist rename leaves the previous playlist; repair lists everything', () => {
    const fs = spyFs();
    const dir = tmp();
    const hls = new SegmentSink({ dir, fs, fsync: 'always', now: () => T0 });
    const playlist = join(dir, 'playlist.m3u8');
    let renames = 0;
    fs.hook = (name, args) => {
      // The playlist rename after the 3rd finished segment dies: simulate a crash at that instant.
      if (name === 'renameSync' && args[0] === playlist && ++renames === 3) throw sysError('EIO', 'rename');
      return undefined;
    };
    let err: unknown;
    let afterCrash = 0;
    for (const { bytes, info } of makeStream({ seconds: 20, gop: 60 })) {
      try {
        hls.write(bytes, info);
      } catch (e) {
        err = e;
        break;
      }
      afterCrash++;
    }
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ code: 'EIO', syscall: 'rename' });
    expect(() => hls.write(new Uint8Array(188), { kind: 'clock', pts: 0, randomAccess: false })).toThrow(
      expect.objectContaining({ code: 'ERR_SINK_FAILED' }),
    );
    hls.close();
    expect(afterCrash).toBeGreaterThan(0);
    // The old playlist (two segments) is intact; the finished third segment is on disk but not listed.
    const before = readPlaylist(dir);
    expect(before.manifest.segments.map((s) => s.uri)).toEqual(['segment_00000.ts', 'segment_00001.ts']);
    expect(existsSync(join(dir, 'segment_00002.ts'))).toBe(true);
    expect(existsSync(join(dir, '.playlist.m3u8.tmp'))).toBe(true);

    const report = repairHls({ dir, completePrefixLength, segmentDuration });
    expect(report.segmentsAdded).toEqual(['segment_00002.ts']);
    expect(report.endListAdded).toBe(true);
    expect(report.tempFilesRemoved).toEqual(['.playlist.m3u8.tmp']);
    // The third segment was complete; repair drops only its last (unterminated) video PES.
    expect(report.tsRepairs[0]!.bytesTruncated).toBeGreaterThan(0);
    const after = readPlaylist(dir);
    expect(after.manifest.endList).toBe(true);
    expect(after.manifest.segments.map((s) => s.uri)).toEqual([
      'segment_00000.ts',
      'segment_00001.ts',
      'segment_00002.ts',
    ]);
    expect(after.manifest.segments[2]!.duration).toBeCloseTo(4 - 1 / 30, 3);
    // Continued from the previous segment's PROGRAM-DATE-TIME (the fake clock stood still at T0) and EXTINF.
    expect(after.manifest.segments[2]!.dateTimeString).toBe(new Date(T0 + 4000).toISOString());
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(statSync(join(dir, 'segment_00002.ts')).size % 188).toBe(0);
  });
});
