/**
 * 33-bit clocks of ISO/IEC 13818-1: PTS/DTS (§2.4.3.7, 90 kHz) and PCR (§2.4.3.5, 27 MHz as
 * base × 300 + extension). Arithmetic only: bitwise operators would drop bit 32.
 */

/** 2^33: the period of PTS, DTS and PCR_base. */
export const WRAP_90K = 2 ** 33;
/** Period of the 27 MHz PCR (PCR_base wraps at 2^33, times 300). */
export const WRAP_27M = WRAP_90K * 300;

/** Reads a 5-byte PTS/DTS field (4-bit prefix, 3/15/15 bits with marker bits). */
export function readTimestamp(b: Uint8Array, at: number): number {
  return (
    (b[at]! & 0x0e) * 2 ** 29 +
    b[at + 1]! * 2 ** 22 +
    (b[at + 2]! & 0xfe) * 2 ** 14 +
    b[at + 3]! * 2 ** 7 +
    (b[at + 4]! >> 1)
  );
}

/** Whether the three marker bits of a PTS/DTS field are set and its 4-bit prefix is `prefix`. */
export function timestampFieldValid(b: Uint8Array, at: number, prefix: number): boolean {
  return b[at]! >> 4 === prefix && (b[at]! & 1) === 1 && (b[at + 2]! & 1) === 1 && (b[at + 4]! & 1) === 1;
}

/** Reads the 6-byte program_clock_reference field as 27 MHz ticks. */
export function readPcr(b: Uint8Array, at: number): number {
  const base =
    b[at]! * 2 ** 25 + b[at + 1]! * 2 ** 17 + b[at + 2]! * 2 ** 9 + b[at + 3]! * 2 + (b[at + 4]! >> 7);
  const extension = (b[at + 4]! & 1) * 256 + b[at + 5]!;
  return base * 300 + extension;
}

/**
 * The value congruent to `raw` modulo `period` that is nearest to `reference`: undoes the wrap of
 * a clock whose consecutive values differ by much less than half a period.
 */
export function unwrapNear(raw: number, reference: number, period: number): number {
  const half = period / 2;
  let v = raw + Math.round((reference - raw) / period) * period;
  if (v - reference > half) v -= period;
  else if (reference - v > half) v += period;
  return v;
}

/** `a − b` for two wrapped clock values, folded into (−period/2, period/2]. */
export function wrappedDifference(a: number, b: number, period: number): number {
  let d = (a - b) % period;
  if (d > period / 2) d -= period;
  else if (d <= -period / 2) d += period;
  return d;
}
