/**
 * Judges on input and option variants: Opus without video, 44.1 kHz mono AAC (timestamps between
 * 90 kHz ticks), audio-only HLS segments, one PES per audio frame, the loosest clock options, x264's own
 * AUDs, and SPS/PPS sent only once (the muxer must repeat them before every IDR).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, inspectTs } from '../src/inspect/index.js';
import { aacFixture, h264Fixture, opusFixture, withParameterSetsOnce } from './fixtures/encoded-media.js';
import {
  longClockScenario,
  muxScenario,
  type Scenario,
  SMALL,
  segmentsOf,
  smallMedia,
  TWO_POW_33,
} from './fixtures/scenarios.js';
import {
  type FfJudgeResult,
  ffmpegCliDecode,
  ffmpegJudge,
  gstDecode,
  judgeRuns,
  muxjsParse,
  muxjsTransmux,
  relative,
  tempDir,
  writeTs,
} from './helpers/judges.js';

const STRICT = { maxTableGapMs: 101, maxPcrGapMs: 41 };
const AUD = [0, 0, 0, 1, 9];
const temp = tempDir();
const scenarios = new Map<string, Scenario>();
let fileCount = 0;

function get(name: string): Scenario {
  const s = scenarios.get(name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

function file(bytes: Uint8Array): string {
  return writeTs(temp.dir, `variant-${fileCount++}.ts`, bytes);
}

beforeAll(async () => {
  const { video, aac, opus } = await smallMedia();
  const [aac44Mono, x264Aud, oneSecondGop, opusMono] = await Promise.all([
    aacFixture({ durationS: SMALL.durationS, sampleRate: 44100, channelCount: 1, bitrate: 64000 }),
    h264Fixture({ ...SMALL, aud: true }),
    h264Fixture({ ...SMALL, keyframeIntervalS: 1 }),
    opusFixture({ durationS: SMALL.durationS, channelCount: 1, bitrate: 32000 }),
  ]);
  scenarios.set('opus 2^33', await longClockScenario(TWO_POW_33, 'opus'));
  for (const s of [
    muxScenario({ name: 'opus-only', audio: opus }),
    muxScenario({ name: 'aac-44.1k-mono', video, audio: aac44Mono }),
    // Frames up to 4 s exactly, so the last 1 s segment is not a lone frame FFmpeg cannot even probe.
    muxScenario({
      name: 'aac-segments',
      audio: {
        ...aac,
        frames: aac.frames.filter((f) => f.pts + f.duration <= SMALL.durationS * aac.sampleRate),
      },
      segmentEveryS: 1,
    }),
    muxScenario({ name: 'pes-per-frame', video, audio: aac, muxer: { maxAudioPesDurationMs: 0 } }),
    muxScenario({
      name: 'loose-clock',
      video,
      audio: aac,
      muxer: { pcrIntervalMs: 100, tableIntervalMs: 500, pcrOffsetMs: 100, maxAudioPesDurationMs: 100 },
    }),
    muxScenario({ name: 'x264-aud', video: x264Aud, audio: aac }),
    muxScenario({ name: 'opus-mono', video, audio: opusMono }),
    muxScenario({ name: 'jitter', video, audio: aac, videoJitterTicks: 1000 }),
    // The camera's first frame comes 1 s after the microphone's.
    muxScenario({ name: 'late-video', video, audio: aac, videoStall: { fromFrame: 0, ticks: 90000 } }),
    // Joining a stream mid-GOP: the muxer refuses video until the IDR at 2 s.
    muxScenario({
      name: 'mid-gop',
      video: { ...video, frames: video.frames.slice(10) },
      audio: aac,
      tolerateRefusals: true,
    }),
    // Opus with holes (DTX silence, packet loss): 400 ms and 40 ms without packets.
    muxScenario({
      name: 'opus-gaps',
      video,
      audio: opus,
      dropAudio: (i) => (i >= 50 && i < 70) || i === 120 || i === 121,
    }),
    muxScenario({
      name: 'sps-once',
      video: withParameterSetsOnce(oneSecondGop),
      audio: aac,
      segmentAtKeyframes: true,
    }),
  ]) {
    scenarios.set(s.name, s);
  }
});

afterAll(() => temp.cleanup());

function streamIndex(result: FfJudgeResult, type: 'video' | 'audio'): number {
  return result.streams.find((s) => s.type === type)!.index;
}

describe('Opus without video (PCR on the audio PID)', () => {
  it('passes our checker with PCR on PID 0x100 at most 40 ms apart', () => {
    const s = get('opus-only');
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(report.pcrPid).toBe(0x100);
    expect(report.streams).toMatchObject([{ codec: 'opus', frames: s.audio!.frames.length }]);
  });

  it('FFmpeg reads every Opus packet at its PTS, byte for byte, and decodes it', async () => {
    const s = get('opus-only');
    const result = await ffmpegJudge(file(s.bytes), { keepData: true });
    expect(result.logs).toEqual([]);
    expect(result.decodeErrors).toEqual([]);
    expect(result.streams).toMatchObject([{ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2 }]);
    expect(result.packets.map((p) => p.pts)).toEqual(s.audio!.frames.map((f) => f.pts));
    for (const [i, p] of result.packets.entries()) {
      expect(Buffer.from(p.data!).equals(s.audio!.frames[i]!.data)).toBe(true);
    }
    expect(result.decodedFrames).toEqual([s.audio!.frames.length]);
  });

  it.runIf(judgeRuns('gst-launch-1.0'))('GStreamer decodes all of it and applies the pre-skip', () => {
    const s = get('opus-only');
    const r = gstDecode(file(s.bytes), { audio: 'opus' });
    expect(r.problems).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.audioSamples).toBe(s.audio!.frames.length * 960 - s.audio!.preSkip);
  });
});

describe('44.1 kHz mono AAC: frame times fall between 90 kHz ticks', () => {
  it('passes our checker', () => {
    const report = inspectTs(get('aac-44.1k-mono').bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
  });

  it('FFmpeg reads every frame within a tick of its exact time and decodes all', async () => {
    const s = get('aac-44.1k-mono');
    const result = await ffmpegJudge(file(s.bytes));
    expect(result.logs).toEqual([]);
    expect(result.decodeErrors).toEqual([]);
    const index = streamIndex(result, 'audio');
    expect(result.streams[index]).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 1 });
    const packets = result.packets.filter((p) => p.stream === index);
    expect(packets).toHaveLength(s.audio!.frames.length);
    // FFmpeg times the frames after the first of a PES by adding rounded durations: allow 2 ticks.
    for (const [i, p] of packets.entries())
      expect(Math.abs(p.pts - s.audio!.frames[i]!.pts)).toBeLessThanOrEqual(2);
    expect(result.decodedFrames[index]).toBe(s.audio!.frames.length);
  });

  it('mux.js parses every ADTS frame as 44.1 kHz mono', () => {
    const s = get('aac-44.1k-mono');
    const parsed = muxjsParse(s.bytes);
    expect(parsed.adtsFrames).toHaveLength(s.audio!.frames.length);
    for (const f of parsed.adtsFrames) expect(f).toMatchObject({ sampleRate: 44100, channels: 1 });
  });
});

describe('audio-only HLS segments (startSegment every second)', () => {
  it('cuts into one segment per second, each beginning with PAT and PMT', () => {
    const s = get('aac-segments');
    // The first chunk after each startSegment() is flagged as a random access point.
    expect(s.segmentRequests).toHaveLength(Math.ceil(SMALL.durationS) - 1);
    for (const i of s.segmentRequests) expect(s.chunks[i]!.randomAccess).toBe(true);
    const segments = segmentsOf(s);
    expect(segments).toHaveLength(Math.ceil(SMALL.durationS));
    for (const seg of segments) {
      const pid = (o: number): number => ((seg.bytes[o + 1]! & 0x1f) << 8) | seg.bytes[o + 2]!;
      expect([pid(0), pid(188)]).toEqual([0, 0x1000]);
    }
    expect(segments.reduce((n, seg) => n + seg.audio.length, 0)).toBe(s.audio!.frames.length);
  });

  it('each segment alone passes our checker, FFmpeg and mux.js', async () => {
    for (const seg of segmentsOf(get('aac-segments'))) {
      const report = inspectTs(seg.bytes, STRICT);
      expect(report.violations, formatReport(report)).toEqual([]);
      const result = await ffmpegJudge(file(seg.bytes));
      expect(result.logs).toEqual([]);
      expect(result.packets.map((p) => p.pts)).toEqual(seg.audio.map((f) => f.pts));
      expect(result.decodedFrames).toEqual([seg.audio.length]);
      expect(muxjsTransmux(seg.bytes).audioSamples).toBe(seg.audio.length);
    }
  });
});

describe('one PES per audio frame (maxAudioPesDurationMs: 0)', () => {
  it('writes one audio PES per frame, each with its own PTS', () => {
    const s = get('pes-per-frame');
    const parsed = muxjsParse(s.bytes);
    const pes = parsed.pes.filter((p) => p.type === 'audio');
    expect(pes.map((p) => p.pts)).toEqual(s.audio!.frames.map((f) => f.pts));
    expect(pes.map((p) => p.size)).toEqual(s.audio!.frames.map((f) => f.size + 7));
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
  });
});

describe('the loosest clock options (PCR every 100 ms, tables every 500 ms, 100 ms offset)', () => {
  it('stays within those bounds and keeps DTS − PCR in (0, offset + PCR interval]', () => {
    const report = inspectTs(get('loose-clock').bytes, { maxTableGapMs: 501, maxPcrGapMs: 101 });
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(report.maxPcrGapMs).toBeLessThanOrEqual(101);
    expect(report.maxPatGapMs).toBeLessThanOrEqual(501);
    expect(report.dtsMinusPcrMs!.min).toBeGreaterThan(0);
    // The PCR in effect lags the mux clock by up to one PCR interval.
    expect(report.dtsMinusPcrMs!.max).toBeLessThanOrEqual(201);
  });

  it('FFmpeg decodes everything', async () => {
    const s = get('loose-clock');
    const result = await ffmpegJudge(file(s.bytes));
    expect(result.logs).toEqual([]);
    expect(result.decodeErrors).toEqual([]);
    expect(result.decodedFrames).toEqual([s.video!.frames.length, s.audio!.frames.length]);
    expect(result.packets.filter((p) => p.stream === 0).map((p) => p.dts)).toEqual(
      s.video!.frames.map((f) => f.dts),
    );
  });
});

describe("x264's own AUDs", () => {
  it('are kept once at the front of every access unit, never doubled', async () => {
    const s = get('x264-aud');
    expect(s.video!.frames.every((f) => AUD.every((b, i) => f.data[i] === b))).toBe(true);
    const parsed = muxjsParse(s.bytes);
    expect(parsed.nalCounts.get(9)).toBe(s.video!.frames.length);
    const result = await ffmpegJudge(file(s.bytes), { keepData: true });
    expect(result.logs).toEqual([]);
    const video = result.packets.filter((p) => p.stream === streamIndex(result, 'video'));
    // The access unit already starts with an AUD: it goes through unchanged.
    for (const [i, p] of video.entries())
      expect(Buffer.from(p.data!).equals(s.video!.frames[i]!.data)).toBe(true);
    expect(result.decodedFrames[streamIndex(result, 'video')]).toBe(s.video!.frames.length);
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
  });
});

describe('SPS/PPS sent only with the first IDR', () => {
  it('are repeated before every IDR: each segment decodes alone', async () => {
    const s = get('sps-once');
    const segments = segmentsOf(s);
    expect(segments.length).toBe(4);
    for (const seg of segments) {
      const report = inspectTs(seg.bytes, STRICT);
      expect(report.violations, formatReport(report)).toEqual([]);
      const result = await ffmpegJudge(file(seg.bytes), { keepData: true });
      expect(result.logs).toEqual([]);
      expect(result.decodeErrors).toEqual([]);
      expect(result.decodedFrames[streamIndex(result, 'video')]).toBe(seg.video.length);
      const first = result.packets.find((p) => p.stream === streamIndex(result, 'video'))!;
      // AUD, then SPS (type 7) and PPS (type 8) before the IDR.
      const types: number[] = [];
      for (let i = 0; i + 3 < first.data!.length && types.length < 4; i++) {
        if (first.data![i] === 0 && first.data![i + 1] === 0 && first.data![i + 2] === 1) {
          types.push(first.data![i + 3]! & 0x1f);
        }
      }
      expect(types.slice(0, 3)).toEqual([9, 7, 8]);
    }
    expect(muxjsParse(s.bytes).nalCounts.get(7)).toBe(segments.length);
  });

  it.runIf(judgeRuns('ffmpeg'))('each segment decodes alone in the ffmpeg CLI', () => {
    for (const seg of segmentsOf(get('sps-once'))) {
      const r = ffmpegCliDecode(file(seg.bytes));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe('Opus across the 33-bit wrap', () => {
  it('passes our checker, FFmpeg reads monotonic spacing and GStreamer decodes all', async () => {
    const s = get('opus 2^33');
    expect(s.audio!.frames[0]!.pts).toBeLessThan(TWO_POW_33);
    expect(s.audio!.frames.at(-1)!.pts).toBeGreaterThan(TWO_POW_33);
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
    expect(report.streams[1]).toMatchObject({ codec: 'opus', firstPts: s.audio!.frames[0]!.pts });
    const path = file(s.bytes);
    const result = await ffmpegJudge(path);
    expect(result.logs).toEqual([]);
    expect(result.decodeErrors).toEqual([]);
    const audio = result.packets.filter((p) => p.stream === streamIndex(result, 'audio'));
    expect(relative(audio.map((p) => p.pts))).toEqual(relative(s.audio!.frames.map((f) => f.pts)));
    if (judgeRuns('gst-launch-1.0')) {
      const r = gstDecode(path, { video: true, audio: 'opus' });
      expect(r.problems.filter((l) => !/WRAPAROUND detected/.test(l))).toEqual([]);
      expect(r.audioSamples).toBe(s.audio!.frames.length * 960 - s.audio!.preSkip);
    }
  });
});

describe('mono Opus (channel_config_code 1)', () => {
  it('is announced and decoded as one channel', async () => {
    const s = get('opus-mono');
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
    const path = file(s.bytes);
    const result = await ffmpegJudge(path);
    expect(result.logs).toEqual([]);
    expect(result.streams[streamIndex(result, 'audio')]).toMatchObject({ codec: 'opus', channels: 1 });
    expect(result.decodedFrames[streamIndex(result, 'audio')]).toBe(s.audio!.frames.length);
    if (judgeRuns('gst-launch-1.0')) {
      const r = gstDecode(path, { video: true, audio: 'opus', channels: 1 });
      expect(r.problems).toEqual([]);
      expect(r.audioSamples).toBe(s.audio!.frames.length * 960 - s.audio!.preSkip);
    }
  });
});

describe('video timestamps with network jitter', () => {
  it('come back exactly as given, in every judge', async () => {
    const s = get('jitter');
    const steps = new Set(s.video!.frames.slice(1).map((f, i) => f.dts - s.video!.frames[i]!.dts));
    expect(steps.size).toBeGreaterThan(10);
    const report = inspectTs(s.bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
    const result = await ffmpegJudge(file(s.bytes));
    expect(result.logs).toEqual([]);
    const video = result.packets.filter((p) => p.stream === streamIndex(result, 'video'));
    expect(video.map((p) => [p.pts, p.dts])).toEqual(s.video!.frames.map((f) => [f.pts, f.dts]));
    expect(result.decodedFrames[streamIndex(result, 'video')]).toBe(s.video!.frames.length);
    const parsed = muxjsParse(s.bytes);
    expect(parsed.pes.filter((p) => p.type === 'video').map((p) => p.pts)).toEqual(
      s.video!.frames.map((f) => f.pts),
    );
  });
});

describe.each(['late-video', 'mid-gop', 'opus-gaps'])('%s', (name) => {
  it('passes our checker at 40 ms PCR / 100 ms tables', () => {
    const report = inspectTs(get(name).bytes, STRICT);
    expect(report.violations, formatReport(report)).toEqual([]);
  });

  it('FFmpeg reads every accepted frame at its timestamp and decodes all', async () => {
    const s = get(name);
    const result = await ffmpegJudge(file(s.bytes));
    expect(result.logs).toEqual([]);
    expect(result.decodeErrors).toEqual([]);
    const v = result.packets.filter((p) => p.stream === streamIndex(result, 'video'));
    const a = result.packets.filter((p) => p.stream === streamIndex(result, 'audio'));
    expect(v.map((p) => [p.pts, p.dts, p.keyframe])).toEqual(
      s.video!.frames.map((f) => [f.pts, f.dts, f.keyframe]),
    );
    expect(a.map((p) => p.pts)).toEqual(s.audio!.frames.map((f) => f.pts));
    expect(result.decodedFrames[streamIndex(result, 'video')]).toBe(s.video!.frames.length);
    expect(result.decodedFrames[streamIndex(result, 'audio')]).toBe(s.audio!.frames.length);
  });

  it.runIf(judgeRuns('gst-launch-1.0'))('GStreamer decodes every video frame without a warning', () => {
    const s = get(name);
    const r = gstDecode(file(s.bytes), { video: true, audio: s.audio!.codec });
    expect(r.problems).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.videoFrames).toBe(s.video!.frames.length);
  });
});

it('mid-GOP join: the muxer refuses the 50 frames before the IDR without writing a byte, and starts on the IDR', () => {
  const s = get('mid-gop');
  expect(s.refused).toHaveLength(50);
  for (const r of s.refused)
    expect(r).toMatchObject({ kind: 'video', code: 'NOT_KEYFRAME', bytesWritten: 0 });
  expect(s.video!.frames[0]!.keyframe).toBe(true);
  // Audio went on meanwhile, with PCRs on the (still empty) video PID.
  expect(s.chunks[0]!.kind).toBe('audio');
});

it('late video: audio flows for 1 s before the first IDR', () => {
  const s = get('late-video');
  expect(s.video!.frames[0]!.dts - s.audio!.frames[0]!.pts).toBe(90000);
  const firstVideo = s.chunks.findIndex((c) => c.kind === 'video');
  expect(s.chunks.slice(0, firstVideo).every((c) => c.kind === 'audio')).toBe(true);
  expect(s.chunks[firstVideo]!.randomAccess).toBe(true);
});
