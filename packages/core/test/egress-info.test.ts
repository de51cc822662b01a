import { EgressInfo, EgressSourceType, EgressStatus } from '@livekit/protocol';
import { describe, expect, it } from 'vitest';
import { toEgressInfo } from '../src/egress-info.js';
import type { RecordingInfo } from '../src/types.js';

describe('toEgressInfo', () => {
  it('builds an EgressInfo that survives a JSON round trip as Egress webhooks send it', () => {
    const info: RecordingInfo = {
      id: 'TR_abc',
      mode: 'participant',
      status: 'COMPLETE',
      egressStatus: EgressStatus.EGRESS_COMPLETE,
      error: '',
      errorCause: null,
      details: 'stopped',
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_060_000,
      file: {
        filename: 'room/alice.ts',
        size: 123_456,
        duration: 59_500,
        startedAt: 1_700_000_000_000,
        endedAt: 1_700_000_060_000,
        location: '/rec/room/alice.ts',
      },
      segments: {
        playlistName: 'room/alice.m3u8',
        livePlaylistName: '',
        duration: 56_000,
        size: 120_000,
        segmentCount: 14,
        playlistLocation: '/rec/room/alice.m3u8',
        startedAt: 1_700_000_000_000,
        endedAt: 1_700_000_060_000,
      },
    };
    const msg = toEgressInfo(info, { roomName: 'room', roomId: 'RM_1' });
    const back = EgressInfo.fromJson(msg.toJson());
    expect(back.egressId).toBe('TR_abc');
    expect(back.status).toBe(EgressStatus.EGRESS_COMPLETE);
    expect(back.roomName).toBe('room');
    expect(back.startedAt).toBe(1_700_000_000_000_000_000n);
    expect(back.fileResults[0]?.duration).toBe(59_500_000_000n);
    expect(back.fileResults[0]?.size).toBe(123_456n);
    expect(back.fileResults[0]?.location).toBe('/rec/room/alice.ts');
    expect(back.segmentResults[0]?.segmentCount).toBe(14n);
    expect(back.segmentResults[0]?.playlistName).toBe('room/alice.m3u8');
    expect(back.details).toBe('stopped');
    expect(back.sourceType).toBe(EgressSourceType.SDK);
  });
});
