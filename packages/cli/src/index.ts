/**
 * `trackrec`: the command line (record, demo, probe, repair, serve) and its building blocks, for
 * scripts and for the commands that build on them.
 *
 * @packageDocumentation
 */

export {
  numberOption,
  type OptionSpec,
  onePositional,
  type ParsedArgs,
  parseCommandArgs,
  UsageError,
} from './args.js';
export { main, topLevelHelp } from './cli.js';
export type { Command, CommandContext } from './commands/command.js';
export { demoCommand, parseSize } from './commands/demo.js';
export { COMMANDS } from './commands/index.js';
export {
  createRecordCommand,
  DEFAULT_OUT,
  type RecordDeps,
  recordCommand,
  splitOutTemplate,
} from './commands/record.js';
export { type CliIo, EXIT, type TextOutput, writeJsonLine } from './io.js';
export {
  type MediaPlaylist,
  type PlaylistEntry,
  parseMediaPlaylist,
  resolveSegmentPath,
  UnsafeUriError,
} from './m3u8.js';
export {
  formatMp4Probe,
  type Mp4Context,
  type Mp4Probe,
  type Mp4TrackProbe,
  newMp4Context,
  probeMp4Bytes,
  probeMp4File,
} from './mp4-probe.js';
export { type PlaylistProbe, probePlaylist, probeTsFile, type SegmentProbe } from './probe.js';
export {
  detectHlsLayout,
  type HlsLayout,
  LayoutError,
  type LayoutHints,
  Mp4RepairError,
  repairFmp4HlsDir,
  repairHlsDir,
  repairMp4File,
  repairTsFile,
  segmentDurationOf,
} from './repair.js';
export { checkOutputs, describeRecording, type OutputCheck } from './report.js';
export {
  listRecordings,
  parseRange,
  type RecordingEntry,
  type RecordingServer,
  type ServeOptions,
  safeRelativePath,
  startServer,
} from './server.js';
export {
  formatBitrate,
  formatBytes,
  formatElapsed,
  formatLastWrite,
  formatStatus,
  StatusLine,
  type StatusLineOptions,
  type StatusSnapshot,
} from './status-line.js';
export { TestPicture, TestTone } from './test-pattern.js';
