/**
 * Judge: mux.js 7 (the TS parser and fMP4 transmuxer of video.js/VHS). Its PES pipeline must see one
 * video PES per access unit (starting with an AUD) and every ADTS frame at its PTS; its inspector must
 * find the first/last timestamps and the first keyframe; its transmuxer must turn H.264 + AAC into fMP4
 * with one sample per access unit and frame.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  longClockScenario,
  type Scenario,
  standardScenarios,
  TWO_POW_32,
  TWO_POW_33,
} from './fixtures/scenarios.js';
import { muxjsInspect, muxjsParse, muxjsTransmux, relative } from './helpers/judges.js';

const scenarios = new Map<string, Scenario>();

beforeAll(async () => {
  for (const s of [
    ...(await standardScenarios()),
    await longClockScenario(TWO_POW_32),
    await longClockScenario(TWO_POW_33),
  ]) {
    scenarios.set(s.name, s);
  }
});

function get(name: string): Scenario {
  const s = scenarios.get(name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

const AUD = 9;
const SPS = 7;
const PPS = 8;

describe.each(['h264+aac', 'h264+opus', 'aac-only', 'h264-only', 'avcc+aac'])('mux.js judge: %s', (name) => {
  it('parses one video PES per access unit, each starting with an AUD, at the muxed PTS/DTS', () => {
    const s = get(name);
    const parsed = muxjsParse(s.bytes);
    expect(parsed.logs).toEqual([]);
    const video = parsed.pes.filter((p) => p.type === 'video');
    if (!s.video) {
      expect(video).toEqual([]);
      return;
    }
    expect(parsed.tracks).toContainEqual({ id: s.video.pid, type: 'video', codec: 'avc' });
    expect(video.map((p) => ({ pts: p.pts, dts: p.dts }))).toEqual(
      s.video.frames.map((f) => ({ pts: f.pts, dts: f.dts })),
    );
    expect(parsed.audDts).toEqual(s.video.frames.map((f) => f.dts));
    // SPS and PPS in-band before every IDR (also when the input came as avcC without them).
    const keyframes = s.video.frames.filter((f) => f.keyframe).length;
    expect(parsed.nalCounts.get(SPS)).toBe(keyframes);
    expect(parsed.nalCounts.get(PPS)).toBe(keyframes);
    expect(parsed.nalCounts.get(AUD)).toBe(s.video.frames.length);
  });

  it('parses every ADTS frame at its PTS with the right sample rate and channels', () => {
    const s = get(name);
    const parsed = muxjsParse(s.bytes);
    if (s.audio?.codec !== 'aac') {
      // mux.js knows only ADTS audio (stream_type 0x0F); Opus (0x06) is not surfaced.
      expect(parsed.adtsFrames).toEqual([]);
      expect(parsed.pes.filter((p) => p.type === 'audio')).toEqual([]);
      return;
    }
    expect(parsed.tracks).toContainEqual({ id: s.audio.pid, type: 'audio', codec: 'adts' });
    expect(parsed.adtsFrames.map((f) => f.pts)).toEqual(s.audio.frames.map((f) => f.pts));
    for (const f of parsed.adtsFrames) {
      expect(f).toMatchObject({ sampleRate: s.audio.sampleRate, channels: s.audio.channelCount });
    }
    // Audio PES hold several frames (≤ 100 ms each) but never fewer than one.
    const audioPes = parsed.pes.filter((p) => p.type === 'audio');
    expect(audioPes.length).toBeGreaterThan(0);
    expect(audioPes.length).toBeLessThan(s.audio.frames.length);
  });

  it('inspects first/last timestamps and the first keyframe', () => {
    const s = get(name);
    const info = muxjsInspect(s.bytes);
    expect(info).not.toBeNull();
    if (s.video) {
      const first = s.video.frames[0]!;
      const last = s.video.frames.at(-1)!;
      expect(info!.video?.map((p) => [p.pts, p.dts])).toEqual([
        [first.pts, first.dts],
        [last.pts, last.dts],
      ]);
      expect(info!.firstKeyFrame).toMatchObject({ pts: first.pts, dts: first.dts });
    } else {
      expect(info!.video).toBeUndefined();
    }
    if (s.audio?.codec === 'aac') {
      // First and last audio PES: the first PES starts with the first frame.
      expect(info!.audio?.[0]?.pts).toBe(s.audio.frames[0]!.pts);
      const lastPes = info!.audio?.[1]?.pts ?? Number.NaN;
      expect(s.audio.frames.map((f) => f.pts)).toContain(lastPes);
    } else {
      expect(info!.audio).toBeUndefined();
    }
  });

  it('transmuxes to fMP4 with one sample per access unit and audio frame', () => {
    const s = get(name);
    const mp4 = muxjsTransmux(s.bytes);
    expect(mp4.logs.filter((l) => !l.startsWith('info'))).toEqual([]);
    expect(mp4.segments).toBeGreaterThan(0);
    const types: string[] = [];
    if (s.video) types.push('video');
    if (s.audio?.codec === 'aac') types.push('audio');
    expect(mp4.trackTypes).toEqual(types);
    expect(mp4.videoSamples).toBe(s.video ? s.video.frames.length : 0);
    if (s.video) expect(mp4.videoDuration).toBe((s.video.frames.length * 90000) / s.video.fps);
    expect(mp4.audioSamples).toBe(s.audio?.codec === 'aac' ? s.audio.frames.length : 0);
  });
});

describe.each([
  ['2^32', TWO_POW_32],
  ['2^33', TWO_POW_33],
])('mux.js judge: timestamps crossing %s ticks', (label, boundary) => {
  it('unwraps to monotonic timestamps with the muxed spacing', () => {
    const s = get(`cross ${label}`);
    const video = s.video!;
    const audio = s.audio!;
    expect(video.frames[0]!.dts).toBeLessThan(boundary);
    expect(video.frames.at(-1)!.dts).toBeGreaterThan(boundary);
    const parsed = muxjsParse(s.bytes);
    expect(parsed.logs).toEqual([]);
    const v = parsed.pes.filter((p) => p.type === 'video');
    expect(relative(v.map((p) => p.dts))).toEqual(relative(video.frames.map((f) => f.dts)));
    expect(relative(v.map((p) => p.pts))).toEqual(relative(video.frames.map((f) => f.pts)));
    expect(relative(parsed.adtsFrames.map((f) => f.pts))).toEqual(relative(audio.frames.map((f) => f.pts)));
    // Below 2^33 nothing wraps, so mux.js must read the absolute values, bit 32 included.
    if (boundary === TWO_POW_32) expect(v.map((p) => p.dts)).toEqual(video.frames.map((f) => f.dts));

    const mp4 = muxjsTransmux(s.bytes);
    expect(mp4.videoSamples).toBe(video.frames.length);
    expect(mp4.audioSamples).toBe(audio.frames.length);
    expect(mp4.videoDuration).toBe((video.frames.length * 90000) / video.fps);
  });
});
