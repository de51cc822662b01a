/**
 * Hex tables for every field writer. Expected bytes come from FFmpeg's mpegts muxer output
 * (libavformat 59, Debian 5.1) or are worked out from ISO/IEC 13818-1 by hand as commented.
 */
import { describe, expect, it } from 'vitest';
import { ADTS_HEADER_SIZE, parseAudioSpecificConfig, writeAdtsHeader } from '../src/adts.js';
import { crc32Mpeg2 } from '../src/crc32.js';
import {
  opusControlHeaderSize,
  opusDescriptors,
  opusPacketSamples,
  writeOpusControlHeader,
} from '../src/opus.js';
import { writePesHeader } from '../src/pes.js';
import { buildPatPacket, buildPmtPacket } from '../src/psi.js';
import { readTimestamp, toTicks90k, wrap33, writeTimestamp } from '../src/timestamp.js';
import { pidState, readPcrBase, writePcr, writePcrOnlyPacket } from '../src/ts-packet.js';
import { fromHex, hex } from './helpers/packets.js';

const section = (packet: Uint8Array): Uint8Array => {
  const length = ((packet[6]! & 0x0f) << 8) | packet[7]!;
  return packet.subarray(5, 5 + 3 + length);
};

describe('CRC-32/MPEG-2', () => {
  it('matches the catalogue check value', () => {
    expect(crc32Mpeg2(new TextEncoder().encode('123456789'))).toBe(0x0376e6e7);
  });
  it('is 0 over a whole section including its CRC_32', () => {
    const pat = buildPatPacket(1, 1, 0x1000);
    const s = section(pat);
    expect(crc32Mpeg2(s)).toBe(0);
    s[9]! ^= 1;
    expect(crc32Mpeg2(s)).not.toBe(0);
  });
});

describe('PSI', () => {
  it('PAT equals the one FFmpeg writes', () => {
    const pat = buildPatPacket(1, 1, 0x1000);
    expect(hex(pat.subarray(0, 5))).toBe('47 40 00 10 00'); // PUSI, PID 0, payload only, pointer_field
    expect(hex(section(pat))).toBe('00 b0 0d 00 01 c1 00 00 00 01 f0 00 2a b1 04 b2');
    expect(pat.subarray(5 + 16).every((b) => b === 0xff)).toBe(true);
  });
  it('PMT for H.264 + AAC equals the one FFmpeg writes', () => {
    const pmt = buildPmtPacket(1, 0x1000, 0x100, [
      { streamType: 0x1b, pid: 0x100, descriptors: new Uint8Array(0) },
      { streamType: 0x0f, pid: 0x101, descriptors: new Uint8Array(0) },
    ]);
    expect(hex(pmt.subarray(0, 5))).toBe('47 50 00 10 00');
    expect(hex(section(pmt))).toBe(
      '02 b0 17 00 01 c1 00 00 e1 00 f0 00 1b e1 00 f0 00 0f e1 01 f0 00 2f 44 b9 9b',
    );
  });
  it('PMT for Opus equals the one FFmpeg writes (registration + extension descriptors)', () => {
    const pmt = buildPmtPacket(1, 0x1000, 0x100, [
      { streamType: 0x06, pid: 0x100, descriptors: opusDescriptors(2) },
    ]);
    expect(hex(section(pmt))).toBe(
      '02 b0 1c 00 01 c1 00 00 e1 00 f0 00 06 e1 00 f0 0a 05 04 4f 70 75 73 7f 02 80 02 a5 e2 bd 28',
    );
    expect(hex(opusDescriptors(6).subarray(6))).toBe('7f 02 80 86'); // Vorbis order: 0x80 | channels
  });
  it('refuses a PMT that would not fit one packet', () => {
    const streams = Array.from({ length: 20 }, (_, i) => ({
      streamType: 6,
      pid: 0x100 + i,
      descriptors: opusDescriptors(2),
    }));
    expect(() => buildPmtPacket(1, 0x1000, 0x100, streams)).toThrow(RangeError);
  });
});

describe('33-bit timestamps', () => {
  const field = (prefix: number, ticks: number): string => {
    const out = new Uint8Array(5);
    writeTimestamp(out, 0, prefix, ticks);
    return hex(out);
  };
  it('writes PTS fields with prefix and marker bits', () => {
    expect(field(0x2, 0)).toBe('21 00 01 00 01');
    expect(field(0x2, 126000)).toBe('21 00 07 d8 61'); // FFmpeg's first Opus PTS at 1.4 s
    expect(field(0x3, 2 ** 33 - 1)).toBe('3f ff ff ff ff');
  });
  it('keeps bit 32 (2^32 ticks ≈ 13.25 h) and wraps at 2^33', () => {
    expect(field(0x2, 2 ** 32)).toBe('29 00 01 00 01'); // PTS[32] set: 0010 100 1
    expect(field(0x2, 2 ** 32 + 2 ** 30)).toBe('2b 00 01 00 01');
    expect(field(0x2, 2 ** 33)).toBe(field(0x2, 0));
    expect(field(0x2, 2 ** 33 + 90000)).toBe(field(0x2, 90000));
    for (const t of [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 12345, 2 ** 33 - 1]) {
      const out = new Uint8Array(5);
      writeTimestamp(out, 0, 2, t);
      expect(readTimestamp(out, 0)).toBe(t);
    }
  });
  it('wrap33 is arithmetic modulo 2^33', () => {
    expect(wrap33(2 ** 33 + 5)).toBe(5);
    expect(wrap33(3 * 2 ** 33 + 2 ** 32)).toBe(2 ** 32);
    expect(wrap33(-1)).toBe(2 ** 33 - 1);
  });
  it('converts timescales exactly, even for very long recordings', () => {
    expect(toTicks90k(1024, 48000)).toBe(1920);
    expect(toTicks90k(1, 1000)).toBe(90);
    expect(toTicks90k(1024, 44100)).toBe(2090); // 2089.80 rounded
    expect(toTicks90k(33_366, 1_000_000)).toBe(3003); // 29.97 fps in microseconds
    // 30 days in microseconds: the naive product (2.6e12 × 9e4) leaves the safe-integer range.
    const us = 30 * 86400 * 1_000_000 + 1;
    expect(toTicks90k(us, 1_000_000)).toBe(30 * 86400 * 90000);
  });
});

describe('PCR', () => {
  it('writes base and extension with the reserved bits set', () => {
    const out = new Uint8Array(6);
    writePcr(out, 0, 0, 0);
    expect(hex(out)).toBe('00 00 00 00 7e 00');
    writePcr(out, 0, 1, 299);
    expect(hex(out)).toBe('00 00 00 00 ff 2b'); // base bit 0, ext 299 = 0x12b
    writePcr(out, 0, 2 ** 32 + 3, 0);
    expect(hex(out)).toBe('80 00 00 01 fe 00');
    expect(readPcrBase(out, 0)).toBe(2 ** 32 + 3);
    writePcr(out, 0, 2 ** 33 + 7, 0);
    expect(readPcrBase(out, 0)).toBe(7);
  });
  it('PCR-only packets carry no payload and do not advance the continuity counter', () => {
    const state = pidState(0x100);
    state.cc = 6;
    const out = new Uint8Array(188);
    writePcrOnlyPacket(out, 0, state, 90000, 0);
    expect(hex(out.subarray(0, 12))).toBe('47 01 00 26 b7 10 00 00 af c8 7e 00');
    expect(state.cc).toBe(6);
    expect(out.subarray(12).every((b) => b === 0xff)).toBe(true);
  });
});

describe('PES header', () => {
  it('video: PTS and DTS, PES_packet_length 0 when it does not fit 16 bits', () => {
    const out = new Uint8Array(19);
    expect(writePesHeader(out, 0, 0xe0, 70000, 126000, 123000, true)).toBe(19);
    expect(hex(out)).toBe('00 00 01 e0 00 00 84 c0 0a 31 00 07 d8 61 11 00 07 c0 f1');
  });
  it('audio: PTS only and the true PES_packet_length', () => {
    const out = new Uint8Array(14);
    expect(writePesHeader(out, 0, 0xbd, 1591, 126000, 126000, false)).toBe(14);
    // FFmpeg's first Opus PES: 00 00 01 bd 06 63 80 80 05 21 00 07 d8 61 (we also set data_alignment_indicator)
    expect(hex(out)).toBe('00 00 01 bd 06 3f 84 80 05 21 00 07 d8 61');
  });
});

describe('ADTS', () => {
  it('parses AudioSpecificConfig, including explicit SBR signalling', () => {
    expect(parseAudioSpecificConfig(fromHex('11 90'))).toEqual({
      profile: 1,
      samplingFrequencyIndex: 3,
      channelConfiguration: 2,
      sampleRate: 48000,
    });
    // HE-AAC: AOT 5, 24 kHz core, extension 48 kHz, then AOT 2 → ADTS LC at 24 kHz
    expect(parseAudioSpecificConfig(fromHex('2b 11 88 00')).profile).toBe(1);
    expect(() => parseAudioSpecificConfig(fromHex('f8'))).toThrow(TypeError);
    expect(() => parseAudioSpecificConfig(fromHex('11 80'))).toThrow(/channelConfiguration 0/);
  });
  it('writes the 7-byte header (protection_absent, frame_length includes the header)', () => {
    const out = new Uint8Array(ADTS_HEADER_SIZE);
    writeAdtsHeader(out, 0, parseAudioSpecificConfig(fromHex('11 90')), 371);
    // frame_length 378 = 0x17a; LC (1), index 3, 2 channels, fullness 0x7ff
    expect(hex(out)).toBe('ff f1 4c 80 2f 5f fc');
  });
});

describe('Opus', () => {
  it('control header equals FFmpeg’s first access unit (au_size 439, start_trim 312)', () => {
    const out = new Uint8Array(16);
    const n = writeOpusControlHeader(out, 0, 439, 312, 0);
    expect(hex(out.subarray(0, n))).toBe('7f f0 ff b8 01 38');
    expect(opusControlHeaderSize(439, 312, 0)).toBe(n);
  });
  it('au_size uses 0xFF continuation bytes, and an exact multiple of 255 ends in 0', () => {
    const out = new Uint8Array(16);
    expect(hex(out.subarray(0, writeOpusControlHeader(out, 0, 254, 0, 0)))).toBe('7f e0 fe');
    expect(hex(out.subarray(0, writeOpusControlHeader(out, 0, 255, 0, 0)))).toBe('7f e0 ff 00');
    expect(hex(out.subarray(0, writeOpusControlHeader(out, 0, 510, 0, 120)))).toBe('7f e8 ff ff 00 00 78');
  });
  it('reads packet durations from the TOC byte', () => {
    expect(opusPacketSamples(Uint8Array.of(0xfc, 1, 2), 0)).toBe(960); // config 31 (CELT 20 ms), code 0
    expect(opusPacketSamples(Uint8Array.of(0x09, 1, 2), 0)).toBe(1920); // config 1 (SILK 20 ms), code 1: 2 frames
    expect(opusPacketSamples(Uint8Array.of(0x0b, 0x03), 0)).toBe(2880); // config 1, code 3 with M = 3
    expect(opusPacketSamples(Uint8Array.of(0x1b, 0x02), 0)).toBe(5760); // config 3 (SILK 60 ms), M = 2: 120 ms
    expect(() => opusPacketSamples(Uint8Array.of(0x1b, 0x03), 0)).toThrow(/120 ms/); // M = 3: 180 ms
    expect(() => opusPacketSamples(Uint8Array.of(0x0b, 0x00), 0)).toThrow(/zero frames/);
    expect(() => opusPacketSamples(Uint8Array.of(0x09, 1), 0)).toThrow(/unequal/); // code 1: 1 byte for 2 frames
    expect(() => opusPacketSamples(new Uint8Array(0), 0)).toThrow(/empty/);
  });
});
