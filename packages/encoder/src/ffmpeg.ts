import { FFmpegError } from 'node-av/lib';
import { EncoderError, type EncoderErrorCode } from './errors.js';

/** Throws an {@link EncoderError} when an FFmpeg return code is negative; returns it otherwise. */
export function check(ret: number, operation: string, code: EncoderErrorCode = 'ENCODE_FAILED'): number {
  if (ret < 0) {
    throw new EncoderError(code, `${operation} failed: ${FFmpegError.strerror(ret)} (${ret})`, {
      ffmpegCode: ret,
    });
  }
  return ret;
}

/** FFmpeg's error text for a return code. */
export function describe(ret: number): string {
  return `${FFmpegError.strerror(ret)} (${ret})`;
}
