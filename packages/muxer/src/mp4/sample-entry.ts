/**
 * Sample entries (the children of `stsd`) for the codecs the fMP4 muxer carries:
 * - `avc1` + `avcC` — ISO/IEC 14496-15 §5.4.2.1 (AVCSampleEntry) and §5.3.3.1 (AVCDecoderConfigurationRecord),
 *   on the VisualSampleEntry of ISO/IEC 14496-12 §12.1.3;
 * - `mp4a` + `esds` — ISO/IEC 14496-14 §5.6 (MP4AudioSampleEntry, ESDBox) with the ES_Descriptor of
 *   ISO/IEC 14496-1 §7.2.6.5, on the AudioSampleEntry of ISO/IEC 14496-12 §12.2.3;
 * - `Opus` + `dOps` — "Encapsulation of Opus in ISO Base Media File Format" v0.6.8 §4.3.1 (OpusSampleEntry)
 *   and §4.3.2 (OpusSpecificBox), channel mappings of RFC 7845 §5.1.1.
 */

import { BoxWriter } from './box-writer.js';
import type { SpsInfo } from './sps.js';

/** Profiles whose avcC carries chroma_format and bit depths (ISO/IEC 14496-15 §5.3.3.1.2). */
const AVCC_EXTENSION_PROFILES = new Set([100, 110, 122, 144]);

/** Builds an AVCDecoderConfigurationRecord with 4-byte NAL lengths from raw SPS/PPS NAL units. */
export function buildAvcC(sps: readonly Uint8Array[], pps: readonly Uint8Array[], info: SpsInfo): Uint8Array {
  const w = new BoxWriter(64);
  w.u8(1); // configurationVersion
  w.u8(info.profileIdc); // AVCProfileIndication
  w.u8(info.constraintFlags); // profile_compatibility
  w.u8(info.levelIdc); // AVCLevelIndication
  w.u8(0xfc | 3); // reserved '111111', lengthSizeMinusOne = 3
  w.u8(0xe0 | sps.length); // reserved '111', numOfSequenceParameterSets
  for (const s of sps) {
    w.u16(s.length); // sequenceParameterSetLength
    w.raw(s); // sequenceParameterSetNALUnit
  }
  w.u8(pps.length); // numOfPictureParameterSets
  for (const p of pps) {
    w.u16(p.length); // pictureParameterSetLength
    w.raw(p); // pictureParameterSetNALUnit
  }
  if (AVCC_EXTENSION_PROFILES.has(info.profileIdc)) {
    w.u8(0xfc | info.chromaFormatIdc); // reserved '111111', chroma_format
    w.u8(0xf8 | info.bitDepthLumaMinus8); // reserved '11111', bit_depth_luma_minus8
    w.u8(0xf8 | info.bitDepthChromaMinus8); // reserved '11111', bit_depth_chroma_minus8
    w.u8(0); // numOfSequenceParameterSetExt
  }
  return w.toBytes();
}

/** The `avc1` VisualSampleEntry with its `avcC`. */
export function avc1SampleEntry(avcC: Uint8Array, width: number, height: number): Uint8Array {
  const w = new BoxWriter(128 + avcC.length);
  w.box('avc1');
  w.zeros(6); // SampleEntry reserved
  w.u16(1); // data_reference_index
  w.u16(0); // pre_defined
  w.u16(0); // reserved
  w.zeros(12); // pre_defined[3]
  w.u16(width); // width
  w.u16(height); // height
  w.u32(0x00480000); // horizresolution: 72 dpi
  w.u32(0x00480000); // vertresolution: 72 dpi
  w.u32(0); // reserved
  w.u16(1); // frame_count
  w.zeros(32); // compressorname (empty Pascal string)
  w.u16(0x0018); // depth
  w.u16(0xffff); // pre_defined = -1
  w.box('avcC');
  w.raw(avcC); // AVCDecoderConfigurationRecord
  w.end();
  w.end();
  return w.toBytes();
}

/** Writes the header of an AudioSampleEntry (ISO/IEC 14496-12 §12.2.3), version 0. */
function audioSampleEntryHeader(w: BoxWriter, type: string, channelCount: number, sampleRate: number): void {
  w.box(type);
  w.zeros(6); // SampleEntry reserved
  w.u16(1); // data_reference_index
  w.zeros(8); // reserved[2]
  w.u16(channelCount); // channelcount
  w.u16(16); // samplesize
  w.u16(0); // pre_defined
  w.u16(0); // reserved
  w.u32(sampleRate <= 0xffff ? sampleRate * 0x10000 : 0); // samplerate, 16.16
}

/** Writes an MPEG-4 descriptor tag and its size (ISO/IEC 14496-1 §8.3.3 expandable size, 4 bytes). */
function descriptor(w: BoxWriter, tag: number, size: number): void {
  w.u8(tag); // tag
  w.u8(0x80 | ((size >>> 21) & 0x7f)); // sizeOfInstance, nextByte flag set
  w.u8(0x80 | ((size >>> 14) & 0x7f));
  w.u8(0x80 | ((size >>> 7) & 0x7f));
  w.u8(size & 0x7f);
}

/** The `mp4a` AudioSampleEntry with an `esds` carrying the AudioSpecificConfig. */
export function mp4aSampleEntry(
  audioSpecificConfig: Uint8Array,
  channelCount: number,
  sampleRate: number,
  trackId: number,
): Uint8Array {
  const w = new BoxWriter(128 + audioSpecificConfig.length);
  audioSampleEntryHeader(w, 'mp4a', channelCount, sampleRate);
  w.fullBox('esds', 0, 0);
  const dsiSize = audioSpecificConfig.length;
  const decoderConfigSize = 13 + 5 + dsiSize;
  const esSize = 3 + 5 + decoderConfigSize + 5 + 1;
  descriptor(w, 0x03, esSize); // ES_DescrTag
  w.u16(trackId); // ES_ID
  w.u8(0); // streamDependenceFlag, URL_Flag, OCRstreamFlag, streamPriority
  descriptor(w, 0x04, decoderConfigSize); // DecoderConfigDescrTag
  w.u8(0x40); // objectTypeIndication: Audio ISO/IEC 14496-3
  w.u8((0x05 << 2) | 1); // streamType AudioStream, upStream 0, reserved 1
  w.u24(0); // bufferSizeDB
  w.u32(0); // maxBitrate (unknown)
  w.u32(0); // avgBitrate (variable)
  descriptor(w, 0x05, dsiSize); // DecSpecificInfoTag
  w.raw(audioSpecificConfig); // AudioSpecificConfig
  descriptor(w, 0x06, 1); // SLConfigDescrTag
  w.u8(0x02); // predefined: reserved for use in MP4 files
  w.end();
  w.end();
  return w.toBytes();
}

/** Vorbis channel order mappings for 1–8 channels (RFC 7845 §5.1.1.2): streams, coupled, mapping. */
const VORBIS_MAPPINGS: readonly (readonly [number, number, readonly number[]])[] = [
  [1, 0, [0]],
  [1, 1, [0, 1]],
  [2, 1, [0, 2, 1]],
  [2, 2, [0, 1, 2, 3]],
  [3, 2, [0, 4, 1, 2, 3]],
  [4, 2, [0, 4, 1, 2, 3, 5]],
  [4, 3, [0, 4, 1, 2, 3, 5, 6]],
  [5, 3, [0, 6, 1, 2, 3, 4, 5, 7]],
];

/**
 * The `Opus` AudioSampleEntry with its `dOps`. Mapping family 0 for 1–2 channels, 1 (Vorbis order, the
 * libopus surround layout) for 3–8, as the MPEG-TS muxer signals it.
 */
export function opusSampleEntry(channelCount: number, preSkip: number): Uint8Array {
  const w = new BoxWriter(64);
  audioSampleEntryHeader(w, 'Opus', channelCount, 48_000);
  w.box('dOps');
  w.u8(0); // Version
  w.u8(channelCount); // OutputChannelCount
  w.u16(preSkip); // PreSkip
  w.u32(48_000); // InputSampleRate
  w.u16(0); // OutputGain
  const family = channelCount <= 2 ? 0 : 1;
  w.u8(family); // ChannelMappingFamily
  if (family !== 0) {
    const [streams, coupled, mapping] = VORBIS_MAPPINGS[channelCount - 1]!;
    w.u8(streams); // StreamCount
    w.u8(coupled); // CoupledCount
    for (const m of mapping) w.u8(m); // ChannelMapping
  }
  w.end();
  w.end();
  return w.toBytes();
}
