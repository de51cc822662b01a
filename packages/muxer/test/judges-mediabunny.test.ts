/**
 * Judge: mediabunny 1.61's MPEG-TS demuxer (`Input` + `MPEG_TS` + `EncodedPacketSink`). It must list
 * the tracks with their parameters and return every access unit and audio frame with its timestamp
 * (seconds = 90 kHz ticks as written / 90 000) and key flag. mediabunny does not read Opus in TS
 * (stream_type 0x06 is ignored), so for H.264 + Opus only the video track is judged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  longClockScenario,
  type Scenario,
  standardScenarios,
  TWO_POW_32,
  TWO_POW_33,
} from './fixtures/scenarios.js';
import { type MediabunnyTrack, mediabunnyRead, relative } from './helpers/judges.js';

const judged = new Map<string, { scenario: Scenario; tracks: MediabunnyTrack[] }>();

beforeAll(async () => {
  for (const scenario of [
    ...(await standardScenarios()),
    await longClockScenario(TWO_POW_32),
    await longClockScenario(TWO_POW_33),
  ]) {
    judged.set(scenario.name, { scenario, tracks: await mediabunnyRead(scenario.bytes) });
  }
});

function get(name: string): { scenario: Scenario; tracks: MediabunnyTrack[] } {
  const j = judged.get(name);
  if (!j) throw new Error(`no scenario ${name}`);
  return j;
}

/** Timestamps are compared in 90 kHz ticks, rounded: mediabunny divides by 90 000 in floating point. */
const ticks = (seconds: number): number => Math.round(seconds * 90000);

describe.each(['h264+aac', 'h264+opus', 'aac-only', 'h264-only', 'avcc+aac'])(
  'mediabunny judge: %s',
  (name) => {
    it('lists the tracks with their codec parameters', () => {
      const { scenario, tracks } = get(name);
      const expected: Partial<MediabunnyTrack>[] = [];
      if (scenario.video) {
        expected.push({
          type: 'video',
          codec: 'avc',
          width: scenario.video.width,
          height: scenario.video.height,
        });
      }
      if (scenario.audio?.codec === 'aac') {
        expected.push({
          type: 'audio',
          codec: 'aac',
          sampleRate: scenario.audio.sampleRate,
          channels: scenario.audio.channelCount,
        });
      }
      expect(tracks).toMatchObject(expected);
      expect(tracks).toHaveLength(expected.length);
    });

    it('returns every video access unit with its timestamp and key flag', () => {
      const { scenario, tracks } = get(name);
      const video = tracks.find((t) => t.type === 'video');
      if (!scenario.video) {
        expect(video).toBeUndefined();
        return;
      }
      expect(video!.packets.map((p) => ({ pts: ticks(p.timestamp), key: p.key }))).toEqual(
        scenario.video.frames.map((f) => ({ pts: f.pts, key: f.keyframe })),
      );
      for (const p of video!.packets) expect(ticks(p.duration)).toBe(90000 / scenario.video.fps);
    });

    it('returns every AAC frame with its timestamp', () => {
      const { scenario, tracks } = get(name);
      const audio = tracks.find((t) => t.type === 'audio');
      if (scenario.audio?.codec !== 'aac') {
        expect(audio).toBeUndefined();
        return;
      }
      expect(audio!.packets.map((p) => ticks(p.timestamp))).toEqual(scenario.audio.frames.map((f) => f.pts));
      // mediabunny hands out ADTS frames (7-byte header, no CRC) around the raw frames we muxed.
      expect(audio!.packets.map((p) => p.size)).toEqual(scenario.audio.frames.map((f) => f.size + 7));
    });
  },
);

describe.each([
  ['2^32', TWO_POW_32],
  ['2^33', TWO_POW_33],
])('mediabunny judge: timestamps crossing %s ticks', (label, boundary) => {
  it('reads monotonic timestamps with the muxed spacing', () => {
    const { scenario, tracks } = get(`cross ${label}`);
    expect(scenario.video!.frames[0]!.dts).toBeLessThan(boundary);
    expect(scenario.video!.frames.at(-1)!.dts).toBeGreaterThan(boundary);
    const video = tracks.find((t) => t.type === 'video')!;
    const audio = tracks.find((t) => t.type === 'audio')!;
    expect(relative(video.packets.map((p) => ticks(p.timestamp)))).toEqual(
      relative(scenario.video!.frames.map((f) => f.pts)),
    );
    expect(relative(audio.packets.map((p) => ticks(p.timestamp)))).toEqual(
      relative(scenario.audio!.frames.map((f) => f.pts)),
    );
  });
});
