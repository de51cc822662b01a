import { createRequire } from 'node:module';
import type { OpusEncoder as OpusEncoderType } from '@discordjs/opus';
import {
  AV_SAMPLE_FMT_FLTP,
  AV_SAMPLE_FMT_S16,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  type AVSampleFormat,
  FF_ENCODER_AAC,
} from 'node-av/constants';
import {
  avChannelLayoutDefault,
  Codec,
  CodecContext,
  Dictionary,
  Frame,
  Packet,
  Rational,
  SoftwareResampleContext,
} from 'node-av/lib';
import { EncoderError } from './errors.js';
import { applyDefaultLogLevel, check, describe } from './ffmpeg.js';
import { type AudioFrameLike, validateAudioFrame } from './frames.js';

const require = createRequire(import.meta.url);

/** Output audio codec. */
export type AudioCodecName = 'aac' | 'opus';

/**
 * libopus encoder lookahead at 48 kHz for the application @discordjs/opus uses (OPUS_APPLICATION_AUDIO):
 * 2.5 ms of framing delay + 4 ms of delay compensation = 312 samples. The binding has no
 * OPUS_GET_LOOKAHEAD (its CTL call only sets integers), so this is the libopus 1.x constant.
 */
export const OPUS_PRE_SKIP = 312;

/** Samples per channel in one encoded frame. */
export const AUDIO_FRAME_SIZE = { aac: 1024, opus: 960 } as const satisfies Record<AudioCodecName, number>;

const AAC_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000];

/** Options of {@link AudioEncoder.create}. */
export interface AudioEncoderOptions {
  /** `aac` (FFmpeg native encoder, AAC-LC) or `opus` (libopus via @discordjs/opus). */
  codec: AudioCodecName;
  /** Output rate in Hz; AAC default 48000, Opus always 48000. */
  sampleRate?: number;
  /** Output channels, 1 or 2; default 2. Input with other counts is remixed. */
  channels?: number;
  /** Bitrate in bits per second; default 128000 (AAC) or 96000 (Opus). */
  bitrate?: number;
}

/** One encoded audio frame: raw AAC (no ADTS) or one Opus packet. */
export interface EncodedAudioPacket {
  /** The frame's bytes. */
  data: Uint8Array;
  /**
   * Presentation time in samples at the output rate: the input sample the first decoded sample lines up
   * with. The first packets are negative by `primingSamples` (encoder delay), which keeps lip sync exact;
   * shift by a constant to make them non-negative.
   */
  pts: number;
  /** Samples per channel this packet decodes to. */
  duration: number;
}

/** Counters and cost figures of an {@link AudioEncoder}. */
export interface AudioEncoderStats {
  /** Input samples per channel accepted (at the input rate). */
  samplesIn: number;
  /** Samples per channel handed to the codec (at the output rate). */
  samplesEncoded: number;
  /** Samples per channel waiting for a full codec frame. */
  bufferedSamples: number;
  /** Packets produced. */
  packets: number;
  /** Bytes produced. */
  bytes: number;
  /** Wall time spent in `encode()`, ms. */
  busyMs: number;
  /** Wall ms spent per second of encoded media. */
  busyMsPerMediaSecond: number;
}

interface Resampler {
  swr: SoftwareResampleContext;
  inRate: number;
  inChannels: number;
}

/**
 * AAC or Opus encoder for rtc-node audio frames (interleaved Int16 PCM of any rate and channel count).
 * Input is resampled/remixed when needed (FFmpeg swresample) and re-chunked to the codec frame size
 * (1024 AAC, 960 Opus). All work is synchronous and cheap (~14 ms AAC, ~6 ms Opus per media second),
 * so calls are naturally serialized. Free everything with `close()` or `await using`.
 */
export class AudioEncoder {
  /** Output codec. */
  readonly codec: AudioCodecName;
  /** Output sample rate (Hz); packet timestamps count samples at this rate. */
  readonly sampleRate: number;
  /** Output channel count. */
  readonly channels: number;
  /** Bitrate in bits per second. */
  readonly bitrate: number;
  /** Samples per channel in one encoded frame. */
  readonly frameSize: number;
  /** Encoder delay in output samples: 1024 for AAC, {@link OPUS_PRE_SKIP} (Opus pre-skip) for Opus. */
  readonly primingSamples: number;
  /**
   * Decoder configuration: the AAC AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1, from the codec
   * context's extradata), or the Opus identification header `OpusHead` (RFC 7845 §5.1).
   */
  readonly codecConfig: Uint8Array;

  #ctx: CodecContext | undefined;
  #dict: Dictionary | undefined;
  #frame: Frame | undefined;
  #packet: Packet | undefined;
  #opus: OpusEncoderType | undefined;
  #resampler: Resampler | undefined;
  /** Pending output-rate samples: one Float32Array per channel (AAC) or one interleaved Int16Array (Opus). */
  #planes: Float32Array[] = [];
  #interleaved = new Int16Array(0);
  #buffered = 0;
  #nextPts = 0;
  #state: 'open' | 'flushed' | 'closed' = 'open';
  #stats = { samplesIn: 0, samplesEncoded: 0, packets: 0, bytes: 0, busyMs: 0 };

  private constructor(init: {
    codec: AudioCodecName;
    sampleRate: number;
    channels: number;
    bitrate: number;
    primingSamples: number;
    codecConfig: Uint8Array;
  }) {
    this.codec = init.codec;
    this.sampleRate = init.sampleRate;
    this.channels = init.channels;
    this.bitrate = init.bitrate;
    this.frameSize = AUDIO_FRAME_SIZE[init.codec];
    this.primingSamples = init.primingSamples;
    this.codecConfig = init.codecConfig;
  }

  /** Validates options (TypeError/RangeError naming the option) and opens the codec. */
  static async create(options: AudioEncoderOptions): Promise<AudioEncoder> {
    applyDefaultLogLevel();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { codec } = options;
    if (codec !== 'aac' && codec !== 'opus') {
      throw new TypeError(`options.codec must be 'aac' or 'opus', got ${String(codec)}`);
    }
    const channels = options.channels ?? 2;
    if (channels !== 1 && channels !== 2)
      throw new RangeError(`options.channels must be 1 or 2, got ${channels}`);
    const sampleRate = options.sampleRate ?? 48_000;
    if (codec === 'opus' && sampleRate !== 48_000) {
      throw new RangeError(`options.sampleRate must be 48000 for Opus, got ${sampleRate}`);
    }
    if (!AAC_RATES.includes(sampleRate)) {
      throw new RangeError(`options.sampleRate must be one of ${AAC_RATES.join(', ')}, got ${sampleRate}`);
    }
    const bitrate = options.bitrate ?? (codec === 'aac' ? 128_000 : 96_000);
    if (!Number.isInteger(bitrate) || bitrate < 6000 || bitrate > 512_000) {
      throw new RangeError(`options.bitrate must be an integer in [6000, 512000], got ${String(bitrate)}`);
    }
    return codec === 'aac'
      ? AudioEncoder.#openAac(sampleRate, channels, bitrate)
      : AudioEncoder.#openOpus(channels, bitrate);
  }

  static async #openAac(sampleRate: number, channels: number, bitrate: number): Promise<AudioEncoder> {
    const codec = Codec.findEncoderByName(FF_ENCODER_AAC);
    if (!codec) throw new EncoderError('OPEN_FAILED', 'the FFmpeg aac encoder is not available');
    const ctx = new CodecContext();
    ctx.allocContext3(codec);
    const dict = Dictionary.fromObject({});
    const frame = new Frame();
    const packet = new Packet();
    try {
      const layout = avChannelLayoutDefault(channels);
      ctx.sampleRate = sampleRate;
      ctx.channelLayout = layout;
      ctx.sampleFormat = AV_SAMPLE_FMT_FLTP;
      ctx.bitRate = BigInt(bitrate);
      ctx.timeBase = new Rational(1, sampleRate);
      const ret = await ctx.open2(codec, dict);
      if (ret < 0) {
        throw new EncoderError('OPEN_FAILED', `opening aac failed: ${describe(ret)}`, { ffmpegCode: ret });
      }
      const asc = ctx.extraData;
      if (!asc || asc.length < 2)
        throw new EncoderError('OPEN_FAILED', 'aac produced no AudioSpecificConfig');
      frame.alloc();
      frame.format = AV_SAMPLE_FMT_FLTP;
      frame.nbSamples = AUDIO_FRAME_SIZE.aac;
      frame.sampleRate = sampleRate;
      frame.channelLayout = layout;
      check(frame.allocBuffer(), 'allocating the AAC input frame', 'OPEN_FAILED');
      packet.alloc();
      const enc = new AudioEncoder({
        codec: 'aac',
        sampleRate,
        channels,
        bitrate,
        primingSamples: ctx.delay > 0 ? ctx.delay : AUDIO_FRAME_SIZE.aac,
        codecConfig: new Uint8Array(asc),
      });
      enc.#ctx = ctx;
      enc.#dict = dict;
      enc.#frame = frame;
      enc.#packet = packet;
      return enc;
    } catch (error) {
      ctx.freeContext();
      frame.free();
      packet.free();
      dict.free();
      throw error;
    }
  }

  static #openOpus(channels: number, bitrate: number): AudioEncoder {
    let opus: OpusEncoderType;
    try {
      const { OpusEncoder } = require('@discordjs/opus') as typeof import('@discordjs/opus');
      opus = new OpusEncoder(48_000, channels);
      opus.setBitrate(bitrate);
    } catch (cause) {
      throw new EncoderError('OPEN_FAILED', `opening libopus failed: ${String(cause)}`, { cause });
    }
    const enc = new AudioEncoder({
      codec: 'opus',
      sampleRate: 48_000,
      channels,
      bitrate,
      primingSamples: OPUS_PRE_SKIP,
      codecConfig: opusHead(channels, OPUS_PRE_SKIP, 48_000),
    });
    enc.#opus = opus;
    return enc;
  }

  /** A snapshot of counters and cost. */
  get stats(): AudioEncoderStats {
    const s = this.#stats;
    const mediaS = s.samplesEncoded / this.sampleRate;
    return {
      ...s,
      bufferedSamples: this.#buffered,
      busyMsPerMediaSecond: mediaS > 0 ? s.busyMs / mediaS : 0,
    };
  }

  /**
   * Encodes one rtc-node `AudioFrame` and returns the packets completed by it (zero or more: input is
   * re-chunked). Invalid frames throw `EncoderError('INVALID_INPUT')` and change nothing.
   */
  encode(frame: AudioFrameLike): EncodedAudioPacket[] {
    this.#assertOpen('encode');
    validateAudioFrame(frame);
    const t0 = performance.now();
    try {
      const out: EncodedAudioPacket[] = [];
      this.#stats.samplesIn += frame.samplesPerChannel;
      if (frame.samplesPerChannel > 0) this.#push(frame);
      while (this.#buffered >= this.frameSize) this.#encodeFrame(this.frameSize, out);
      return out;
    } finally {
      this.#stats.busyMs += performance.now() - t0;
    }
  }

  /**
   * Encodes what is buffered (the last partial frame: AAC sends it short, Opus pads it with silence)
   * and drains the codec. The stream is then finished: later `encode()` calls throw `CLOSED`.
   */
  flush(): EncodedAudioPacket[] {
    this.#assertOpen('flush');
    const out: EncodedAudioPacket[] = [];
    this.#drainResampler();
    while (this.#buffered >= this.frameSize) this.#encodeFrame(this.frameSize, out);
    if (this.#buffered > 0) this.#encodeFrame(this.#buffered, out);
    const ctx = this.#ctx;
    if (ctx) {
      const ret = ctx.sendFrameSync(null);
      if (ret !== AVERROR_EOF) check(ret, 'aac drain');
      this.#receive(out);
    }
    this.#state = 'flushed';
    return out;
  }

  /** Frees the codec context, frame, packet and resampler. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#ctx?.freeContext();
    this.#frame?.free();
    this.#packet?.free();
    this.#dict?.free();
    this.#resampler?.swr.free();
    this.#ctx = undefined;
    this.#frame = undefined;
    this.#packet = undefined;
    this.#dict = undefined;
    this.#resampler = undefined;
    this.#opus = undefined;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(op: string): void {
    if (this.#state !== 'open')
      throw new EncoderError('CLOSED', `${op}() after ${this.#state === 'closed' ? 'close' : 'flush'}()`);
  }

  /** Makes room for `n` more samples per channel in the pending buffer (grows geometrically). */
  #reserve(n: number): void {
    const need = this.#buffered + n;
    if (this.codec === 'aac') {
      const cap = this.#planes[0]?.length ?? 0;
      if (need <= cap) return;
      const size = Math.max(need, cap * 2, 4096);
      this.#planes = Array.from({ length: this.channels }, (_, c) => {
        const next = new Float32Array(size);
        const old = this.#planes[c];
        if (old) next.set(old.subarray(0, this.#buffered));
        return next;
      });
    } else {
      const cap = this.#interleaved.length / this.channels;
      if (need <= cap) return;
      const next = new Int16Array(Math.max(need, cap * 2, 4096) * this.channels);
      next.set(this.#interleaved.subarray(0, this.#buffered * this.channels));
      this.#interleaved = next;
    }
  }

  /** Appends a frame to the pending buffer, through the resampler when rate, layout or format differ. */
  #push(frame: AudioFrameLike): void {
    const n = frame.samplesPerChannel;
    const pcm = frame.data.subarray(0, n * frame.channels);
    if (this.codec === 'opus' && frame.sampleRate === this.sampleRate && frame.channels === this.channels) {
      this.#drainResampler();
      this.#reserve(n);
      this.#interleaved.set(pcm, this.#buffered * this.channels);
      this.#buffered += n;
      return;
    }
    const r = this.#resamplerFor(frame.sampleRate, frame.channels);
    const input = [Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)];
    // swr_get_out_samples: an upper bound including what the resampler still holds.
    this.#convert(r.swr, input, n, Math.max(r.swr.getOutSamples(n), 1));
  }

  /** Runs swr_convert straight into the pending buffer; returns samples written. */
  #convert(swr: SoftwareResampleContext, input: Buffer[] | null, inCount: number, room: number): number {
    this.#reserve(room);
    const at = this.#buffered;
    let outBufs: Buffer[];
    if (this.codec === 'aac') {
      outBufs = this.#planes.map((p) => Buffer.from(p.buffer, p.byteOffset + at * 4, room * 4));
    } else {
      const i = this.#interleaved;
      outBufs = [Buffer.from(i.buffer, i.byteOffset + at * this.channels * 2, room * this.channels * 2)];
    }
    const got = check(swr.convertSync(outBufs, room, input, inCount), 'resampling', 'CONVERT_FAILED');
    this.#buffered += got;
    return got;
  }

  #resamplerFor(inRate: number, inChannels: number): Resampler {
    const r = this.#resampler;
    if (r && r.inRate === inRate && r.inChannels === inChannels) return r;
    this.#drainResampler();
    const swr = new SoftwareResampleContext();
    const outFmt: AVSampleFormat = this.codec === 'aac' ? AV_SAMPLE_FMT_FLTP : AV_SAMPLE_FMT_S16;
    let ret = swr.allocSetOpts2(
      avChannelLayoutDefault(this.channels),
      outFmt,
      this.sampleRate,
      avChannelLayoutDefault(inChannels),
      AV_SAMPLE_FMT_S16,
      inRate,
    );
    if (ret >= 0) ret = swr.init();
    if (ret < 0) {
      swr.free();
      check(
        ret,
        `resampler ${inRate} Hz/${inChannels} ch -> ${this.sampleRate} Hz/${this.channels} ch`,
        'CONVERT_FAILED',
      );
    }
    this.#resampler = { swr, inRate, inChannels };
    return this.#resampler;
  }

  /** Pulls the resampler's buffered tail into the pending buffer and frees it (input format change or end). */
  #drainResampler(): void {
    const r = this.#resampler;
    if (!r) return;
    this.#resampler = undefined;
    try {
      for (let i = 0; i < 8; i++) {
        if (this.#convert(r.swr, null, 0, 1024) <= 0) break;
      }
    } finally {
      r.swr.free();
    }
  }

  /** Encodes `n` pending samples per channel as one frame and shifts the rest down. */
  #encodeFrame(n: number, out: EncodedAudioPacket[]): void {
    if (this.codec === 'aac') this.#encodeAac(n, out);
    else this.#encodeOpus(n, out);
    const rest = this.#buffered - n;
    if (this.codec === 'aac') {
      for (const p of this.#planes) p.copyWithin(0, n, this.#buffered);
    } else {
      this.#interleaved.copyWithin(0, n * this.channels, this.#buffered * this.channels);
    }
    this.#buffered = rest;
    this.#stats.samplesEncoded += n;
  }

  #encodeAac(n: number, out: EncodedAudioPacket[]): void {
    const ctx = this.#ctx;
    const frame = this.#frame;
    if (!ctx || !frame) throw new EncoderError('CLOSED', 'encoder closed');
    if (!frame.isWritable) check(frame.makeWritable(), 'making the AAC frame writable');
    // Only the stream's last frame is short (AV_CODEC_CAP_SMALL_LAST_FRAME).
    if (n !== frame.nbSamples) frame.nbSamples = n;
    const planes = frame.data;
    if (!planes) throw new EncoderError('ENCODE_FAILED', 'AAC frame has no buffers');
    for (let c = 0; c < this.channels; c++) {
      const dst = planes[c];
      const src = this.#planes[c];
      if (!dst || !src) throw new EncoderError('ENCODE_FAILED', `AAC frame lacks channel ${c}`);
      dst.set(new Uint8Array(src.buffer, src.byteOffset, n * 4));
    }
    frame.pts = BigInt(this.#nextPts);
    this.#nextPts += n;
    check(ctx.sendFrameSync(frame), 'aac encode');
    this.#receive(out);
  }

  #receive(out: EncodedAudioPacket[]): void {
    const ctx = this.#ctx;
    const pkt = this.#packet;
    if (!ctx || !pkt) return;
    for (;;) {
      const ret = ctx.receivePacketSync(pkt);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
      check(ret, 'aac receive');
      const data = pkt.data;
      if (data) {
        out.push({ data, pts: Number(pkt.pts), duration: Number(pkt.duration) });
        this.#stats.packets++;
        this.#stats.bytes += data.byteLength;
      }
      pkt.unref();
    }
  }

  #encodeOpus(n: number, out: EncodedAudioPacket[]): void {
    const opus = this.#opus;
    if (!opus) throw new EncoderError('CLOSED', 'encoder closed');
    const size = this.frameSize * this.channels;
    if (n < this.frameSize) this.#interleaved.fill(0, n * this.channels, size);
    const pcm = this.#interleaved;
    let data: Buffer;
    try {
      data = opus.encode(Buffer.from(pcm.buffer, pcm.byteOffset, size * 2));
    } catch (cause) {
      throw new EncoderError('ENCODE_FAILED', `libopus encode failed: ${String(cause)}`, { cause });
    }
    out.push({ data, pts: this.#nextPts - this.primingSamples, duration: this.frameSize });
    this.#nextPts += this.frameSize;
    this.#stats.packets++;
    this.#stats.bytes += data.byteLength;
  }
}

/** The Opus identification header (RFC 7845 §5.1), channel mapping family 0. */
export function opusHead(channels: number, preSkip: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer, 0, head.byteLength);
  head.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]); // magic signature "OpusHead"
  view.setUint8(8, 1); // version
  view.setUint8(9, channels); // output channel count
  view.setUint16(10, preSkip, true); // pre-skip (48 kHz samples)
  view.setUint32(12, inputSampleRate, true); // input sample rate
  view.setInt16(16, 0, true); // output gain
  view.setUint8(18, 0); // channel mapping family
  return head;
}
