/**
 * Constants of the MPEG-2 transport stream (ISO/IEC 13818-1) as this muxer uses them.
 */

/** Size of one transport packet (ISO/IEC 13818-1 §2.4.3.2). */
export const TS_PACKET_SIZE = 188;
/** sync_byte of every transport packet. */
export const TS_SYNC_BYTE = 0x47;
/** Bytes of payload in a packet with no adaptation field. */
export const TS_PAYLOAD_SIZE = 184;

/** Frequency of PTS/DTS and of the PCR base. */
export const CLOCK_90KHZ = 90_000;
/** PTS, DTS and the PCR base are 33-bit counters: they wrap at 2^33 ticks (≈ 26.5 h). */
export const TIMESTAMP_WRAP = 2 ** 33;
/** The PCR extension counts 27 MHz cycles within one 90 kHz tick. */
export const PCR_EXTENSION_DIVISOR = 300;

/** program_association_section PID. */
export const PAT_PID = 0x0000;
/** PID of our single program_map_section (FFmpeg's choice). */
export const PMT_PID = 0x1000;
/** First elementary stream PID; tracks take 0x100, 0x101, … */
export const FIRST_ES_PID = 0x0100;
/** Null/unused PID, written as PCR_PID when a program has no clock (never by us). */
export const NULL_PID = 0x1fff;

/** table_id values (ISO/IEC 13818-1 Table 2-31). */
export const TABLE_ID_PAT = 0x00;
export const TABLE_ID_PMT = 0x02;

/** stream_type values (ISO/IEC 13818-1 Table 2-34) for the codecs we carry or reserve. */
export const STREAM_TYPE = {
  /** ISO/IEC 14496-3 audio with ADTS transport syntax. */
  aac: 0x0f,
  /** ITU-T H.264 | ISO/IEC 14496-10. */
  h264: 0x1b,
  /** ITU-T H.265 | ISO/IEC 23008-2 (reserved for later). */
  h265: 0x24,
  /** PES private data: Opus, identified by its registration descriptor. */
  opus: 0x06,
} as const;

/** stream_id values (ISO/IEC 13818-1 Table 2-22). */
export const STREAM_ID = {
  /** video stream number 0. */
  video: 0xe0,
  /** audio stream number 0. */
  audio: 0xc0,
  /** private_stream_1, used by Opus in TS. */
  privateStream1: 0xbd,
} as const;
