/**
 * Encoder adapter overhead: CPU seconds per second of media for `VideoEncoder` / `AudioEncoder` against
 * raw node-av (and raw @discordjs/opus) encoding the very same frames with the same settings in the same
 * process. Video: 1280×720 30 fps changing picture, libx264 veryfast, tune zerolatency, 1 thread, 3 Mb/s.
 * Audio: 48 kHz stereo, AAC-LC 128 kb/s and Opus 96 kb/s, fed as 10 ms rtc-node frames.
 *
 * Run: `node --import tsx packages/encoder/bench/encoder.bench.ts`. Prints a table, then as its last line
 * one JSON object. CPU time is process-wide (`process.cpuUsage`, includes libuv pool threads); medians of
 * TRACKREC_BENCH_RUNS runs (default 3) after one warm-up. TRACKREC_BENCH_SECONDS sets the video length
 * (default 3 s).
 */
import { createRequire } from 'node:module';
import type { OpusEncoder as OpusEncoderType } from '@discordjs/opus';
import { AudioFrame, VideoBufferType, VideoFrame } from '@livekit/rtc-node';
import {
  AV_CHANNEL_LAYOUT_STEREO,
  AV_LOG_ERROR,
  AV_PIX_FMT_YUV420P,
  AV_SAMPLE_FMT_FLTP,
  AVCOL_RANGE_MPEG,
  AVCOL_SPC_SMPTE170M,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_ENCODER_AAC,
  FF_ENCODER_LIBX264,
} from 'node-av/constants';
import { Codec, CodecContext, Dictionary, Frame, Log, Packet, Rational } from 'node-av/lib';
import { AudioEncoder, silentLogger, VideoEncoder } from '../src/index.js';
import { movingI420, movingRgba, sineFrame } from '../test/helpers.js';

const RUNS = Number(process.env.TRACKREC_BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.TRACKREC_BENCH_SECONDS ?? 3);
const W = 1280;
const H = 720;
const FPS = 30;
const AUDIO_SECONDS = 10;
Log.setLevel(AV_LOG_ERROR);

interface Measure {
  cpuS: number;
  wallS: number;
  bytes: number;
}

async function measure(run: () => Promise<number>): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes = await run();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { cpuS: (cpu.user + cpu.system) / 1e6, wallS, bytes };
}

async function median(run: () => Promise<number>): Promise<Measure> {
  await measure(run);
  const all: Measure[] = [];
  for (let i = 0; i < RUNS; i++) all.push(await measure(run));
  all.sort((a, b) => a.cpuS - b.cpuS);
  return all[Math.floor(all.length / 2)]!;
}

function ok(ret: number): number {
  if (ret < 0) throw new Error(`FFmpeg error ${ret}`);
  return ret;
}

// Same frames for every contender: packed I420 as rtc-node delivers it, and RGBA for the conversion path.
const frameCount = Math.round(SECONDS * FPS);
const i420 = Array.from({ length: frameCount }, (_, i) => movingI420(W, H, i));
const rgba = Array.from({ length: frameCount }, (_, i) => movingRgba(W, H, i));

/** Raw node-av: the same libx264 settings, one reused frame, synchronous send/receive. */
async function rawVideo(): Promise<number> {
  const codec = Codec.findEncoderByName(FF_ENCODER_LIBX264)!;
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.width = W;
  ctx.height = H;
  ctx.timeBase = new Rational(1, 90_000);
  ctx.framerate = new Rational(FPS, 1);
  ctx.pixelFormat = AV_PIX_FMT_YUV420P;
  ctx.bitRate = 3_000_000n;
  ctx.rcMaxRate = 3_000_000n;
  ctx.rcBufferSize = 3_000_000;
  ctx.gopSize = 60;
  ctx.maxBFrames = 0;
  ctx.threadCount = 1;
  ctx.colorRange = AVCOL_RANGE_MPEG;
  ctx.colorSpace = AVCOL_SPC_SMPTE170M;
  ctx.sampleAspectRatio = new Rational(1, 1);
  const dict = Dictionary.fromObject({
    preset: 'veryfast',
    tune: 'zerolatency',
    profile: 'main',
    'forced-idr': '1',
    'x264-params': 'scenecut=0',
  });
  ok(await ctx.open2(codec, dict));
  const frame = new Frame();
  frame.alloc();
  frame.format = AV_PIX_FMT_YUV420P;
  frame.width = W;
  frame.height = H;
  ok(frame.allocBuffer());
  const pkt = new Packet();
  pkt.alloc();
  let bytes = 0;
  const ySize = W * H;
  const cSize = (W / 2) * (H / 2);
  for (let i = 0; i < frameCount; i++) {
    ok(frame.makeWritable());
    const [y, u, v] = frame.data!;
    const src = i420[i]!;
    y!.set(src.subarray(0, ySize));
    u!.set(src.subarray(ySize, ySize + cSize));
    v!.set(src.subarray(ySize + cSize));
    frame.pts = BigInt(Math.round((i * 90_000) / FPS));
    ok(ctx.sendFrameSync(frame));
    for (;;) {
      const ret = ctx.receivePacketSync(pkt);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) break;
      ok(ret);
      bytes += pkt.size;
      pkt.unref();
    }
  }
  ctx.freeContext();
  frame.free();
  pkt.free();
  dict.free();
  return bytes;
}

function adapterVideo(offload: boolean, input: 'i420' | 'rgba'): () => Promise<number> {
  return async () => {
    const enc = await VideoEncoder.create({ hardware: 'software', offload, logger: silentLogger });
    let bytes = 0;
    for (let i = 0; i < frameCount; i++) {
      const frame =
        input === 'i420'
          ? new VideoFrame(i420[i]!, W, H, VideoBufferType.I420)
          : new VideoFrame(rgba[i]!, W, H, VideoBufferType.RGBA);
      for (const p of await enc.encode(frame, Math.round((i * 1e6) / FPS))) bytes += p.data.byteLength;
    }
    await enc.close();
    return bytes;
  };
}

// Audio: 10 ms frames of a stereo tone.
const audioFrames = Array.from({ length: AUDIO_SECONDS * 100 }, (_, i) =>
  sineFrame(440, 48_000, 2, i * 480, 480),
);

async function rawAac(): Promise<number> {
  const codec = Codec.findEncoderByName(FF_ENCODER_AAC)!;
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.sampleRate = 48_000;
  ctx.channelLayout = AV_CHANNEL_LAYOUT_STEREO;
  ctx.sampleFormat = AV_SAMPLE_FMT_FLTP;
  ctx.bitRate = 128_000n;
  ctx.timeBase = new Rational(1, 48_000);
  const dict = Dictionary.fromObject({});
  ok(await ctx.open2(codec, dict));
  const frame = new Frame();
  frame.alloc();
  frame.format = AV_SAMPLE_FMT_FLTP;
  frame.nbSamples = 1024;
  frame.sampleRate = 48_000;
  frame.channelLayout = AV_CHANNEL_LAYOUT_STEREO;
  ok(frame.allocBuffer());
  const pkt = new Packet();
  pkt.alloc();
  // The raw path gets its input pre-converted to planar float (no re-chunking, no resampler).
  const total = audioFrames.length * 480;
  const planes = [new Float32Array(total), new Float32Array(total)];
  audioFrames.forEach((f, k) => {
    for (let s = 0; s < 480; s++) {
      planes[0]![k * 480 + s] = f[s * 2]! / 32768;
      planes[1]![k * 480 + s] = f[s * 2 + 1]! / 32768;
    }
  });
  let bytes = 0;
  for (let at = 0; at + 1024 <= total; at += 1024) {
    ok(frame.makeWritable());
    const data = frame.data!;
    for (let c = 0; c < 2; c++) {
      data[c]!.set(new Uint8Array(planes[c]!.buffer, at * 4, 4096));
    }
    frame.pts = BigInt(at);
    ok(ctx.sendFrameSync(frame));
    for (;;) {
      const ret = ctx.receivePacketSync(pkt);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) break;
      ok(ret);
      bytes += pkt.size;
      pkt.unref();
    }
  }
  ctx.freeContext();
  frame.free();
  pkt.free();
  dict.free();
  return bytes;
}

async function rawOpus(): Promise<number> {
  const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as {
    OpusEncoder: new (rate: number, channels: number) => OpusEncoderType;
  };
  const opus = new OpusEncoder(48_000, 2);
  opus.setBitrate(96_000);
  let bytes = 0;
  for (let k = 0; k + 1 < audioFrames.length; k += 2) {
    const pcm = new Int16Array(1920);
    pcm.set(audioFrames[k]!, 0);
    pcm.set(audioFrames[k + 1]!, 960);
    bytes += opus.encode(Buffer.from(pcm.buffer)).byteLength;
  }
  return bytes;
}

function adapterAudio(codec: 'aac' | 'opus'): () => Promise<number> {
  return async () => {
    const enc = await AudioEncoder.create({ codec });
    let bytes = 0;
    for (const f of audioFrames)
      for (const p of enc.encode(new AudioFrame(f, 48_000, 2, 480))) bytes += p.data.byteLength;
    for (const p of enc.flush()) bytes += p.data.byteLength;
    await enc.close();
    return bytes;
  };
}

const rows: [string, number, Measure][] = [];
async function bench(name: string, mediaS: number, run: () => Promise<number>): Promise<Measure> {
  const m = await median(run);
  rows.push([name, mediaS, m]);
  return m;
}

const vRaw = await bench('node-av raw libx264 (sync)', SECONDS, rawVideo);
const vSync = await bench('VideoEncoder I420, offload=false', SECONDS, adapterVideo(false, 'i420'));
const vPool = await bench('VideoEncoder I420, offload=true', SECONDS, adapterVideo(true, 'i420'));
const vRgba = await bench('VideoEncoder RGBA (+convert), offload=true', SECONDS, adapterVideo(true, 'rgba'));
const vConvert = await bench('rtc-node convert RGBA->I420 alone', SECONDS, async () => {
  let bytes = 0;
  for (const d of rgba)
    bytes += new VideoFrame(d, W, H, VideoBufferType.RGBA).convert(VideoBufferType.I420).data.length;
  return bytes / 1e3; // not a bitstream: keeps the kb/s column small
});
const aRaw = await bench('node-av raw aac (sync, pre-converted)', AUDIO_SECONDS, rawAac);
const aAdapter = await bench('AudioEncoder aac', AUDIO_SECONDS, adapterAudio('aac'));
const oRaw = await bench('@discordjs/opus raw', AUDIO_SECONDS, rawOpus);
const oAdapter = await bench('AudioEncoder opus', AUDIO_SECONDS, adapterAudio('opus'));

console.log('| contender | CPU-s per media-s | wall-s per media-s | kb/s |');
console.log('|---|---|---|---|');
for (const [name, mediaS, m] of rows) {
  const kbps = (m.bytes * 8) / mediaS / 1000;
  console.log(
    `| ${name} | ${(m.cpuS / mediaS).toFixed(4)} | ${(m.wallS / mediaS).toFixed(4)} | ${kbps.toFixed(0)} |`,
  );
}
const per = (m: Measure, s: number) => Number((m.cpuS / s).toFixed(5));
console.log(
  JSON.stringify({
    video720p30_cpuPerMediaS: {
      raw: per(vRaw, SECONDS),
      adapterSync: per(vSync, SECONDS),
      adapterOffload: per(vPool, SECONDS),
      adapterRgba: per(vRgba, SECONDS),
      rtcConvertAlone: per(vConvert, SECONDS),
    },
    videoAdapterOverRaw: {
      sync: Number((vSync.cpuS / vRaw.cpuS).toFixed(3)),
      offload: Number((vPool.cpuS / vRaw.cpuS).toFixed(3)),
    },
    aac_cpuPerMediaS: { raw: per(aRaw, AUDIO_SECONDS), adapter: per(aAdapter, AUDIO_SECONDS) },
    opus_cpuPerMediaS: { raw: per(oRaw, AUDIO_SECONDS), adapter: per(oAdapter, AUDIO_SECONDS) },
    aacAdapterOverRaw: Number((aAdapter.cpuS / aRaw.cpuS).toFixed(3)),
    opusAdapterOverRaw: Number((oAdapter.cpuS / oRaw.cpuS).toFixed(3)),
  }),
);
process.exit(0);
