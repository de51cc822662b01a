/**
 * `@trackrec/encoder`: native H.264, AAC and Opus encoders for `@livekit/rtc-node` frames, in-process
 * through FFmpeg (node-av) and libopus (@discordjs/opus).
 *
 * @packageDocumentation
 */
export {
  AUDIO_FRAME_SIZE,
  type AudioCodecName,
  AudioEncoder,
  type AudioEncoderOptions,
  type AudioEncoderStats,
  type EncodedAudioPacket,
  OPUS_PRE_SKIP,
  opusHead,
} from './audio-encoder.js';
export { EncoderError, type EncoderErrorCode, type EncoderErrorOptions } from './errors.js';
export { type FFmpegLogLevel, setFFmpegLogLevel } from './ffmpeg.js';
export { type AudioFrameLike, VideoBufferType, type VideoFrameLike, videoBufferLength } from './frames.js';
export type { EncoderKind, HardwarePreference } from './hardware.js';
export { consoleLogger, type EncoderLogger, silentLogger } from './log.js';
export { DEFAULT_VIDEO_PRESET, VIDEO_PRESETS, type VideoPreset, type VideoPresetName } from './presets.js';
export { type H264Profile, VIDEO_TIME_BASE, type X264Preset } from './video-codec.js';
export {
  type EncodedVideoPacket,
  type ResolutionChangeMode,
  VideoEncoder,
  type VideoEncoderEvents,
  type VideoEncoderOptions,
  type VideoEncoderStats,
  type VideoReconfiguredEvent,
} from './video-encoder.js';
