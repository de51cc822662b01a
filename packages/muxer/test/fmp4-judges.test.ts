/**
 * The fragmented MP4 muxer judged by FFmpeg: libavformat's mov demuxer and libavcodec's decoders
 * in-process (FFmpeg 8.1 through node-av) and the Debian command-line tools (ffmpeg/ffprobe 5.1).
 * Decoding without a single error or warning, packet timestamps equal to ours, every prefix of a
 * truncated file decodable up to its last whole fragment, and the progressive file rebuilt from the
 * fragments decoding to the same packets.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completeFragmentedLength,
  type Fmp4ChunkInfo,
  Fmp4Muxer,
  progressiveFromFragmented,
} from '../src/mp4/index.js';
import {
  type AacMedia,
  aacFixture,
  type H264Media,
  h264Fixture,
  type OpusMedia,
  opusFixture,
} from './fixtures/encoded-media.js';
import {
  type FfJudgeResult,
  ffmpegCliDecode,
  ffmpegJudge,
  ffprobePackets,
  judgeRuns,
  runTool,
  tempDir,
  writeTs,
} from './helpers/judges.js';

interface Written {
  /** Track index (0 video, 1 audio). */
  track: number;
  pts: number;
  dts: number;
  keyframe: boolean;
}

interface Muxed {
  bytes: Uint8Array;
  chunks: { info: Fmp4ChunkInfo; offset: number; end: number }[];
  written: Written[];
  muxer: Fmp4Muxer;
}

/** Muxes video (optional) and audio interleaved by decode time, as a live source delivers them. */
function mux(video: H264Media | null, audio: AacMedia | OpusMedia, fragmentDurationMs?: number): Muxed {
  const parts: Uint8Array[] = [];
  const chunks: Muxed['chunks'] = [];
  let total = 0;
  const muxer = new Fmp4Muxer({
    fragmentDurationMs,
    sink: (bytes, info) => {
      parts.push(bytes.slice());
      chunks.push({ info: { ...info }, offset: total, end: total + bytes.length });
      total += bytes.length;
    },
  });
  const v = video ? muxer.addTrack({ codec: 'h264' }) : -1;
  const a = muxer.addTrack(
    audio.codec === 'aac'
      ? { codec: 'aac', audioSpecificConfig: audio.audioSpecificConfig }
      : { codec: 'opus', channelCount: audio.channelCount, preSkip: audio.preSkip },
  );
  const items: { t: number; run: () => void; w: Written }[] = [];
  for (const f of video?.frames ?? []) {
    items.push({
      t: f.dts,
      run: () => muxer.write(v, { data: f.data, pts: f.pts, dts: f.dts }),
      w: { track: 0, pts: f.pts, dts: f.dts, keyframe: f.keyframe },
    });
  }
  for (const f of audio.frames) {
    items.push({
      t: (f.pts * 90000) / audio.sampleRate + 0.5,
      run: () => muxer.write(a, { data: f.data, pts: f.pts }),
      w: { track: video ? 1 : 0, pts: f.pts, dts: f.pts, keyframe: true },
    });
  }
  items.sort((x, y) => x.t - y.t);
  for (const it of items) it.run();
  muxer.close();
  let n = 0;
  for (const p of parts) n += p.length;
  const bytes = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, chunks, written: items.map((i) => i.w), muxer };
}

/** Our packets per track, in decode order, as [pts, dts, keyframe]. */
function ours(written: Written[], track: number): [number, number, boolean][] {
  return written.filter((w) => w.track === track).map((w) => [w.pts, w.dts, w.keyframe]);
}

function theirs(result: FfJudgeResult, stream: number): [number, number, boolean][] {
  return result.packets.filter((p) => p.stream === stream).map((p) => [p.pts, p.dts, p.keyframe]);
}

let video: H264Media;
let aac: AacMedia;
let opus: OpusMedia;
let dir: string;
let cleanup: () => void;

beforeAll(async () => {
  video = await h264Fixture({ durationS: 6, width: 320, height: 240, fps: 30 });
  aac = await aacFixture({ durationS: 6, sampleRate: 48000, channelCount: 2 });
  opus = await opusFixture({ durationS: 6, channelCount: 2 });
  ({ dir, cleanup } = tempDir('trackrec-fmp4-'));
});

afterAll(() => cleanup?.());

describe('fMP4 decoded by FFmpeg 8.1 (node-av)', () => {
  for (const name of ['aac', 'opus'] as const) {
    it(`H.264 + ${name}: zero errors or warnings, every frame decoded, packet timestamps equal ours`, async () => {
      const audio = name === 'aac' ? aac : opus;
      const m = mux(video, audio);
      const path = writeTs(dir, `fragmented-${name}.mp4`, m.bytes);
      const r = await ffmpegJudge(path);
      expect(r.formatName).toContain('mp4');
      expect(r.logs).toEqual([]);
      expect(r.decodeErrors).toEqual([]);
      expect(r.streams.map((s) => [s.type, s.codec])).toEqual([
        ['video', 'h264'],
        ['audio', name],
      ]);
      expect(r.streams[0]!.width).toBe(320);
      expect(r.streams[0]!.timeBase).toEqual([1, 90000]);
      expect(r.streams[1]!.timeBase).toEqual([1, 48000]);
      expect(r.decodedFrames).toEqual([video.frames.length, audio.frames.length]);
      expect(theirs(r, 0)).toEqual(ours(m.written, 0));
      expect(theirs(r, 1)).toEqual(ours(m.written, 1));
      // Every audio sample decoded; for Opus the dOps PreSkip is honoured (RFC 7845 §4.2).
      // (Whole codec frames: an encoder's shortened last packet duration is not carried, as in MPEG-TS.)
      const frameSize = name === 'opus' ? 960 : 1024;
      const total = audio.frames.length * frameSize;
      expect(r.decodedSamples[1]).toBe(name === 'opus' ? total - opus.preSkip : total);
    });
  }

  it('the progressive file rebuilt from the fragments decodes to the same packets, error-free', async () => {
    for (const audio of [aac, opus]) {
      const m = mux(video, audio);
      const progressive = progressiveFromFragmented(m.muxer.sampleTable(), m.bytes);
      const fragmentedResult = await ffmpegJudge(writeTs(dir, 'f.mp4', m.bytes));
      const r = await ffmpegJudge(writeTs(dir, `progressive-${audio.codec}.mp4`, progressive));
      expect(r.logs).toEqual([]);
      expect(r.decodeErrors).toEqual([]);
      expect(r.decodedFrames).toEqual([video.frames.length, audio.frames.length]);
      expect(theirs(r, 0)).toEqual(ours(m.written, 0));
      expect(theirs(r, 1)).toEqual(ours(m.written, 1));
      for (const stream of [0, 1]) {
        const sizes = (x: FfJudgeResult): number[] =>
          x.packets.filter((p) => p.stream === stream).map((p) => p.size);
        expect(sizes(r)).toEqual(sizes(fragmentedResult));
      }
    }
  });

  it('cut at a fragment boundary: a complete file, every sample decoded without an error or warning', async () => {
    const m = mux(video, aac, 500);
    let samples = 0;
    for (const c of m.chunks) {
      samples += c.info.samples;
      if (c.info.kind !== 'fragment' || c.info.sequenceNumber % 2 === 0) continue;
      const r = await ffmpegJudge(writeTs(dir, 'boundary.mp4', m.bytes.subarray(0, c.end)));
      expect(r.logs, `cut after fragment ${c.info.sequenceNumber}`).toEqual([]);
      expect(r.decodeErrors).toEqual([]);
      expect(r.decodedFrames.reduce((x, y) => x + y, 0)).toBe(samples);
    }
  });

  it('cut at any byte: everything up to the last whole fragment decodes; a torn moof is cut off', async () => {
    const m = mux(video, aac, 500);
    // Deterministic pseudo-random cut points over the whole file, plus some inside moof boxes.
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const fragments = m.chunks.filter((c) => c.info.kind === 'fragment');
    const cuts = [
      ...Array.from({ length: 10 }, () => Math.floor(random() * m.bytes.length)),
      ...[2, 5, 9].map(
        (i) => fragments[i]!.offset + 9 + Math.floor(random() * (fragments[i]!.info.mdatPayloadOffset - 9)),
      ),
    ];
    for (const cut of cuts) {
      const whole = m.chunks.filter((c) => c.end <= cut);
      if (whole.length === 0) continue; // not even the init segment: nothing to decode
      const samples = whole.reduce((n, c) => n + c.info.samples, 0);
      const label = `cut at ${cut}`;
      const cutBytes = m.bytes.subarray(0, cut);
      const partial = m.chunks.find((c) => c.offset < cut && c.end > cut);
      // Recovery: the longest complete prefix ends exactly after the last whole fragment.
      const length = completeFragmentedLength(cutBytes);
      expect(length, label).toBe(whole.at(-1)!.end);
      const repaired = await ffmpegJudge(writeTs(dir, 'repaired.mp4', cutBytes.subarray(0, length)));
      expect(repaired.logs, label).toEqual([]);
      expect(repaired.decodeErrors, label).toEqual([]);
      expect(
        repaired.decodedFrames.reduce((x, y) => x + y, 0),
        label,
      ).toBe(samples);
      const inMoof = partial !== undefined && cut - partial.offset < partial.info.mdatPayloadOffset;
      if (inMoof) {
        // FFmpeg refuses a torn moof ("error reading header"): the repair above is needed.
        if (cut - partial.offset >= 8) {
          await expect(ffmpegJudge(writeTs(dir, 'torn.mp4', cutBytes)), label).rejects.toThrow(
            /openInput failed/,
          );
        }
        continue;
      }
      // Cut inside an mdat: FFmpeg opens the file as is. It also reads the whole samples of the partial
      // fragment; the sample the cut went through is flagged corrupt and is the only one allowed to fail.
      const r = await ffmpegJudge(writeTs(dir, 'cut.mp4', cutBytes));
      const corrupt = r.packets.filter((p) => p.corrupt);
      expect(corrupt.length, label).toBeLessThanOrEqual(1);
      if (corrupt.length === 1) expect(r.packets.at(-1)!.corrupt, label).toBe(true);
      expect(r.decodeErrors.length, label).toBeLessThanOrEqual(corrupt.length);
      const decoded = r.decodedFrames.reduce((x, y) => x + y, 0);
      expect(decoded, label).toBeGreaterThanOrEqual(samples);
      expect(decoded, label).toBeLessThanOrEqual(samples + (partial?.info.samples ?? 0));
    }
  });
});

describe('fMP4 resolution change decoded by FFmpeg', () => {
  it('each init segment starts a file that decodes on its own at its own size', async () => {
    const small = await h264Fixture({ durationS: 2, width: 160, height: 96, fps: 30, keyframeIntervalS: 1 });
    const files: Uint8Array[][] = [];
    const muxer = new Fmp4Muxer({
      sink: (bytes, info) => {
        if (info.kind === 'init') files.push([]);
        files.at(-1)!.push(bytes.slice());
      },
    });
    const v = muxer.addTrack({ codec: 'h264' });
    const shift = video.frames.at(-1)!.dts + 3000;
    for (const f of video.frames) muxer.write(v, { data: f.data, pts: f.pts, dts: f.dts });
    for (const f of small.frames) muxer.write(v, { data: f.data, pts: f.pts + shift, dts: f.dts + shift });
    muxer.close();
    expect(files).toHaveLength(2);
    const expected = [
      [320, video.frames, 0],
      [160, small.frames, shift],
    ] as const;
    for (const [k, parts] of files.entries()) {
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        bytes.set(p, o);
        o += p.length;
      }
      const [width, frames, offset] = expected[k]!;
      const r = await ffmpegJudge(writeTs(dir, `resolution-${k}.mp4`, bytes));
      expect(r.logs).toEqual([]);
      expect(r.decodeErrors).toEqual([]);
      expect(r.streams[0]!.width).toBe(width);
      expect(r.decodedFrames).toEqual([frames.length]);
      // Decode times continue across the change (tfdt is never reset).
      expect(r.packets.map((p) => p.dts)).toEqual(frames.map((f) => f.dts + offset));
    }
    // The progressive file of the second configuration keeps its place on the timeline (an empty edit).
    const second = files[1]!;
    const bytes = new Uint8Array(second.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of second) {
      bytes.set(p, o);
      o += p.length;
    }
    const r = await ffmpegJudge(
      writeTs(dir, 'resolution-progressive.mp4', progressiveFromFragmented(muxer.sampleTable(), bytes)),
    );
    expect(r.logs).toEqual([]);
    expect(r.decodeErrors).toEqual([]);
    expect(r.decodedFrames).toEqual([small.frames.length]);
    expect(r.packets.map((p) => p.pts)).toEqual(small.frames.map((f) => f.pts + shift));
  });
});

/** Decodes an MP4 with GStreamer (qtdemux, openh264dec, faad/opusdec) into raw video and audio files. */
function gstDecodeMp4(
  path: string,
  audio: 'aac' | 'opus',
  out: string,
): { video: Uint8Array; pcm: Uint8Array; problems: string[] } {
  const videoOut = `${out}.yuv`;
  const audioOut = `${out}.pcm`;
  const decoder = audio === 'aac' ? ['aacparse', '!', 'faad'] : ['opusparse', '!', 'opusdec'];
  const r = runTool(
    'gst-launch-1.0',
    [
      '-q',
      'filesrc',
      `location=${path}`,
      '!',
      'qtdemux',
      'name=d',
      'd.video_0',
      '!',
      'queue',
      '!',
      'h264parse',
      '!',
      'openh264dec',
      '!',
      'videoscale',
      '!',
      'video/x-raw,format=I420,width=64,height=36',
      '!',
      'filesink',
      `location=${videoOut}`,
      'd.audio_0',
      '!',
      'queue',
      '!',
      ...decoder,
      '!',
      'audioconvert',
      '!',
      'audio/x-raw,format=S16LE',
      '!',
      'filesink',
      `location=${audioOut}`,
    ],
    {
      env: {
        ...process.env,
        GST_DEBUG: '*:1,qtdemux:2,h264parse:2,aacparse:2,opusparse:2,opusdec:2',
        GST_DEBUG_NO_COLOR: '1',
      },
    },
  );
  if (r.status !== 0) throw new Error(`gst-launch-1.0 failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return {
    video: new Uint8Array(readFileSync(videoOut)),
    pcm: new Uint8Array(readFileSync(audioOut)),
    // Warnings without their timestamps and addresses, to compare between files.
    problems: r.stderr
      .split('\n')
      .filter((l) => /\b(WARN|ERROR)\b/.test(l))
      .map((l) => l.replace(/^\S+\s+\d+\s+0x[0-9a-f]+\s+/, '')),
  };
}

describe('fMP4 decoded by GStreamer (qtdemux)', () => {
  it.runIf(judgeRuns('gst-launch-1.0', 'ffmpeg'))(
    'decodes to exactly the pictures and sound of the same streams remuxed by FFmpeg',
    () => {
      for (const audio of [aac, opus]) {
        const m = mux(video, audio);
        const ours = writeTs(dir, `gst-${audio.codec}.mp4`, m.bytes);
        // Reference: FFmpeg's own fragmented MP4 of the same packets (stream copy).
        const reference = join(dir, `gst-${audio.codec}-ffmpeg.mp4`);
        const remux = runTool('ffmpeg', [
          '-v',
          'error',
          '-y',
          '-i',
          ours,
          '-c',
          'copy',
          '-movflags',
          'frag_keyframe+empty_moov',
          reference,
        ]);
        expect(remux.status, remux.stderr).toBe(0);
        const got = gstDecodeMp4(ours, audio.codec, join(dir, 'gst-ours'));
        const want = gstDecodeMp4(reference, audio.codec, join(dir, 'gst-ref'));
        expect(got.video.length).toBe(video.frames.length * 64 * 36 * 1.5);
        expect(got.pcm.length).toBeGreaterThan(0);
        expect(got.problems).toEqual(want.problems);
        expect(Buffer.compare(got.video, want.video)).toBe(0);
        expect(Buffer.compare(got.pcm, want.pcm)).toBe(0);
      }
    },
  );
});

describe('fMP4 judged by the Debian ffmpeg/ffprobe 5.1', () => {
  it.runIf(judgeRuns('ffprobe', 'ffmpeg'))(
    'ffprobe packet pts/dts/key flags equal ours; ffmpeg -xerror decodes without a warning',
    () => {
      for (const audio of [aac, opus]) {
        const m = mux(video, audio);
        for (const [label, bytes] of [
          ['fragmented', m.bytes],
          ['progressive', progressiveFromFragmented(m.muxer.sampleTable(), m.bytes)],
        ] as const) {
          const path = writeTs(dir, `${label}-${audio.codec}-cli.mp4`, bytes);
          const packets = ffprobePackets(path);
          for (const track of [0, 1]) {
            expect(
              packets.filter((p) => p.streamIndex === track).map((p) => [p.pts, p.dts, p.keyframe]),
              `${label} ${audio.codec} stream ${track}`,
            ).toEqual(ours(m.written, track));
          }
          const decode = ffmpegCliDecode(path);
          expect(decode.status, decode.stderr).toBe(0);
          expect(decode.stderr.trim(), `${label} ${audio.codec}`).toBe('');
        }
      }
    },
  );
});
