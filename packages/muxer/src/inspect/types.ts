/**
 * Public types of the MPEG-TS checker (ISO/IEC 13818-1 transport streams; thresholds from ETSI TR 101 290).
 */

/** Codec of an elementary stream, derived from the PMT's stream_type and descriptors. */
export type StreamCodec = 'h264' | 'h265' | 'aac' | 'opus' | 'unknown';

/** Machine-readable kind of a {@link Violation}. */
export type ViolationCode =
  /** A packet did not start with the sync byte 0x47; bytes were skipped until sync was found again. */
  | 'SYNC_LOST'
  /** transport_error_indicator set: the packet was marked corrupt upstream and ignored. */
  | 'TRANSPORT_ERROR'
  /** adaptation_field_control '00' or an adaptation_field_length that does not fit the packet. */
  | 'INVALID_PACKET'
  /** continuity_counter did not advance by one (a duplicate is allowed once) without discontinuity_indicator. */
  | 'CC_ERROR'
  /** A PSI section whose CRC_32 does not check. */
  | 'CRC_ERROR'
  /** A malformed PSI section (bad section_length, table_id on the wrong PID, truncated loop). */
  | 'INVALID_SECTION'
  /** The stream does not begin with a PAT and then the PMT (only other SI PIDs may come first). */
  | 'PSI_NOT_FIRST'
  /** No PAT in the whole stream. */
  | 'MISSING_PAT'
  /** The PAT names a PMT PID that never carries a valid PMT. */
  | 'MISSING_PMT'
  /** Two PATs further apart than `maxTableGapMs` (also measured from the last PAT to the end). */
  | 'PAT_GAP'
  /** Two PMTs further apart than `maxTableGapMs` (also measured from the last PMT to the end). */
  | 'PMT_GAP'
  /** No PCR at all on the PCR_PID (or PCR_PID 0x1FFF). */
  | 'PCR_MISSING'
  /** Two consecutive PCRs further apart than `maxPcrGapMs`. */
  | 'PCR_GAP'
  /** A PCR smaller than the previous one without discontinuity_indicator. */
  | 'PCR_BACKWARDS'
  /** A PES began before the first PCR of the program. */
  | 'PAYLOAD_BEFORE_PCR'
  /** DTS (or PTS) − PCR ≤ `minDtsMinusPcrMs`: the access unit would be decoded before it arrives. */
  | 'DTS_BEFORE_PCR'
  /** DTS (or PTS) − PCR > `maxDtsMinusPcrMs`: more buffering than a decoder model allows. */
  | 'DTS_PCR_TOO_FAR'
  /** A PES without PTS (PTS_DTS_flags '00'). */
  | 'PES_WITHOUT_PTS'
  /** A PES header that cannot be parsed (no start code, forbidden flags, wrong marker bits). */
  | 'INVALID_PES_HEADER'
  /** DTS went backwards on a PID (after undoing the 33-bit wrap), with no discontinuity_indicator. */
  | 'PTS_BACKWARDS'
  /** A PES that ended before its PES_packet_length (or its header) was complete. */
  | 'TRUNCATED_PES'
  /** An audio PES with PES_packet_length 0, or more bytes than PES_packet_length. */
  | 'PES_LENGTH_MISMATCH'
  /** An H.264/H.265 PES whose first NAL unit is not an access unit delimiter. */
  | 'AUD_NOT_FIRST'
  /** An IDR/IRAP picture without SPS and PPS (and VPS for H.265) earlier in the same access unit. */
  | 'IDR_WITHOUT_SPS_PPS'
  /** Several H.264/H.265 access units (AUDs) in one PES: players that take a PES for a frame break. */
  | 'MULTIPLE_AUS_IN_PES'
  /** PTS earlier than DTS in a PES header. */
  | 'PTS_BEFORE_DTS'
  /** The first access unit of a video PID is not a random access point. */
  | 'FIRST_VIDEO_NOT_IDR'
  /** ADTS frames that do not start with a valid header or do not chain exactly to the PES end. */
  | 'INVALID_ADTS'
  /** Opus control headers that do not start with the 0x3FF prefix or whose au_size does not chain. */
  | 'INVALID_OPUS_CONTROL_HEADER'
  /** The stream ends with bytes that do not form a whole 188-byte packet. */
  | 'TRAILING_PARTIAL_PACKET';

/** One problem found in the stream. */
export interface Violation {
  code: ViolationCode;
  /** PID concerned, or -1 for stream-level problems. */
  pid: number;
  /**
   * Index of the packet concerned (for PES-level problems, the first packet of the PES), counting
   * every 188-byte packet read, including packets dropped for a bad sync byte.
   */
  packetIndex: number;
  /** Byte offset of that packet from the start of the stream. */
  byteOffset: number;
  /** Human-readable explanation with the measured values. */
  message: string;
}

/** Thresholds of the checker. All durations are in milliseconds. */
export interface InspectOptions {
  /**
   * Largest allowed interval between two PATs, and between two PMTs, in PCR time. Default 500
   * (TR 101 290 priority 1). Streams written by `TsMuxer` promise 100.
   */
  maxTableGapMs?: number;
  /** Largest allowed interval between two PCRs. Default 100 (ISO/IEC 13818-1); DVB asks for 40. */
  maxPcrGapMs?: number;
  /** DTS − PCR must be strictly greater than this. Default 0. */
  minDtsMinusPcrMs?: number;
  /** DTS − PCR must be at most this. Default 1000. */
  maxDtsMinusPcrMs?: number;
  /**
   * Whether the stream must begin with PAT then PMT. Default true; pass false for a stream cut at an
   * arbitrary point.
   */
  requirePsiFirst?: boolean;
  /** How many violations the report keeps in full (the counts per code are always complete). Default 100. */
  maxViolations?: number;
}

/** A program of the PAT with what its PMT says. */
export interface ProgramReport {
  programNumber: number;
  pmtPid: number;
  /** PCR_PID of the PMT, or null until a valid PMT was seen. 0x1FFF means "no PCR". */
  pcrPid: number | null;
  /** PMT version_number last seen, or null. */
  version: number | null;
}

/** One elementary stream of a PMT. Timestamps are 90 kHz ticks, unwrapped (monotonic across 2^33). */
export interface StreamReport {
  pid: number;
  programNumber: number;
  /** stream_type of the PMT, or -1 for a PID carrying PES that no PMT describes. */
  streamType: number;
  codec: StreamCodec;
  /** TS packets on this PID. */
  packets: number;
  /** PES packets that started on this PID. */
  pesCount: number;
  /** Access units found: H.264/H.265 AUDs (or PES when none), ADTS frames, Opus packets. */
  frames: number;
  /** Video PES holding an IDR (H.264) or IRAP (H.265) picture. */
  keyframes: number;
  firstPts: number | null;
  lastPts: number | null;
  firstDts: number | null;
  lastDts: number | null;
  /**
   * Span of presentation: max PTS − min PTS plus the duration of the last PES (audio: from its
   * frames; video: the last DTS step), summed over the time-base epochs split by discontinuities.
   */
  durationMs: number;
  /** Continuity-counter errors on this PID. */
  ccErrors: number;
  /** Elementary-stream bytes (PES payload after the PES header). */
  bytes: number;
}

/** Packet counts per PID, every PID that appeared. */
export interface PidReport {
  pid: number;
  kind: 'pat' | 'pmt' | 'pes' | 'null' | 'other';
  packets: number;
  ccErrors: number;
}

/** What {@link TsInspector.finish} and {@link inspectTs} return. */
export interface TsReport {
  /** Whole packets with a valid sync byte. */
  packets: number;
  /** Every byte given to the checker. */
  bytes: number;
  /** Bytes at the end that do not form a whole packet. */
  trailingBytes: number;
  /** Bytes skipped while looking for sync. */
  skippedBytes: number;
  programs: ProgramReport[];
  streams: StreamReport[];
  pids: PidReport[];
  /** PCR_PID of the first program, or null before any PMT. */
  pcrPid: number | null;
  pcrCount: number;
  /** Largest interval between consecutive PCRs, or null with fewer than two PCRs. */
  maxPcrGapMs: number | null;
  /**
   * Largest interval between consecutive PATs (and from the last one to the end of the stream), in
   * PCR time: a table's time is the PCR in effect at its packet (the last PCR received, not an
   * interpolation by byte position); tables before the first PCR count as seen at the first PCR. Without any PCR the PES
   * time (largest DTS seen so far) is the clock. Null without a PAT.
   */
  maxPatGapMs: number | null;
  /** As {@link TsReport.maxPatGapMs}, over the PMTs of every program. */
  maxPmtGapMs: number | null;
  /**
   * Range of DTS (PTS without DTS) − PCR over all PES. The minimum uses the last PCR received up to
   * the PES's last packet, the maximum the last PCR up to its first packet. Null without a measure.
   */
  dtsMinusPcrMs: { min: number; max: number } | null;
  /** Largest {@link StreamReport.durationMs}. */
  durationMs: number;
  /**
   * The first `maxViolations` violations found, sorted by byte offset (PES-level ones are found when
   * the PES ends, so the list may miss an early one when it is full).
   */
  violations: Violation[];
  /** Number of violations per code, complete even when `violations` was capped. */
  violationCounts: Partial<Record<ViolationCode, number>>;
  /** Total number of violations. */
  violationTotal: number;
  /** True when no violation was found. */
  ok: boolean;
}
