/**
 * @trackrec/muxer/mp4 — a pure TypeScript fragmented MP4 muxer for live recording (ISO/IEC 14496-12
 * movie fragments; H.264 per ISO/IEC 14496-15, AAC per ISO/IEC 14496-14, Opus per the Opus-in-ISOBMFF
 * encapsulation), and the `moov` of a progressive MP4 rebuilt from its fragments. Browser-safe: no Node
 * APIs, no dependencies.
 */

export { MuxerInputError, type MuxerInputErrorCode } from '../errors.js';
export type { EncodedPacket, TrackCodec, TrackOptions } from '../types.js';
export { Fmp4Muxer } from './fmp4-muxer.js';
export type { Mp4TrackDescription, Mp4TrackSamples } from './moov.js';
export { buildProgressiveHeader, progressiveFromFragmented } from './progressive.js';
export { completeFragmentedLength } from './repair.js';
export type { Fmp4ChunkInfo, Fmp4ChunkKind, Fmp4MuxerOptions, Fmp4SampleTable, Fmp4Sink } from './types.js';
