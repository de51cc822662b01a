/**
 * Named faults of the recorder. Input validation at public boundaries throws `TypeError`/`RangeError`.
 */

/**
 * Why a recording or a room connection failed.
 * - `CONNECT_FAILED`: the room could not be joined (bad URL, refused, bad token).
 * - `CONNECT_TIMEOUT`: joining took longer than `connectTimeoutMs`.
 * - `DISK`: a write failed (disk full, I/O error); `cause` is the node-writer error.
 * - `ENCODER`: an encoder could not open or failed; `cause` is the `EncoderError`.
 * - `MUXER`: the muxer refused its input; `cause` is the `MuxerInputError`.
 * - `SOURCE`: reading a track's frames failed.
 */
export type RecorderErrorCode =
  | 'CONNECT_FAILED'
  | 'CONNECT_TIMEOUT'
  | 'DISK'
  | 'ENCODER'
  | 'MUXER'
  | 'SOURCE';

/** A fault of `@trackrec/core`, with a stable {@link RecorderErrorCode}. */
export class RecorderError extends Error {
  /** What went wrong; stable across versions. */
  readonly code: RecorderErrorCode;

  constructor(code: RecorderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecorderError';
    this.code = code;
  }
}
