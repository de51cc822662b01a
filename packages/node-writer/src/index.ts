/**
 * @trackrec/node-writer: synchronous, durable MPEG-TS file and HLS segment writing for Node.js.
 *
 * - {@link FileSink}: one file, one `writeSync` loop per chunk, fsync policy, errors that lose nothing written.
 * - {@link SegmentSink}: HLS segments cut at the muxer's random-access chunks, atomic playlists.
 * - {@link repairTs} / {@link repairHls}: make a crashed recording whole.
 * - {@link Mp4FileSink} / {@link Fmp4SegmentSink}: the same for fragmented MP4 (one write per fragment),
 *   {@link writeProgressiveMp4} for a progressive copy at the end, {@link repairMp4} after a crash.
 */

export {
  DiskFullError,
  SinkBusyError,
  SinkClosedError,
  WriteError,
  WriterError,
  type WriterErrorDetails,
} from './errors.js';
export { FileSink, type FileSinkOptions, type FileSinkStats } from './file-sink.js';
export {
  type Fmp4ChunkSink,
  type Fmp4SinkChunkInfo,
  type Mp4FilePart,
  Mp4FileSink,
  type Mp4FileSinkOptions,
  partPath,
} from './fmp4-file-sink.js';
export { Fmp4SegmentSink, type Fmp4SegmentSinkOptions } from './fmp4-segment-sink.js';
export { defaultFs, type WriterFs, type WriterStats } from './fs.js';
export { MAX_NAME_BYTES, MAX_PREFIX_BYTES } from './names.js';
export { HLS_FMP4_VERSION, HLS_VERSION, type PlaylistSegment } from './playlist.js';
export {
  type FragmentLayout,
  type ProgressiveReport,
  type WriteProgressiveOptions,
  writeProgressiveMp4,
} from './progressive.js';
export {
  type CompletePrefixLength,
  type HlsRepairReport,
  type RepairHlsOptions,
  type RepairTsOptions,
  repairHls,
  repairTs,
  type SegmentDurationOf,
  TS_PACKET_SIZE,
  type TsRepairReport,
} from './repair.js';
export {
  type CompleteFragmentedLength,
  type Fmp4HlsRepairReport,
  type Mp4RepairReport,
  type RepairFmp4HlsOptions,
  type RepairMp4Options,
  repairFmp4Hls,
  repairMp4,
} from './repair-mp4.js';
export {
  type FinishedSegment,
  SegmentSink,
  type SegmentSinkOptions,
  type SegmentSinkStats,
} from './segment-sink.js';
export { type ChunkSink, CLOCK_HZ, type FsyncPolicy, type SinkChunkInfo } from './types.js';
