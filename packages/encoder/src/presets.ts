/** Names of the LiveKit Egress `EncodingOptionsPreset` values (livekit/protocol `livekit_egress.proto`). */
export type VideoPresetName =
  | 'H264_720P_30'
  | 'H264_720P_60'
  | 'H264_1080P_30'
  | 'H264_1080P_60'
  | 'PORTRAIT_H264_720P_30'
  | 'PORTRAIT_H264_720P_60'
  | 'PORTRAIT_H264_1080P_30'
  | 'PORTRAIT_H264_1080P_60';

/** Output size, frame rate and bitrate of a preset. */
export interface VideoPreset {
  /** Output width in pixels. */
  readonly width: number;
  /** Output height in pixels. */
  readonly height: number;
  /** Nominal frame rate (frames per second). */
  readonly fps: number;
  /** Target bitrate in bits per second. */
  readonly bitrate: number;
}

/**
 * The LiveKit Egress presets, with the values Egress applies (`pkg/config/encoding.go` `applyPreset`:
 * 1080p defaults are 4500 kb/s at 30 fps, 6000 kb/s at 60 fps; 720p is 3000 kb/s at 30 fps).
 */
export const VIDEO_PRESETS: Readonly<Record<VideoPresetName, VideoPreset>> = Object.freeze({
  H264_720P_30: { width: 1280, height: 720, fps: 30, bitrate: 3_000_000 },
  H264_720P_60: { width: 1280, height: 720, fps: 60, bitrate: 4_500_000 },
  H264_1080P_30: { width: 1920, height: 1080, fps: 30, bitrate: 4_500_000 },
  H264_1080P_60: { width: 1920, height: 1080, fps: 60, bitrate: 6_000_000 },
  PORTRAIT_H264_720P_30: { width: 720, height: 1280, fps: 30, bitrate: 3_000_000 },
  PORTRAIT_H264_720P_60: { width: 720, height: 1280, fps: 60, bitrate: 4_500_000 },
  PORTRAIT_H264_1080P_30: { width: 1080, height: 1920, fps: 30, bitrate: 4_500_000 },
  PORTRAIT_H264_1080P_60: { width: 1080, height: 1920, fps: 60, bitrate: 6_000_000 },
});

/** The preset used when neither `preset` nor explicit sizes are given. */
export const DEFAULT_VIDEO_PRESET: VideoPresetName = 'H264_720P_30';
