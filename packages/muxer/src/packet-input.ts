/**
 * The checks every muxer makes on an {@link EncodedPacket} before looking at its codec.
 */

import { MuxerInputError } from './errors.js';
import type { EncodedPacket } from './types.js';

/**
 * Checks a packet's shape and timestamps and returns its DTS (its PTS when none is given). Throws
 * `TypeError` for a packet without bytes, {@link MuxerInputError} for an empty one or for timestamps
 * that are not finite numbers.
 */
export function checkPacket(packet: EncodedPacket, trackId: number): number {
  if (typeof packet !== 'object' || packet === null || !(packet.data instanceof Uint8Array)) {
    throw new TypeError('packet.data must be a Uint8Array');
  }
  if (packet.data.length === 0) throw new MuxerInputError('EMPTY_PACKET', 'empty packet', trackId);
  const pts = packet.pts;
  const dts = packet.dts ?? pts;
  if (typeof pts !== 'number' || typeof dts !== 'number' || !Number.isFinite(pts) || !Number.isFinite(dts)) {
    throw new MuxerInputError(
      'INVALID_TIMESTAMP',
      `timestamps must be finite numbers (pts ${pts}, dts ${dts})`,
      trackId,
    );
  }
  return dts;
}
