import { AV_LOG_DEBUG, AV_LOG_ERROR, AV_LOG_INFO, AV_LOG_QUIET, AV_LOG_WARNING } from 'node-av/constants';
import { FFmpegError, Log } from 'node-av/lib';
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

/** How much FFmpeg itself prints to stderr (process-wide: FFmpeg has one log level). */
export type FFmpegLogLevel = 'quiet' | 'error' | 'warning' | 'info' | 'debug';

const LOG_LEVELS = {
  quiet: AV_LOG_QUIET,
  error: AV_LOG_ERROR,
  warning: AV_LOG_WARNING,
  info: AV_LOG_INFO,
  debug: AV_LOG_DEBUG,
} as const;

let logLevelChosen = false;

/**
 * Sets FFmpeg's process-wide log level. Unless this was called, the first encoder created sets
 * `'warning'`: at FFmpeg's default, libx264 and the AAC encoder print their statistics on every close,
 * which a recorder running for hours (or a CLI printing JSON) should not get on stderr.
 */
export function setFFmpegLogLevel(level: FFmpegLogLevel): void {
  const value = LOG_LEVELS[level];
  if (value === undefined) throw new RangeError(`level must be one of ${Object.keys(LOG_LEVELS).join(', ')}`);
  Log.setLevel(value);
  logLevelChosen = true;
}

/** Called by every encoder before it opens: applies the default level once. */
export function applyDefaultLogLevel(): void {
  if (!logLevelChosen) setFFmpegLogLevel('warning');
}
