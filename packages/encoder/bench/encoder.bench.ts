/**
 * Encoder adapter overhead: CPU seconds per second of media for `VideoEncoder` / `AudioEncoder` against
 * FFmpeg's own code path (raw node-av, and raw @discordjs/opus) encoding the very same frames with the same
 * settings in the same process. Video matrix: 640×360 (1 Mb/s), 1280×720 (3 Mb/s), 1920×1080 (4.5 Mb/s)
 * × libx264 veryfast / ultrafast, 30 fps changing picture, tune zerolatency, main profile, 1 thread, CBR
 * VBV, IDR every 2 s, I420 input; the adapter runs with its defaults (`offload: 'auto'`), and every cell
 * also measures `offload: true` (every frame through the libuv pool: the thread hand-off's price).
 * 720p veryfast also measures the synchronous adapter, RGBA input (+ conversion) and the conversion alone.
 * Audio: 48 kHz stereo, AAC-LC 128 kb/s and Opus 96 kb/s, fed as 10 ms rtc-node frames.
 *
 * Run: `node --expose-gc --import tsx packages/encoder/bench/encoder.bench.ts`. Prints a table, then as
 * its last line one JSON object; `overheadRatio` is the worst adapter/raw CPU ratio over all cells (goal
 * ≤ 1.05). CPU time is process-wide (`process.cpuUsage`, includes libuv pool threads). Raw and adapter runs
 * alternate after one warm-up each, medians of TRACKREC_BENCH_RUNS runs (default 5); TRACKREC_BENCH_SECONDS
 * sets the 1080p video length per run (default 3 s; 720p runs twice and 360p four times as long); TRACKREC_BENCH_SYNC_ALL=1 adds the synchronous adapter to
 * every cell (diagnosis: thread-pool hop versus adapter work).
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
import { AudioEncoder, silentLogger, VideoEncoder, type X264Preset } from '../src/index.js';
import { movingI420, movingRgba, sineFrame } from '../test/helpers.js';

const RUNS = Number(process.env.TRACKREC_BENCH_RUNS ?? 5);
const SECONDS = Number(process.env.TRACKREC_BENCH_SECONDS ?? 3);
/** Also measure the synchronous adapter (`offload: false`) in every cell, not only 720p veryfast. */
const SYNC_ALL = process.env.TRACKREC_BENCH_SYNC_ALL === '1';
const FPS = 30;
const GOP = 2 * FPS;
const AUDIO_SECONDS = 10;
Log.setLevel(AV_LOG_ERROR);
const gc = (globalThis as { gc?: () => void }).gc;

interface Measure {
  cpuS: number;
  wallS: number;
  bytes: number;
}

async function measure(run: () => Promise<number>): Promise<Measure> {
  gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes = await run();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { cpuS: (cpu.user + cpu.system) / 1e6, wallS, bytes };
}

function medianOf(all: Measure[]): Measure {
  const sorted = [...all].sort((a, b) => a.cpuS - b.cpuS);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One warm-up each, then the contenders take turns, so drift (thermal, neighbours) hits all alike. */
async function interleaved(runs: (() => Promise<number>)[]): Promise<Measure[]> {
  for (const run of runs) await measure(run);
  const all: Measure[][] = runs.map(() => []);
  for (let i = 0; i < RUNS; i++) for (const [k, run] of runs.entries()) all[k]!.push(await measure(run));
  return all.map(medianOf);
}

function ok(ret: number): number {
  if (ret < 0) throw new Error(`FFmpeg error ${ret}`);
  return ret;
}

interface Size {
  label: string;
  w: number;
  h: number;
  bitrate: number;
  /** Media seconds per run: smaller pictures run longer, so even ultrafast spends ~0.3 s of CPU a run. */
  seconds: number;
}

// CPU time is read in scheduler ticks (4 ms here): a run must last long enough for that not to matter.
const SIZES: Size[] = [
  { label: '360', w: 640, h: 360, bitrate: 1_000_000, seconds: 4 * SECONDS },
  { label: '720', w: 1280, h: 720, bitrate: 3_000_000, seconds: 2 * SECONDS },
  { label: '1080', w: 1920, h: 1080, bitrate: 4_500_000, seconds: SECONDS },
];
const X264_PRESETS: X264Preset[] = ['veryfast', 'ultrafast'];

/**
 * The same frames for every contender of a size. Motion plays forward then back over half the frames
 * (smooth, no jump), which keeps a 1080p picture set near 100 MB instead of one buffer per frame.
 */
function pictures(size: Size, make: (w: number, h: number, t: number) => Uint8Array): Uint8Array[] {
  const frameCount = Math.round(size.seconds * FPS);
  const unique = Math.max(1, Math.ceil(frameCount / 2) + 1);
  const made = Array.from({ length: unique }, (_, t) => make(size.w, size.h, t));
  const period = Math.max(1, 2 * (unique - 1));
  return Array.from({ length: frameCount }, (_, i) => {
    const p = i % period;
    return made[p < unique ? p : period - p]!;
  });
}

/** Raw node-av: the adapter's libx264 settings, one reused frame, synchronous send/receive. */
function rawVideo(size: Size, preset: X264Preset, frames: Uint8Array[]): () => Promise<number> {
  return async () => {
    const { w: W, h: H } = size;
    const codec = Codec.findEncoderByName(FF_ENCODER_LIBX264)!;
    const ctx = new CodecContext();
    ctx.allocContext3(codec);
    ctx.width = W;
    ctx.height = H;
    ctx.timeBase = new Rational(1, 90_000);
    ctx.framerate = new Rational(FPS, 1);
    ctx.pixelFormat = AV_PIX_FMT_YUV420P;
    ctx.bitRate = BigInt(size.bitrate);
    ctx.rcMaxRate = BigInt(size.bitrate);
    ctx.rcBufferSize = size.bitrate;
    ctx.gopSize = GOP;
    ctx.maxBFrames = 0;
    ctx.threadCount = 1;
    ctx.colorRange = AVCOL_RANGE_MPEG;
    ctx.colorSpace = AVCOL_SPC_SMPTE170M;
    ctx.sampleAspectRatio = new Rational(1, 1);
    const dict = Dictionary.fromObject({
      preset,
      tune: 'zerolatency',
      profile: 'main',
      'forced-idr': '1',
      'x264-params': `scenecut=0:keyint_min=${GOP}`,
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
    for (let i = 0; i < frames.length; i++) {
      if (!frame.isWritable) ok(frame.makeWritable());
      const [y, u, v] = frame.data!;
      const src = frames[i]!;
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
  };
}

function adapterVideo(
  size: Size,
  preset: X264Preset,
  frames: Uint8Array[],
  input: 'i420' | 'rgba',
  offload?: boolean | 'auto',
): () => Promise<number> {
  const type = input === 'i420' ? VideoBufferType.I420 : VideoBufferType.RGBA;
  return async () => {
    const enc = await VideoEncoder.create({
      hardware: 'software',
      width: size.w,
      height: size.h,
      fps: FPS,
      bitrate: size.bitrate,
      x264Preset: preset,
      logger: silentLogger,
      ...(offload === undefined ? {} : { offload }),
    });
    let bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      const frame = new VideoFrame(frames[i]!, size.w, size.h, type);
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
  const drain = (): number => {
    let n = 0;
    for (;;) {
      const ret = ctx.receivePacketSync(pkt);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return n;
      ok(ret);
      n += pkt.size;
      pkt.unref();
    }
  };
  let bytes = 0;
  for (let at = 0; at + 1024 <= total; at += 1024) {
    if (!frame.isWritable) ok(frame.makeWritable());
    const data = frame.data!;
    for (let c = 0; c < 2; c++) {
      data[c]!.set(new Uint8Array(planes[c]!.buffer, at * 4, 4096));
    }
    frame.pts = BigInt(at);
    ok(ctx.sendFrameSync(frame));
    bytes += drain();
  }
  // Flush the encoder's delayed frames, as `AudioEncoder.flush()` does.
  ok(ctx.sendFrameSync(null));
  bytes += drain();
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
const round = (x: number, digits: number) => Number(x.toFixed(digits));
const per = (m: Measure, s: number) => round(m.cpuS / s, 5);
const cells: Record<string, { raw: number; adapter: number; ratio: number }> = {};
const extras: Record<string, number> = {};

for (const size of SIZES) {
  const i420 = pictures(size, movingI420);
  for (const preset of X264_PRESETS) {
    const name = `${size.w}x${size.h} ${preset}`;
    const extra = size.label === '720' && preset === 'veryfast';
    const rgba = extra ? pictures(size, movingRgba) : [];
    const runs = [
      rawVideo(size, preset, i420),
      adapterVideo(size, preset, i420, 'i420'),
      adapterVideo(size, preset, i420, 'i420', true),
    ];
    if (extra || SYNC_ALL) runs.push(adapterVideo(size, preset, i420, 'i420', false));
    if (extra) {
      runs.push(adapterVideo(size, preset, rgba, 'rgba'));
      runs.push(async () => {
        let bytes = 0;
        for (const d of rgba)
          bytes += new VideoFrame(d, size.w, size.h, VideoBufferType.RGBA).convert(VideoBufferType.I420).data
            .length;
        return bytes / 1e3; // not a bitstream: keeps the kb/s column small
      });
    }
    const [raw, adapter, pool, sync, viaRgba, convert] = await interleaved(runs);
    rows.push([`${name}: node-av raw libx264 (sync)`, size.seconds, raw!]);
    rows.push([`${name}: VideoEncoder I420 (default, offload auto)`, size.seconds, adapter!]);
    rows.push([`${name}: VideoEncoder I420, offload=true`, size.seconds, pool!]);
    extras[`v${size.label}_${preset}_poolRatio`] = round(pool!.cpuS / raw!.cpuS, 3);
    cells[`v${size.label}_${preset}`] = {
      raw: per(raw!, size.seconds),
      adapter: per(adapter!, size.seconds),
      ratio: round(adapter!.cpuS / raw!.cpuS, 3),
    };
    if (sync) {
      rows.push([`${name}: VideoEncoder I420, offload=false`, size.seconds, sync]);
      extras[`v${size.label}_${preset}_syncRatio`] = round(sync.cpuS / raw!.cpuS, 3);
    }
    if (viaRgba && convert) {
      rows.push([`${name}: VideoEncoder RGBA (+convert), offload auto`, size.seconds, viaRgba]);
      rows.push([`${name}: rtc-node convert RGBA->I420 alone`, size.seconds, convert]);
      extras.v720_veryfast_rgba = per(viaRgba, size.seconds);
      extras.v720_veryfast_rgbaConvertAlone = per(convert, size.seconds);
    }
  }
}

const [aRaw, aAdapter] = await interleaved([rawAac, adapterAudio('aac')]);
rows.push(['node-av raw aac (sync, pre-converted)', AUDIO_SECONDS, aRaw!]);
rows.push(['AudioEncoder aac', AUDIO_SECONDS, aAdapter!]);
const [oRaw, oAdapter] = await interleaved([rawOpus, adapterAudio('opus')]);
rows.push(['@discordjs/opus raw', AUDIO_SECONDS, oRaw!]);
rows.push(['AudioEncoder opus', AUDIO_SECONDS, oAdapter!]);

console.log('| contender | CPU-s per media-s | wall-s per media-s | kb/s |');
console.log('|---|---|---|---|');
for (const [name, mediaS, m] of rows) {
  const kbps = (m.bytes * 8) / mediaS / 1000;
  console.log(
    `| ${name} | ${(m.cpuS / mediaS).toFixed(4)} | ${(m.wallS / mediaS).toFixed(4)} | ${kbps.toFixed(0)} |`,
  );
}
const maxVideoRatio = Math.max(...Object.values(cells).map((c) => c.ratio));
const aacRatio = round(aAdapter!.cpuS / aRaw!.cpuS, 3);
const opusRatio = round(oAdapter!.cpuS / oRaw!.cpuS, 3);
console.log(
  JSON.stringify({
    mediaSecondsPerCell: Object.fromEntries(SIZES.map((z) => [`v${z.label}`, z.seconds])),
    runs: RUNS,
    ...cells,
    ...extras,
    aac: { raw: per(aRaw!, AUDIO_SECONDS), adapter: per(aAdapter!, AUDIO_SECONDS), ratio: aacRatio },
    opus: { raw: per(oRaw!, AUDIO_SECONDS), adapter: per(oAdapter!, AUDIO_SECONDS), ratio: opusRatio },
    maxVideoRatio,
    aacRatio,
    opusRatio,
    overheadRatio: Math.max(maxVideoRatio, aacRatio, opusRatio),
  }),
);
process.exit(0);
