import { VideoBufferType, VideoFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import {
  OffloadPolicy,
  SYNC_BUDGET_MS_PER_S,
  SYNC_MAX_FRAME_MS,
  SYNC_RETURN_FRAME_MS,
  syncClaimMsPerSecond,
} from '../src/offload-policy.js';
import { VideoEncoder, type VideoEncoderOptions } from '../src/video-encoder.js';
import { movingI420 } from './helpers.js';

async function encodeFrames(options: VideoEncoderOptions, count: number): Promise<VideoEncoder> {
  const { width = 320, height = 180, fps = 30 } = options;
  const enc = await VideoEncoder.create({
    hardware: 'software',
    logger: silentLogger,
    x264Preset: 'ultrafast',
    width,
    height,
    fps,
    ...options,
  });
  for (let i = 0; i < count; i++) {
    const frame = new VideoFrame(movingI420(width, height, i), width, height, VideoBufferType.I420);
    await enc.encode(frame, Math.round((i * 1e6) / fps));
  }
  return enc;
}

describe('OffloadPolicy', () => {
  it('pins the choice with true/false and starts auto on the pool until a frame is measured', () => {
    expect(new OffloadPolicy(true, 30).next()).toBe(true);
    expect(new OffloadPolicy(false, 30).next()).toBe(false);
    const auto = new OffloadPolicy('auto', 30);
    expect(auto.next()).toBe(true);
    auto.record(1);
    expect(auto.next()).toBe(false);
    expect(syncClaimMsPerSecond()).toBeCloseTo(30, 6); // 1 ms x 30 fps
    auto.release();
    expect(syncClaimMsPerSecond()).toBe(0);
  });

  it('estimates with the median of the last 16 frames, so periodic IDRs do not move it', () => {
    const p = new OffloadPolicy('auto', 30);
    for (let i = 0; i < 15; i++) p.record(i % 8 === 0 ? 12 : 2); // two 12 ms IDRs among 2 ms frames
    expect(p.estimateMs).toBe(2);
    expect(p.next()).toBe(false);
    for (let i = 0; i < 16; i++) p.record(5); // the last 16 replace everything older
    expect(p.estimateMs).toBe(5);
    p.release();
  });

  it('sends frames that block the loop too long to the pool, and brings them back only well below', () => {
    const p = new OffloadPolicy('auto', 30);
    // A slow start (IDR, encoder start-up) does not latch: the median settles first.
    p.record(3 * SYNC_MAX_FRAME_MS);
    expect(p.next()).toBe(true);
    p.record(SYNC_MAX_FRAME_MS - 1);
    p.record(SYNC_MAX_FRAME_MS - 1);
    expect(p.next()).toBe(false);
    p.release();
    for (let i = 0; i < 16; i++) p.record(SYNC_MAX_FRAME_MS);
    expect(p.next()).toBe(true);
    // Between the return limit and the limit: an encoder on the pool stays there...
    for (let i = 0; i < 16; i++) p.record((SYNC_RETURN_FRAME_MS + SYNC_MAX_FRAME_MS) / 2);
    expect(p.next()).toBe(true);
    // ...and comes back below the return limit.
    for (let i = 0; i < 16; i++) p.record(SYNC_RETURN_FRAME_MS - 0.5);
    expect(p.next()).toBe(false);
    p.release();
    // One that never left stays on its thread in the same band.
    const q = new OffloadPolicy('auto', 30);
    q.record((SYNC_RETURN_FRAME_MS + SYNC_MAX_FRAME_MS) / 2);
    expect(q.next()).toBe(false);
    q.release();
  });

  it('sends frames that overflow the shared budget to the pool', () => {
    // 2 ms x 60 fps = 120 ms/s each: two fit in the 300 ms budget, the third does not.
    const policies = Array.from({ length: 3 }, () => new OffloadPolicy('auto', 60));
    for (const p of policies) p.record(2);
    expect(policies.map((p) => p.next())).toEqual([false, false, true]);
    expect(syncClaimMsPerSecond()).toBeCloseTo(240, 6);
    expect(syncClaimMsPerSecond()).toBeLessThanOrEqual(SYNC_BUDGET_MS_PER_S);
    // Deciding again re-claims the same share: no double counting.
    expect(policies[0]!.next()).toBe(false);
    expect(syncClaimMsPerSecond()).toBeCloseTo(240, 6);
    // Once one leaves, the waiting one gets its place.
    policies[0]!.release();
    expect(policies[2]!.next()).toBe(false);
    for (const p of policies) p.release();
    expect(syncClaimMsPerSecond()).toBe(0);
  });
});

describe('VideoEncoder offload', () => {
  it('true puts every frame on the pool, false none', async () => {
    const on = await encodeFrames({ offload: true }, 10);
    const off = await encodeFrames({ offload: false }, 10);
    expect([on.stats.framesEncoded, on.stats.framesOffloaded]).toEqual([10, 10]);
    expect([off.stats.framesEncoded, off.stats.framesOffloaded]).toEqual([10, 0]);
    await on.close();
    await off.close();
  });

  it("'auto' (default) keeps a cheap encoder on the caller's thread and gives its share back on close", async () => {
    const enc = await encodeFrames({}, 60);
    // The first frame is measured on the pool; a 320x180 ultrafast frame costs well under 8 ms.
    expect(enc.stats.framesOffloaded).toBeGreaterThanOrEqual(1);
    expect(enc.stats.framesOffloaded).toBeLessThan(30);
    expect(syncClaimMsPerSecond()).toBeGreaterThan(0);
    await enc.close();
    expect(syncClaimMsPerSecond()).toBe(0);
  });

  it("'auto' sends every frame to the pool while other encoders hold the whole budget", async () => {
    // A stand-in for other synchronous encoders: 1 ms x 300 fps claims exactly the 300 ms/s budget.
    const others = new OffloadPolicy('auto', SYNC_BUDGET_MS_PER_S);
    others.record(1);
    expect(others.next()).toBe(false);
    expect(syncClaimMsPerSecond()).toBe(SYNC_BUDGET_MS_PER_S);
    const enc = await encodeFrames({}, 30);
    expect([enc.stats.framesEncoded, enc.stats.framesOffloaded]).toEqual([30, 30]);
    expect(syncClaimMsPerSecond()).toBe(SYNC_BUDGET_MS_PER_S);
    // Budget freed: the same encoder comes back to the caller's thread.
    others.release();
    for (let i = 30; i < 60; i++) {
      const frame = new VideoFrame(movingI420(320, 180, i), 320, 180, VideoBufferType.I420);
      await enc.encode(frame, Math.round((i * 1e6) / 30));
    }
    expect(enc.stats.framesOffloaded - 30).toBeLessThan(15);
    await enc.close();
    expect(syncClaimMsPerSecond()).toBe(0);
  });
});
