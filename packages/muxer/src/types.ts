/**
 * Public types of the muxer: track descriptions, the per-access-unit input and the sink contract.
 */

/** Codecs the muxer can carry. H.265 has a stream type reserved (see `STREAM_TYPE`) but no framing yet. */
export type TrackCodec = 'h264' | 'aac' | 'opus';

interface TrackOptionsBase {
  /**
   * Units per second of the `pts`/`dts` values given to {@link TsMuxer.write} for this track.
   * Converted exactly (integer arithmetic, rounded to the nearest tick) to the 90 kHz MPEG-TS clock.
   * Defaults: 90 000 for H.264, the sample rate for AAC, 48 000 for Opus.
   */
  timescale?: number;
}

/** H.264 video. Input is Annex B access units, or length-prefixed NAL units when `avcC` is given. */
export interface H264TrackOptions extends TrackOptionsBase {
  codec: 'h264';
  /**
   * AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3). When present, access units are
   * read as length-prefixed NAL units (MP4 style) and converted to Annex B; its SPS/PPS are used
   * before the first IDR if the stream omits them.
   */
  avcC?: Uint8Array;
}

/** AAC audio. Input is raw AAC frames when `audioSpecificConfig` is given, ADTS frames otherwise. */
export interface AacTrackOptions extends TrackOptionsBase {
  codec: 'aac';
  /** AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1); needed to build ADTS headers for raw frames. */
  audioSpecificConfig?: Uint8Array;
}

/** Opus audio, carried as in ETSI TS 102 366 Annex-style "Opus in MPEG-TS" (stream_type 0x06, control headers). */
export interface OpusTrackOptions extends TrackOptionsBase {
  codec: 'opus';
  /** 1 to 8. Mapping family 0 for 1–2 channels, Vorbis order (family 1) for 3–8. */
  channelCount: number;
  /** Samples at 48 kHz to discard at the start (OpusHead pre-skip); written as start_trim. Default 0. */
  preSkip?: number;
}

/** What {@link TsMuxer.addTrack} accepts. */
export type TrackOptions = H264TrackOptions | AacTrackOptions | OpusTrackOptions;

/** One encoded access unit (a video frame, or one audio frame). */
export interface EncodedPacket {
  /** Encoded bytes. Read synchronously during {@link TsMuxer.write}; never retained. */
  data: Uint8Array;
  /** Presentation time in the track's timescale. Must be finite and ≥ dts. */
  pts: number;
  /** Decode time in the track's timescale; defaults to `pts`. Must not go backwards on a track. */
  dts?: number;
  /**
   * For video: whether this access unit is an IDR. Defaults to what the NAL units say; `true`
   * without an IDR slice is an error. Ignored for audio (every audio frame is a random access point).
   */
  keyframe?: boolean;
}

/** What kind of elementary stream a sink chunk's PES belongs to. */
export type ChunkKind = 'video' | 'audio';

/**
 * Metadata handed to the sink with every chunk. The object is reused between calls:
 * copy what you need before returning.
 */
export interface ChunkInfo {
  /** Track the PES belongs to. */
  trackId: number;
  /** Kind of the track. */
  kind: ChunkKind;
  /** PTS of the first access unit in the chunk, 90 kHz ticks, not wrapped (monotonic across 2^33). */
  pts: number;
  /** DTS of the first access unit in the chunk, 90 kHz ticks, not wrapped. */
  dts: number;
  /** Duration covered by the chunk's access units in 90 kHz ticks when known (audio), else 0. */
  duration: number;
  /** Number of access units in the PES (1 for video, ≥ 1 for batched audio). */
  frames: number;
  /** The chunk holds an IDR (video) access unit. */
  keyframe: boolean;
  /**
   * The chunk starts with PAT and PMT and a player can start decoding here: an HLS segment may
   * begin with this chunk. True for IDR chunks, and for the first chunk after {@link TsMuxer.startSegment}.
   */
  randomAccess: boolean;
  /** The chunk follows a timebase discontinuity ({@link TsMuxer.markDiscontinuity}). */
  discontinuity: boolean;
  /** Length of the chunk in bytes: always a multiple of 188. */
  byteLength: number;
}

/**
 * Receives the muxed transport stream. Called synchronously with whole 188-byte packets, one call
 * per PES (plus any tables and PCR packets that precede it). `chunk` is a view into a buffer the
 * muxer reuses: write or copy it before returning.
 */
export type TsSink = (chunk: Uint8Array, info: ChunkInfo) => void;

/** Options of {@link TsMuxer}. */
export interface TsMuxerOptions {
  /** Where packets go. */
  sink: TsSink;
  /**
   * Constant offset between the mux clock and the PCR, in ms (1–900, default 500). Every PES's DTS is
   * at least this far ahead of the PCR when written on time; tracks may lag each other by up to this
   * much minus `maxAudioPesDurationMs`.
   */
  pcrOffsetMs?: number;
  /** Maximum gap between PCRs in ms (1–100, default 40). */
  pcrIntervalMs?: number;
  /** Maximum gap between PAT/PMT repetitions in ms (1–500, default 100). */
  tableIntervalMs?: number;
  /**
   * Audio frames are packed into one PES while it covers at most this many ms (0–100, default 100), so
   * audio reaches the sink promptly while header overhead stays low. 0 writes one PES per frame.
   */
  maxAudioPesDurationMs?: number;
  /** transport_stream_id written in the PAT. Default 1. */
  transportStreamId?: number;
  /** program_number of the single program. Default 1. */
  programNumber?: number;
}
