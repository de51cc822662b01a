/**
 * TrackRecording writing fragmented MP4 (`file: { fileType: 'mp4' }`) and fMP4 HLS
 * (`segments: { segmentType: 'fmp4' }`) from real encoders, judged by mp4box.js (every box parsed,
 * sample counts) and by ffmpeg's decoder with -xerror: the fragmented file, the progressive rewrite
 * made on a clean stop, the fMP4 playlist, H.264 + AAC and H.264 + Opus, and a resolution change.
 */

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrackRecording } from '../src/recording.js';
import type { RecordingOptions } from '../src/types.js';
import {
  ffmpegDecode,
  judgeAvailable,
  parsePlaylist,
  pushSyntheticFrame,
  syntheticI420,
  toneFrame,
} from './helpers.js';
import { mp4box } from './mp4box.js';
import { tempDirPerTest } from './temp-dirs.js';

const dir = tempDirPerTest();
const small = { width: 320, height: 240, framerate: 30, videoBitrate: 300, x264Preset: 'ultrafast' as const };

/** Decoded video frames and audio packets as ffprobe counts them. */
/** Top-level box types read straight from the box headers (size, type; largesize when size is 1). */
function topLevelBoxes(path: string): string[] {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: string[] = [];
  let o = 0;
  while (o + 8 <= bytes.length) {
    let size = view.getUint32(o);
    if (size === 1) size = Number(view.getBigUint64(o + 8));
    types.push(bytes.toString('latin1', o + 4, o + 8));
    if (size < 8) break;
    o += size;
  }
  if (o !== bytes.length) types.push(`<${bytes.length - o} trailing bytes>`);
  return types;
}

function ffprobeCounts(path: string): { video: number; audio: number } {
  const count = (sel: string, entry: string) => {
    const r = spawnSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        sel,
        '-count_packets',
        '-show_entries',
        entry,
        '-of',
        'csv=p=0',
        path,
      ],
      { encoding: 'utf8' },
    );
    return Number.parseInt(r.stdout.trim().split(',')[0] ?? '', 10);
  };
  return { video: count('v:0', 'stream=nb_read_packets'), audio: count('a:0', 'stream=nb_read_packets') };
}

/**
 * Feeds `seconds` of 30 fps video and 10 ms audio frames on a synthetic clock, faster than real time;
 * `sizeAt(frame)` gives the picture size (a resolution change when it changes).
 */
async function record(
  options: Omit<RecordingOptions, 'outputDir'>,
  seconds: number,
  sizeAt: (frame: number) => [number, number] = () => [320, 240],
) {
  const out = dir();
  const rec = new TrackRecording({ outputDir: out, ...options });
  await rec.start();
  let phase = 0;
  for (let f = 0; f < 30 * seconds; f++) {
    const [w, h] = sizeAt(f);
    phase = pushSyntheticFrame(rec, f, phase, { data: syntheticI420(w, h, f), width: w, height: h });
    await rec.drained();
  }
  const info = await rec.stop();
  return { out, info, metrics: rec.metrics() };
}

describe('fragmented MP4 output', () => {
  it('H.264 + AAC: the fragmented file and the fMP4 playlist from one encode; mp4box and ffmpeg read every sample', async () => {
    const { out, info, metrics } = await record(
      {
        file: { filepath: 'frag', fileType: 'mp4', progressive: false },
        segments: {
          filenamePrefix: 'hls/rec',
          segmentType: 'fmp4',
          segmentDuration: 1,
          livePlaylistName: 'live.m3u8',
        },
        encoding: { ...small, keyFrameInterval: 1 },
      },
      4,
    );
    expect(info.error).toBe('');
    expect(info.status).toBe('COMPLETE');
    expect(info.file?.filename).toBe('frag.mp4');
    expect(info.file?.parts).toEqual([]);
    const bytes = readFileSync(info.file!.location);
    expect(info.file?.size).toBe(bytes.byteLength);
    const parsed = mp4box(bytes);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fragmented).toBe(true);
    expect(parsed.boxes.slice(0, 3)).toEqual(['ftyp', 'moov', 'moof']);
    const [v, a] = parsed.tracks;
    expect(v).toMatchObject({
      codec: expect.stringMatching(/^avc1\./),
      samples: metrics.video!.framesEncoded,
      width: 320,
      height: 240,
    });
    expect(a!.codec).toBe('mp4a.40.2');
    // 4 s of 48 kHz audio in 1024-sample frames (give or take the encoder's priming and flush).
    expect(Math.abs(a!.samples - (4 * 48_000) / 1024)).toBeLessThanOrEqual(3);
    expect(metrics.latePackets).toBe(0);

    // The playlist: version 7, one EXT-X-MAP, .m4s segments holding the same samples as the file.
    const playlist = info.segments!.playlistLocation;
    const text = readFileSync(playlist, 'utf8');
    expect(text).toMatch(/^#EXTM3U\n#EXT-X-VERSION:7\n/);
    expect(text).toContain('#EXT-X-MAP:URI="rec_init.mp4"');
    const pl = parsePlaylist(text);
    expect(pl.endList).toBe(true);
    expect(pl.segments.length).toBeGreaterThanOrEqual(3);
    expect(info.segments?.segmentCount).toBe(pl.segments.length);
    const hlsDir = dirname(playlist);
    const joined = Buffer.concat(
      ['rec_init.mp4', ...pl.segments.map((s) => s.uri)].map((n) => readFileSync(join(hlsDir, n))),
    );
    const fromHls = mp4box(joined);
    expect(fromHls.errors).toEqual([]);
    expect(fromHls.tracks.map((t) => t.samples)).toEqual(parsed.tracks.map((t) => t.samples));

    if (judgeAvailable('ffmpeg')) {
      expect(ffmpegDecode(info.file!.location)).toEqual({ status: 0, stderr: '' });
      expect(ffmpegDecode(playlist)).toEqual({ status: 0, stderr: '' });
      expect(ffprobeCounts(info.file!.location)).toEqual({ video: v!.samples, audio: a!.samples });
      expect(ffprobeCounts(playlist).video).toBe(v!.samples);
    }
    expect(readdirSync(out).sort()).toEqual(['frag.mp4', 'hls']);
  });

  it('on a clean stop rewrites the file as a progressive MP4 (moov before mdat), H.264 + Opus, beside TS HLS', async () => {
    const { out, info, metrics } = await record(
      {
        file: { filepath: 'prog', fileType: 'mp4' },
        segments: { filenamePrefix: 'ts-hls', segmentDuration: 1 },
        encoding: { ...small, audioCodec: 'opus' },
      },
      3,
    );
    expect(info.status).toBe('COMPLETE');
    const bytes = readFileSync(info.file!.location);
    expect(info.file?.size).toBe(bytes.byteLength);
    const parsed = mp4box(bytes);
    expect(parsed.errors).toEqual([]);
    expect(parsed.fragmented).toBe(false);
    expect(parsed.boxes).toEqual(['ftyp', 'moov', 'mdat']);
    expect(parsed.tracks[0]!.samples).toBe(metrics.video!.framesEncoded);
    expect(parsed.tracks[1]!.codec).toBe('Opus');
    // 3 s of 20 ms Opus frames.
    expect(Math.abs(parsed.tracks[1]!.samples - 150)).toBeLessThanOrEqual(3);
    // No temp file left behind; the TS segments come from the same encode.
    const names = readdirSync(out);
    expect(names.filter((n) => !n.startsWith('ts-hls_'))).toEqual(['prog.mp4', 'ts-hls.m3u8'].sort());
    expect(names.filter((n) => n.endsWith('.ts')).length).toBe(info.segments!.segmentCount);
    expect(info.segments!.segmentCount).toBeGreaterThanOrEqual(2);
    if (judgeAvailable('ffmpeg')) {
      expect(ffmpegDecode(info.file!.location)).toEqual({ status: 0, stderr: '' });
      expect(ffprobeCounts(info.file!.location)).toEqual({
        video: parsed.tracks[0]!.samples,
        audio: parsed.tracks[1]!.samples,
      });
      expect(ffmpegDecode(info.segments!.playlistLocation)).toEqual({ status: 0, stderr: '' });
      expect(ffprobeCounts(info.segments!.playlistLocation).video).toBe(parsed.tracks[0]!.samples);
    }
  });

  it('a resolution change (reopen) continues in name.1.mp4; both parts become progressive and decode at their own size', async () => {
    const { out, info } = await record(
      {
        file: { filepath: 'res', fileType: 'mp4' },
        segments: { filenamePrefix: 'res-hls', segmentType: 'fmp4', segmentDuration: 1 },
        encoding: { ...small, onResolutionChange: 'reopen', keyFrameInterval: 1 },
      },
      3,
      (f) => (f < 45 ? [320, 240] : [480, 270]),
    );
    expect(info.error).toBe('');
    expect(info.status).toBe('COMPLETE');
    expect(info.file?.location).toBe(join(out, 'res.mp4'));
    expect(info.file?.parts).toEqual([join(out, 'res.1.mp4')]);
    const first = mp4box(readFileSync(join(out, 'res.mp4')));
    const second = mp4box(readFileSync(join(out, 'res.1.mp4')));
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
    // Both parts were rewritten on the clean stop: moov before mdat, no fragments left.
    expect(topLevelBoxes(join(out, 'res.mp4'))).toEqual(['ftyp', 'moov', 'mdat']);
    expect(topLevelBoxes(join(out, 'res.1.mp4'))).toEqual(['ftyp', 'moov', 'mdat']);
    expect(first.fragmented).toBe(false);
    expect(second.fragmented).toBe(false);
    expect(info.file?.size).toBe(statSync(join(out, 'res.mp4')).size + statSync(join(out, 'res.1.mp4')).size);
    expect(first.tracks[0]).toMatchObject({ width: 320, height: 240 });
    expect(second.tracks[0]).toMatchObject({ width: 480, height: 270 });
    expect(first.tracks[0]!.samples + second.tracks[0]!.samples).toBe(90);
    const text = readFileSync(info.segments!.playlistLocation, 'utf8');
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="res-hls_init-1\.mp4"\n/);
    if (judgeAvailable('ffmpeg')) {
      expect(ffmpegDecode(join(out, 'res.mp4'))).toEqual({ status: 0, stderr: '' });
      expect(ffmpegDecode(join(out, 'res.1.mp4'))).toEqual({ status: 0, stderr: '' });
      expect(ffprobeCounts(join(out, 'res.mp4')).video).toBe(first.tracks[0]!.samples);
      expect(ffprobeCounts(join(out, 'res.1.mp4')).video).toBe(second.tracks[0]!.samples);
    }
    // Both files are real: written whole, nothing else in the directory but the HLS files.
    expect(
      readdirSync(out)
        .filter((n) => !n.startsWith('res-hls'))
        .sort(),
    ).toEqual(['res.1.mp4', 'res.mp4']);
  });

  it('audio only (AAC): a progressive MP4 with one track and fMP4 segments cut by duration', async () => {
    const out = dir();
    const rec = new TrackRecording({
      outputDir: out,
      video: false,
      file: { filepath: 'voice', fileType: 'mp4' },
      segments: { filenamePrefix: 'voice-hls', segmentType: 'fmp4', segmentDuration: 1 },
    });
    await rec.start();
    for (let k = 0; k < 300; k++) rec.pushAudioFrame(toneFrame(k), (k + 1) * 10_000);
    const info = await rec.stop();
    expect(info.error).toBe('');
    const parsed = mp4box(readFileSync(info.file!.location));
    expect(parsed.errors).toEqual([]);
    expect(parsed.boxes).toEqual(['ftyp', 'moov', 'mdat']);
    expect(parsed.tracks.map((t) => t.codec)).toEqual(['mp4a.40.2']);
    expect(Math.abs(parsed.tracks[0]!.samples - (3 * 48_000) / 1024)).toBeLessThanOrEqual(3);
    const pl = parsePlaylist(readFileSync(info.segments!.playlistLocation, 'utf8'));
    expect(pl.segments.length).toBeGreaterThanOrEqual(2);
    if (judgeAvailable('ffmpeg')) {
      expect(ffmpegDecode(info.file!.location)).toEqual({ status: 0, stderr: '' });
      expect(ffmpegDecode(info.segments!.playlistLocation)).toEqual({ status: 0, stderr: '' });
    }
  });

  it('rejects an unknown fileType or segmentType naming the option', async () => {
    const out = dir();
    const bad = new TrackRecording({ outputDir: out, file: { fileType: 'mkv' as 'mp4' } });
    const info = await bad.start();
    expect(info.status).toBe('FAILED');
    expect(info.error).toContain('options.file.fileType');
    const bad2 = new TrackRecording({
      outputDir: out,
      file: false,
      segments: { segmentType: 'cmaf' as 'fmp4' },
    });
    expect((await bad2.start()).error).toContain('options.segments.segmentType');
  });
});
