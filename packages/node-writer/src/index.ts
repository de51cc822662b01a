/**
 * @trackrec/node-writer: synchronous, durable MPEG-TS file and HLS segment writing for Node.js.
 *
 * - {@link FileSink}: one file, one `writeSync` loop per chunk, fsync policy, errors that lose nothing written.
 * - {@link SegmentSink}: HLS segments cut at the muxer's random-access chunks, atomic playlists.
 * - {@link repairTs} / {@link repairHls}: make a crashed recording whole.
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
export { defaultFs, type WriterFs, type WriterStats } from './fs.js';
export { MAX_NAME_BYTES, MAX_PREFIX_BYTES } from './names.js';
export { HLS_VERSION, type PlaylistSegment } from './playlist.js';
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
  CLOCK_HZ,
  type FinishedSegment,
  SegmentSink,
  type SegmentSinkOptions,
  type SegmentSinkStats,
} from './segment-sink.js';
export type { ChunkSink, FsyncPolicy, SinkChunkInfo } from './types.js';
