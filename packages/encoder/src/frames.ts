import { EncoderError } from './errors.js';

/**
 * `VideoBufferType` values of `@livekit/rtc-node` (livekit `video_frame.proto`). Mirrored here so the
 * encoder does not need rtc-node at run time: any object shaped like its `VideoFrame` is accepted.
 */
export const VideoBufferType = Object.freeze({
  RGBA: 0,
  ABGR: 1,
  ARGB: 2,
  BGRA: 3,
  RGB24: 4,
  I420: 5,
  I420A: 6,
  I422: 7,
  I444: 8,
  I010: 9,
  NV12: 10,
} as const);

/** The structural shape of `@livekit/rtc-node`'s `VideoFrame` that the encoder relies on. */
export interface VideoFrameLike {
  /** Packed pixel data (planes back to back, no row padding), as rtc-node delivers it. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** A `VideoBufferType` value. */
  type: number;
  /** rtc-node's libyuv conversion, used once per frame for non-I420 input. */
  convert(dstType: number, flipY?: boolean): VideoFrameLike;
}

/** The structural shape of `@livekit/rtc-node`'s `AudioFrame`: interleaved signed 16-bit PCM. */
export interface AudioFrameLike {
  /** Interleaved samples, `channels * samplesPerChannel` long. */
  data: Int16Array;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** Number of interleaved channels. */
  channels: number;
  /** Samples per channel in `data`. */
  samplesPerChannel: number;
}

/**
 * Byte length of a packed rtc-node buffer (rtc-node `video_frame.ts` `getPlaneLength`, with chroma
 * sizes rounded up for odd dimensions). Returns undefined for unknown types.
 */
export function videoBufferLength(type: number, width: number, height: number): number | undefined {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  switch (type) {
    case VideoBufferType.RGBA:
    case VideoBufferType.ABGR:
    case VideoBufferType.ARGB:
    case VideoBufferType.BGRA:
      return width * height * 4;
    case VideoBufferType.RGB24:
    case VideoBufferType.I444:
      return width * height * 3;
    case VideoBufferType.I420:
    case VideoBufferType.NV12:
      return width * height + cw * ch * 2;
    case VideoBufferType.I420A:
      return width * height * 2 + cw * ch * 2;
    case VideoBufferType.I422:
      return width * height + cw * height * 2;
    case VideoBufferType.I010:
      return (width * height + cw * ch * 2) * 2;
    default:
      return undefined;
  }
}

/** An I420 picture: three packed planes with chroma stride `ceil(width / 2)`. */
export interface I420View {
  readonly width: number;
  readonly height: number;
  readonly y: Uint8Array;
  readonly u: Uint8Array;
  readonly v: Uint8Array;
}

function invalid(message: string): EncoderError {
  return new EncoderError('INVALID_INPUT', message);
}

/** Checks a frame's shape before anything native touches it (rtc-node's converter reads by size, unchecked). */
export function validateVideoFrame(frame: VideoFrameLike): void {
  if (frame === null || typeof frame !== 'object') throw invalid('frame must be a VideoFrame');
  const { width, height, data, type } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw invalid(`frame size must be positive integers, got ${String(width)}x${String(height)}`);
  }
  if (width > 16384 || height > 16384) throw invalid(`frame size ${width}x${height} exceeds 16384`);
  if (!(data instanceof Uint8Array)) throw invalid('frame.data must be a Uint8Array');
  const expected = videoBufferLength(type, width, height);
  if (expected === undefined) throw invalid(`frame.type ${String(type)} is not a known VideoBufferType`);
  if (data.byteLength < expected) {
    throw invalid(
      `frame.data holds ${data.byteLength} bytes, a ${width}x${height} frame of type ${type} needs ${expected}`,
    );
  }
}

/**
 * Returns the frame as packed I420, converting once with rtc-node's libyuv when it is not I420 already.
 * rtc-node passes `data.buffer` (ignoring `byteOffset`) to native code, so offset views are copied first.
 */
export function toI420(frame: VideoFrameLike): I420View {
  let src = frame;
  if (frame.type !== VideoBufferType.I420 && frame.type !== VideoBufferType.I420A) {
    const expected = videoBufferLength(frame.type, frame.width, frame.height) ?? 0;
    if (frame.data.byteOffset !== 0 || frame.data.buffer.byteLength < expected) {
      const Ctor = frame.constructor as new (
        d: Uint8Array,
        w: number,
        h: number,
        t: number,
      ) => VideoFrameLike;
      src = new Ctor(frame.data.slice(0, expected), frame.width, frame.height, frame.type);
    }
    try {
      src = src.convert(VideoBufferType.I420);
    } catch (cause) {
      throw new EncoderError('CONVERT_FAILED', `converting VideoBufferType ${frame.type} to I420 failed`, {
        cause,
      });
    }
    if (src.type !== VideoBufferType.I420 || src.width !== frame.width || src.height !== frame.height) {
      throw new EncoderError(
        'CONVERT_FAILED',
        'VideoFrame.convert did not return an I420 frame of the same size',
      );
    }
  }
  const { width, height, data } = src;
  const ySize = width * height;
  const cSize = Math.ceil(width / 2) * Math.ceil(height / 2);
  return {
    width,
    height,
    y: data.subarray(0, ySize),
    u: data.subarray(ySize, ySize + cSize),
    v: data.subarray(ySize + cSize, ySize + 2 * cSize),
  };
}

/** Checks an audio frame's fields and buffer length. */
export function validateAudioFrame(frame: AudioFrameLike): void {
  if (frame === null || typeof frame !== 'object') throw invalid('frame must be an AudioFrame');
  const { data, sampleRate, channels, samplesPerChannel } = frame;
  if (!(data instanceof Int16Array)) throw invalid('frame.data must be an Int16Array');
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw invalid(`frame.sampleRate must be an integer in [1000, 384000], got ${String(sampleRate)}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) {
    throw invalid(`frame.channels must be an integer in [1, 8], got ${String(channels)}`);
  }
  if (!Number.isInteger(samplesPerChannel) || samplesPerChannel < 0) {
    throw invalid(`frame.samplesPerChannel must be a non-negative integer, got ${String(samplesPerChannel)}`);
  }
  if (data.length < samplesPerChannel * channels) {
    throw invalid(
      `frame.data holds ${data.length} samples, ${samplesPerChannel} x ${channels} channels need ${samplesPerChannel * channels}`,
    );
  }
}
