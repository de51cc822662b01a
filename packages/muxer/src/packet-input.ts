/**
 * The checks every muxer makes on its input: track options in `addTrack`, and an
 * {@link EncodedPacket} before looking at its codec.
 */

import { type AacConfig, parseAudioSpecificConfig } from './adts.js';
import { CLOCK_90KHZ } from './constants.js';
import { MuxerInputError } from './errors.js';
import { parseAvcC } from './h264.js';
import type { EncodedPacket, TrackOptions } from './types.js';

/** Track options after validation, with the codec configuration parsed. */
export interface CheckedTrackOptions {
  /** Units per second of the timestamps the caller will pass. */
  inputTimescale: number;
  /** From `avcC`: the NAL length size and its SPS/PPS as Annex B, or null for Annex B input. */
  avc: { lengthSize: number; parameterSets: Uint8Array } | null;
  /** From `audioSpecificConfig`, or null (ADTS input, or not AAC). */
  aac: AacConfig | null;
  /** Opus channel count, else 0. */
  channelCount: number;
  /** Opus pre-skip in 48 kHz samples, else 0. */
  preSkip: number;
}

/**
 * Validates the options of `addTrack` and parses their codec configuration. Throws `TypeError` or
 * `RangeError` naming the option. `maxPreSkip` is the largest Opus pre-skip the container can carry.
 */
export function checkTrackOptions(options: TrackOptions, maxPreSkip: number): CheckedTrackOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('track options must be an object');
  const checked: CheckedTrackOptions = {
    inputTimescale: 0,
    avc: null,
    aac: null,
    channelCount: 0,
    preSkip: 0,
  };
  switch (options.codec) {
    case 'h264':
      checked.inputTimescale = CLOCK_90KHZ;
      if (options.avcC !== undefined) {
        if (!(options.avcC instanceof Uint8Array)) throw new TypeError('options.avcC must be a Uint8Array');
        checked.avc = parseAvcC(options.avcC);
      }
      break;
    case 'aac':
      if (options.audioSpecificConfig !== undefined) {
        if (!(options.audioSpecificConfig instanceof Uint8Array)) {
          throw new TypeError('options.audioSpecificConfig must be a Uint8Array');
        }
        checked.aac = parseAudioSpecificConfig(options.audioSpecificConfig);
        checked.inputTimescale = checked.aac.sampleRate;
      }
      break;
    case 'opus': {
      const channelCount = options.channelCount;
      if (!Number.isInteger(channelCount) || channelCount < 1 || channelCount > 8) {
        throw new RangeError('options.channelCount must be an integer from 1 to 8');
      }
      const preSkip = options.preSkip ?? 0;
      if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > maxPreSkip) {
        throw new RangeError(`options.preSkip must be an integer from 0 to ${maxPreSkip}`);
      }
      checked.channelCount = channelCount;
      checked.preSkip = preSkip;
      checked.inputTimescale = 48_000;
      break;
    }
    default:
      throw new TypeError(`options.codec must be 'h264', 'aac' or 'opus'`);
  }
  if (options.timescale !== undefined) {
    if (!Number.isInteger(options.timescale) || options.timescale <= 0) {
      throw new RangeError('options.timescale must be a positive integer');
    }
    checked.inputTimescale = options.timescale;
  } else if (checked.inputTimescale === 0) {
    // ADTS input: the rate is in every header, but timestamps need a declared unit.
    throw new TypeError('options.timescale is required for AAC given as ADTS (or pass audioSpecificConfig)');
  }
  return checked;
}

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
