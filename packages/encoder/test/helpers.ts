// Test helpers: independent decoding through node-av's FFmpeg decoders, quality metrics, signal
// generators and the "judge" gate for Debian command-line tools.
import { spawnSync } from 'node:child_process';
import {
  AV_SAMPLE_FMT_FLT,
  AV_SAMPLE_FMT_FLTP,
  AV_SAMPLE_FMT_S16,
  AV_SAMPLE_FMT_S16P,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  FF_DECODER_AAC,
  FF_DECODER_H264,
  FF_DECODER_LIBOPUS,
} from 'node-av/constants';
import { Codec, CodecContext, Dictionary, FFmpegError, Frame, Packet } from 'node-av/lib';

/** A decoded picture's luma plane, packed (stride = width). */
export interface DecodedPicture {
  width: number;
  height: number;
  pts: number;
  y: Uint8Array;
}

function ok(ret: number, op: string): number {
  if (ret < 0) throw new Error(`${op}: ${FFmpegError.strerror(ret)} (${ret})`);
  return ret;
}

/**
 * Feeds `packets` to an opened decoder, then flushes it, calling `onFrame` for every decoded frame; frees
 * the context, its options, and the packet and frame it used.
 */
function decodeAll(
  ctx: CodecContext,
  dict: Dictionary,
  packets: { data: Uint8Array; pts: number; dts?: number }[],
  what: 'video' | 'audio',
  onFrame: (frame: Frame) => void,
): void {
  const pkt = new Packet();
  pkt.alloc();
  const frame = new Frame();
  frame.alloc();
  const drain = () => {
    for (;;) {
      const ret = ctx.receiveFrameSync(frame);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
      ok(ret, `receive ${what} frame`);
      onFrame(frame);
      frame.unref();
    }
  };
  try {
    for (const p of packets) {
      pkt.data = Buffer.from(p.data);
      pkt.pts = BigInt(p.pts);
      if (p.dts !== undefined) pkt.dts = BigInt(p.dts);
      ok(ctx.sendPacketSync(pkt), `send ${what} packet`);
      pkt.unref();
      drain();
    }
    ctx.sendPacketSync(null);
    drain();
  } finally {
    ctx.freeContext();
    pkt.free();
    frame.free();
    dict.free();
  }
}

/** Decodes Annex B access units with FFmpeg's h264 decoder; returns every picture's Y plane. */
export async function decodeH264(units: { data: Uint8Array; pts: number }[]): Promise<DecodedPicture[]> {
  const codec = Codec.findDecoderByName(FF_DECODER_H264);
  if (!codec) throw new Error('no h264 decoder');
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.threadCount = 1;
  const dict = Dictionary.fromObject({});
  ok(await ctx.open2(codec, dict), 'open h264 decoder');
  const out: DecodedPicture[] = [];
  decodeAll(
    ctx,
    dict,
    units.map((u) => ({ data: u.data, pts: u.pts, dts: u.pts })),
    'video',
    (frame) => {
      const { width, height } = frame;
      const plane = frame.data?.[0];
      const stride = frame.linesize[0] ?? width;
      if (!plane) throw new Error('decoded frame without data');
      const y = new Uint8Array(width * height);
      for (let r = 0; r < height; r++) y.set(plane.subarray(r * stride, r * stride + width), r * width);
      out.push({ width, height, pts: Number(frame.pts), y });
    },
  );
  return out;
}

/** Decoded audio: one Float32Array per channel. */
export interface DecodedAudio {
  sampleRate: number;
  channels: Float32Array[];
}

/** Decodes raw AAC (with its AudioSpecificConfig) or Opus packets with FFmpeg's `aac` / `libopus` decoders. */
export async function decodeAudio(
  codecName: 'aac' | 'opus',
  config: Uint8Array,
  packets: { data: Uint8Array; pts: number }[],
  channels: number,
  sampleRate: number,
): Promise<DecodedAudio> {
  const codec = Codec.findDecoderByName(codecName === 'aac' ? FF_DECODER_AAC : FF_DECODER_LIBOPUS);
  if (!codec) throw new Error(`no ${codecName} decoder`);
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.extraData = Buffer.from(config);
  ctx.sampleRate = sampleRate;
  ctx.channels = channels;
  const dict = Dictionary.fromObject({});
  ok(await ctx.open2(codec, dict), `open ${codecName} decoder`);
  const chunks: Float32Array[][] = Array.from({ length: channels }, () => []);
  let rate = sampleRate;
  decodeAll(ctx, dict, packets, 'audio', (frame) => {
    rate = frame.sampleRate;
    const n = frame.nbSamples;
    const nch = frame.channels;
    const data = frame.data ?? [];
    for (let c = 0; c < Math.min(nch, channels); c++) {
      const outCh = new Float32Array(n);
      const fmt = frame.format;
      if (fmt === AV_SAMPLE_FMT_FLTP || fmt === AV_SAMPLE_FMT_S16P) {
        const b = Buffer.from(data[c] ?? []);
        for (let i = 0; i < n; i++) {
          outCh[i] = fmt === AV_SAMPLE_FMT_FLTP ? b.readFloatLE(i * 4) : b.readInt16LE(i * 2) / 32768;
        }
      } else if (fmt === AV_SAMPLE_FMT_FLT || fmt === AV_SAMPLE_FMT_S16) {
        const b = Buffer.from(data[0] ?? []);
        for (let i = 0; i < n; i++) {
          const k = i * nch + c;
          outCh[i] = fmt === AV_SAMPLE_FMT_FLT ? b.readFloatLE(k * 4) : b.readInt16LE(k * 2) / 32768;
        }
      } else {
        throw new Error(`unexpected sample format ${fmt}`);
      }
      chunks[c]?.push(outCh);
    }
  });
  return {
    sampleRate: rate,
    channels: chunks.map((parts) => {
      const total = parts.reduce((s, p) => s + p.length, 0);
      const all = new Float32Array(total);
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return all;
    }),
  };
}

/** PSNR (dB) between two 8-bit planes of equal size. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`plane sizes differ: ${a.length} vs ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

/**
 * A moving test picture in packed I420 (chroma stride ceil(w/2)): scrolling diagonal gradients, a
 * fine moving texture and a patterned square moving across. Every frame changes; a sane encoder at
 * broadcast bitrates stays well over 30 dB, a broken one (misaligned planes, wrong strides) falls
 * far below.
 */
export function movingI420(width: number, height: number, t: number): Uint8Array {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const out = new Uint8Array(width * height + 2 * cw * ch);
  const sq = Math.round(Math.min(width, height) / 5);
  const sx = Math.round((t * 7) % Math.max(1, width - sq));
  const sy = Math.round((t * 3) % Math.max(1, height - sq));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 16 + ((((x + 2 * y + t * 6) * 219) / (width + 2 * height)) % 219);
      // Fine moving texture, so the encoder has real detail to spend bits on.
      v = v * 0.8 + 20 + 20 * Math.sin((x + t * 3) * 0.45) * Math.cos((y - t * 2) * 0.35);
      if (x >= sx && x < sx + sq && y >= sy && y < sy + sq) v = 230 - ((x ^ y) & 15) * 4;
      out[y * width + x] = Math.max(16, Math.min(235, v));
    }
  }
  const u0 = width * height;
  const v0 = u0 + cw * ch;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      out[u0 + y * cw + x] = 128 + Math.round(60 * Math.sin((x + t * 2) / 40));
      out[v0 + y * cw + x] = 128 + Math.round(60 * Math.cos((y + t) / 30));
    }
  }
  return out;
}

/** The same picture as packed RGBA (for the conversion path). */
export function movingRgba(width: number, height: number, t: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      out[i] = (x * 255) / width + t * 4;
      out[i + 1] = (y * 255) / height;
      out[i + 2] = 128 + 100 * Math.sin((x + y + t * 5) / 50);
      out[i + 3] = 255;
    }
  }
  return out;
}

/** Interleaved Int16 sine samples for frame `index` of `samplesPerChannel` samples. */
export function sineFrame(
  freq: number,
  sampleRate: number,
  channels: number,
  startSample: number,
  samplesPerChannel: number,
  amplitude = 0.4,
): Int16Array {
  const out = new Int16Array(samplesPerChannel * channels);
  for (let s = 0; s < samplesPerChannel; s++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * (startSample + s)) / sampleRate));
    for (let c = 0; c < channels; c++) out[s * channels + c] = v;
  }
  return out;
}

/** Estimated frequency (Hz) of a tone from its positive-going zero crossings. */
export function toneFrequency(samples: Float32Array, sampleRate: number): number {
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) {
    if ((samples[i - 1] ?? 0) < 0 && (samples[i] ?? 0) >= 0) {
      if (first < 0) first = i;
      else crossings++;
      last = i;
    }
  }
  if (crossings < 1) return 0;
  return (crossings * sampleRate) / (last - first);
}

/** Root mean square of a signal. */
export function rms(samples: Float32Array): number {
  let s = 0;
  for (const v of samples) s += v * v;
  return Math.sqrt(s / Math.max(1, samples.length));
}

/** NAL unit types of an Annex B access unit, in order (ITU-T H.264 §7.3.1 nal_unit_type). */
export function nalTypes(au: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      types.push((au[i + 3] ?? 0) & 0x1f);
      i += 3;
    }
  }
  return types;
}

/**
 * Whether a Debian command-line judge is installed. When it is not, tests using it are skipped unless
 * TRACKREC_REQUIRE_JUDGES=1, in which case this throws (CI must run every judge).
 */
export function judgeAvailable(tool: string): boolean {
  const found = spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.TRACKREC_REQUIRE_JUDGES === '1') {
    throw new Error(`${tool} is required (TRACKREC_REQUIRE_JUDGES=1) but not installed`);
  }
  return found;
}
