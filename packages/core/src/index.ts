/**
 * @trackrec/core: in-process LiveKit recording. Record a participant, a pair of tracks, one track or a
 * whole room into growing MPEG-TS files and HLS playlists, with live status, metrics and a final report.
 *
 * @packageDocumentation
 */

export {
  ArrivalLock,
  type ArrivalLockOptions,
  type AudioAdjustment,
  AudioTimeline,
  type AudioTimelineOptions,
  VideoTimeline,
  type VideoTimelineOptions,
} from './clock.js';
export { type EgressContext, toEgressInfo } from './egress-info.js';
export { RecorderError, type RecorderErrorCode } from './errors.js';
export { type LogFn, type RecorderLogger, silentLogger } from './log.js';
export { type MetricSample, toMetricSamples } from './metrics.js';
export {
  expandTemplate,
  fitComponents,
  MAX_COMPONENT_BYTES,
  MAX_VALUE_BYTES,
  resolveInside,
  sanitizeComponent,
  type TemplateValues,
} from './names.js';
export {
  type AudioSourceLike,
  type RecordingEvents,
  TrackRecording,
  type VideoFrameEventLike,
  type VideoSourceLike,
} from './recording.js';
export {
  type AttachOptions,
  type ConnectOptions,
  type ParticipantRecordingOptions,
  type RecordingDefaults,
  type RecordingOverrides,
  RoomRecorder,
  type RoomRecorderEvents,
} from './room.js';
export { mintRecorderToken, type RecorderTokenOptions } from './token.js';
export type * from './types.js';
