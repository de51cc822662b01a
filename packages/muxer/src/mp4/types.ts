/**
 * Public types of the fragmented-MP4 muxer (ISO/IEC 14496-12 §8.8, movie fragments): its options, the
 * metadata given with each sink chunk, and the compact sample table from which a progressive file's
 * `moov` is rebuilt.
 */

import type { Mp4TrackDescription, Mp4TrackSamples } from './moov.js';

/** What a sink chunk holds: an init segment (`ftyp`+`moov`) or one fragment (`moof`+`mdat`). */
export type Fmp4ChunkKind = 'init' | 'fragment';

/**
 * Metadata handed to the sink with every chunk. The object is reused between calls: copy what you
 * need before returning.
 */
export interface Fmp4ChunkInfo {
  /** `'init'`: `ftyp` + `moov` (also returned by {@link Fmp4Muxer.initSegment}); `'fragment'`: `moof` + `mdat`. */
  kind: Fmp4ChunkKind;
  /**
   * For an init chunk: it replaces an earlier init segment because the video configuration changed
   * (new SPS/PPS, e.g. a resolution change). A file writer starts a new file with it; an HLS writer
   * points `#EXT-X-MAP` at it after an `#EXT-X-DISCONTINUITY`. False for the first init and fragments.
   */
  newInit: boolean;
  /**
   * On a `newInit` chunk (with `keepSampleTable`): the sample table of the configuration that just
   * ended, i.e. of the file part this init closes, for {@link buildProgressiveHeader} — views valid
   * during this sink call only (copy or use them before returning). Null on every other chunk.
   */
  finishedTable: Fmp4SampleTable | null;
  /** mfhd sequence_number of a fragment (1, 2, … across the whole recording); 0 for an init chunk. */
  sequenceNumber: number;
  /**
   * A fragment whose first video sample is an IDR (always true without video): a player can start
   * here, so an HLS segment may begin with this fragment. False for init chunks.
   */
  randomAccess: boolean;
  /** Earliest presentation time in the fragment, 90 kHz ticks (0 for init chunks). */
  pts: number;
  /** Earliest decode time in the fragment (its tfdt values), 90 kHz ticks. */
  dts: number;
  /** Span of the fragment from its earliest decode time to its latest sample end, 90 kHz ticks. */
  duration: number;
  /** Number of samples over all tracks. */
  samples: number;
  /** Offset of the mdat payload inside the chunk (0 for init chunks). */
  mdatPayloadOffset: number;
  /** Size of the mdat payload (0 for init chunks). */
  mdatPayloadSize: number;
  /** Length of the chunk in bytes. */
  byteLength: number;
}

/**
 * Receives the fragmented MP4: one synchronous call per init segment and per fragment. `chunk` is a
 * view into a buffer the muxer reuses: write or copy it before returning.
 */
export type Fmp4Sink = (chunk: Uint8Array, info: Fmp4ChunkInfo) => void;

/** Options of {@link Fmp4Muxer}. */
export interface Fmp4MuxerOptions {
  /** Where chunks go. */
  sink: Fmp4Sink;
  /**
   * A fragment is cut at every video keyframe, and otherwise once it spans this many ms
   * (10–10 000, default 1000): the most a crash can lose and the most the muxer holds in memory.
   */
  fragmentDurationMs?: number;
  /**
   * Keep the compact sample table (13 bytes per sample) needed by {@link Fmp4Muxer.sampleTable} to
   * build a progressive file at the end. Default true; false keeps memory flat on endless streams.
   */
  keepSampleTable?: boolean;
}

/**
 * Everything needed to write a progressive MP4 from the fragments written since the current init
 * segment, without re-encoding: the track descriptions, each track's samples (one chunk per
 * fragment), and where each fragment's mdat payload lies in the fragmented output.
 * Views into the muxer's tables: valid until its next write.
 */
export interface Fmp4SampleTable {
  /** The tracks of the current init segment, in track order. */
  tracks: Mp4TrackDescription[];
  /** Each track's samples, in the same order as `tracks`. */
  samples: Mp4TrackSamples[];
  /** Number of fragments. */
  fragmentCount: number;
  /** Per fragment: offset of its mdat payload counted from the first byte of the init segment. */
  fragmentPayloadOffsets: Float64Array;
  /** Per fragment: size of its mdat payload. */
  fragmentPayloadSizes: Float64Array;
  /** Sum of the payload sizes: the size of the progressive file's mdat payload. */
  mdatPayloadSize: number;
}
