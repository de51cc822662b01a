/**
 * Why an encoder operation failed.
 *
 * - `INVALID_INPUT`: the frame or timestamp handed to `encode()` was rejected; the encoder is unchanged
 *   and stays usable.
 * - `QUEUE_FULL`: more than `maxPendingFrames` calls were waiting; the frame was not queued (the caller
 *   decides what to drop).
 * - `CLOSED`: the encoder was closed.
 * - `HARDWARE_UNAVAILABLE`: an explicitly requested hardware encoder cannot be opened here.
 * - `OPEN_FAILED`: a codec could not be opened with the given settings.
 * - `ENCODE_FAILED`, `CONVERT_FAILED`: FFmpeg or libopus returned an error while encoding, scaling or
 *   resampling.
 */
export type EncoderErrorCode =
  | 'INVALID_INPUT'
  | 'QUEUE_FULL'
  | 'CLOSED'
  | 'HARDWARE_UNAVAILABLE'
  | 'OPEN_FAILED'
  | 'ENCODE_FAILED'
  | 'CONVERT_FAILED';

/** Options of {@link EncoderError}. */
export interface EncoderErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The negative FFmpeg return code (AVERROR), when FFmpeg reported the failure. */
  ffmpegCode?: number;
}

/** A fault of `@trackrec/encoder`, with a machine-readable {@link EncoderErrorCode}. */
export class EncoderError extends Error {
  /** What went wrong; stable across versions. */
  readonly code: EncoderErrorCode;
  /** The FFmpeg return code (negative AVERROR), when FFmpeg reported it. */
  readonly ffmpegCode: number | undefined;

  constructor(code: EncoderErrorCode, message: string, options: EncoderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EncoderError';
    this.code = code;
    this.ffmpegCode = options.ffmpegCode;
  }
}
