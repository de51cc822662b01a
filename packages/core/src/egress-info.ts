/**
 * Conversion of a recording's info to `@livekit/protocol`'s `EgressInfo` message (livekit_egress.proto),
 * so code written for Egress webhooks (`egress_started`, `egress_updated`, `egress_ended`) can consume
 * these recordings unchanged. Egress times are int64 nanoseconds.
 */

import {
  EgressInfo,
  EgressSourceType,
  FileInfo as ProtoFileInfo,
  SegmentsInfo as ProtoSegmentsInfo,
} from '@livekit/protocol';
import type { RecordingInfo } from './types.js';

const NS_PER_MS = 1_000_000n;

function ns(ms: number): bigint {
  return BigInt(Math.round(ms)) * NS_PER_MS;
}

/** Room context that a recording's info does not carry. */
export interface EgressContext {
  /** Room name. */
  roomName?: string;
  /** Room sid. */
  roomId?: string;
}

/** Builds an Egress `EgressInfo` from {@link RecordingInfo} (status as `EgressStatus`, results, times in ns). */
export function toEgressInfo(info: RecordingInfo, context: EgressContext = {}): EgressInfo {
  return new EgressInfo({
    egressId: info.id,
    roomName: context.roomName ?? '',
    roomId: context.roomId ?? '',
    sourceType: EgressSourceType.SDK,
    status: info.egressStatus,
    startedAt: ns(info.startedAt),
    endedAt: ns(info.endedAt),
    updatedAt: ns(Date.now()),
    error: info.error,
    details: info.details,
    fileResults: info.file
      ? [
          new ProtoFileInfo({
            filename: info.file.filename,
            startedAt: ns(info.file.startedAt),
            endedAt: ns(info.file.endedAt),
            duration: ns(info.file.duration),
            size: BigInt(info.file.size),
            location: info.file.location,
          }),
        ]
      : [],
    segmentResults: info.segments
      ? [
          new ProtoSegmentsInfo({
            playlistName: info.segments.playlistName,
            livePlaylistName: info.segments.livePlaylistName,
            duration: ns(info.segments.duration),
            size: BigInt(info.segments.size),
            playlistLocation: info.segments.playlistLocation,
            segmentCount: BigInt(info.segments.segmentCount),
            startedAt: ns(info.segments.startedAt),
            endedAt: ns(info.segments.endedAt),
          }),
        ]
      : [],
  });
}
