/**
 * 33-bit clocks of ISO/IEC 13818-1 §2.4.3.7 (PTS/DTS) and §2.4.3.5 (PCR).
 *
 * Timestamps are 33-bit counters, beyond what JavaScript's 32-bit bitwise operators keep: every
 * operation on them here is arithmetic (`Math.floor`, `%`, `*`), never `>>`, `>>>`, `&` or `|`.
 * Internally the muxer keeps unwrapped tick counts (safe integers) and wraps only on write.
 */

import { CLOCK_90KHZ, TIMESTAMP_WRAP } from './constants.js';

/** Wraps an unwrapped 90 kHz tick count to the 33-bit field value. */
export function wrap33(ticks: number): number {
  const wrapped = ticks % TIMESTAMP_WRAP;
  return wrapped < 0 ? wrapped + TIMESTAMP_WRAP : wrapped;
}

/**
 * Converts `value` units of `timescale` per second to 90 kHz ticks, rounded to the nearest tick.
 * Split into whole seconds and a remainder so the product never leaves the safe-integer range.
 */
export function toTicks90k(value: number, timescale: number): number {
  if (timescale === CLOCK_90KHZ) return Math.round(value);
  const seconds = Math.floor(value / timescale);
  const rest = value - seconds * timescale;
  return seconds * CLOCK_90KHZ + Math.round((rest * CLOCK_90KHZ) / timescale);
}

/**
 * Writes a PTS or DTS field (5 bytes) at `offset`: a 4-bit `prefix`, then the 33-bit value split
 * 3/15/15 with a marker_bit after each part (ISO/IEC 13818-1 §2.4.3.7).
 */
export function writeTimestamp(out: Uint8Array, offset: number, prefix: number, ticks: number): void {
  const t = wrap33(ticks);
  const high = Math.floor(t / 2 ** 30); // PTS[32..30], 3 bits
  const low30 = t - high * 2 ** 30; // PTS[29..0], fits in 30 bits: bitwise is safe below here
  const mid = low30 >>> 15; // PTS[29..15]
  const low = low30 & 0x7fff; // PTS[14..0]
  out[offset] = (prefix << 4) | (high << 1) | 1; // '00x1' prefix, PTS[32..30], marker_bit
  out[offset + 1] = mid >>> 7; // PTS[29..22]
  out[offset + 2] = ((mid & 0x7f) << 1) | 1; // PTS[21..15], marker_bit
  out[offset + 3] = low >>> 7; // PTS[14..7]
  out[offset + 4] = ((low & 0x7f) << 1) | 1; // PTS[6..0], marker_bit
}

/** Reads a PTS/DTS field written by {@link writeTimestamp} (33-bit value, no unwrapping). */
export function readTimestamp(bytes: Uint8Array, offset: number): number {
  const high = (bytes[offset]! >>> 1) & 0x07;
  const mid = (bytes[offset + 1]! << 7) | (bytes[offset + 2]! >>> 1);
  const low = (bytes[offset + 3]! << 7) | (bytes[offset + 4]! >>> 1);
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}
