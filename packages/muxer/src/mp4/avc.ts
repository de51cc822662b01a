/**
 * H.264 access units as MP4 samples (ISO/IEC 14496-15 §5.3.2): Annex B byte streams (ITU-T H.264
 * Annex B) or length-prefixed NAL units become NAL units with 4-byte lengths. Parameter sets move to
 * the `avcC` of the sample entry (§5.4.2, `avc1`: "all parameter sets in the sample entry"), so SPS,
 * PPS and access unit delimiters are left out of the sample data and reported to the caller.
 */

import { MuxerInputError } from '../errors.js';

/** nal_unit_type values (ITU-T H.264 Table 7-1). */
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

/** What {@link writeAvcSample} found in an access unit. Reused between calls. */
export interface AvcSampleScan {
  /** The access unit holds an IDR slice. */
  idr: boolean;
  /** SPS and PPS NAL units of the access unit (views into the input; copy to keep). */
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** Bytes written. */
  size: number;
}

/** A fresh scan result. */
export function avcSampleScan(): AvcSampleScan {
  return { idr: false, sps: [], pps: [], size: 0 };
}

/** A growable byte buffer shared with the caller. */
export interface ByteBuffer {
  buffer: Uint8Array;
}

function ensure(target: ByteBuffer, size: number, keep: number): void {
  if (target.buffer.length >= size) return;
  const grown = new Uint8Array(Math.max(size, target.buffer.length * 2));
  grown.set(target.buffer.subarray(0, keep));
  target.buffer = grown;
}

/**
 * Offset of the next `00 00 01` at or after `from`, or -1. Reads the byte where the pattern's `01`
 * would be and skips 3 when it cannot end one there (Boyer–Moore–Horspool for a 3-byte pattern):
 * slice data is almost all bytes above 1, so this touches about a third of them.
 */
function nextStartCode(data: Uint8Array, from: number): number {
  const end = data.length;
  const fast = end - 15;
  let i = from + 2;
  for (;;) {
    // Five skips per test while every probed byte is above 1 (the common case in slice data).
    while (
      i < fast &&
      data[i]! > 1 &&
      data[i + 3]! > 1 &&
      data[i + 6]! > 1 &&
      data[i + 9]! > 1 &&
      data[i + 12]! > 1
    ) {
      i += 15;
    }
    if (i >= end) return -1;
    const b = data[i]!;
    if (b > 1) i += 3;
    else if (b === 0) i += 1;
    else if (data[i - 1] === 0 && data[i - 2] === 0) return i - 2;
    else i += 3;
  }
}

/**
 * Appends one NAL unit at `o` with a 4-byte NALUnitLength, unless it is a parameter set or AUD
 * (recorded in `scan`). Returns the new write offset.
 */
function putNal(out: Uint8Array, o: number, nal: Uint8Array, scan: AvcSampleScan, trackId: number): number {
  const header = nal[0]!;
  if (header & 0x80) {
    throw new MuxerInputError('INVALID_NAL', 'H.264 NAL unit has forbidden_zero_bit set', trackId);
  }
  const type = header & 0x1f;
  if (type === NAL_SPS) {
    scan.sps.push(nal);
    return o;
  }
  if (type === NAL_PPS) {
    scan.pps.push(nal);
    return o;
  }
  if (type === NAL_AUD) return o;
  if (type === NAL_IDR) scan.idr = true;
  const n = nal.length;
  out[o] = n >>> 24; // NALUnitLength (4 bytes)
  out[o + 1] = (n >>> 16) & 0xff;
  out[o + 2] = (n >>> 8) & 0xff;
  out[o + 3] = n & 0xff;
  out.set(nal, o + 4); // NALUnit
  return o + 4 + n;
}

function resetScan(scan: AvcSampleScan): void {
  scan.idr = false;
  scan.sps.length = 0;
  scan.pps.length = 0;
  scan.size = 0;
}

function hasSlice(out: Uint8Array, start: number, end: number): boolean {
  // Every NAL unit kept is non-parameter-set; a slice (types 1–5) must be among them.
  let o = start;
  while (o < end) {
    const n = ((out[o]! << 24) | (out[o + 1]! << 16) | (out[o + 2]! << 8) | out[o + 3]!) >>> 0;
    const type = out[o + 4]! & 0x1f;
    if (type >= 1 && type <= 5) return true;
    o += 4 + n;
  }
  return false;
}

/**
 * Converts an Annex B access unit into an MP4 sample written at `offset` of `target` (grown when
 * needed, bytes before `offset` kept). Throws {@link MuxerInputError} on malformed input; bytes past
 * `offset` are then garbage but nothing before it changed.
 */
export function writeAvcSampleFromAnnexB(
  data: Uint8Array,
  target: ByteBuffer,
  offset: number,
  scan: AvcSampleScan,
  trackId: number,
): void {
  resetScan(scan);
  if (!(data[0] === 0 && data[1] === 0 && (data[2] === 1 || (data[2] === 0 && data[3] === 1)))) {
    throw new MuxerInputError('NOT_ANNEX_B', 'H.264 access unit does not start with a start code', trackId);
  }
  // Each NAL unit has at least 1 byte after a start code of at least 3: lengths add ≤ 1 byte per 4.
  ensure(target, offset + data.length + (data.length >> 2) + 8, offset);
  const out = target.buffer;
  let o = offset;
  let start = data[2] === 1 ? 3 : 4;
  for (;;) {
    const next = nextStartCode(data, start);
    let end = next < 0 ? data.length : next;
    while (end > start && data[end - 1] === 0) end--; // trailing_zero_8bits belong to the byte stream
    if (end <= start) {
      throw new MuxerInputError('INVALID_NAL', 'H.264 access unit holds an empty NAL unit', trackId);
    }
    o = putNal(out, o, data.subarray(start, end), scan, trackId);
    if (next < 0) break;
    start = next + 3;
  }
  if (!hasSlice(out, offset, o)) {
    throw new MuxerInputError('INVALID_NAL', 'H.264 access unit holds no slice NAL unit', trackId);
  }
  scan.size = o - offset;
}

/** Like {@link writeAvcSampleFromAnnexB} for NAL units prefixed with `lengthSize`-byte lengths. */
export function writeAvcSampleFromLengthPrefixed(
  data: Uint8Array,
  lengthSize: number,
  target: ByteBuffer,
  offset: number,
  scan: AvcSampleScan,
  trackId: number,
): void {
  resetScan(scan);
  ensure(target, offset + data.length + data.length * (4 - Math.min(lengthSize, 4)) + 8, offset);
  const out = target.buffer;
  let o = offset;
  let i = 0;
  while (i < data.length) {
    if (i + lengthSize > data.length) {
      throw new MuxerInputError('INVALID_NAL', 'truncated NAL unit length prefix', trackId);
    }
    let length = 0;
    for (let k = 0; k < lengthSize; k++) length = length * 256 + data[i + k]!;
    i += lengthSize;
    if (length === 0 || i + length > data.length) {
      throw new MuxerInputError('INVALID_NAL', 'NAL unit length prefix does not match the data', trackId);
    }
    o = putNal(out, o, data.subarray(i, i + length), scan, trackId);
    i += length;
  }
  if (!hasSlice(out, offset, o)) {
    throw new MuxerInputError('INVALID_NAL', 'H.264 access unit holds no slice NAL unit', trackId);
  }
  scan.size = o - offset;
}
