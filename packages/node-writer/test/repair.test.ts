import { readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repairHls, repairTs, SegmentSink } from '../src/index.js';
import { readPlaylist } from './helpers/hls.js';
import { expectSameBytes, useTmpDir } from './helpers/tmp.js';
import { completePrefixLength, concat, makeStream, prng, segmentDuration } from './helpers/ts.js';

const tmp = useTmpDir();

describe('repairTs', () => {
  const stream = [...makeStream({ seconds: 6, gop: 30 })];
  const full = concat(stream.map((c) => c.bytes));
  const boundaries = new Set<number>();
  let at = 0;
  for (const c of stream) {
    at += c.bytes.byteLength;
    boundaries.add(at);
  }

  it('cuts a file broken at any byte to whole packets and whole PES, as the injected parser decides', () => {
    const rnd = prng(42);
    for (let i = 0; i < 60; i++) {
      const cut = Math.floor(rnd() * full.byteLength);
      const path = join(tmp(), 'crash.ts');
      writeFileSync(path, full.subarray(0, cut));
      // A small window forces the scan to grow; the answer must not depend on it.
      const report = repairTs(path, completePrefixLength, { maxScanBytes: 188 * 50 });
      const expected = completePrefixLength(full.subarray(0, cut - (cut % 188)));
      expect(report).toEqual({
        path,
        originalBytes: cut,
        repairedBytes: expected,
        bytesTruncated: cut - expected,
      });
      const repaired = readFileSync(path);
      expect(repaired.length % 188).toBe(0);
      expectSameBytes(repaired, full.subarray(0, expected));
      // Never more than the PES that was being written (one chunk plus tables) is dropped.
      expect(cut - expected).toBeLessThan(2 * 6200);
    }
  });

  it('leaves a file alone when the parser says it is complete, and rejects a bad parser result', () => {
    const path = join(tmp(), 'whole.ts');
    const audioEnd = [...boundaries].find((b) => b > 100_000)!;
    writeFileSync(path, full.subarray(0, audioEnd));
    const report = repairTs(path, (b) => b.byteLength);
    expect(report.bytesTruncated).toBe(0);
    expect(statSync(path).size).toBe(audioEnd);
    expect(() => repairTs(path, () => 1e12)).toThrow(TypeError);
    expect(() => repairTs(path, () => -1)).toThrow(/completePrefixLength returned -1/);
    expect(() => repairTs(join(tmp(), 'missing.ts'), completePrefixLength)).toThrow(
      expect.objectContaining({ name: 'WriteError', code: 'ENOENT' }),
    );
  });
});

/** Records `seconds` of HLS and returns the directory, with the sink closed or abandoned (crash). */
function recordHls(seconds: number, crash: boolean, live = false): { dir: string; chunks: Uint8Array[] } {
  const dir = tmp();
  const hls = new SegmentSink({
    dir,
    fsync: 'none',
    now: () => Date.UTC(2026, 5, 1),
    ...(live ? { livePlaylistName: 'live.m3u8', liveSegmentCount: 3 } : {}),
  });
  const chunks: Uint8Array[] = [];
  for (const { bytes, info } of makeStream({ seconds, gop: 60 })) {
    hls.write(bytes, info);
    chunks.push(bytes);
  }
  if (!crash) hls.close();
  return { dir, chunks };
}

describe('repairHls', () => {
  it('adds the partly written last segment (cut to whole PES) and EXT-X-ENDLIST', () => {
    const { dir } = recordHls(14.5, true, true);
    const before = readPlaylist(dir);
    expect(before.manifest.segments.length).toBe(3);
    // The crash also tore the last write: a partial packet at the end.
    const last = join(dir, 'segment_00003.ts');
    const size = statSync(last).size;
    truncateSync(last, size - 100);

    const report = repairHls({
      dir,
      livePlaylistName: 'live.m3u8',
      liveSegmentCount: 3,
      completePrefixLength,
      segmentDuration,
    });
    expect(report.segmentsAdded).toEqual(['segment_00003.ts']);
    expect(report.segmentsRemoved).toEqual([]);
    expect(report.endListAdded).toBe(true);
    expect(report.playlistCreated).toBe(false);
    expect(report.durationsEstimated).toEqual([]);
    expect(report.tsRepairs).toHaveLength(1);
    expect(report.tsRepairs[0]!.originalBytes).toBe(size - 100);
    expect(report.tsRepairs[0]!.repairedBytes % 188).toBe(0);

    const after = readPlaylist(dir);
    expect(after.manifest.endList).toBe(true);
    expect(after.manifest.segments.map((s) => s.uri)).toEqual([
      'segment_00000.ts',
      'segment_00001.ts',
      'segment_00002.ts',
      'segment_00003.ts',
    ]);
    // 12 s to 14.5 s, minus the torn last frame: frames 360…433 → 74 frames.
    expect(after.manifest.segments[3]!.duration).toBeCloseTo(74 / 30, 3);
    expect(after.manifest.segments[3]!.dateTimeString).toBe(
      new Date(Date.UTC(2026, 5, 1) + 4000).toISOString(),
    );
    const live = readPlaylist(dir, 'live.m3u8');
    expect(live.manifest.endList).toBe(true);
    expect(live.manifest.mediaSequence).toBe(1);
    expect(live.manifest.segments.map((s) => s.uri)).toEqual(
      after.manifest.segments.slice(1).map((s) => s.uri),
    );

    // Repairing again changes nothing.
    const text = readFileSync(join(dir, 'playlist.m3u8'), 'utf8');
    const again = repairHls({ dir, completePrefixLength, segmentDuration });
    expect(again).toMatchObject({
      segmentsAdded: [],
      segmentsRemoved: [],
      endListAdded: false,
      tsRepairs: [],
    });
    expect(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).toBe(text);
  });

  it('leaves a cleanly closed recording untouched', () => {
    const { dir, chunks } = recordHls(9, false);
    const text = readFileSync(join(dir, 'playlist.m3u8'), 'utf8');
    const report = repairHls({ dir, completePrefixLength });
    expect(report).toMatchObject({ segmentsAdded: [], endListAdded: false, playlistCreated: false });
    expect(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).toBe(text);
    const files = readPlaylist(dir).manifest.segments.map((s) => readFileSync(join(dir, s.uri)));
    expectSameBytes(concat(files), concat(chunks));
  });

  it('deletes a trailing segment left without media, and estimates durations without a scanner', () => {
    const { dir } = recordHls(9, true);
    // The crash came right after the new segment's first packets: nothing complete in it.
    truncateSync(join(dir, 'segment_00002.ts'), 188 * 3 + 50);
    // Repair keeps PAT+PMT (the video PES after them is torn); the scanner finds no media: deleted.
    const report = repairHls({ dir, completePrefixLength, segmentDuration });
    expect(report.tsRepairs[0]!.repairedBytes).toBe(376);
    expect(report.segmentsRemoved).toEqual(['segment_00002.ts']);
    expect(report.segmentsAdded).toEqual([]);
    expect(report.endListAdded).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['playlist.m3u8', 'segment_00000.ts', 'segment_00001.ts']);
    expect(readPlaylist(dir).manifest.endList).toBe(true);

    const other = recordHls(6, true).dir;
    truncateSync(join(other, 'segment_00001.ts'), 100);
    const estimate = repairHls({ dir: other, completePrefixLength, targetDuration: 4 });
    expect(estimate.segmentsRemoved).toEqual(['segment_00001.ts']);

    const third = recordHls(6, true).dir;
    const estimated = repairHls({ dir: third, completePrefixLength, targetDuration: 3 });
    expect(estimated.durationsEstimated).toEqual(['segment_00001.ts']);
    expect(readPlaylist(third).manifest.segments[1]!.duration).toBe(3);
  });

  it('writes a playlist from scratch when the crash came before the first one was renamed', () => {
    const { dir } = recordHls(9, true);
    unlinkSync(join(dir, 'playlist.m3u8'));
    const report = repairHls({ dir, completePrefixLength, segmentDuration });
    expect(report.playlistCreated).toBe(true);
    expect(report.segmentsAdded).toEqual(['segment_00000.ts', 'segment_00001.ts', 'segment_00002.ts']);
    const { manifest } = readPlaylist(dir);
    expect(manifest.endList).toBe(true);
    // The first two were finished (whole, last frame kept); the torn last one loses its final frame.
    expect(manifest.segments.map((s) => Number(s.duration.toFixed(3)))).toEqual([4, 4, 0.967]);
    expect(report.tsRepairs.map((r) => r.bytesTruncated > 0)).toEqual([false, false, true]);
  });

  it('validates its options', () => {
    expect(() => repairHls({ dir: tmp(), completePrefixLength: undefined as never })).toThrow(
      new TypeError('options.completePrefixLength must be a function'),
    );
    expect(() => repairHls({ dir: tmp(), prefix: '../x', completePrefixLength })).toThrow(RangeError);
  });
});
