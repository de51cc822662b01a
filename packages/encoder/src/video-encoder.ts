import { EventEmitter } from 'node:events';
import {
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_YUV420P,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  type AVPixelFormat,
  SWS_BILINEAR,
} from 'node-av/constants';
import { SoftwareScaleContext } from 'node-av/lib';
import { EncoderError } from './errors.js';
import { applyDefaultLogLevel, check } from './ffmpeg.js';
import { type I420View, toI420, type VideoFrameLike, validateVideoFrame } from './frames.js';
import {
  AUTO_ORDER,
  ENCODER_NAMES,
  type EncoderKind,
  type HardwarePreference,
  hardwareFailures,
  hardwarePrecheck,
} from './hardware.js';
import { consoleLogger, type EncoderLogger } from './log.js';
import { OffloadPolicy } from './offload-policy.js';
import { DEFAULT_VIDEO_PRESET, VIDEO_PRESETS, type VideoPresetName } from './presets.js';
import { SerialQueue } from './serial.js';
import {
  type H264Profile,
  type OpenVideoCodec,
  openVideoCodec,
  VIDEO_TIME_BASE,
  type VideoCodecSettings,
  type X264Preset,
} from './video-codec.js';

/** What to do when input frames change size mid-stream (simulcast layer switches, rotation). */
export type ResolutionChangeMode = 'scale' | 'reopen';

/** Options of {@link VideoEncoder.create}. Explicit values override the preset's. */
export interface VideoEncoderOptions {
  /** A LiveKit Egress preset; default `H264_720P_30` (1280×720, 30 fps, 3 Mb/s). */
  preset?: VideoPresetName;
  /** Output width in pixels (even, 16–8192). */
  width?: number;
  /** Output height in pixels (even, 16–8192). */
  height?: number;
  /** Nominal frame rate, used for rate control and the GOP length in frames. */
  fps?: number;
  /** Target bitrate in bits per second. */
  bitrate?: number;
  /** VBV maximum bitrate in bits per second; default `bitrate` (constant bitrate for live recording). */
  maxBitrate?: number;
  /** VBV buffer size in bits; default `bitrate` (one second). */
  bufferSize?: number;
  /**
   * Seconds between keyframes; default 2. Enforced on media time (frames are forced to IDR once the
   * interval has passed), so variable-rate WebRTC input still gets regular segment boundaries.
   */
  keyframeIntervalS?: number;
  /** H.264 profile; default `main` (as LiveKit Egress). */
  profile?: H264Profile;
  /** x264 speed preset; default `veryfast`. Ignored by hardware encoders. */
  x264Preset?: X264Preset;
  /** Encoder threads; default 1 (several recordings share the cores; threads save no CPU). */
  threads?: number;
  /** Encoder selection; default `auto` (hardware when one opens, else libx264). */
  hardware?: HardwarePreference;
  /** Default `scale`: keep the configured output size. `reopen`: follow the input size with a new IDR. */
  onResolutionChange?: ResolutionChangeMode;
  /** Calls allowed to wait before `encode()` rejects with `QUEUE_FULL`; default 8. Bounds memory. */
  maxPendingFrames?: number;
  /**
   * Where the encode step runs. `true`: on the libuv thread pool, so the event loop stays free and
   * several recordings use several cores, at a fixed cost per frame (two thread wake-ups, and the picture
   * and x264's state moving between cores: about 0.1 ms at 360p, 0.3 ms at 720p here). `false`: on the
   * calling thread. `'auto'` (default): on the calling thread while this encoder's frames cost under
   * 8 ms each (median of the last 16) and the synchronous encoders of the process fit in 300 ms per
   * second of the event loop (measured encode times at the nominal fps); on the thread pool otherwise.
   */
  offload?: boolean | 'auto';
  /** VA-API render node; default `/dev/dri/renderD128`. */
  vaapiDevice?: string;
  /** Where fallback decisions are reported; default `console`. */
  logger?: EncoderLogger;
}

/** One H.264 access unit in Annex B byte stream format (ITU-T H.264 Annex B). */
export interface EncodedVideoPacket {
  /** Annex B NAL units (start codes included); SPS and PPS precede every IDR. No AUD is added. */
  data: Uint8Array;
  /** Presentation time in 90 kHz ticks (input `timestampUs` × 0.09, rounded). */
  pts: number;
  /** Decode time in 90 kHz ticks (equal to `pts`: no B-frames). */
  dts: number;
  /** True for an IDR access unit (random access point). */
  keyframe: boolean;
  /** Coded width of this access unit. */
  width: number;
  /** Coded height of this access unit. */
  height: number;
  /** True on the first packet after the encoder was reopened at a new size (mark an HLS discontinuity). */
  discontinuity: boolean;
}

/** Payload of the `reconfigured` event. */
export interface VideoReconfiguredEvent {
  /** How the size change was handled. */
  mode: ResolutionChangeMode;
  /** True when the output size changed (encoder reopened); packets that follow start with an IDR. */
  outputChanged: boolean;
  /** New input size. */
  inputWidth: number;
  /** New input size. */
  inputHeight: number;
  /** Output size before the change. */
  previousWidth: number;
  /** Output size before the change. */
  previousHeight: number;
  /** Output size from now on. */
  width: number;
  /** Output size from now on. */
  height: number;
  /** Timestamp (µs) of the first frame at the new size. */
  timestampUs: number;
}

/** Events of {@link VideoEncoder}. */
export interface VideoEncoderEvents {
  /**
   * The input size changed. Emitted before `encode()` resolves with that frame's packets; with
   * `reopen` the first of them has `discontinuity: true` and is an IDR with new SPS/PPS.
   */
  reconfigured: [VideoReconfiguredEvent];
}

/** Counters and lag figures; the recorder reads these to decide when to drop frames. */
export interface VideoEncoderStats {
  /** Frames accepted by `encode()`. */
  framesSubmitted: number;
  /** Frames whose encode completed. */
  framesEncoded: number;
  /** Frames whose encode failed after being accepted (conversion or FFmpeg error). */
  framesFailed: number;
  /** Frames encoded on the libuv thread pool (see the `offload` option); the rest ran on the caller's thread. */
  framesOffloaded: number;
  /** Frames waiting or being encoded. */
  pendingFrames: number;
  /** Media time submitted minus media time encoded, in ms (0 when idle). */
  lagMs: number;
  /** Packets produced. */
  packets: number;
  /** Bytes produced. */
  bytes: number;
  /** IDR packets produced. */
  keyframes: number;
  /** Size changes seen. */
  reconfigurations: number;
  /** Wall time spent in encode jobs, ms. */
  busyMs: number;
  /** Wall ms spent per second of encoded media; above 1000 the encoder cannot keep real time. */
  busyMsPerMediaSecond: number;
}

let fallbackLogged = false;

/** Where to look when a hardware encoder's device exists but FFmpeg cannot open it. */
const OPEN_HINTS = {
  nvenc:
    'FFmpeg logs the cause: usually libcuda.so.1 or the NVIDIA driver is missing, or the NVENC session limit is reached',
  qsv: 'FFmpeg logs the cause: usually no Intel GPU, or the oneVPL/Media SDK runtime is missing',
  vaapi: 'FFmpeg logs the cause: usually the VA driver for this GPU is missing or lacks H.264 encoding',
} as const;

function positive(value: unknown, name: string, min: number, max: number, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`options.${name} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  if (integer && !Number.isInteger(value)) throw new RangeError(`options.${name} must be an integer`);
  return value;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new TypeError(`options.${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

interface ResolvedOptions {
  settings: VideoCodecSettings;
  keyframeIntervalS: number;
  hardware: HardwarePreference;
  mode: ResolutionChangeMode;
  maxPendingFrames: number;
  offload: boolean | 'auto';
  logger: EncoderLogger;
}

function resolveOptions(options: VideoEncoderOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const presetName = oneOf(
    options.preset,
    'preset',
    Object.keys(VIDEO_PRESETS) as VideoPresetName[],
    DEFAULT_VIDEO_PRESET,
  );
  const preset = VIDEO_PRESETS[presetName];
  const width = positive(options.width ?? preset.width, 'width', 16, 8192, true);
  const height = positive(options.height ?? preset.height, 'height', 16, 8192, true);
  if (width % 2 !== 0) throw new RangeError(`options.width must be even (4:2:0), got ${width}`);
  if (height % 2 !== 0) throw new RangeError(`options.height must be even (4:2:0), got ${height}`);
  const fps = positive(options.fps ?? preset.fps, 'fps', 1, 240, false);
  const bitrate = positive(options.bitrate ?? preset.bitrate, 'bitrate', 10_000, 200_000_000, true);
  const maxBitrate = positive(options.maxBitrate ?? bitrate, 'maxBitrate', bitrate, 400_000_000, true);
  const bufferSize = positive(options.bufferSize ?? bitrate, 'bufferSize', 1000, 800_000_000, true);
  const keyframeIntervalS = positive(options.keyframeIntervalS ?? 2, 'keyframeIntervalS', 0.1, 3600, false);
  const threads = positive(options.threads ?? 1, 'threads', 1, 64, true);
  const maxPendingFrames = positive(options.maxPendingFrames ?? 8, 'maxPendingFrames', 1, 1000, true);
  if (options.offload !== undefined && typeof options.offload !== 'boolean' && options.offload !== 'auto') {
    throw new TypeError(`options.offload must be true, false or 'auto', got ${String(options.offload)}`);
  }
  if (options.vaapiDevice !== undefined && typeof options.vaapiDevice !== 'string') {
    throw new TypeError('options.vaapiDevice must be a string');
  }
  return {
    settings: {
      width,
      height,
      fps,
      bitrate,
      maxBitrate,
      bufferSize,
      gopFrames: Math.max(1, Math.round(fps * keyframeIntervalS)),
      profile: oneOf(options.profile, 'profile', ['baseline', 'main', 'high'], 'main'),
      x264Preset: oneOf(
        options.x264Preset,
        'x264Preset',
        ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'],
        'veryfast',
      ),
      threads,
      vaapiDevice: options.vaapiDevice ?? '/dev/dri/renderD128',
    },
    keyframeIntervalS,
    hardware: oneOf(options.hardware, 'hardware', ['auto', 'nvenc', 'vaapi', 'qsv', 'software'], 'auto'),
    mode: oneOf(options.onResolutionChange, 'onResolutionChange', ['scale', 'reopen'], 'scale'),
    maxPendingFrames,
    offload: options.offload ?? 'auto',
    logger: options.logger ?? consoleLogger,
  };
}

function toMicroseconds(timestampUs: number | bigint): number {
  const us = typeof timestampUs === 'bigint' ? Number(timestampUs) : timestampUs;
  if (typeof us !== 'number' || !Number.isFinite(us) || us < 0 || us > Number.MAX_SAFE_INTEGER) {
    throw new EncoderError(
      'INVALID_INPUT',
      `timestampUs must be a finite non-negative number, got ${String(timestampUs)}`,
    );
  }
  return us;
}

/** Copies `rows` rows of `rowBytes` between buffers of different strides. */
function copyPlane(
  dst: Uint8Array,
  dstStride: number,
  src: Uint8Array,
  srcStride: number,
  rowBytes: number,
  rows: number,
): void {
  if (dstStride === srcStride && rowBytes === srcStride) {
    dst.set(src.subarray(0, rows * srcStride));
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = r * srcStride;
    dst.set(src.subarray(s, s + rowBytes), r * dstStride);
  }
}

function bufferView(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * H.264 encoder for rtc-node video frames, in-process on FFmpeg (node-av): libx264 or a hardware
 * encoder, Annex B output with SPS/PPS in-band before every IDR, no B-frames, `tune=zerolatency`.
 *
 * Calls are serialized per encoder; `encode()` resolves with the packets that frame produced (with
 * zero-latency x264, exactly one). Free everything with `close()` or `await using`.
 */
export class VideoEncoder extends EventEmitter<VideoEncoderEvents> {
  /** FFmpeg name of the encoder in use (`libx264`, `h264_nvenc`, …). */
  readonly codecName: string;
  /** Encoder family in use. */
  readonly kind: EncoderKind;
  /** Why hardware encoding was not used (`hardware: 'auto'` only), else undefined. */
  readonly fallbackReason: string | undefined;
  /** Configured output frame rate. */
  readonly fps: number;

  readonly #opts: ResolvedOptions;
  readonly #queue = new SerialQueue();
  readonly #offload: OffloadPolicy;
  #codec: OpenVideoCodec | undefined;
  #sws: { ctx: SoftwareScaleContext; key: string } | undefined;
  #closed = false;
  #forceNext = false;
  #discontinuity = false;
  #lastPts: number | undefined;
  #lastKeyPts: number | undefined;
  #lastInput: { width: number; height: number } | undefined;
  #submittedUs = 0;
  #producedUs = 0;
  #firstUs: number | undefined;
  #stats = {
    framesSubmitted: 0,
    framesEncoded: 0,
    framesFailed: 0,
    framesOffloaded: 0,
    packets: 0,
    bytes: 0,
    keyframes: 0,
    reconfigurations: 0,
    busyMs: 0,
  };

  private constructor(opts: ResolvedOptions, codec: OpenVideoCodec, fallbackReason: string | undefined) {
    super();
    this.#opts = opts;
    this.#offload = new OffloadPolicy(opts.offload, opts.settings.fps);
    this.#codec = codec;
    this.kind = codec.kind;
    this.codecName = codec.codecName;
    this.fallbackReason = fallbackReason;
    this.fps = opts.settings.fps;
  }

  /**
   * Validates options (TypeError/RangeError naming the option), picks the encoder and opens it.
   * With `hardware: 'auto'` each hardware family is tried once per process; libx264 is the fallback and
   * the reason is logged. An explicit hardware family that cannot open rejects with
   * `EncoderError('HARDWARE_UNAVAILABLE')` naming why.
   */
  static async create(options: VideoEncoderOptions = {}): Promise<VideoEncoder> {
    applyDefaultLogLevel();
    const opts = resolveOptions(options);
    const { settings, hardware, logger } = opts;
    if (hardware !== 'auto') {
      const kind: EncoderKind = hardware;
      if (kind !== 'software') {
        const reason = hardwarePrecheck(kind, settings.vaapiDevice);
        if (reason !== undefined) {
          throw new EncoderError('HARDWARE_UNAVAILABLE', `${ENCODER_NAMES[kind]} unavailable: ${reason}`);
        }
      }
      try {
        return new VideoEncoder(opts, await openVideoCodec(kind, settings), undefined);
      } catch (error) {
        if (kind === 'software' || !(error instanceof EncoderError)) throw error;
        throw new EncoderError(
          'HARDWARE_UNAVAILABLE',
          `${ENCODER_NAMES[kind]} unavailable: ${error.message} (${OPEN_HINTS[kind]})`,
          { cause: error, ...(error.ffmpegCode === undefined ? {} : { ffmpegCode: error.ffmpegCode }) },
        );
      }
    }
    const reasons: string[] = [];
    for (const kind of AUTO_ORDER) {
      const known = hardwareFailures.get(kind) ?? hardwarePrecheck(kind, settings.vaapiDevice);
      if (known !== undefined) {
        reasons.push(`${ENCODER_NAMES[kind]}: ${known}`);
        continue;
      }
      try {
        return new VideoEncoder(opts, await openVideoCodec(kind, settings), undefined);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        hardwareFailures.set(kind, reason);
        reasons.push(`${ENCODER_NAMES[kind]}: ${reason}`);
      }
    }
    const fallbackReason = reasons.join('; ');
    const message = `no hardware H.264 encoder available, using libx264 (${fallbackReason})`;
    if (fallbackLogged) logger.info(message);
    else logger.warn(message);
    fallbackLogged = true;
    return new VideoEncoder(opts, await openVideoCodec('software', settings), fallbackReason);
  }

  /** Current output width. */
  get width(): number {
    return this.#codec?.width ?? this.#opts.settings.width;
  }

  /** Current output height. */
  get height(): number {
    return this.#codec?.height ?? this.#opts.settings.height;
  }

  /** Frames waiting or being encoded. */
  get pendingFrames(): number {
    return this.#queue.pending;
  }

  /**
   * Media time submitted minus media time encoded, in ms (about `pendingFrames` frame durations at a
   * steady rate); 0 when nothing is pending.
   */
  get lagMs(): number {
    return this.#queue.pending === 0 ? 0 : Math.max(0, (this.#submittedUs - this.#producedUs) / 1000);
  }

  /** A snapshot of counters and lag. */
  get stats(): VideoEncoderStats {
    const s = this.#stats;
    const spanS =
      this.#firstUs === undefined
        ? 0
        : (this.#producedUs - this.#firstUs) / 1e6 + 1 / this.#opts.settings.fps;
    return {
      ...s,
      pendingFrames: this.pendingFrames,
      lagMs: this.lagMs,
      busyMsPerMediaSecond: spanS > 0 && s.framesEncoded > 0 ? s.busyMs / spanS : 0,
    };
  }

  /** Makes the next frame passed to `encode()` an IDR (with SPS/PPS), e.g. to start a segment. */
  forceKeyframe(): void {
    this.#forceNext = true;
  }

  /**
   * Encodes one frame (any `VideoBufferType`; converted to I420 once). `timestampUs` (rtc-node's
   * `VideoFrameEvent.timestampUs`) must increase. Rejects with `EncoderError` `INVALID_INPUT` (bad
   * frame or timestamp, nothing queued), `QUEUE_FULL`, `CLOSED`, or an encode failure; the encoder stays
   * usable after any of these but `CLOSED`.
   */
  encode(frame: VideoFrameLike, timestampUs: number | bigint): Promise<EncodedVideoPacket[]> {
    let pts: number;
    let us: number;
    try {
      if (this.#closed) throw new EncoderError('CLOSED', 'encode() after close()');
      validateVideoFrame(frame);
      us = toMicroseconds(timestampUs);
      pts = Math.round((us * VIDEO_TIME_BASE) / 1e6);
      if (this.#lastPts !== undefined && pts <= this.#lastPts) {
        throw new EncoderError(
          'INVALID_INPUT',
          `timestampUs ${us} does not increase (previous frame at ${(this.#lastPts * 1e6) / VIDEO_TIME_BASE} µs)`,
        );
      }
      if (this.#queue.pending >= this.#opts.maxPendingFrames) {
        throw new EncoderError(
          'QUEUE_FULL',
          `${this.#queue.pending} frames already pending (maxPendingFrames ${this.#opts.maxPendingFrames})`,
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#lastPts = pts;
    this.#submittedUs = us;
    if (this.#firstUs === undefined) {
      this.#firstUs = us;
      // Nothing produced yet: count the first frame as pending too.
      this.#producedUs = us - 1e6 / this.fps;
    }
    this.#stats.framesSubmitted++;
    const force = this.#forceNext;
    this.#forceNext = false;
    return this.#queue.run(() => this.#encodeJob(frame, pts, us, force));
  }

  /**
   * Drains the encoder and returns the remaining packets. The next `encode()` starts a fresh encoder
   * instance (new IDR) at the same size.
   */
  flush(): Promise<EncodedVideoPacket[]> {
    if (this.#closed) return Promise.reject(new EncoderError('CLOSED', 'flush() after close()'));
    return this.#queue.run(() => {
      const out: EncodedVideoPacket[] = [];
      this.#retire(out);
      return out;
    });
  }

  /**
   * Frees every FFmpeg object. Frames still queued reject with `CLOSED`; the frame being encoded
   * finishes first. Call `flush()` before to get the last packets. Idempotent.
   */
  close(): Promise<void> {
    this.#closed = true;
    return this.#queue.run(() => {
      this.#offload.release();
      this.#codec?.free();
      this.#codec = undefined;
      this.#sws?.ctx.freeContext();
      this.#sws = undefined;
    });
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #encodeJob(
    frame: VideoFrameLike,
    pts: number,
    us: number,
    force: boolean,
  ): Promise<EncodedVideoPacket[]> {
    if (this.#closed) throw new EncoderError('CLOSED', 'encoder closed before this frame was encoded');
    const t0 = performance.now();
    const out: EncodedVideoPacket[] = [];
    try {
      const pic = toI420(frame);
      const codec = await this.#codecFor(pic, us, out);
      this.#fill(codec, pic);
      const f = codec.frame;
      f.pts = BigInt(pts);
      const keyDue =
        this.#lastKeyPts !== undefined &&
        pts - this.#lastKeyPts >= (this.#opts.keyframeIntervalS - 0.5 / this.fps) * VIDEO_TIME_BASE;
      f.pictType = force || keyDue ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
      let input = f;
      if (codec.hwFrame) {
        const hw = codec.hwFrame;
        hw.unref();
        check(codec.ctx.hwFramesCtx?.getBuffer(hw) ?? -22, 'allocating a VA-API surface');
        check(f.hwframeTransferDataSync(hw), 'uploading to VA-API');
        hw.pts = f.pts;
        hw.pictType = f.pictType;
        input = hw;
      }
      const offload = this.#offload.next();
      const t1 = performance.now();
      const ret = offload ? await codec.ctx.sendFrame(input) : codec.ctx.sendFrameSync(input);
      this.#offload.record(performance.now() - t1);
      if (offload) this.#stats.framesOffloaded++;
      check(ret, `${codec.codecName} encode`);
      this.#receive(codec, out);
      this.#stats.framesEncoded++;
      return out;
    } catch (error) {
      this.#stats.framesFailed++;
      throw error;
    } finally {
      this.#producedUs = us;
      this.#stats.busyMs += performance.now() - t0;
    }
  }

  /** The open codec for this picture's size, reopening (after draining into `out`) when needed. */
  async #codecFor(pic: I420View, us: number, out: EncodedVideoPacket[]): Promise<OpenVideoCodec> {
    const { mode, settings } = this.#opts;
    const last = this.#lastInput;
    const inputChanged = last !== undefined && (last.width !== pic.width || last.height !== pic.height);
    this.#lastInput = { width: pic.width, height: pic.height };
    const width = mode === 'reopen' ? pic.width & ~1 : settings.width;
    const height = mode === 'reopen' ? pic.height & ~1 : settings.height;
    if (width < 16 || height < 16) {
      throw new EncoderError(
        'INVALID_INPUT',
        `frame ${pic.width}x${pic.height} is too small to encode (16x16 min)`,
      );
    }
    let codec = this.#codec;
    const previous = { width: codec?.width ?? width, height: codec?.height ?? height };
    if (codec === undefined || codec.width !== width || codec.height !== height) {
      this.#retire(out);
      codec = await openVideoCodec(this.kind, { ...settings, width, height });
      this.#codec = codec;
      this.#lastKeyPts = undefined;
    }
    const outputChanged = previous.width !== width || previous.height !== height;
    if (this.#stats.packets > 0 && (inputChanged || outputChanged)) {
      if (outputChanged) this.#discontinuity = true;
      this.#stats.reconfigurations++;
      this.emit('reconfigured', {
        mode,
        outputChanged,
        inputWidth: pic.width,
        inputHeight: pic.height,
        previousWidth: previous.width,
        previousHeight: previous.height,
        width,
        height,
        timestampUs: us,
      });
    }
    return codec;
  }

  /** Writes the picture into the codec's reusable frame: plane copies, or swscale when sizes/formats differ. */
  #fill(codec: OpenVideoCodec, pic: I420View): void {
    const f = codec.frame;
    // Only when the encoder still holds the last picture: node-av's makeWritable() drops its cached
    // plane views, and the new ones report the whole frame to V8 as external memory (a major GC every
    // few frames at 1080p).
    if (!f.isWritable) check(f.makeWritable(), 'making the input frame writable');
    const planes = f.data;
    if (!planes) throw new EncoderError('ENCODE_FAILED', 'input frame has no buffers');
    const stride = f.linesize;
    const srcCw = Math.ceil(pic.width / 2);
    if (
      codec.swFormat === AV_PIX_FMT_YUV420P &&
      (pic.width & ~1) === codec.width &&
      (pic.height & ~1) === codec.height
    ) {
      // Same size (odd input loses its last column/row): straight copies, no scaler.
      const [y, u, v] = planes;
      if (!y || !u || !v) throw new EncoderError('ENCODE_FAILED', 'input frame lacks planes');
      const cw = codec.width / 2;
      const ch = codec.height / 2;
      copyPlane(y, stride[0] ?? 0, pic.y, pic.width, codec.width, codec.height);
      copyPlane(u, stride[1] ?? 0, pic.u, srcCw, cw, ch);
      copyPlane(v, stride[2] ?? 0, pic.v, srcCw, cw, ch);
      return;
    }
    const sws = this.#scaler(pic.width, pic.height, codec.width, codec.height, codec.swFormat);
    const ret = sws.scaleSync(
      [bufferView(pic.y), bufferView(pic.u), bufferView(pic.v)],
      [pic.width, srcCw, srcCw],
      0,
      pic.height,
      planes,
      stride,
    );
    check(ret, 'scaling', 'CONVERT_FAILED');
  }

  #scaler(sw: number, sh: number, dw: number, dh: number, format: AVPixelFormat): SoftwareScaleContext {
    const key = `${sw}x${sh}>${dw}x${dh}:${format}`;
    if (this.#sws?.key === key) return this.#sws.ctx;
    this.#sws?.ctx.freeContext();
    this.#sws = undefined;
    const ctx = new SoftwareScaleContext();
    ctx.getContext(sw, sh, AV_PIX_FMT_YUV420P, dw, dh, format, SWS_BILINEAR);
    this.#sws = { ctx, key };
    return ctx;
  }

  #receive(codec: OpenVideoCodec, out: EncodedVideoPacket[]): void {
    const pkt = codec.packet;
    for (;;) {
      const ret = codec.ctx.receivePacketSync(pkt);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
      check(ret, `${codec.codecName} receive`);
      const data = pkt.data;
      if (data) {
        const pts = Number(pkt.pts);
        const keyframe = pkt.isKeyframe;
        out.push({
          data,
          pts,
          dts: Number(pkt.dts),
          keyframe,
          width: codec.width,
          height: codec.height,
          discontinuity: this.#discontinuity,
        });
        this.#discontinuity = false;
        this.#stats.packets++;
        this.#stats.bytes += data.byteLength;
        if (keyframe) {
          this.#stats.keyframes++;
          this.#lastKeyPts = pts;
        }
      }
      pkt.unref();
    }
  }

  /** Detaches the open codec (if any), drains its last packets into `out` and frees it. */
  #retire(out: EncodedVideoPacket[]): void {
    const codec = this.#codec;
    if (!codec) return;
    this.#codec = undefined;
    try {
      this.#drain(codec, out);
    } finally {
      codec.free();
    }
  }

  #drain(codec: OpenVideoCodec, out: EncodedVideoPacket[]): void {
    const ret = codec.ctx.sendFrameSync(null);
    if (ret !== AVERROR_EOF) check(ret, `${codec.codecName} drain`);
    this.#receive(codec, out);
  }
}
