/**
 * Opus in MPEG-TS (ETSI TS 102 366 style mapping, "Opus in TS" 0.1.3): stream_type 0x06 on
 * private_stream_1, a registration descriptor 'Opus' and an extension descriptor with the channel
 * configuration in the PMT, and an opus_control_header before every access unit. Packet durations
 * come from the TOC byte (RFC 6716 §3.1).
 */

import { MuxerInputError } from './errors.js';

/** Frame sizes in 48 kHz samples by TOC config (RFC 6716 Table 2). */
const FRAME_SAMPLES = /* @__PURE__ */ (() => {
  const t = new Uint16Array(32);
  for (let c = 0; c < 32; c++) {
    if (c < 12)
      t[c] = [480, 960, 1920, 2880][c & 3]!; // SILK-only: 10, 20, 40, 60 ms
    else if (c < 16)
      t[c] = [480, 960][c & 1]!; // Hybrid: 10, 20 ms
    else t[c] = [120, 240, 480, 960][c & 3]!; // CELT-only: 2.5, 5, 10, 20 ms
  }
  return t;
})();

/** An Opus packet is at most 120 ms (RFC 6716 §3.2.5). */
const MAX_PACKET_SAMPLES = 5760;

/** Duration of an Opus packet in 48 kHz samples, validating its framing (RFC 6716 §3.1, §3.2). */
export function opusPacketSamples(data: Uint8Array, trackId: number): number {
  if (data.length === 0) throw new MuxerInputError('EMPTY_PACKET', 'empty Opus packet', trackId);
  const toc = data[0]!;
  const frameSamples = FRAME_SAMPLES[toc >> 3]!;
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1) {
    if ((data.length - 1) % 2 !== 0)
      throw new MuxerInputError('INVALID_OPUS', 'Opus code 1 packet has frames of unequal size', trackId);
    frames = 2;
  } else if (code === 2) {
    if (data.length < 2)
      throw new MuxerInputError('INVALID_OPUS', 'Opus code 2 packet is truncated', trackId);
    frames = 2;
  } else {
    if (data.length < 2)
      throw new MuxerInputError('INVALID_OPUS', 'Opus code 3 packet is truncated', trackId);
    frames = data[1]! & 0x3f; // frame count M
    if (frames === 0)
      throw new MuxerInputError('INVALID_OPUS', 'Opus code 3 packet with zero frames', trackId);
  }
  const samples = frames * frameSamples;
  if (samples > MAX_PACKET_SAMPLES)
    throw new MuxerInputError('INVALID_OPUS', 'Opus packet longer than 120 ms', trackId);
  return samples;
}

/** Size of the control header {@link writeOpusControlHeader} writes. */
export function opusControlHeaderSize(auSize: number, startTrim: number, endTrim: number): number {
  return 2 + Math.floor(auSize / 255) + 1 + (startTrim > 0 ? 2 : 0) + (endTrim > 0 ? 2 : 0);
}

/**
 * Writes an opus_control_header at `offset` and returns its size: the 11-bit prefix 0x3FF, the trim
 * flags, au_size as ⌊N/255⌋ bytes of 0xFF plus N mod 255, then the 13-bit trims (48 kHz samples).
 */
export function writeOpusControlHeader(
  out: Uint8Array,
  offset: number,
  auSize: number,
  startTrim: number,
  endTrim: number,
): number {
  let o = offset;
  out[o++] = 0x7f; // control_header_prefix[10..3]
  // control_header_prefix[2..0], start_trim_flag, end_trim_flag, control_extension_flag 0, reserved '00'
  out[o++] = 0xe0 | (startTrim > 0 ? 0x10 : 0) | (endTrim > 0 ? 0x08 : 0);
  let n = auSize;
  while (n >= 255) {
    out[o++] = 0xff; // au_size: 255 continues
    n -= 255;
  }
  out[o++] = n; // au_size: final byte
  if (startTrim > 0) {
    out[o++] = startTrim >> 8; // reserved '000', start_trim[12..8]
    out[o++] = startTrim & 0xff; // start_trim[7..0]
  }
  if (endTrim > 0) {
    out[o++] = endTrim >> 8; // reserved '000', end_trim[12..8]
    out[o++] = endTrim & 0xff; // end_trim[7..0]
  }
  return o - offset;
}

/**
 * ES_info descriptors of an Opus stream: registration_descriptor with format_identifier 'Opus', and
 * the extension descriptor (tag 0x7F, extension tag 0x80) with channel_config_code.
 */
export function opusDescriptors(channelCount: number): Uint8Array {
  // channel_config_code: the channel count for mapping family 0, 0x80 | count for Vorbis order.
  const channelConfigCode = channelCount <= 2 ? channelCount : 0x80 | channelCount;
  return Uint8Array.of(
    0x05, // descriptor_tag: registration_descriptor
    0x04, // descriptor_length
    0x4f, // format_identifier 'O'
    0x70, // 'p'
    0x75, // 'u'
    0x73, // 's'
    0x7f, // descriptor_tag: extension_descriptor
    0x02, // descriptor_length
    0x80, // descriptor_tag_extension: Opus
    channelConfigCode, // channel_config_code
  );
}
