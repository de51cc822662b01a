/**
 * Types shared by the sinks. `SinkChunkInfo` mirrors the muxer's `ChunkInfo` structurally, so a muxer can
 * feed a sink without this package importing it (data flows muxer → writer, never back).
 */

/**
 * Metadata the muxer hands over with every chunk (structurally compatible with `ChunkInfo` of
 * `@trackrec/muxer`). Timestamps are 90 kHz ticks, not wrapped. Only the fields read here are required.
 */
export interface SinkChunkInfo {
  /** Track of the PES, or -1 for a chunk of table / PCR-only packets. */
  readonly trackId?: number;
  /** `'clock'` for chunks without media (tables, PCR only); their timestamps are ignored. */
  readonly kind: 'video' | 'audio' | 'clock';
  /** PTS of the first access unit, 90 kHz ticks. */
  readonly pts: number;
  /** DTS of the first access unit, 90 kHz ticks. */
  readonly dts?: number;
  /** Duration of the chunk's access units in 90 kHz ticks when known (audio), else 0. */
  readonly duration?: number;
  /** Number of access units in the chunk. */
  readonly frames?: number;
  /** The chunk holds an IDR. */
  readonly keyframe?: boolean;
  /** The chunk starts with PAT+PMT and a decoder can start here: an HLS segment may begin with it. */
  readonly randomAccess: boolean;
  /** The chunk follows a timebase discontinuity. */
  readonly discontinuity?: boolean;
  /** Length of the chunk in bytes. */
  readonly byteLength?: number;
}

/** The MPEG-TS clock: timestamps in chunk info are 90 kHz ticks. */
export const CLOCK_HZ = 90_000;

/** A muxer-compatible sink function: consumes `chunk` synchronously before returning. */
export type ChunkSink = (chunk: Uint8Array, info: SinkChunkInfo) => void;

/**
 * When data is forced to the device:
 * - `'none'`: never (the OS writes back on its own, typically within 30 s; a power cut loses that much);
 * - `'always'`: `fdatasync` after every chunk (slowest, loses nothing acknowledged);
 * - `{ intervalMs }`: `fdatasync` on the first write at least `intervalMs` after the previous sync.
 *   There is no timer: when writes stop, call `sync()` (or `close()`, which syncs).
 */
export type FsyncPolicy = 'none' | 'always' | { readonly intervalMs: number };

/** Checks an fsync policy option, throwing a `TypeError`/`RangeError` that names `option`. @internal */
export function validateFsyncPolicy(value: unknown, option: string): FsyncPolicy {
  if (value === 'none' || value === 'always') return value;
  if (typeof value === 'object' && value !== null && 'intervalMs' in value) {
    const ms = (value as { intervalMs: unknown }).intervalMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      throw new RangeError(`${option}.intervalMs must be a positive number`);
    }
    return { intervalMs: ms };
  }
  throw new TypeError(`${option} must be 'none', 'always' or { intervalMs: number }`);
}
