/**
 * Public types of the recorder: options, status, results and metrics. Result shapes follow LiveKit
 * Egress (`livekit_egress.proto` `FileInfo`, `SegmentsInfo`, `EgressStatus`), with times in ms.
 */

import type { AudioCodecName, HardwarePreference, VideoPresetName, X264Preset } from '@trackrec/encoder';
import type { FsyncPolicy } from '@trackrec/node-writer';
import type { RecorderLogger } from './log.js';
import type { TemplateValues } from './names.js';

/**
 * Lifecycle of a recording (Egress `EgressStatus` names without the prefix):
 * `STARTING → ACTIVE → ENDING → COMPLETE | FAILED | ABORTED | LIMIT_REACHED`.
 */
export type RecordingStatus =
  | 'STARTING'
  | 'ACTIVE'
  | 'ENDING'
  | 'COMPLETE'
  | 'FAILED'
  | 'ABORTED'
  | 'LIMIT_REACHED';

/** How a recording was asked for (logged, and reported in {@link RecordingInfo.mode}). */
export type RecordingMode = 'participant' | 'track_composite' | 'track' | 'auto' | 'custom';

/** Egress `EncodingOptions`; explicit values override the preset's. */
export interface EncodingOptions {
  /** Output width (even). */
  width?: number;
  /** Output height (even). */
  height?: number;
  /** Frame rate used for rate control and the GOP length. */
  framerate?: number;
  /** Video bitrate, kb/s (Egress unit). */
  videoBitrate?: number;
  /** Seconds between keyframes; default 2 (the HLS segment duration is a multiple of it). */
  keyFrameInterval?: number;
  /** `aac` (default) or `opus`. */
  audioCodec?: AudioCodecName;
  /** Audio bitrate, kb/s (Egress unit); default 128. */
  audioBitrate?: number;
  /** Audio sample rate, Hz; default 48000. */
  audioFrequency?: number;
  /** Audio channels, 1 or 2; default 2. */
  audioChannels?: number;
  /** x264 speed preset; default `veryfast`. */
  x264Preset?: X264Preset;
  /** Hardware encoder choice; default `software` (predictable on shared machines). */
  hardware?: HardwarePreference;
  /** `scale` (default): keep the output size when the input size changes; `reopen`: follow it. */
  onResolutionChange?: 'scale' | 'reopen';
}

/** A growing MPEG-TS file, or a fragmented MP4 (Egress `EncodedFileType` `MP4`). */
export interface FileOutput {
  /**
   * File path template relative to `outputDir` (may contain `/` for sub-directories); `.ts` (`.mp4`)
   * is added when missing. Default `{room_name}-{publisher_identity}-{time}`.
   */
  filepath?: string;
  /** fsync policy; default `{ intervalMs: 1000 }`. */
  fsync?: FsyncPolicy;
  /**
   * `'ts'` (default): MPEG-TS. `'mp4'`: fragmented MP4, one fragment per write (valid after every
   * write); a resolution change continues in `name.1.mp4`, `name.2.mp4`…
   */
  fileType?: 'ts' | 'mp4';
  /**
   * `fileType: 'mp4'` only: on a clean stop, rewrite the file as a standard progressive MP4 (moov before
   * mdat, no re-encoding) via a temp file, fsync and rename; on failure the fragmented file stays.
   * Default true.
   */
  progressive?: boolean;
}

/** HLS segments with an EVENT playlist (and optionally a live sliding playlist). */
export interface SegmentsOutput {
  /** Segment prefix template relative to `outputDir`; default `{room_name}-{publisher_identity}-{time}`. */
  filenamePrefix?: string;
  /** Playlist file name template; default `{prefix}.m3u8`. */
  playlistName?: string;
  /** Live playlist file name template; default none. */
  livePlaylistName?: string;
  /** Target segment duration, seconds; default 4 (Egress). */
  segmentDuration?: number;
  /** fsync policy; default `{ intervalMs: 1000 }`. */
  fsync?: FsyncPolicy;
  /**
   * `'ts'` (default): MPEG-TS segments. `'fmp4'`: fMP4 segments (`.m4s`, `EXT-X-MAP` init segment,
   * `EXT-X-VERSION:7`); a resolution change adds a new init segment after `EXT-X-DISCONTINUITY`.
   */
  segmentType?: 'ts' | 'fmp4';
}

/** Gap filling while a track delivers nothing (muted, unpublished, not yet published). */
export interface GapFillOptions {
  /** Video: start repeating the last frame (or black) after this much silence, ms. Default 500. */
  videoAfterMs?: number;
  /** Video filler frame rate; default 2. 0 disables video filling. */
  videoFps?: number;
  /** Audio: start writing silence after this much silence, ms. Default 300. */
  audioAfterMs?: number;
}

/** Watchdog thresholds. */
export interface HealthOptions {
  /** Warn when no disk write happened (or the file did not grow while frames arrive) for this long, ms. Default 5000. */
  stallMs?: number;
  /** How often the watchdog looks, ms. Default 1000. */
  checkIntervalMs?: number;
}

/** Options of a {@link TrackRecording}. */
export interface RecordingOptions {
  /** Directory every output file is written in (created if missing). Nothing is written outside it. */
  outputDir: string;
  /** A growing TS (or, with `fileType: 'mp4'`, fragmented MP4) file; default when `segments` is not given. `false` disables it. */
  file?: FileOutput | boolean;
  /** HLS segments from the same encode. */
  segments?: SegmentsOutput;
  /** Record a video track (default true). */
  video?: boolean;
  /** Record an audio track (default true). */
  audio?: boolean;
  /** Egress preset; default `H264_720P_30`. */
  preset?: VideoPresetName;
  /** Encoding options; override the preset. */
  encoding?: EncodingOptions;
  /** Values for filename templates (room, identity, track). */
  names?: TemplateValues;
  /** Stop with `LIMIT_REACHED` after this many seconds of media. */
  maxDurationS?: number;
  /** Stop with `LIMIT_REACHED` once this many bytes are written (per output). */
  maxSizeBytes?: number;
  /** Video frames buffered while the encoder is busy; the oldest are dropped beyond it. Default 8. */
  videoQueueFrames?: number;
  /** Gap filling. */
  gapFill?: GapFillOptions;
  /** Watchdog. */
  health?: HealthOptions;
  /** pino-compatible logger; default silent. */
  logger?: RecorderLogger;
  /** Recording id (Egress `egress_id`); default a random `TR_…` id. */
  id?: string;
  /** How the recording was requested (for logs and info). Default `custom`. */
  mode?: RecordingMode;
}

/** Egress `FileInfo`, times in ms since the epoch, duration in ms. */
export interface FileInfo {
  /** Path relative to `outputDir`. */
  filename: string;
  /** Bytes written. */
  size: number;
  /** Media duration, ms. */
  duration: number;
  /** Wall clock when recording started, ms since the epoch. */
  startedAt: number;
  /** Wall clock when it ended, ms since the epoch (0 while running). */
  endedAt: number;
  /** Absolute path. */
  location: string;
  /** `fileType: 'mp4'`: absolute paths of the files begun by resolution changes (`name.1.mp4`…). */
  parts?: string[];
}

/** Egress `SegmentsInfo`, times in ms. */
export interface SegmentsInfo {
  /** Playlist path relative to `outputDir`. */
  playlistName: string;
  /** Live playlist path relative to `outputDir`, or ''. */
  livePlaylistName: string;
  /** Duration of the finished segments, ms. */
  duration: number;
  /** Bytes written in segments. */
  size: number;
  /** Finished (listed) segments. */
  segmentCount: number;
  /** Absolute playlist path. */
  playlistLocation: string;
  /** ms since the epoch. */
  startedAt: number;
  /** ms since the epoch (0 while running). */
  endedAt: number;
}

/** Video counters of a recording. */
export interface VideoMetrics {
  /** Frames read from sources. */
  framesIn: number;
  /** Frames encoded (sources and filler). */
  framesEncoded: number;
  /** Frames dropped because the encoder lagged (oldest first), they came too late, or they were invalid. */
  framesDropped: number;
  /** Of `framesDropped`, frames refused as invalid (bad size, buffer length or timestamp). */
  framesInvalid: number;
  /** Filler frames (repeated or black) encoded while the track delivered nothing. */
  fillerFrames: number;
  /** Frames waiting for the encoder. */
  queued: number;
  /** Encoder lag: media time submitted but not yet encoded plus the queue, ms. */
  encoderLagMs: number;
  /** Times the timeline re-anchored on a timestamp jump. */
  reanchors: number;
}

/** Audio counters of a recording. */
export interface AudioMetrics {
  /** Frames read from sources. */
  framesIn: number;
  /** Frames dropped as invalid (bad rate, channel count, sample count or buffer length). */
  framesInvalid: number;
  /** Gaps detected in a source (filled with silence). */
  gaps: number;
  /** Silence written (filler, gaps, drift), ms. */
  silenceMs: number;
  /** Source audio dropped to stay on the clock, ms. */
  droppedMs: number;
}

/** A snapshot of a recording's figures (see {@link toMetricSamples} for a Prometheus exporter). */
export interface RecordingMetrics {
  /** Bytes written (largest of the outputs). */
  bytesWritten: number;
  /** 188-byte TS packets written. */
  packetsWritten: number;
  /** Wall clock of the last disk write, ms since the epoch, or null. */
  lastDiskWriteAt: number | null;
  /** Media written, ms. */
  durationMs: number;
  /** Video figures, when the recording has video. */
  video: VideoMetrics | null;
  /** Audio figures, when the recording has audio. */
  audio: AudioMetrics | null;
  /** Audio minus video offset against the recording clock, ms (positive: audio late). */
  avDriftMs: number;
  /** Encoded packets refused as too late for the stream (dropped). */
  latePackets: number;
  /** Encoded packets waiting in the interleaver for the other track (bounded by its 400 ms window). */
  pendingPackets: number;
}

/** A health warning from the watchdog. */
export interface HealthWarning {
  /** `NO_DISK_WRITE`: nothing written for `stallMs`; `FILE_NOT_GROWING`: frames arrive but the file size does not change. */
  code: 'NO_DISK_WRITE' | 'FILE_NOT_GROWING';
  /** Human-readable detail. */
  message: string;
  /** Recording id. */
  id: string;
}

/** Status and results of a recording (Egress `EgressInfo`). */
export interface RecordingInfo {
  /** Recording id. */
  id: string;
  /** How it was requested. */
  mode: RecordingMode;
  /** Current status. */
  status: RecordingStatus;
  /** The same status as `@livekit/protocol` `EgressStatus` value. */
  egressStatus: number;
  /** Error message when FAILED. */
  error: string;
  /** The error itself when FAILED. */
  errorCause: Error | null;
  /** Why it ended (limit, stop, …), or ''. */
  details: string;
  /** ms since the epoch. */
  startedAt: number;
  /** ms since the epoch, 0 while running. */
  endedAt: number;
  /** File output result. */
  file: FileInfo | null;
  /** Segment output result. */
  segments: SegmentsInfo | null;
}
