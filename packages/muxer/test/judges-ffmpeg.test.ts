/**
 * Judge: FFmpeg 8.1's libavformat mpegts demuxer and libavcodec decoders, in-process through node-av.
 * Real media muxed by TsMuxer must come back packet for packet: same PTS/DTS (as written, i.e. input +
 * timestampOffset), same keyframes, every frame decodable, nothing logged at warning level.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  longClockScenario,
  type Scenario,
  standardScenarios,
  TWO_POW_32,
  TWO_POW_33,
} from './fixtures/scenarios.js';
import {
  type FfJudgeResult,
  ffmpegJudge,
  relative,
  tempDir,
  withCcError,
  writeTs,
} from './helpers/judges.js';

interface Judged {
  scenario: Scenario;
  result: FfJudgeResult;
}

const judged = new Map<string, Judged>();
const temp = tempDir();

beforeAll(async () => {
  const scenarios = [
    ...(await standardScenarios()),
    await longClockScenario(TWO_POW_32),
    await longClockScenario(TWO_POW_33),
  ];
  // One judge at a time: its log capture is process-wide.
  for (const scenario of scenarios) {
    const path = writeTs(temp.dir, `${scenario.name.replace(/\W/g, '_')}.ts`, scenario.bytes);
    judged.set(scenario.name, { scenario, result: await ffmpegJudge(path, { keepData: true }) });
  }
});

afterAll(() => temp.cleanup());

function get(name: string): Judged {
  const j = judged.get(name);
  if (!j) throw new Error(`scenario ${name} was not judged`);
  return j;
}

function streamOf(r: FfJudgeResult, type: 'video' | 'audio'): number {
  const s = r.streams.find((x) => x.type === type);
  if (!s) throw new Error(`no ${type} stream in ${JSON.stringify(r.streams)}`);
  return s.index;
}

it('notices a continuity error in a damaged copy (negative control)', async () => {
  const { scenario } = get('h264+aac');
  const path = writeTs(temp.dir, 'damaged.ts', withCcError(scenario.bytes, scenario.video!.pid, 30));
  const result = await ffmpegJudge(path, { decode: false });
  expect(result.logs.join('\n')).toMatch(/Packet corrupt|[Cc]ontinuity/);
});

describe.each(['h264+aac', 'h264+opus', 'aac-only', 'h264-only', 'avcc+aac'])('FFmpeg judge: %s', (name) => {
  it('finds exactly the muxed streams with their codec parameters', () => {
    const { scenario, result } = get(name);
    expect(result.formatName).toBe('mpegts');
    const expected = [];
    if (scenario.video) {
      expected.push({
        type: 'video',
        codec: 'h264',
        width: scenario.video.width,
        height: scenario.video.height,
      });
    }
    if (scenario.audio) {
      expected.push({
        type: 'audio',
        codec: scenario.audio.codec,
        sampleRate: scenario.audio.sampleRate,
        channels: scenario.audio.channelCount,
      });
    }
    expect(result.streams).toMatchObject(expected);
    for (const s of result.streams) expect(s.timeBase).toEqual([1, 90000]);
  });

  it('returns every video access unit with its PTS, DTS and keyframe flag', () => {
    const { scenario, result } = get(name);
    if (!scenario.video) {
      expect(result.streams.some((s) => s.type === 'video')).toBe(false);
      return;
    }
    const index = streamOf(result, 'video');
    const packets = result.packets.filter((p) => p.stream === index);
    expect(packets.map((p) => ({ pts: p.pts, dts: p.dts, keyframe: p.keyframe }))).toEqual(
      scenario.video.frames.map((f) => ({ pts: f.pts, dts: f.dts, keyframe: f.keyframe })),
    );
    expect(packets.filter((p) => p.corrupt)).toEqual([]);
  });

  it('returns every audio frame at its PTS', () => {
    const { scenario, result } = get(name);
    if (!scenario.audio) {
      expect(result.streams.some((s) => s.type === 'audio')).toBe(false);
      return;
    }
    const index = streamOf(result, 'audio');
    const packets = result.packets.filter((p) => p.stream === index);
    expect(packets.map((p) => p.pts)).toEqual(scenario.audio.frames.map((f) => f.pts));
    // FFmpeg's parsers split the PES back into frames: ADTS headers (7 bytes) are kept in the packet,
    // Opus control headers are stripped.
    const header = scenario.audio.codec === 'aac' ? 7 : 0;
    expect(packets.map((p) => p.size)).toEqual(scenario.audio.frames.map((f) => f.size + header));
    expect(packets.filter((p) => p.corrupt)).toEqual([]);
  });

  it('decodes every frame without an error or a warning', () => {
    const { scenario, result } = get(name);
    expect(result.decodeErrors).toEqual([]);
    expect(result.logs).toEqual([]);
    if (scenario.video)
      expect(result.decodedFrames[streamOf(result, 'video')]).toBe(scenario.video.frames.length);
    if (scenario.audio) {
      const index = streamOf(result, 'audio');
      expect(result.decodedFrames[index]).toBe(scenario.audio.frames.length);
      // Every packet decodes to a whole frame (1024 samples for AAC-LC, 960 for 20 ms Opus); trimming
      // (AAC priming, Opus pre-skip) is left to the player.
      const perFrame = scenario.audio.codec === 'aac' ? 1024 : 960;
      expect(result.decodedSamples[index]).toBe(scenario.audio.frames.length * perFrame);
    }
  });
});

const AUD = [0, 0, 0, 1, 9, 0xf0];

describe('FFmpeg judge: payload bytes', () => {
  it.each(['h264+aac', 'h264+opus', 'h264-only'])(
    '%s: every access unit comes back byte for byte, after the AUD the muxer puts first',
    (name) => {
      const { scenario, result } = get(name);
      const packets = result.packets.filter((p) => p.stream === streamOf(result, 'video'));
      expect(packets).toHaveLength(scenario.video!.frames.length);
      packets.forEach((p, i) => {
        const data = p.data!;
        expect([...data.subarray(0, 6)]).toEqual(AUD);
        expect(Buffer.from(data.subarray(6)).equals(scenario.video!.frames[i]!.data)).toBe(true);
      });
    },
  );

  it.each(['h264+aac', 'h264+opus', 'aac-only'])(
    '%s: every audio frame comes back byte for byte (AAC behind its ADTS header, Opus without control header)',
    (name) => {
      const { scenario, result } = get(name);
      const packets = result.packets.filter((p) => p.stream === streamOf(result, 'audio'));
      expect(packets).toHaveLength(scenario.audio!.frames.length);
      const header = scenario.audio!.codec === 'aac' ? 7 : 0;
      packets.forEach((p, i) => {
        expect(Buffer.from(p.data!.subarray(header)).equals(scenario.audio!.frames[i]!.data)).toBe(true);
      });
    },
  );
});

describe.each([
  ['2^32', TWO_POW_32],
  ['2^33', TWO_POW_33],
])('FFmpeg judge: timestamps crossing %s ticks', (label) => {
  it('reads monotonic timestamps with the muxed spacing and decodes everything', () => {
    const { scenario, result } = get(`cross ${label}`);
    expect(result.decodeErrors).toEqual([]);
    expect(result.logs).toEqual([]);
    const video = scenario.video!;
    const audio = scenario.audio!;
    // The clip really crosses the boundary.
    expect(video.frames[0]!.dts).toBeLessThan(label === '2^32' ? TWO_POW_32 : TWO_POW_33);
    expect(video.frames.at(-1)!.dts).toBeGreaterThan(label === '2^32' ? TWO_POW_32 : TWO_POW_33);

    const v = result.packets.filter((p) => p.stream === streamOf(result, 'video'));
    const a = result.packets.filter((p) => p.stream === streamOf(result, 'audio'));
    // FFmpeg unwraps 2^33 relative to the first timestamp (possibly shifting it negative): compare
    // spacing, which must match what was muxed exactly.
    expect(relative(v.map((p) => p.dts))).toEqual(relative(video.frames.map((f) => f.dts)));
    expect(relative(v.map((p) => p.pts))).toEqual(relative(video.frames.map((f) => f.pts)));
    expect(v.map((p) => p.keyframe)).toEqual(video.frames.map((f) => f.keyframe));
    expect(relative(a.map((p) => p.pts))).toEqual(relative(audio.frames.map((f) => f.pts)));
    // Audio and video keep their relative position.
    expect(a[0]!.pts - v[0]!.pts).toBe(audio.frames[0]!.pts - video.frames[0]!.pts);
    expect(result.decodedFrames[streamOf(result, 'video')]).toBe(video.frames.length);
    expect(result.decodedFrames[streamOf(result, 'audio')]).toBe(audio.frames.length);
  });
});
