import { existsSync } from 'node:fs';
import { VideoBufferType, VideoFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { EncoderError } from '../src/errors.js';
import { silentLogger } from '../src/log.js';
import { VIDEO_PRESETS } from '../src/presets.js';
import { openVideoCodec } from '../src/video-codec.js';
import {
  type EncodedVideoPacket,
  VideoEncoder,
  type VideoEncoderOptions,
  type VideoReconfiguredEvent,
} from '../src/video-encoder.js';
import { decodeH264, movingI420, movingRgba, nalTypes, psnr } from './helpers.js';

const FRAME_US = 1e6 / 30;

function i420Frame(width: number, height: number, t: number): VideoFrame {
  return new VideoFrame(movingI420(width, height, t), width, height, VideoBufferType.I420);
}

async function software(options: VideoEncoderOptions = {}): Promise<VideoEncoder> {
  return VideoEncoder.create({ hardware: 'software', logger: silentLogger, ...options });
}

async function expectEncoderError(
  p: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<EncoderError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EncoderError);
  const e = error as EncoderError;
  expect(e.code).toBe(code);
  if (message) expect(e.message).toMatch(message);
  return e;
}

describe('VideoEncoder', () => {
  it('encodes 2 s of 720p30 that FFmpeg decodes at >= 30 dB Y-PSNR with the default bitrate', async () => {
    const enc = await software();
    expect(enc.codecName).toBe('libx264');
    expect([enc.width, enc.height]).toEqual([1280, 720]);
    const sources: Uint8Array[] = [];
    const packets: EncodedVideoPacket[] = [];
    for (let i = 0; i < 60; i++) {
      const frame = i420Frame(1280, 720, i);
      sources.push(frame.data.subarray(0, 1280 * 720));
      const out = await enc.encode(frame, BigInt(Math.round(i * FRAME_US)));
      expect(out).toHaveLength(1); // zero latency: one access unit per frame, immediately
      packets.push(...out);
    }
    packets.push(...(await enc.flush()));
    await enc.close();

    expect(packets).toHaveLength(60);
    packets.forEach((p, i) => {
      expect(p.pts).toBe(Math.round((Math.round(i * FRAME_US) * 90_000) / 1e6));
      expect(p.dts).toBe(p.pts);
      expect([...p.data.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    });
    expect(packets.map((p) => p.keyframe)).toEqual(packets.map((_, i) => i === 0));
    // SPS and PPS in-band right before the IDR slice (no global header).
    const first = nalTypes(packets[0]!.data);
    expect(first.indexOf(7)).toBeGreaterThanOrEqual(0);
    expect(first.indexOf(8)).toBeGreaterThan(first.indexOf(7));
    expect(first.indexOf(5)).toBeGreaterThan(first.indexOf(8));
    expect(nalTypes(packets[1]!.data)).not.toContain(7);
    // x264's settings SEI: zero latency, no B-frames, CBR with a 1 s VBV, fixed GOP, no scene cuts.
    const sei = Buffer.from(packets[0]!.data).toString('latin1');
    const settings = sei.slice(sei.indexOf('options: '), sei.indexOf('\0', sei.indexOf('options: ')));
    for (const setting of [
      'bframes=0',
      'rc_lookahead=0',
      'rc=cbr',
      'bitrate=3000',
      'vbv_maxrate=3000',
      'vbv_bufsize=3000',
      'keyint=60',
      'scenecut=0',
      'threads=1',
    ]) {
      expect(settings.split(' ')).toContain(setting);
    }
    // Rate control holds the 3 Mb/s target within a sane margin.
    const bits = packets.reduce((s, p) => s + p.data.byteLength * 8, 0);
    expect(bits / 2).toBeLessThan(3_000_000 * 1.5);

    const pictures = await decodeH264(packets);
    expect(pictures).toHaveLength(60);
    let worst = Infinity;
    let sum = 0;
    pictures.forEach((pic, i) => {
      expect([pic.width, pic.height]).toEqual([1280, 720]);
      const db = psnr(pic.y, sources[i]!);
      worst = Math.min(worst, db);
      sum += db;
    });
    expect(sum / pictures.length).toBeGreaterThanOrEqual(30);
    expect(worst).toBeGreaterThanOrEqual(30);
  });

  it('converts RGBA input once to I420 and matches rtc-node conversion', async () => {
    const enc = await software({ width: 640, height: 360, bitrate: 1_500_000 });
    const refs: Uint8Array[] = [];
    const packets: EncodedVideoPacket[] = [];
    for (let i = 0; i < 10; i++) {
      const frame = new VideoFrame(movingRgba(640, 360, i), 640, 360, VideoBufferType.RGBA);
      refs.push(frame.convert(VideoBufferType.I420).data.subarray(0, 640 * 360));
      packets.push(...(await enc.encode(frame, i * 33_333)));
    }
    // A view into a larger buffer (rtc-node's converter ignores byteOffset; the encoder must not).
    const backing = new Uint8Array(640 * 360 * 4 + 64);
    backing.set(movingRgba(640, 360, 10), 64);
    const offset = new VideoFrame(backing.subarray(64), 640, 360, VideoBufferType.RGBA);
    const ref = new VideoFrame(movingRgba(640, 360, 10), 640, 360, VideoBufferType.RGBA);
    refs.push(ref.convert(VideoBufferType.I420).data.subarray(0, 640 * 360));
    packets.push(...(await enc.encode(offset, 10 * 33_333)));
    await enc.close();
    const pictures = await decodeH264(packets);
    expect(pictures).toHaveLength(11);
    for (const [i, pic] of pictures.entries()) expect(psnr(pic.y, refs[i]!)).toBeGreaterThan(30);
  });

  it('handles odd input sizes in both resolution modes', async () => {
    for (const mode of ['scale', 'reopen'] as const) {
      const enc = await software({ width: 320, height: 180, onResolutionChange: mode });
      const packets: EncodedVideoPacket[] = [];
      for (let i = 0; i < 4; i++) {
        const frame =
          i % 2 === 0
            ? i420Frame(333, 187, i)
            : new VideoFrame(movingRgba(333, 187, i), 333, 187, VideoBufferType.RGBA);
        packets.push(...(await enc.encode(frame, i * 33_333)));
      }
      await enc.close();
      const pictures = await decodeH264(packets);
      expect(pictures).toHaveLength(4);
      const size = mode === 'scale' ? [320, 180] : [332, 186];
      for (const pic of pictures) expect([pic.width, pic.height]).toEqual(size);
      if (mode === 'reopen') {
        // Cropped, not scaled: the top-left 332x186 of the source survives.
        const src = movingI420(333, 187, 0);
        const crop = new Uint8Array(332 * 186);
        for (let r = 0; r < 186; r++) crop.set(src.subarray(r * 333, r * 333 + 332), r * 332);
        expect(psnr(pictures[0]!.y, crop)).toBeGreaterThan(30);
      }
    }
  });

  it('puts forced keyframes exactly where asked, with SPS/PPS, and none elsewhere', async () => {
    const enc = await software({ width: 320, height: 240, keyframeIntervalS: 10 });
    const forced = new Set([10, 11, 37]);
    const keyframes: number[] = [];
    for (let i = 0; i < 50; i++) {
      if (forced.has(i)) enc.forceKeyframe();
      const [p] = await enc.encode(i420Frame(320, 240, i), i * 33_333);
      if (p?.keyframe) {
        keyframes.push(i);
        expect(nalTypes(p.data)).toEqual(expect.arrayContaining([7, 8, 5]));
      } else {
        expect(nalTypes(p!.data)).not.toContain(5);
      }
    }
    await enc.close();
    expect(keyframes).toEqual([0, 10, 11, 37]);
  });

  it('places interval keyframes on media time even when the frame rate differs from fps', async () => {
    // 15 fps input into a 30 fps configuration, 1 s interval: an IDR every 15 frames, not every 30.
    const enc = await software({ width: 320, height: 240, fps: 30, keyframeIntervalS: 1 });
    const keyframes: number[] = [];
    for (let i = 0; i < 50; i++) {
      const [p] = await enc.encode(i420Frame(320, 240, i), i * 66_667);
      if (p?.keyframe) keyframes.push(i);
    }
    await enc.close();
    expect(keyframes).toEqual([0, 15, 30, 45]);
  });

  it('reopens on 1280x720 -> 640x360 -> 1280x720 with an IDR, a discontinuity flag and an event', async () => {
    const enc = await software({ onResolutionChange: 'reopen' });
    const events: VideoReconfiguredEvent[] = [];
    enc.on('reconfigured', (e) => events.push(e));
    const sizes = [
      [1280, 720],
      [640, 360],
      [1280, 720],
    ] as const;
    const packets: EncodedVideoPacket[] = [];
    const sources: Uint8Array[] = [];
    let i = 0;
    for (const [w, h] of sizes) {
      for (let k = 0; k < 8; k++, i++) {
        const frame = i420Frame(w, h, i);
        sources.push(frame.data.subarray(0, w * h));
        packets.push(...(await enc.encode(frame, i * 33_333)));
      }
      expect([enc.width, enc.height]).toEqual([w, h]);
    }
    packets.push(...(await enc.flush()));
    await enc.close();

    expect(packets).toHaveLength(24);
    expect(events.map((e) => [e.outputChanged, e.previousWidth, e.width, e.timestampUs])).toEqual([
      [true, 1280, 640, 8 * 33_333],
      [true, 640, 1280, 16 * 33_333],
    ]);
    for (const at of [0, 8, 16]) {
      expect(packets[at]!.keyframe).toBe(true);
      const types = nalTypes(packets[at]!.data);
      expect(types.indexOf(7)).toBeGreaterThanOrEqual(0);
      expect(types.indexOf(8)).toBeGreaterThan(types.indexOf(7));
      expect(types.indexOf(5)).toBeGreaterThan(types.indexOf(8));
    }
    expect(packets.flatMap((p, k) => (p.discontinuity ? [k] : []))).toEqual([8, 16]);
    expect(packets.map((p) => p.width)).toEqual(sources.map((_, k) => (k >= 8 && k < 16 ? 640 : 1280)));
    // One decoder across the whole stream: it must follow the SPS changes.
    const pictures = await decodeH264(packets);
    expect(pictures.map((p) => `${p.width}x${p.height}`)).toEqual(
      sources.map((_, k) => (k >= 8 && k < 16 ? '640x360' : '1280x720')),
    );
    for (const [k, pic] of pictures.entries()) expect(psnr(pic.y, sources[k]!)).toBeGreaterThan(30);
  });

  it('scales size changes to the configured output in scale mode', async () => {
    const enc = await software({ width: 640, height: 360 });
    const events: VideoReconfiguredEvent[] = [];
    enc.on('reconfigured', (e) => events.push(e));
    const packets: EncodedVideoPacket[] = [];
    const sizes = [1280, 720, 640, 360, 1280, 720];
    for (let i = 0; i < 9; i++) {
      const s = Math.floor(i / 3) * 2;
      packets.push(...(await enc.encode(i420Frame(sizes[s]!, sizes[s + 1]!, i), i * 33_333)));
    }
    await enc.close();
    expect(events.map((e) => [e.mode, e.outputChanged, e.inputWidth, e.width])).toEqual([
      ['scale', false, 640, 640],
      ['scale', false, 1280, 640],
    ]);
    expect(packets.some((p) => p.discontinuity)).toBe(false);
    expect(packets.map((p) => p.keyframe)).toEqual(packets.map((_, i) => i === 0));
    const pictures = await decodeH264(packets);
    expect(pictures).toHaveLength(9);
    for (const pic of pictures) expect([pic.width, pic.height]).toEqual([640, 360]);
    // The 640x360 frames pass through unscaled.
    expect(psnr(pictures[4]!.y, movingI420(640, 360, 4).subarray(0, 640 * 360))).toBeGreaterThan(30);
  });

  it("falls back to libx264 under hardware 'auto' and logs why", async () => {
    const logged: string[] = [];
    const enc = await VideoEncoder.create({
      width: 320,
      height: 240,
      logger: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
    });
    const noGpu = !existsSync('/dev/nvidiactl') && !existsSync('/dev/dri');
    if (noGpu) {
      expect(enc.kind).toBe('software');
      expect(enc.codecName).toBe('libx264');
      expect(enc.fallbackReason).toMatch(/h264_nvenc: .*nvidia/);
      expect(enc.fallbackReason).toMatch(/h264_vaapi: /);
      expect(logged.join('\n')).toMatch(/using libx264/);
    }
    const [p] = await enc.encode(i420Frame(320, 240, 0), 0);
    expect(p?.keyframe).toBe(true);
    await enc.close();
    const pictures = await decodeH264(p ? [p] : []);
    expect(pictures).toHaveLength(1);
  });

  it('rejects an explicit hardware encoder that cannot open with a typed error naming why', async () => {
    for (const hardware of ['nvenc', 'vaapi', 'qsv'] as const) {
      const result = await VideoEncoder.create({
        hardware,
        width: 320,
        height: 240,
        logger: silentLogger,
      }).then(
        (enc) => enc,
        (e: unknown) => e,
      );
      if (result instanceof VideoEncoder) {
        // A machine with that GPU: it must actually encode.
        const [p] = await result.encode(i420Frame(320, 240, 0), 0);
        expect(p?.keyframe).toBe(true);
        await result.close();
        continue;
      }
      expect(result).toBeInstanceOf(EncoderError);
      expect((result as EncoderError).code).toBe('HARDWARE_UNAVAILABLE');
      expect((result as EncoderError).message).toMatch(new RegExp(`h264_${hardware} unavailable: \\S+`));
    }
    // A device node that exists but is no VA-API device: past the pre-check, FFmpeg itself fails.
    const vaapi = await expectEncoderError(
      VideoEncoder.create({ hardware: 'vaapi', vaapiDevice: '/dev/null', width: 320, height: 240 }),
      'HARDWARE_UNAVAILABLE',
      /^h264_vaapi unavailable: VA-API device \/dev\/null: .+\(FFmpeg logs the cause/,
    );
    expect(vaapi.ffmpegCode).toBeLessThan(0);
    // Past the device pre-check, FFmpeg's own open failure is typed too (no crash).
    const settings = {
      width: 320,
      height: 240,
      fps: 30,
      bitrate: 1_000_000,
      maxBitrate: 1_000_000,
      bufferSize: 1_000_000,
      gopFrames: 60,
      profile: 'main',
      x264Preset: 'veryfast',
      threads: 1,
      vaapiDevice: '/dev/dri/renderD128',
    } as const;
    if (!existsSync('/dev/nvidiactl')) {
      const e = await expectEncoderError(
        openVideoCodec('nvenc', settings),
        'HARDWARE_UNAVAILABLE',
        /h264_nvenc/,
      );
      expect(e.ffmpegCode).toBeLessThan(0);
    }
    if (!existsSync('/dev/dri')) {
      await expectEncoderError(openVideoCodec('vaapi', settings), 'HARDWARE_UNAVAILABLE', /VA-API/);
    }
  });

  it('rejects invalid input with INVALID_INPUT and keeps encoding afterwards', async () => {
    const enc = await software({ width: 320, height: 240 });
    const good = () => i420Frame(320, 240, 1);
    const packets: EncodedVideoPacket[] = [];
    packets.push(...(await enc.encode(good(), 0)));
    const bad: [VideoFrame, number | bigint, RegExp][] = [
      [new VideoFrame(new Uint8Array(100), 320, 240, VideoBufferType.I420), 40_000, /needs 115200/],
      [new VideoFrame(new Uint8Array(100), 320, 240, VideoBufferType.RGBA), 40_000, /needs 307200/],
      [new VideoFrame(new Uint8Array(0), 0, 0, VideoBufferType.I420), 40_000, /positive/],
      [new VideoFrame(new Uint8Array(64), 4.5, 4, VideoBufferType.I420), 40_000, /positive integers/],
      [new VideoFrame(new Uint8Array(115200), 320, 240, 99 as VideoBufferType), 40_000, /VideoBufferType/],
      [good(), Number.NaN, /timestampUs/],
      [good(), -1, /timestampUs/],
      [good(), 0, /does not increase/],
    ];
    for (const [frame, ts, message] of bad)
      await expectEncoderError(enc.encode(frame, ts), 'INVALID_INPUT', message);
    // Too small to encode once cropped: rejected inside the job, encoder still fine.
    const tiny = await software({ width: 320, height: 240, onResolutionChange: 'reopen' });
    await expectEncoderError(tiny.encode(i420Frame(9, 9, 0), 0), 'INVALID_INPUT', /too small/);
    expect((await tiny.encode(i420Frame(320, 240, 0), 33_333))[0]?.keyframe).toBe(true);
    await tiny.close();

    packets.push(...(await enc.encode(good(), 33_333)));
    packets.push(...(await enc.encode(good(), 66_667n)));
    await enc.close();
    expect(enc.stats.framesFailed).toBe(0);
    expect(await decodeH264(packets)).toHaveLength(3);
  });

  it('validates options with errors naming the option', async () => {
    await expect(VideoEncoder.create({ width: 641 })).rejects.toThrow(/options\.width must be even/);
    await expect(VideoEncoder.create({ height: 0 })).rejects.toThrow(RangeError);
    await expect(VideoEncoder.create({ fps: Number.NaN })).rejects.toThrow(/options\.fps/);
    await expect(VideoEncoder.create({ bitrate: -1 })).rejects.toThrow(/options\.bitrate/);
    await expect(VideoEncoder.create({ preset: 'H264_4K' as never })).rejects.toThrow(TypeError);
    await expect(VideoEncoder.create({ hardware: 'cuda' as never })).rejects.toThrow(/options\.hardware/);
    await expect(VideoEncoder.create({ keyframeIntervalS: 0 })).rejects.toThrow(/options\.keyframeIntervalS/);
  });

  it('applies LiveKit presets', async () => {
    expect(VIDEO_PRESETS.H264_1080P_60).toEqual({ width: 1920, height: 1080, fps: 60, bitrate: 6_000_000 });
    const enc = await software({ preset: 'PORTRAIT_H264_720P_30', bitrate: 500_000 });
    expect([enc.width, enc.height, enc.fps]).toEqual([720, 1280, 30]);
    const [p] = await enc.encode(i420Frame(720, 1280, 0), 0);
    await enc.close();
    const [pic] = await decodeH264(p ? [p] : []);
    expect([pic?.width, pic?.height]).toEqual([720, 1280]);
  });

  it('writes the requested H.264 profile into the SPS', async () => {
    const idc = { baseline: 66, main: 77, high: 100 } as const;
    for (const profile of ['baseline', 'main', 'high'] as const) {
      const enc = await software({ width: 320, height: 240, profile });
      const [p] = await enc.encode(i420Frame(320, 240, 0), 0);
      await enc.close();
      const data = p!.data;
      const sps = data.findIndex(
        (b, i) => i >= 3 && data[i - 1] === 1 && data[i - 2] === 0 && (b & 0x1f) === 7,
      );
      expect(data[sps + 1]).toBe(idc[profile]); // profile_idc (ITU-T H.264 §7.3.2.1.1)
    }
  });

  it('bounds the queue, reports lag, and rejects queued frames on close', async () => {
    const enc = await software({ width: 640, height: 360, maxPendingFrames: 4 });
    const results = Array.from({ length: 6 }, (_, i) =>
      enc.encode(i420Frame(640, 360, i), i * 33_333).then(
        (p) => p,
        (e: unknown) => e,
      ),
    );
    expect(enc.pendingFrames).toBe(4);
    expect(enc.lagMs).toBeCloseTo(133.3, 0); // frames 0..3 (4 x 33.3 ms) submitted, none encoded yet
    const settled = await Promise.all(results);
    expect(settled.slice(0, 4).every((r) => Array.isArray(r) && r.length === 1)).toBe(true);
    for (const r of settled.slice(4)) {
      expect(r).toBeInstanceOf(EncoderError);
      expect((r as EncoderError).code).toBe('QUEUE_FULL');
    }
    expect(enc.pendingFrames).toBe(0);
    expect(enc.lagMs).toBe(0);
    const stats = enc.stats;
    expect(stats.framesEncoded).toBe(4);
    expect(stats.busyMsPerMediaSecond).toBeGreaterThan(0);

    // Close while frames wait: the running one finishes, the rest reject with CLOSED.
    const a = enc.encode(i420Frame(640, 360, 10), 400_000);
    await new Promise((resolve) => setTimeout(resolve, 0)); // a's job has started
    const b = enc.encode(i420Frame(640, 360, 11), 433_333);
    const closing = enc[Symbol.asyncDispose]();
    await expectEncoderError(enc.encode(i420Frame(640, 360, 12), 466_667), 'CLOSED');
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe('fulfilled');
    expect(rb.status === 'rejected' && (rb.reason as EncoderError).code).toBe('CLOSED');
    await closing;
    await enc.close();
    await expectEncoderError(enc.flush(), 'CLOSED');
  });

  it('continues after flush() with a fresh IDR and monotonic timestamps', async () => {
    const enc = await software({ width: 320, height: 240, offload: false });
    const packets: EncodedVideoPacket[] = [];
    for (let i = 0; i < 3; i++) packets.push(...(await enc.encode(i420Frame(320, 240, i), i * 33_333)));
    packets.push(...(await enc.flush()));
    for (let i = 3; i < 6; i++) packets.push(...(await enc.encode(i420Frame(320, 240, i), i * 33_333)));
    await enc.close();
    expect(packets.map((p) => p.keyframe)).toEqual([true, false, false, true, false, false]);
    expect(packets.every((p, i) => i === 0 || p.pts > packets[i - 1]!.pts)).toBe(true);
    expect(await decodeH264(packets)).toHaveLength(6);
  });
});
