/**
 * PES packets (ISO/IEC 13818-1 §2.4.3.6) and their layout across transport packets (§2.4.3.2),
 * with adaptation-field stuffing of the last packet (§2.4.3.4).
 */

import { TS_PACKET_SIZE, TS_PAYLOAD_SIZE, TS_SYNC_BYTE } from './constants.js';
import { writeTimestamp } from './timestamp.js';
import {
  ADAPTATION_AND_PAYLOAD,
  DISCONTINUITY_INDICATOR,
  PAYLOAD_ONLY,
  PCR_FLAG,
  type PidState,
  RANDOM_ACCESS_INDICATOR,
  writePacketHeader,
  writePcr,
} from './ts-packet.js';

/** Bytes of a PES header carrying PTS only. */
export const PES_HEADER_PTS = 14;
/** Bytes of a PES header carrying PTS and DTS. */
export const PES_HEADER_PTS_DTS = 19;

/**
 * Writes a PES header at `offset` for a payload of `payloadLength` bytes and returns its size.
 * PES_packet_length is the true length when it fits 16 bits; 0 (unbounded) is written only for
 * video, where ISO/IEC 13818-1 allows it.
 */
export function writePesHeader(
  out: Uint8Array,
  offset: number,
  streamId: number,
  payloadLength: number,
  pts: number,
  dts: number,
  withDts: boolean,
): number {
  const headerDataLength = withDts ? 10 : 5;
  const pesPacketLength = 3 + headerDataLength + payloadLength;
  out[offset] = 0; // packet_start_code_prefix
  out[offset + 1] = 0;
  out[offset + 2] = 1;
  out[offset + 3] = streamId; // stream_id
  const lengthField = pesPacketLength > 0xffff ? 0 : pesPacketLength;
  out[offset + 4] = lengthField >>> 8; // PES_packet_length
  out[offset + 5] = lengthField & 0xff;
  // '10', PES_scrambling_control '00', PES_priority 0, data_alignment_indicator 1, copyright 0, original_or_copy 0
  out[offset + 6] = 0x84;
  out[offset + 7] = withDts ? 0xc0 : 0x80; // PTS_DTS_flags '11' or '10', no other optional fields
  out[offset + 8] = headerDataLength; // PES_header_data_length
  writeTimestamp(out, offset + 9, withDts ? 0x3 : 0x2, pts); // PTS with prefix '0011' or '0010'
  if (withDts) writeTimestamp(out, offset + 14, 0x1, dts); // DTS with prefix '0001'
  return 9 + headerDataLength;
}

/** What the first transport packet of a PES carries in its adaptation field. */
export interface FirstPacketFields {
  /** random_access_indicator. */
  randomAccess: boolean;
  /** A PCR (90 kHz ticks) to carry, or -1 for none. */
  pcr: number;
  /** program_clock_reference_extension of that PCR (27 MHz cycles, 0–299). */
  pcrExtension: number;
}

/** Number of transport packets {@link packetizePes} uses for `length` bytes of PES. */
export function pesPacketCount(length: number, first: FirstPacketFields, discontinuity: boolean): number {
  const capacity = TS_PAYLOAD_SIZE - firstAdaptationBytes(first, discontinuity);
  return length <= capacity ? 1 : 1 + Math.ceil((length - capacity) / TS_PAYLOAD_SIZE);
}

function firstAdaptationBytes(first: FirstPacketFields, discontinuity: boolean): number {
  const needed = first.randomAccess || first.pcr >= 0 || discontinuity;
  return needed ? 2 + (first.pcr >= 0 ? 6 : 0) : 0;
}

/**
 * Spreads one PES, whose bytes sit contiguously at `out[src, src + length)`, over transport packets
 * written from `out[dst]` on, and returns the end offset. `src` must not be before the position each
 * byte moves to, which holds when the PES bytes end where the packets end: every byte then moves
 * towards the start (memmove via `copyWithin`, no allocation, no per-packet views).
 */
export function packetizePes(
  out: Uint8Array,
  dst: number,
  src: number,
  length: number,
  state: PidState,
  first: FirstPacketFields,
): number {
  const discontinuity = state.discontinuityPending;
  state.discontinuityPending = false;
  const firstAf = firstAdaptationBytes(first, discontinuity);
  const firstCapacity = TS_PAYLOAD_SIZE - firstAf;
  let stuffing: number;
  let packets: number;
  if (length <= firstCapacity) {
    packets = 1;
    stuffing = firstCapacity - length;
  } else {
    packets = 1 + Math.ceil((length - firstCapacity) / TS_PAYLOAD_SIZE);
    stuffing = (packets - 1) * TS_PAYLOAD_SIZE - (length - firstCapacity);
  }

  // First packet: payload_unit_start_indicator, and the adaptation field it needs.
  let o = dst;
  const firstStuffing = packets === 1 ? stuffing : 0;
  if (firstAf > 0) {
    writePacketHeader(out, o, state, true, ADAPTATION_AND_PAYLOAD);
    const afLength = firstAf - 1 + firstStuffing;
    out[o + 4] = afLength; // adaptation_field_length
    out[o + 5] =
      (discontinuity ? DISCONTINUITY_INDICATOR : 0) | // discontinuity_indicator
      (first.randomAccess ? RANDOM_ACCESS_INDICATOR : 0) | // random_access_indicator
      (first.pcr >= 0 ? PCR_FLAG : 0); // PCR_flag
    if (first.pcr >= 0) writePcr(out, o + 6, first.pcr, first.pcrExtension); // program_clock_reference
    if (firstStuffing > 0) out.fill(0xff, o + 4 + firstAf, o + 4 + firstAf + firstStuffing); // stuffing_byte
  } else if (firstStuffing > 0) {
    writePacketHeader(out, o, state, true, ADAPTATION_AND_PAYLOAD);
    writeStuffing(out, o + 4, firstStuffing);
  } else {
    writePacketHeader(out, o, state, true, PAYLOAD_ONLY);
  }
  let n = firstCapacity - firstStuffing;
  out.copyWithin(o + TS_PACKET_SIZE - n, src, src + n);
  src += n;
  o += TS_PACKET_SIZE;

  // Middle packets: header and 184 bytes of payload. The hot loop of the muxer: header fields are
  // hoisted out (same PID, no adaptation field, only continuity_counter changes).
  const last = dst + (packets - 1) * TS_PACKET_SIZE;
  const pidHigh = state.pid >>> 8; // transport_error_indicator 0, PUSI 0, priority 0, PID[12..8]
  const pidLow = state.pid & 0xff; // PID[7..0]
  let cc = state.cc;
  while (o < last) {
    cc = (cc + 1) & 0x0f;
    out[o] = TS_SYNC_BYTE; // sync_byte
    out[o + 1] = pidHigh;
    out[o + 2] = pidLow;
    out[o + 3] = PAYLOAD_ONLY | cc; // adaptation_field_control '01', continuity_counter
    out.copyWithin(o + 4, src, src + TS_PAYLOAD_SIZE);
    src += TS_PAYLOAD_SIZE;
    o += TS_PACKET_SIZE;
  }
  state.cc = cc;

  // Last packet: stuffed through its adaptation field so the PES ends on the packet boundary.
  if (packets > 1) {
    if (stuffing > 0) {
      writePacketHeader(out, o, state, false, ADAPTATION_AND_PAYLOAD);
      writeStuffing(out, o + 4, stuffing);
    } else {
      writePacketHeader(out, o, state, false, PAYLOAD_ONLY);
    }
    n = TS_PAYLOAD_SIZE - stuffing;
    out.copyWithin(o + TS_PACKET_SIZE - n, src, src + n);
    o += TS_PACKET_SIZE;
  }
  return o;
}

/** An adaptation field of exactly `bytes` bytes that only stuffs (1 byte: adaptation_field_length 0). */
function writeStuffing(out: Uint8Array, offset: number, bytes: number): void {
  out[offset] = bytes - 1; // adaptation_field_length
  if (bytes > 1) {
    out[offset + 1] = 0; // all adaptation flags 0
    if (bytes > 2) out.fill(0xff, offset + 2, offset + bytes); // stuffing_byte
  }
}
