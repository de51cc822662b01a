/**
 * Judges on the situations a live recorder meets: HLS segments cut at random access chunks, a file cut
 * after any write (a crash), a source restart (markDiscontinuity), a stalled camera, a 5 fps source,
 * ADTS input and access units larger than a PES_packet_length can say (> 64 KiB). FFmpeg 8.1 in-process,
 * mux.js, our checker and, when installed, the Debian CLIs judge each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, inspectTs } from '../src/inspect/index.js';
import { aacFixture, h264Fixture } from './fixtures/encoded-media.js';
import {
  muxScenario,
  prefixOf,
  type Scenario,
  type Slice,
  SMALL,
  segmentsOf,
  smallMedia,
} from './fixtures/scenarios.js';
import {
  type FfJudgeResult,
  ffmpegCliDecode,
  ffmpegJudge,
  gstDecode,
  judgeRuns,
  muxjsParse,
  muxjsTransmux,
  tempDir,
  tsreport,
  writeTs,
} from './helpers/judges.js';

const STRICT = { maxTableGapMs: 101, maxPcrGapMs: 41 };
const temp = tempDir();
const scenarios = new Map<string, Scenario>();
let fileCount = 0;

function get(name: string): Scenario {
  const s = scenarios.get(name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

function file(bytes: Uint8Array): string {
  return writeTs(temp.dir, `part-${fileCount++}.ts`, bytes);
}

beforeAll(async () => {
  const { video, aac } = await smallMedia();
  const [oneSecondGop, fiveFps, large, aacOneSecond, longVideo, longAudio] = await Promise.all([
    h264Fixture({ ...SMALL, keyframeIntervalS: 1 }),
    h264Fixture({ ...SMALL, fps: 5 }),
    // crf 8 at 1080p: the IDR is larger than 64 KiB, so its PES cannot state a PES_packet_length.
    h264Fixture({ durationS: 1, width: 1920, height: 1080, fps: 30, crf: 8 }),
    aacFixture({ durationS: 1 }),
    h264Fixture({ ...SMALL, durationS: 30 }),
    aacFixture({ durationS: 30 }),
  ]);
  for (const s of [
    muxScenario({ name: 'plain', video, audio: aac }),
    muxScenario({ name: 'segments', video: oneSecondGop, audio: aac, segmentAtKeyframes: true }),
    // Timestamps restart at 0 on the IDR at 2 s, as when a track's source restarts.
    muxScenario({
      name: 'restart',
      video,
      audio: aac,
      discontinuity: { atVideoFrame: 60, shiftTicks: -180000 },
    }),
    // No video between 2 s and 3.5 s; audio goes on.
    muxScenario({ name: 'stall', video, audio: aac, videoStall: { fromFrame: 60, ticks: 135000 } }),
    muxScenario({ name: '5fps', video: fiveFps, audio: aac }),
    muxScenario({ name: 'adts', video, audio: aac, audioAsAdts: true }),
    muxScenario({ name: 'large', video: large, audio: aacOneSecond }),
    // 30 s: continuity counters wrap many times, 15 GOPs, ~300 table repetitions.
    muxScenario({ name: '30s', video: longVideo, audio: longAudio }),
  ]) {
    scenarios.set(s.name, s);
  }
});

afterAll(() => temp.cleanup());

/** The FFmpeg judge's view of one slice: every frame at its timestamp, decoded, nothing logged. */
function expectFfmpegAgrees(result: FfJudgeResult, slice: Pick<Slice, 'video' | 'audio'>): void {
  expect(result.decodeErrors).toEqual([]);
  const video = result.streams.find((s) => s.type === 'video');
  const audio = result.streams.find((s) => s.type === 'audio');
  if (slice.video.length > 0) {
    const packets = result.packets.filter((p) => p.stream === video!.index);
    expect(packets.map((p) => [p.pts, p.dts, p.keyframe])).toEqual(
      slice.video.map((f) => [f.pts, f.dts, f.keyframe]),
    );
    expect(result.decodedFrames[video!.index]).toBe(slice.video.length);
  }
  if (slice.audio.length > 0) {
    const packets = result.packets.filter((p) => p.stream === audio!.index);
    expect(packets.map((p) => p.pts)).toEqual(slice.audio.map((f) => f.pts));
    expect(result.decodedFrames[audio!.index]).toBe(slice.audio.length);
  }
}

describe('HLS-style segments (startSegment before every IDR, cut before every random access chunk)', () => {
  it('cuts into one segment per keyframe, each starting with PAT, PMT and an IDR', () => {
    const s = get('segments');
    const segments = segmentsOf(s);
    expect(segments).toHaveLength(s.video!.frames.filter((f) => f.keyframe).length);
    let total = 0;
    for (const seg of segments) {
      const pid = (o: number): number => ((seg.bytes[o + 1]! & 0x1f) << 8) | seg.bytes[o + 2]!;
      expect([pid(0), pid(188)]).toEqual([0, 0x1000]);
      expect(seg.video[0]!.keyframe).toBe(true);
      expect(seg.video.filter((f) => f.keyframe)).toHaveLength(1);
      total += seg.bytes.byteLength;
    }
    expect(total).toBe(s.bytes.byteLength);
  });

  it('each segment alone passes our checker with zero violations', () => {
    for (const seg of segmentsOf(get('segments'))) {
      const report = inspectTs(seg.bytes, STRICT);
      expect(report.violations, formatReport(report)).toEqual([]);
      expect(report.streams.map((x) => x.frames)).toEqual([seg.video.length, seg.audio.length]);
    }
  });

  it('each segment alone demuxes and decodes completely in FFmpeg', async () => {
    for (const seg of segmentsOf(get('segments'))) {
      const result = await ffmpegJudge(file(seg.bytes));
      expect(result.logs).toEqual([]);
      expectFfmpegAgrees(result, seg);
    }
  });

  it('each segment alone transmuxes in mux.js to one fMP4 sample per frame', () => {
    for (const seg of segmentsOf(get('segments'))) {
      const mp4 = muxjsTransmux(seg.bytes);
      expect(mp4.logs.filter((l) => !l.startsWith('info'))).toEqual([]);
      expect([mp4.videoSamples, mp4.audioSamples]).toEqual([seg.video.length, seg.audio.length]);
    }
  });

  it.runIf(judgeRuns('ffmpeg'))('each segment alone decodes in the ffmpeg CLI without a warning', () => {
    for (const seg of segmentsOf(get('segments'))) {
      const r = ffmpegCliDecode(file(seg.bytes));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe('the file after a crash: every prefix ending on a sink chunk', () => {
  it('passes our checker for every chunk boundary', () => {
    const s = get('plain');
    for (let n = 1; n <= s.chunks.length; n++) {
      const prefix = prefixOf(s, n);
      const report = inspectTs(prefix.bytes, STRICT);
      expect(report.violations, `prefix of ${n} chunks\n${formatReport(report)}`).toEqual([]);
    }
  });

  it('demuxes and decodes in FFmpeg up to the last frame written, at spread-out boundaries', async () => {
    const s = get('plain');
    // Before the first audio PES (≤ 100 ms in) FFmpeg rightly complains it cannot probe the audio
    // stream the PMT announces; start from the first prefix that holds both.
    const first = s.chunks.findIndex((c) => c.kind === 'audio') + 1;
    const step = Math.floor((s.chunks.length - first) / 8);
    for (let n = first; n <= s.chunks.length; n += step) {
      const prefix = prefixOf(s, n);
      const result = await ffmpegJudge(file(prefix.bytes));
      expect(result.logs, `prefix of ${n} chunks`).toEqual([]);
      expectFfmpegAgrees(result, prefix);
    }
  });

  it('before the first audio PES, FFmpeg still decodes the video and only says it cannot probe the audio', async () => {
    const s = get('plain');
    const n = s.chunks.findIndex((c) => c.kind === 'audio');
    expect(n).toBeGreaterThan(0);
    const prefix = prefixOf(s, n);
    expect(prefix.audio).toEqual([]);
    const result = await ffmpegJudge(file(prefix.bytes));
    for (const log of result.logs) expect(log).toMatch(/stream 1|codec parameters|analyzeduration/);
    expectFfmpegAgrees(result, prefix);
  });
});

describe('a source restart: markDiscontinuity() and timestamps back to 0', () => {
  it('passes our checker: discontinuity_indicator makes the jump legal', () => {
    const s = get('restart');
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(s.chunks.filter((c) => c.discontinuity)).toHaveLength(1);
    const restart = s.chunks.find((c) => c.discontinuity)!;
    expect(restart.keyframe && restart.randomAccess).toBe(true);
    expect(restart.dts).toBe(s.timestampOffset);
  });

  it('FFmpeg reads every frame at its new timestamp and decodes all (noting only the reorder)', async () => {
    const s = get('restart');
    const result = await ffmpegJudge(file(s.bytes));
    // libavformat ignores discontinuity_indicator and reports the backwards DTS; nothing else.
    for (const log of result.logs) expect(log).toMatch(/out of order/);
    expectFfmpegAgrees(result, { video: s.video!.frames, audio: s.audio!.frames });
  });

  it('mux.js reads every PES at its new timestamp', () => {
    const s = get('restart');
    const parsed = muxjsParse(s.bytes);
    expect(parsed.logs).toEqual([]);
    expect(parsed.pes.filter((p) => p.type === 'video').map((p) => p.dts)).toEqual(
      s.video!.frames.map((f) => f.dts),
    );
    expect(parsed.adtsFrames.map((f) => f.pts)).toEqual(s.audio!.frames.map((f) => f.pts));
  });

  it.runIf(judgeRuns('gst-launch-1.0'))('GStreamer sees the reset and decodes every frame', () => {
    const s = get('restart');
    const r = gstDecode(file(s.bytes), { video: true, audio: 'aac' });
    expect(r.problems.filter((l) => !/RESET detected/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.videoFrames).toBe(s.video!.frames.length);
  });
});

describe.each(['stall', '5fps', 'adts', 'large', '30s'])('%s', (name) => {
  it('passes our checker with PCR ≤ 40 ms and tables ≤ 100 ms apart', () => {
    const s = get(name);
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(report.maxPcrGapMs).toBeLessThanOrEqual(41);
  });

  it('FFmpeg reads and decodes every frame at its timestamp, byte for byte', async () => {
    const s = get(name);
    const result = await ffmpegJudge(file(s.bytes), { keepData: true });
    expect(result.logs).toEqual([]);
    expectFfmpegAgrees(result, { video: s.video!.frames, audio: s.audio!.frames });
    const video = result.packets.filter(
      (p) => p.stream === result.streams.find((x) => x.type === 'video')!.index,
    );
    video.forEach((p, i) => {
      expect(Buffer.from(p.data!.subarray(6)).equals(s.video!.frames[i]!.data)).toBe(true);
    });
    const audio = result.packets.filter(
      (p) => p.stream === result.streams.find((x) => x.type === 'audio')!.index,
    );
    audio.forEach((p, i) => {
      expect(Buffer.from(p.data!.subarray(7)).equals(s.audio!.frames[i]!.data)).toBe(true);
    });
  });

  it('mux.js finds every access unit and ADTS frame', () => {
    const s = get(name);
    const parsed = muxjsParse(s.bytes);
    expect(parsed.logs).toEqual([]);
    const video = parsed.pes.filter((p) => p.type === 'video');
    expect(video.map((p) => p.dts)).toEqual(s.video!.frames.map((f) => f.dts));
    // PES payload = AUD (6 bytes) + the access unit: a PES over 64 KiB must arrive whole.
    expect(video.map((p) => p.size)).toEqual(s.video!.frames.map((f) => f.size + 6));
    expect(parsed.adtsFrames.map((f) => f.pts)).toEqual(s.audio!.frames.map((f) => f.pts));
  });

  it.runIf(judgeRuns('tsreport'))('tsreport finds no CC error and no PCR gap over 40 ms', () => {
    const s = get(name);
    const path = file(s.bytes);
    for (const pid of [s.video!.pid, s.audio!.pid]) {
      const r = tsreport(path, pid);
      expect(r.errors, r.raw).toEqual([]);
      expect(r.ccDiscontinuities).toBe(0);
      // PTS/DTS − PCR stays in (0, 1 s] by tstools' own PCR interpolation.
      const delay = r.pcrToDts.get(pid);
      expect(delay, r.raw).toBeDefined();
      expect(delay!.min).toBeGreaterThan(0);
      expect(delay!.max).toBeLessThanOrEqual(90000);
      expect(r.pcrMaxGapTicks).toBeLessThanOrEqual(41 * 90);
    }
  });

  it.runIf(judgeRuns('gst-launch-1.0'))('GStreamer decodes every frame without a warning', () => {
    const s = get(name);
    const r = gstDecode(file(s.bytes), { video: true, audio: 'aac' });
    expect(r.problems).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.videoFrames).toBe(s.video!.frames.length);
  });
});

it('the large scenario really has an access unit over 64 KiB', () => {
  expect(Math.max(...get('large').video!.frames.map((f) => f.size))).toBeGreaterThan(0xffff);
});

it('the stall scenario really leaves 1.5 s without video while audio goes on', () => {
  const s = get('stall');
  const gaps = s.video!.frames.slice(1).map((f, i) => f.dts - s.video!.frames[i]!.dts);
  expect(Math.max(...gaps)).toBe(135000 + 3000);
  const audioGaps = s.audio!.frames.slice(1).map((f, i) => f.pts - s.audio!.frames[i]!.pts);
  expect(Math.max(...audioGaps)).toBe(1920);
});
