/**
 * H.264 access units for MPEG-TS (ISO/IEC 13818-1 §2.14, ITU-T H.264 Annex B and §7.3.1):
 * an access_unit_delimiter first in every access unit, SPS and PPS in-band before every IDR.
 * Length-prefixed input with an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3) is
 * converted to Annex B.
 */

import { MuxerInputError } from './errors.js';

/** nal_unit_type values we act on (ITU-T H.264 Table 7-1). */
const NAL_SLICE = 1;
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;

/** access_unit_delimiter with primary_pic_type 7 (any slice type), after a 4-byte start code. */
export const AUD_NAL = /* @__PURE__ */ Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0);

/**
 * What {@link scanAccessUnit} learned about the NAL units before the first slice. Reused between
 * calls: its fields describe the last scanned access unit.
 */
export interface AccessUnitScan {
  /** The first VCL NAL unit is an IDR slice. */
  idr: boolean;
  /** Offset of the start code of an AUD found after position 0, or -1. */
  audStart: number;
  /** End of that AUD NAL unit (the start of the next start code). */
  audEnd: number;
  /** The AU starts with an AUD. */
  audFirst: boolean;
  /** An SPS was seen before the first slice. */
  hasSps: boolean;
  /** A PPS was seen before the first slice. */
  hasPps: boolean;
  /** Start-code offset of the first SPS/PPS before the first slice, or -1. */
  paramStart: number;
  /** End of the last SPS/PPS before the first slice. */
  paramEnd: number;
}

/** A fresh scan result. */
export function accessUnitScan(): AccessUnitScan {
  return {
    idr: false,
    audStart: -1,
    audEnd: -1,
    audFirst: false,
    hasSps: false,
    hasPps: false,
    paramStart: -1,
    paramEnd: -1,
  };
}

/** Offset of the next `00 00 01` at or after `from` (the 3-byte start code), or -1. */
function nextStartCode(data: Uint8Array, from: number): number {
  let i = from + 2;
  const end = data.length;
  while (i < end) {
    i = data.indexOf(1, i);
    if (i < 0) return -1;
    if (data[i - 1] === 0 && data[i - 2] === 0) return i - 2;
    i += 1;
  }
  return -1;
}

/** Length of the start code at `offset` (3 or 4), or 0 when there is none. */
function startCodeLength(data: Uint8Array, offset: number): number {
  if (data[offset] !== 0 || data[offset + 1] !== 0) return 0;
  if (data[offset + 2] === 1) return 3;
  if (data[offset + 2] === 0 && data[offset + 3] === 1) return 4;
  return 0;
}

/**
 * Scans an Annex B access unit up to its first slice NAL unit — slices hold the bulk of the bytes
 * and are not read. Throws {@link MuxerInputError} when the bytes are not Annex B or hold no slice.
 */
export function scanAccessUnit(data: Uint8Array, trackId: number, scan: AccessUnitScan): void {
  scan.idr = false;
  scan.audStart = -1;
  scan.audEnd = -1;
  scan.audFirst = false;
  scan.hasSps = false;
  scan.hasPps = false;
  scan.paramStart = -1;
  scan.paramEnd = -1;
  const first = startCodeLength(data, 0);
  if (first === 0) {
    throw new MuxerInputError('NOT_ANNEX_B', 'H.264 access unit does not start with a start code', trackId);
  }
  let codeStart = 0;
  let nal = first;
  for (;;) {
    if (nal >= data.length) {
      throw new MuxerInputError('INVALID_NAL', 'H.264 access unit ends with an empty NAL unit', trackId);
    }
    const header = data[nal]!;
    if (header & 0x80) {
      throw new MuxerInputError('INVALID_NAL', 'H.264 NAL unit has forbidden_zero_bit set', trackId);
    }
    const type = header & 0x1f;
    if (type >= NAL_SLICE && type <= NAL_IDR) {
      scan.idr = type === NAL_IDR;
      return;
    }
    let next = nextStartCode(data, nal + 1);
    if (next < 0) {
      throw new MuxerInputError('INVALID_NAL', 'H.264 access unit holds no slice NAL unit', trackId);
    }
    if (data[next - 1] === 0) next -= 1; // a 4-byte start code: its leading zero is not NAL data
    if (type === NAL_AUD) {
      if (codeStart === 0) scan.audFirst = true;
      else if (scan.audStart < 0) {
        scan.audStart = codeStart;
        scan.audEnd = next;
      }
    } else if (type === NAL_SPS || type === NAL_PPS) {
      if (type === NAL_SPS) scan.hasSps = true;
      else scan.hasPps = true;
      if (scan.paramStart < 0) scan.paramStart = codeStart;
      scan.paramEnd = next;
    }
    codeStart = next;
    nal = next + startCodeLength(data, next);
  }
}

/**
 * Parses an AVCDecoderConfigurationRecord: the NAL length size and the SPS/PPS it carries,
 * returned as Annex B bytes (4-byte start codes).
 */
export function parseAvcC(avcC: Uint8Array): { lengthSize: number; parameterSets: Uint8Array } {
  const fail = (why: string): never => {
    throw new TypeError(`options.avcC is not a valid AVCDecoderConfigurationRecord: ${why}`);
  };
  if (avcC.length < 7 || avcC[0] !== 1) fail('configurationVersion must be 1');
  const lengthSize = (avcC[4]! & 0x03) + 1; // lengthSizeMinusOne
  if (lengthSize === 3) fail('lengthSizeMinusOne of 2 is not allowed');
  const sets: Uint8Array[] = [];
  let o = 5;
  for (let list = 0; list < 2; list++) {
    if (o >= avcC.length) fail('truncated parameter set list');
    const count = list === 0 ? avcC[o]! & 0x1f : avcC[o]!; // numOfSequenceParameterSets / numOfPictureParameterSets
    o += 1;
    for (let i = 0; i < count; i++) {
      if (o + 2 > avcC.length) fail('truncated parameter set');
      const length = (avcC[o]! << 8) | avcC[o + 1]!;
      if (o + 2 + length > avcC.length || length === 0) fail('truncated parameter set');
      sets.push(avcC.subarray(o + 2, o + 2 + length));
      o += 2 + length;
    }
  }
  let total = 0;
  for (const s of sets) total += 4 + s.length;
  const parameterSets = new Uint8Array(total);
  let p = 0;
  for (const s of sets) {
    parameterSets[p + 3] = 1; // start code 00 00 00 01
    parameterSets.set(s, p + 4);
    p += 4 + s.length;
  }
  return { lengthSize, parameterSets };
}

/**
 * Converts a length-prefixed access unit to Annex B in `scratch` (grown when needed) and returns
 * the Annex B bytes (a view of the scratch buffer).
 */
export function lengthPrefixedToAnnexB(
  data: Uint8Array,
  lengthSize: number,
  trackId: number,
  scratch: { buffer: Uint8Array },
): Uint8Array {
  // First pass: validate the chain of lengths and size the output.
  let size = 0;
  let o = 0;
  while (o < data.length) {
    if (o + lengthSize > data.length) {
      throw new MuxerInputError('INVALID_NAL', 'truncated NAL unit length prefix', trackId);
    }
    let length = 0;
    for (let i = 0; i < lengthSize; i++) length = length * 256 + data[o + i]!;
    o += lengthSize;
    if (length === 0 || o + length > data.length) {
      throw new MuxerInputError('INVALID_NAL', 'NAL unit length prefix does not match the data', trackId);
    }
    size += 4 + length;
    o += length;
  }
  if (scratch.buffer.length < size)
    scratch.buffer = new Uint8Array(Math.max(size, scratch.buffer.length * 2));
  const out = scratch.buffer;
  let w = 0;
  o = 0;
  while (o < data.length) {
    let length = 0;
    for (let i = 0; i < lengthSize; i++) length = length * 256 + data[o + i]!;
    o += lengthSize;
    out[w] = 0; // start code 00 00 00 01
    out[w + 1] = 0;
    out[w + 2] = 0;
    out[w + 3] = 1;
    out.set(data.subarray(o, o + length), w + 4);
    w += 4 + length;
    o += length;
  }
  return out.subarray(0, size);
}

/** True when `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
