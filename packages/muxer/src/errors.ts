/**
 * Errors of the muxer. Public boundaries throw `TypeError`/`RangeError` for wrong options;
 * a packet the muxer refuses throws {@link MuxerInputError}, and nothing of it reaches the sink.
 */

/** Why a packet was refused. */
export type MuxerInputErrorCode =
  | 'INVALID_TIMESTAMP'
  | 'DTS_BACKWARDS'
  | 'PTS_BEFORE_DTS'
  | 'DTS_BEFORE_PCR'
  | 'NOT_ANNEX_B'
  | 'INVALID_NAL'
  | 'NOT_KEYFRAME'
  | 'MISSING_PARAMETER_SETS'
  | 'INVALID_ADTS'
  | 'INVALID_AAC'
  | 'INVALID_OPUS'
  | 'EMPTY_PACKET'
  | 'UNKNOWN_TRACK'
  | 'CLOSED';

/** A packet the muxer refused. The stream written so far stays valid; later packets may continue it. */
export class MuxerInputError extends Error {
  override readonly name = 'MuxerInputError';
  /** Machine-readable reason. */
  readonly code: MuxerInputErrorCode;
  /** Track the packet was written to, or -1. */
  readonly trackId: number;

  constructor(code: MuxerInputErrorCode, message: string, trackId = -1) {
    super(message);
    this.code = code;
    this.trackId = trackId;
  }
}

/** Internal invariant check; a failure is a bug in the muxer, never the caller's input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`@trackrec/muxer internal error: ${message}`);
}
