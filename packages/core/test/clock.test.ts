import { describe, expect, it } from 'vitest';
import { ArrivalLock, AudioTimeline, VideoTimeline } from '../src/clock.js';
import { rng } from './rng.js';

interface Scenario {
  /** Sender audio clock error, parts per million (positive: sender's 10 ms frames last longer). */
  audioPpm: number;
  /** Sender video timestamp clock error, ppm. */
  videoPpm: number;
  /** Max extra delivery delay (jitter), µs. */
  jitterUs: number;
  /** Event-loop stalls: every this many µs of media, a stall of `stallUs` delays everything. */
  stallEveryUs: number;
  stallUs: number;
  seconds: number;
  seed: number;
}

/**
 * Simulates `seconds` of a 30 fps video track and 10 ms audio frames from one sender, delivered with
 * jitter and stalls, through the timelines. Returns the A/V offset at the end: for media captured at
 * the same true instant, audio recording time minus video recording time.
 */
function simulate(s: Scenario): {
  driftUs: number;
  audio: AudioTimeline;
  video: VideoTimeline;
  worstUs: number;
} {
  const rand = rng(s.seed);
  const audio = new AudioTimeline();
  const video = new VideoTimeline();
  const baseDelayUs = 40_000;
  const endUs = s.seconds * 1e6;
  const frameUs = 1e6 / 30;
  const aFrameUs = 10_000 * (1 + s.audioPpm / 1e6); // true duration of 480 sender samples
  let nextA = 0;
  let nextV = 0;
  let vIndex = 0;
  // Arrival of a frame captured at true time t: base delay + jitter (+ a stall if one covers t).
  const arrival = (t: number) => {
    let at = t + baseDelayUs + rand() * s.jitterUs;
    if (s.stallEveryUs > 0) {
      const phase = (t + s.stallEveryUs / 2) % s.stallEveryUs; // first stall mid-way, not at the start
      if (phase < s.stallUs) at = Math.max(at, t - phase + s.stallUs + baseDelayUs);
    }
    return at;
  };
  let lastAudioCapture = 0;
  let lastAudioMediaEnd = 0;
  let lastVideoCapture = 0;
  let lastVideoPts = 0;
  let worstUs = 0;
  let offsetA0 = Number.NaN;
  let offsetV0 = Number.NaN;
  while (nextA < endUs || nextV < endUs) {
    if (nextA <= nextV) {
      const captureEnd = nextA + aFrameUs;
      audio.accept(480, 48_000, arrival(captureEnd));
      lastAudioCapture = captureEnd;
      lastAudioMediaEnd = audio.endUs;
      nextA = captureEnd;
    } else {
      const ts = Math.round(vIndex * frameUs * (1 + s.videoPpm / 1e6));
      lastVideoPts = video.map(ts, arrival(nextV));
      lastVideoCapture = nextV;
      vIndex++;
      nextV = vIndex * frameUs;
    }
    const offA = lastAudioMediaEnd - lastAudioCapture;
    const offV = lastVideoPts - lastVideoCapture;
    if (Number.isNaN(offsetA0) && lastAudioCapture > 0) offsetA0 = offA;
    if (Number.isNaN(offsetV0) && lastVideoCapture > 0) offsetV0 = offV;
    if (nextA > 10e6 && nextV > 10e6) worstUs = Math.max(worstUs, Math.abs(offA - offV));
  }
  const driftUs = lastAudioMediaEnd - lastAudioCapture - (lastVideoPts - lastVideoCapture);
  return { driftUs, audio, video, worstUs };
}

describe('recording clock (synthetic clocks)', () => {
  const ONE_FRAME_US = 1e6 / 30;

  it('keeps A/V within one video frame over an hour with skewed sender clocks, jitter and stalls', () => {
    const r = simulate({
      audioPpm: 150,
      videoPpm: -80,
      jitterUs: 25_000,
      stallEveryUs: 60e6,
      stallUs: 300_000,
      seconds: 3600,
      seed: 1,
    });
    expect(Math.abs(r.driftUs)).toBeLessThan(ONE_FRAME_US);
    expect(r.worstUs).toBeLessThan(ONE_FRAME_US);
    // 150 ppm over an hour is 540 ms of audio missing against the clock: filled with silence in
    // small steps; drops only calibrate the first frame's jitter.
    expect(r.audio.silenceSamples / 48).toBeGreaterThan(500);
    expect(r.audio.silenceSamples / 48).toBeLessThan(600);
    expect(r.audio.droppedSamples / 48).toBeLessThan(26);
    expect(r.audio.gaps).toBe(0);
    expect(r.video.reanchors).toBe(0);
  });

  it('drops audio when the sender clock runs fast', () => {
    const r = simulate({
      audioPpm: -200,
      videoPpm: 0,
      jitterUs: 10_000,
      stallEveryUs: 0,
      stallUs: 0,
      seconds: 600,
      seed: 2,
    });
    expect(Math.abs(r.driftUs)).toBeLessThan(ONE_FRAME_US);
    expect(r.worstUs).toBeLessThan(ONE_FRAME_US);
    // 200 ppm × 600 s = 120 ms too much audio.
    expect(r.audio.droppedSamples / 48).toBeGreaterThan(100);
    expect(r.audio.droppedSamples / 48).toBeLessThan(140);
    expect(r.audio.silenceSamples).toBe(0);
  });

  it('absorbs stalls without touching the audio', () => {
    const r = simulate({
      audioPpm: 0,
      videoPpm: 0,
      jitterUs: 0,
      stallEveryUs: 10e6,
      stallUs: 400_000,
      seconds: 120,
      seed: 3,
    });
    expect(r.audio.silenceSamples + r.audio.droppedSamples).toBe(0);
    expect(r.audio.gaps).toBe(0);
    expect(Math.abs(r.driftUs)).toBeLessThan(1000);
  });

  it('detects an audio gap and fills it with silence of its length', () => {
    const tl = new AudioTimeline();
    let t = 0;
    for (let i = 0; i < 100; i++) {
      t += 10_000;
      expect(tl.accept(480, 48_000, t)).toEqual({ silence: 0, drop: 0 });
    }
    t += 1_500_000; // the source stops for 1.5 s
    t += 10_000;
    const adj = tl.accept(480, 48_000, t);
    expect(tl.gaps).toBe(1);
    expect(adj.silence).toBe(72_000);
    expect(tl.endUs).toBeCloseTo(t, -1);
  });

  it('absorbs a burst after an event-loop stall without touching the audio', () => {
    const tl = new AudioTimeline();
    let t = 0;
    for (let i = 0; i < 300; i++) {
      t += 10_000;
      tl.accept(480, 48_000, t);
    }
    // 300 ms stall: 30 frames arrive at once, then delivery resumes on time.
    const stallEnd = t + 300_000;
    for (let i = 0; i < 30; i++) {
      t += 10_000;
      expect(tl.accept(480, 48_000, stallEnd)).toEqual({ silence: 0, drop: 0 });
    }
    for (let i = 0; i < 300; i++) {
      t += 10_000;
      expect(tl.accept(480, 48_000, t)).toEqual({ silence: 0, drop: 0 });
    }
    expect(tl.silenceSamples + tl.droppedSamples).toBe(0);
  });

  it('maps video timestamps relative to the first frame and re-anchors a jump', () => {
    const v = new VideoTimeline();
    expect(v.map(5_000_000_000, 100_000)).toBe(100_000);
    expect(v.map(5_000_033_333, 133_400)).toBe(133_333);
    // A new source with an unrelated origin: re-anchored on arrival.
    expect(v.map(42, 200_000)).toBe(200_000);
    expect(v.reanchors).toBe(1);
    // Never goes backwards.
    expect(v.map(40, 200_100)).toBe(201_000);
  });

  it('places frames by arrival when the source timestamps do not advance', () => {
    const v = new VideoTimeline();
    expect(v.map(0, 50_000)).toBe(50_000);
    const out = [1, 2, 3, 4].map((i) => v.map(0, 50_000 + i * 33_333));
    expect(out).toEqual([83_333, 116_666, 149_999, 183_332]);
    expect(v.untimedFrames).toBe(4);
    // Timestamps that advance again are followed from there.
    expect(v.map(40_000, 223_332)).toBe(223_332);
  });

  it('ArrivalLock proposes no correction within tolerance', () => {
    const lock = new ArrivalLock({ toleranceUs: 10_000, windowUs: 100_000 });
    for (let t = 0; t < 1_000_000; t += 10_000) expect(lock.observe(t + 5000, t)).toBe(0);
    expect(lock.delayUs).toBe(5000);
  });
});

describe('audio source changes', () => {
  it('aligns the first frame after filler (or a new source) with its arrival at once', () => {
    const tl = new AudioTimeline();
    let t = 0;
    for (let i = 0; i < 100; i++) {
      t += 10_000;
      tl.accept(480, 48_000, t);
    }
    // Source gone: filler writes silence up to 150 ms before now, for 1 s.
    tl.fill(48_000 - 7200, 48_000, tl.endUs);
    t += 1_000_000;
    tl.newSource();
    t += 10_000;
    const adj = tl.accept(480, 48_000, t);
    expect(adj.silence).toBe(7200); // the 150 ms the filler left
    expect(tl.endUs).toBeCloseTo(t, 0);
    expect(tl.gaps).toBe(0);
  });
});
