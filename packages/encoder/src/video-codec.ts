import {
  AV_HWDEVICE_TYPE_VAAPI,
  AV_PIX_FMT_NV12,
  AV_PIX_FMT_VAAPI,
  AV_PIX_FMT_YUV420P,
  AV_PROFILE_H264_BASELINE,
  AV_PROFILE_H264_HIGH,
  AV_PROFILE_H264_MAIN,
  AVCOL_RANGE_MPEG,
  AVCOL_SPC_SMPTE170M,
  type AVPixelFormat,
  FF_ENCODER_H264_NVENC,
  FF_ENCODER_H264_QSV,
  FF_ENCODER_H264_VAAPI,
  FF_ENCODER_LIBX264,
} from 'node-av/constants';
import {
  Codec,
  CodecContext,
  Dictionary,
  Frame,
  HardwareDeviceContext,
  HardwareFramesContext,
  Packet,
  Rational,
} from 'node-av/lib';
import { EncoderError } from './errors.js';
import { check, describe } from './ffmpeg.js';
import { ENCODER_NAMES, type EncoderKind } from './hardware.js';

/** H.264 profile of the output. */
export type H264Profile = 'baseline' | 'main' | 'high';

/** x264 speed preset (`--preset`); faster presets cost less CPU per frame at lower quality per bit. */
export type X264Preset =
  | 'ultrafast'
  | 'superfast'
  | 'veryfast'
  | 'faster'
  | 'fast'
  | 'medium'
  | 'slow'
  | 'slower'
  | 'veryslow';

/** Everything needed to open one H.264 encoder instance. */
export interface VideoCodecSettings {
  width: number;
  height: number;
  fps: number;
  bitrate: number;
  maxBitrate: number;
  bufferSize: number;
  gopFrames: number;
  profile: H264Profile;
  x264Preset: X264Preset;
  threads: number;
  vaapiDevice: string;
}

/** 90 kHz: the MPEG-TS clock, so packets need no rescaling downstream. */
export const VIDEO_TIME_BASE = 90_000;

const ENCODERS = {
  software: FF_ENCODER_LIBX264,
  nvenc: FF_ENCODER_H264_NVENC,
  qsv: FF_ENCODER_H264_QSV,
  vaapi: FF_ENCODER_H264_VAAPI,
} as const;

const PROFILE_IDS = {
  baseline: AV_PROFILE_H264_BASELINE,
  main: AV_PROFILE_H264_MAIN,
  high: AV_PROFILE_H264_HIGH,
} as const;

/**
 * One opened encoder with the frame and packet it reuses. `dict` stays referenced until `free()`:
 * node-av crashed when the options dictionary of an open was collected early.
 */
export class OpenVideoCodec {
  readonly kind: EncoderKind;
  readonly codecName: string;
  readonly width: number;
  readonly height: number;
  /** Pixel format of `frame` (what we write into). */
  readonly swFormat: AVPixelFormat;
  readonly ctx: CodecContext;
  readonly frame: Frame;
  readonly packet: Packet;
  readonly #dict: Dictionary;
  readonly #hwDevice: HardwareDeviceContext | undefined;
  readonly #hwFrames: HardwareFramesContext | undefined;
  readonly hwFrame: Frame | undefined;
  #freed = false;

  constructor(init: {
    kind: EncoderKind;
    width: number;
    height: number;
    swFormat: AVPixelFormat;
    ctx: CodecContext;
    frame: Frame;
    packet: Packet;
    dict: Dictionary;
    hwDevice?: HardwareDeviceContext;
    hwFrames?: HardwareFramesContext;
    hwFrame?: Frame;
  }) {
    this.kind = init.kind;
    this.codecName = ENCODER_NAMES[init.kind];
    this.width = init.width;
    this.height = init.height;
    this.swFormat = init.swFormat;
    this.ctx = init.ctx;
    this.frame = init.frame;
    this.packet = init.packet;
    this.#dict = init.dict;
    this.#hwDevice = init.hwDevice;
    this.#hwFrames = init.hwFrames;
    this.hwFrame = init.hwFrame;
  }

  /** Frees the codec context, frames, packet, hardware contexts and options. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.ctx.freeContext();
    this.frame.free();
    this.hwFrame?.free();
    this.packet.free();
    this.#hwFrames?.free();
    this.#hwDevice?.free();
    this.#dict.free();
  }
}

function codecOptions(kind: EncoderKind, s: VideoCodecSettings): Record<string, string> {
  switch (kind) {
    case 'software':
      return {
        preset: s.x264Preset,
        tune: 'zerolatency',
        profile: s.profile,
        // A forced keyframe (pict_type I) becomes an IDR, so every segment can start with one.
        'forced-idr': '1',
        // Keyframes only where we ask or at the GOP length: predictable segment boundaries.
        'x264-params': `scenecut=0:keyint_min=${s.gopFrames}`,
      };
    case 'nvenc':
      return { preset: 'p4', tune: 'll', rc: 'cbr', profile: s.profile, 'forced-idr': '1', zerolatency: '1' };
    case 'qsv':
      return { preset: 'veryfast', forced_idr: '1', look_ahead: '0', async_depth: '1' };
    case 'vaapi':
      return { rc_mode: 'CBR' };
  }
}

/**
 * Opens the encoder of `kind` at `s.width`×`s.height`. Throws {@link EncoderError} (`OPEN_FAILED`, or
 * `HARDWARE_UNAVAILABLE` for hardware kinds) after freeing whatever was allocated.
 */
export async function openVideoCodec(kind: EncoderKind, s: VideoCodecSettings): Promise<OpenVideoCodec> {
  const name = ENCODER_NAMES[kind];
  const failCode = kind === 'software' ? 'OPEN_FAILED' : 'HARDWARE_UNAVAILABLE';
  const codec = Codec.findEncoderByName(ENCODERS[kind]);
  if (!codec) throw new EncoderError(failCode, `${name} is not compiled into this FFmpeg build`);

  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  const frame = new Frame();
  const packet = new Packet();
  const dict = Dictionary.fromObject(codecOptions(kind, s));
  let hwDevice: HardwareDeviceContext | undefined;
  let hwFrames: HardwareFramesContext | undefined;
  let hwFrame: Frame | undefined;
  const swFormat = kind === 'software' || kind === 'nvenc' ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_NV12;
  try {
    ctx.width = s.width;
    ctx.height = s.height;
    ctx.timeBase = new Rational(1, VIDEO_TIME_BASE);
    ctx.framerate = new Rational(s.fps, 1);
    ctx.sampleAspectRatio = new Rational(1, 1);
    ctx.bitRate = BigInt(s.bitrate);
    ctx.rcMaxRate = BigInt(s.maxBitrate);
    ctx.rcBufferSize = s.bufferSize;
    ctx.gopSize = s.gopFrames;
    ctx.maxBFrames = 0;
    ctx.threadCount = s.threads;
    ctx.colorRange = AVCOL_RANGE_MPEG;
    ctx.colorSpace = AVCOL_SPC_SMPTE170M;
    if (kind !== 'software' && kind !== 'nvenc') ctx.profile = PROFILE_IDS[s.profile];
    if (kind === 'vaapi') {
      hwDevice = new HardwareDeviceContext();
      const ret = hwDevice.create(AV_HWDEVICE_TYPE_VAAPI, s.vaapiDevice, null);
      if (ret < 0) {
        throw new EncoderError(failCode, `VA-API device ${s.vaapiDevice}: ${describe(ret)}`, {
          ffmpegCode: ret,
        });
      }
      hwFrames = new HardwareFramesContext();
      hwFrames.alloc(hwDevice);
      hwFrames.format = AV_PIX_FMT_VAAPI;
      hwFrames.swFormat = AV_PIX_FMT_NV12;
      hwFrames.width = s.width;
      hwFrames.height = s.height;
      hwFrames.initialPoolSize = 8;
      check(hwFrames.init(), 'VA-API frame pool init', failCode);
      ctx.pixelFormat = AV_PIX_FMT_VAAPI;
      ctx.hwFramesCtx = hwFrames;
      hwFrame = new Frame();
      hwFrame.alloc();
    } else {
      ctx.pixelFormat = swFormat;
    }
    const ret = await ctx.open2(codec, dict);
    if (ret < 0) {
      throw new EncoderError(failCode, `opening ${name} ${s.width}x${s.height} failed: ${describe(ret)}`, {
        ffmpegCode: ret,
      });
    }
    frame.alloc();
    frame.format = swFormat;
    frame.width = s.width;
    frame.height = s.height;
    check(frame.allocBuffer(), 'allocating the input frame', 'OPEN_FAILED');
    packet.alloc();
    return new OpenVideoCodec({
      kind,
      width: s.width,
      height: s.height,
      swFormat,
      ctx,
      frame,
      packet,
      dict,
      ...(hwDevice ? { hwDevice } : {}),
      ...(hwFrames ? { hwFrames } : {}),
      ...(hwFrame ? { hwFrame } : {}),
    });
  } catch (error) {
    ctx.freeContext();
    frame.free();
    hwFrame?.free();
    packet.free();
    hwFrames?.free();
    hwDevice?.free();
    dict.free();
    if (error instanceof EncoderError) throw error;
    throw new EncoderError(failCode, `opening ${name} failed: ${String(error)}`, { cause: error });
  }
}
