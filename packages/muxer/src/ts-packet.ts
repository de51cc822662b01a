/**
 * Transport packet headers and adaptation fields (ISO/IEC 13818-1 §2.4.3.2, §2.4.3.4).
 */

import { TS_SYNC_BYTE } from './constants.js';

/** adaptation_field_control values (the two bits above continuity_counter). */
export const PAYLOAD_ONLY = 0x10;
export const ADAPTATION_ONLY = 0x20;
export const ADAPTATION_AND_PAYLOAD = 0x30;

/** Adaptation field flag bits (ISO/IEC 13818-1 Table 2-6). */
export const DISCONTINUITY_INDICATOR = 0x80;
export const RANDOM_ACCESS_INDICATOR = 0x40;
export const PCR_FLAG = 0x10;

/** Continuity counter and discontinuity state of one PID. */
export interface PidState {
  /** The PID (13 bits). */
  readonly pid: number;
  /** continuity_counter of the last packet with payload; starts at 15 so the first one is 0. */
  cc: number;
  /** Set discontinuity_indicator on the next packet of this PID. */
  discontinuityPending: boolean;
}

/** A fresh {@link PidState}. */
export function pidState(pid: number): PidState {
  return { pid, cc: 15, discontinuityPending: false };
}

/**
 * Writes the 4-byte packet header at `offset`. For packets with payload the continuity_counter
 * advances first; packets without payload repeat the last value (§2.4.3.3).
 */
export function writePacketHeader(
  out: Uint8Array,
  offset: number,
  state: PidState,
  payloadUnitStart: boolean,
  adaptationFieldControl: number,
): void {
  if (adaptationFieldControl !== ADAPTATION_ONLY) state.cc = (state.cc + 1) & 0x0f;
  out[offset] = TS_SYNC_BYTE; // sync_byte
  // transport_error_indicator 0, payload_unit_start_indicator, transport_priority 0, PID[12..8]
  out[offset + 1] = (payloadUnitStart ? 0x40 : 0) | (state.pid >>> 8);
  out[offset + 2] = state.pid & 0xff; // PID[7..0]
  // transport_scrambling_control '00', adaptation_field_control, continuity_counter
  out[offset + 3] = adaptationFieldControl | state.cc;
}

/**
 * Writes a program_clock_reference (6 bytes) at `offset`: a 33-bit base in 90 kHz ticks, 6 reserved
 * '1' bits, a 9-bit extension in 27 MHz cycles (§2.4.3.5). Arithmetic only: the base is 33 bits.
 */
export function writePcr(out: Uint8Array, offset: number, base90k: number, extension = 0): void {
  const base = base90k % 2 ** 33;
  const top32 = Math.floor(base / 2); // program_clock_reference_base[32..1]
  out[offset] = Math.floor(top32 / 2 ** 24); // base[32..25]
  out[offset + 1] = Math.floor(top32 / 2 ** 16) % 256; // base[24..17]
  out[offset + 2] = Math.floor(top32 / 2 ** 8) % 256; // base[16..9]
  out[offset + 3] = top32 % 256; // base[8..1]
  // base[0], reserved '111111', program_clock_reference_extension[8]
  out[offset + 4] = (base % 2) * 0x80 + 0x7e + (extension >= 256 ? 1 : 0);
  out[offset + 5] = extension % 256; // extension[7..0]
}

/** Reads a PCR written by {@link writePcr}, in 90 kHz ticks (base only, no unwrapping). */
export function readPcrBase(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset]! * 2 ** 25 +
    bytes[offset + 1]! * 2 ** 17 +
    bytes[offset + 2]! * 2 ** 9 +
    bytes[offset + 3]! * 2 +
    (bytes[offset + 4]! >>> 7)
  );
}

/**
 * Writes a whole packet that carries only a PCR (adaptation_field_length 183, no payload): the clock
 * keeps flowing when the PCR PID has nothing to say. The continuity_counter does not advance.
 */
export function writePcrOnlyPacket(
  out: Uint8Array,
  offset: number,
  state: PidState,
  pcr90k: number,
  extension: number,
): void {
  writePacketHeader(out, offset, state, false, ADAPTATION_ONLY);
  out[offset + 4] = 183; // adaptation_field_length
  out[offset + 5] = PCR_FLAG | (state.discontinuityPending ? DISCONTINUITY_INDICATOR : 0); // PCR_flag
  state.discontinuityPending = false;
  writePcr(out, offset + 6, pcr90k, extension);
  out.fill(0xff, offset + 12, offset + 188); // stuffing_byte
}
