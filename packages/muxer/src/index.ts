/**
 * @trackrec/muxer — a pure TypeScript MPEG-TS muxer for live recording (ISO/IEC 13818-1).
 * Browser-safe: no Node APIs, no dependencies. The stream checker lives in `@trackrec/muxer/inspect`.
 */

export { CLOCK_90KHZ, STREAM_TYPE, TIMESTAMP_WRAP, TS_PACKET_SIZE } from './constants.js';
export { crc32Mpeg2 } from './crc32.js';
export { MuxerInputError, type MuxerInputErrorCode } from './errors.js';
export { TsMuxer } from './muxer.js';
export { toTicks90k, wrap33 } from './timestamp.js';
export type {
  AacTrackOptions,
  ChunkInfo,
  ChunkKind,
  EncodedPacket,
  H264TrackOptions,
  OpusTrackOptions,
  TrackCodec,
  TrackOptions,
  TsMuxerOptions,
  TsSink,
} from './types.js';
