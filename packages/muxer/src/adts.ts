/**
 * AAC in MPEG-TS: stream_type 0x0F carries ADTS frames (ISO/IEC 13818-1 Table 2-34,
 * ISO/IEC 14496-3 §1.A.2). Raw frames get a 7-byte ADTS header built from the AudioSpecificConfig
 * (ISO/IEC 14496-3 §1.6.2.1); ADTS input is checked and passed through.
 */

import { MuxerInputError } from './errors.js';

/** Size of an ADTS header without CRC (protection_absent 1). */
export const ADTS_HEADER_SIZE = 7;
/** frame_length is 13 bits and counts the header. */
const MAX_ADTS_FRAME = 0x1fff;

/** Sampling frequencies by sampling_frequency_index (ISO/IEC 14496-3 Table 1.18). */
export const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
] as const;

/** The fields of an AudioSpecificConfig that an ADTS header repeats. */
export interface AacConfig {
  /** ADTS profile: audioObjectType − 1 (0 Main, 1 LC, 2 SSR, 3 LTP). */
  profile: number;
  /** sampling_frequency_index of the core coder. */
  samplingFrequencyIndex: number;
  /** channel_configuration (1–7). */
  channelConfiguration: number;
  /** Core sampling rate in Hz. */
  sampleRate: number;
}

/**
 * Reads the ADTS-relevant fields of an AudioSpecificConfig. Explicit SBR/PS signalling (object types
 * 5 and 29) maps to the underlying object type at the core rate, as ADTS carries it.
 */
export function parseAudioSpecificConfig(asc: Uint8Array): AacConfig {
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      if (bit >> 3 >= asc.length) throw new TypeError('options.audioSpecificConfig is truncated');
      v = v * 2 + ((asc[bit >> 3]! >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  const objectType = (): number => {
    const t = read(5);
    return t === 31 ? 32 + read(6) : t;
  };
  const frequencyIndex = (): number => {
    const i = read(4);
    if (i === 15)
      throw new TypeError(
        'options.audioSpecificConfig: an explicit sampling frequency cannot be carried in ADTS',
      );
    if (i >= AAC_SAMPLE_RATES.length)
      throw new TypeError(`options.audioSpecificConfig: reserved sampling_frequency_index ${i}`);
    return i;
  };
  let aot = objectType();
  const samplingFrequencyIndex = frequencyIndex();
  const channelConfiguration = read(4);
  if (aot === 5 || aot === 29) {
    frequencyIndex(); // extensionSamplingFrequencyIndex: ADTS signals SBR implicitly
    aot = objectType();
  }
  if (aot < 1 || aot > 4) {
    throw new TypeError(
      `options.audioSpecificConfig: audio object type ${aot} cannot be carried in ADTS (1–4 only)`,
    );
  }
  if (channelConfiguration < 1 || channelConfiguration > 7) {
    throw new TypeError(
      `options.audioSpecificConfig: channelConfiguration ${channelConfiguration} is not supported (1–7; no PCE)`,
    );
  }
  return {
    profile: aot - 1,
    samplingFrequencyIndex,
    channelConfiguration,
    sampleRate: AAC_SAMPLE_RATES[samplingFrequencyIndex]!,
  };
}

/** Writes an ADTS header (no CRC) for a raw frame of `rawLength` bytes. */
export function writeAdtsHeader(out: Uint8Array, offset: number, config: AacConfig, rawLength: number): void {
  const frameLength = rawLength + ADTS_HEADER_SIZE;
  out[offset] = 0xff; // syncword[11..4]
  out[offset + 1] = 0xf1; // syncword[3..0], ID 0 (MPEG-4), layer '00', protection_absent 1
  // profile_ObjectType, sampling_frequency_index, private_bit 0, channel_configuration[2]
  out[offset + 2] =
    (config.profile << 6) | (config.samplingFrequencyIndex << 2) | (config.channelConfiguration >> 2);
  // channel_configuration[1..0], original_copy 0, home 0, copyright bits 0, frame_length[12..11]
  out[offset + 3] = ((config.channelConfiguration & 3) << 6) | (frameLength >> 11);
  out[offset + 4] = (frameLength >> 3) & 0xff; // frame_length[10..3]
  out[offset + 5] = ((frameLength & 7) << 5) | 0x1f; // frame_length[2..0], adts_buffer_fullness[10..6] (0x7FF: VBR)
  out[offset + 6] = 0xfc; // adts_buffer_fullness[5..0], number_of_raw_data_blocks_in_frame 0
}

/** Validates a raw AAC frame's size for ADTS framing. */
export function checkRawAacFrame(data: Uint8Array, trackId: number): void {
  if (data.length + ADTS_HEADER_SIZE > MAX_ADTS_FRAME) {
    throw new MuxerInputError(
      'INVALID_AAC',
      `raw AAC frame of ${data.length} bytes exceeds the ADTS frame_length limit`,
      trackId,
    );
  }
}

/**
 * Checks that `data` is a whole number of ADTS frames whose frame_length fields chain exactly to
 * its end, and returns the number of AAC frames (1024 samples each) it holds.
 */
export function checkAdtsFrames(data: Uint8Array, trackId: number): { frames: number; sampleRate: number } {
  let o = 0;
  let frames = 0;
  let sampleRate = 0;
  while (o < data.length) {
    if (o + ADTS_HEADER_SIZE > data.length || data[o] !== 0xff || (data[o + 1]! & 0xf6) !== 0xf0) {
      throw new MuxerInputError('INVALID_ADTS', `no ADTS syncword at byte ${o}`, trackId);
    }
    const index = (data[o + 2]! >> 2) & 0x0f;
    const rate = AAC_SAMPLE_RATES[index];
    if (rate === undefined)
      throw new MuxerInputError('INVALID_ADTS', `reserved sampling_frequency_index ${index}`, trackId);
    const headerLength = data[o + 1]! & 1 ? 7 : 9; // protection_absent
    const frameLength = ((data[o + 3]! & 3) << 11) | (data[o + 4]! << 3) | (data[o + 5]! >> 5);
    if (frameLength <= headerLength || o + frameLength > data.length) {
      throw new MuxerInputError(
        'INVALID_ADTS',
        `ADTS frame_length ${frameLength} does not fit the packet`,
        trackId,
      );
    }
    if (sampleRate !== 0 && rate !== sampleRate) {
      throw new MuxerInputError(
        'INVALID_ADTS',
        'ADTS frames of one packet disagree on the sampling rate',
        trackId,
      );
    }
    sampleRate = rate;
    frames += (data[o + 6]! & 3) + 1; // number_of_raw_data_blocks_in_frame + 1
    o += frameLength;
  }
  if (frames === 0) throw new MuxerInputError('EMPTY_PACKET', 'empty AAC packet', trackId);
  return { frames, sampleRate };
}
