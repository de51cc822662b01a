import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MuxerInputError, TsMuxer } from '../src/index.js';
import { inspectTs } from '../src/inspect/index.js';
import {
  annexB,
  collector,
  hex,
  idrAu,
  interAu,
  PPS,
  readPackets,
  readPes,
  SPS,
  slice,
} from './helpers/packets.js';

const STRICT = { maxTableGapMs: 100.5, maxPcrGapMs: 40.5 };
const ASC_LC_48K_STEREO = Uint8Array.of(0x11, 0x90);

function aacFrame(size = 300, seed = 0): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + seed) % 256);
}

function opusPacket(size = 120): Uint8Array {
  const p = new Uint8Array(size).fill(0x55);
  p[0] = 0xfc; // CELT 20 ms, one frame
  return p;
}

function countAuds(data: Uint8Array): number {
  let n = 0;
  for (let i = 0; i + 4 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && (data[i + 3]! & 0x1f) === 9) n++;
  }
  return n;
}

describe('TsMuxer output structure', () => {
  it('starts with PAT, PMT, then an IDR PES with AUD and SPS/PPS; one sink call per PES', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    mux.write(v, { data: idrAu(), pts: 0, dts: 0, keyframe: true });
    mux.write(v, { data: interAu(), pts: 3000, dts: 3000 });
    mux.close();
    expect(out.chunks).toHaveLength(2);
    for (const c of out.chunks) expect(c.bytes.length % 188).toBe(0);
    const packets = readPackets(out.bytes());
    expect(packets[0]!.pid).toBe(0);
    expect(packets[1]!.pid).toBe(0x1000);
    expect(packets[2]!.pid).toBe(0x100);
    expect(packets[2]!.pusi).toBe(true);
    expect(packets[2]!.randomAccess).toBe(true);
    expect(packets[2]!.pcr27).toBe(0); // clock − offset at the first frame
    const pes = readPes(out.bytes());
    expect(pes.map((p) => [p.pts, p.dts])).toEqual([
      [45000, 45000],
      [48000, 48000],
    ]);
    expect(hex(pes[0]!.data.subarray(0, 6))).toBe('00 00 00 01 09 10'); // the encoder's own AUD stays first
    expect(out.chunks[0]!.info).toMatchObject({
      trackId: v,
      kind: 'video',
      keyframe: true,
      randomAccess: true,
      pts: 45000,
    });
    expect(out.chunks[1]!.info).toMatchObject({ keyframe: false, randomAccess: false, frames: 1 });
    expect(mux.timestampOffset).toBe(45000);
    expect(inspectTs(out.bytes(), STRICT).violations).toEqual([]);
  });

  it('puts an AUD first when the encoder wrote none, and moves a misplaced one', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    mux.write(v, { data: annexB(SPS, PPS, slice(true, 500)), pts: 0 });
    const sei = Uint8Array.of(0x06, 0x05, 0x01, 0x00, 0x80);
    mux.write(v, { data: annexB(sei, Uint8Array.of(0x09, 0x30), slice(false, 300)), pts: 3000 });
    const pes = readPes(out.bytes());
    for (const p of pes) {
      expect(hex(p.data.subarray(0, 6))).toBe('00 00 00 01 09 f0');
      expect(countAuds(p.data)).toBe(1);
    }
    // The moved AUD's bytes are gone from the middle: SEI follows the AUD directly.
    expect(hex(pes[1]!.data.subarray(6, 11))).toBe('00 00 00 01 06');
    expect(pes[1]!.data.length).toBe(6 + 4 + sei.length + 4 + 300);
    expect(inspectTs(out.bytes(), STRICT).violations).toEqual([]);
  });

  it('repeats the last SPS/PPS before an IDR that lacks them', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    mux.write(v, { data: idrAu(400), pts: 0 });
    mux.write(v, { data: annexB(slice(true, 400, 2)), pts: 3000, keyframe: true });
    const second = readPes(out.bytes())[1]!;
    expect(hex(second.data.subarray(0, 6 + 4 + SPS.length + 4 + PPS.length))).toBe(
      hex(annexB(Uint8Array.of(0x09, 0xf0), SPS, PPS)),
    );
    expect(out.chunks[1]!.info.keyframe).toBe(true);
    expect(inspectTs(out.bytes(), STRICT).violations).toEqual([]);
  });

  it('accepts length-prefixed access units with avcC and converts them to Annex B', () => {
    const avcC = Uint8Array.of(
      1,
      0x42,
      0xc0,
      0x1e,
      0xff,
      0xe1,
      0,
      SPS.length,
      ...SPS,
      1,
      0,
      PPS.length,
      ...PPS,
    );
    const idr = slice(true, 700);
    const lp = new Uint8Array(4 + idr.length);
    new DataView(lp.buffer, lp.byteOffset, lp.byteLength).setUint32(0, idr.length);
    lp.set(idr, 4);
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264', avcC });
    mux.write(v, { data: lp, pts: 0 });
    const pes = readPes(out.bytes());
    expect(hex(pes[0]!.data)).toBe(hex(annexB(Uint8Array.of(0x09, 0xf0), SPS, PPS, idr)));
    expect(() => mux.write(v, { data: Uint8Array.of(0, 0, 0, 9, 0x41), pts: 3000 })).toThrow(MuxerInputError);
  });

  it('frames AAC as ADTS and Opus with control headers, PES_packet_length exact', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
    const o = mux.addTrack({ codec: 'opus', channelCount: 2, preSkip: 312 });
    for (let i = 0; i < 10; i++) {
      mux.write(a, { data: aacFrame(300 + i, i), pts: i * 1024 });
      mux.write(o, { data: opusPacket(100 + i), pts: i * 960 });
    }
    mux.close();
    const pes = readPes(out.bytes());
    const aac = pes.filter((p) => p.pid === 0x100);
    const opus = pes.filter((p) => p.pid === 0x101);
    for (const p of pes) expect(p.pesPacketLength).toBe(3 + 5 + p.data.length);
    // ADTS: each frame is header + raw bytes; frame_length chains through the PES.
    let frames = 0;
    for (const p of aac) {
      for (let k = 0; k < p.data.length; frames++) {
        expect(p.data[k]).toBe(0xff);
        const length = ((p.data[k + 3]! & 3) << 11) | (p.data[k + 4]! << 3) | (p.data[k + 5]! >> 5);
        expect(hex(p.data.subarray(k + 7, k + length))).toBe(hex(aacFrame(300 + frames, frames)));
        k += length;
      }
    }
    expect(frames).toBe(10);
    expect(opus[0]!.streamId).toBe(0xbd);
    // First Opus AU: start_trim 312 ≤ its 960 samples; later ones carry no trim.
    expect(hex(opus[0]!.data.subarray(0, 5))).toBe('7f f0 64 01 38');
    expect(hex(opus[0]!.data.subarray(5 + 100, 5 + 100 + 3))).toBe('7f e0 65');
    expect(inspectTs(out.bytes(), STRICT).violations).toEqual([]);
  });

  it('batches audio into PES of at most maxAudioPesDurationMs, or one frame each with 0', () => {
    for (const [limitMs, perPes] of [
      [100, 4],
      [50, 2],
      [0, 1],
    ] as const) {
      const out = collector();
      const mux = new TsMuxer({ sink: out.sink, maxAudioPesDurationMs: limitMs });
      const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
      for (let i = 0; i < 40; i++) mux.write(a, { data: aacFrame(), pts: i * 1024 });
      mux.close();
      const infos = out.chunks.map((c) => c.info);
      expect(infos.map((i) => i.frames).slice(0, -1)).toEqual(Array(infos.length - 1).fill(perPes));
      expect(infos.reduce((n, i) => n + i.frames, 0)).toBe(40);
      for (const i of infos) expect(i.duration).toBeLessThanOrEqual(Math.max(limitMs * 90, 1920));
      expect(inspectTs(out.bytes(), STRICT).violations).toEqual([]);
    }
  });
});

describe('TsMuxer input validation: a refused packet writes nothing and the stream goes on', () => {
  const cases: [string, (mux: TsMuxer, v: number, a: number) => void, string][] = [
    ['NaN pts', (m, v) => m.write(v, { data: interAu(), pts: Number.NaN }), 'INVALID_TIMESTAMP'],
    [
      'infinite dts',
      (m, v) => m.write(v, { data: interAu(), pts: 9000, dts: Number.POSITIVE_INFINITY }),
      'INVALID_TIMESTAMP',
    ],
    ['pts before dts', (m, v) => m.write(v, { data: interAu(), pts: 6000, dts: 9000 }), 'PTS_BEFORE_DTS'],
    ['dts backwards', (m, v) => m.write(v, { data: interAu(), pts: 1000 }), 'DTS_BACKWARDS'],
    ['dts repeated', (m, v) => m.write(v, { data: interAu(), pts: 3000 }), 'DTS_BACKWARDS'],
    ['not Annex B', (m, v) => m.write(v, { data: Uint8Array.of(1, 2, 3, 4, 5), pts: 9000 }), 'NOT_ANNEX_B'],
    ['no slice', (m, v) => m.write(v, { data: annexB(SPS, PPS), pts: 9000 }), 'INVALID_NAL'],
    [
      'forbidden bit',
      (m, v) => m.write(v, { data: annexB(Uint8Array.of(0xe5, 1, 2)), pts: 9000 }),
      'INVALID_NAL',
    ],
    [
      'keyframe flag without IDR',
      (m, v) => m.write(v, { data: interAu(), pts: 9000, keyframe: true }),
      'NOT_KEYFRAME',
    ],
    ['empty', (m, v) => m.write(v, { data: new Uint8Array(0), pts: 9000 }), 'EMPTY_PACKET'],
    ['unknown track', (m) => m.write(7, { data: interAu(), pts: 9000 }), 'UNKNOWN_TRACK'],
    ['oversized raw AAC', (m, _v, a) => m.write(a, { data: new Uint8Array(9000), pts: 4800 }), 'INVALID_AAC'],
    [
      'audio before the start',
      (m, _v, a) => m.write(a, { data: aacFrame(), pts: -30000 }),
      'INVALID_TIMESTAMP',
    ],
  ];
  for (const [name, bad, code] of cases) {
    it(name, () => {
      const out = collector();
      const mux = new TsMuxer({ sink: out.sink, maxAudioPesDurationMs: 0 });
      const v = mux.addTrack({ codec: 'h264' });
      const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
      mux.write(v, { data: idrAu(), pts: 0 });
      mux.write(v, { data: interAu(), pts: 3000 });
      const before = out.chunks.length;
      let error: unknown;
      try {
        bad(mux, v, a);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MuxerInputError);
      expect((error as MuxerInputError).code).toBe(code);
      expect(out.chunks.length).toBe(before);
      mux.write(v, { data: interAu(), pts: 6000 });
      mux.write(a, { data: aacFrame(), pts: 3200 });
      mux.close();
      const report = inspectTs(out.bytes(), STRICT);
      expect(report.violations).toEqual([]);
      expect(report.streams.find((s) => s.pid === 0x100)?.pesCount).toBe(3);
    });
  }

  it('refuses a track that lags the others by more than the PCR offset (its DTS would precede the PCR)', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink, pcrOffsetMs: 200 });
    const v = mux.addTrack({ codec: 'h264' });
    const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
    mux.write(v, { data: idrAu(), pts: 90000 });
    expect(() => mux.write(a, { data: aacFrame(), pts: 48000 - 9600 })).toThrow(
      expect.objectContaining({ code: 'DTS_BEFORE_PCR' }),
    );
    mux.write(a, { data: aacFrame(), pts: 48000 - 9000 }); // 187.5 ms behind: accepted
    mux.close();
    expect(out.chunks).toHaveLength(2);
    expect(inspectTs(out.bytes(), STRICT).violations).toEqual([]);
  });

  it('the first video access unit must be an IDR; an IDR needs parameter sets from somewhere', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    expect(() => mux.write(v, { data: interAu(), pts: 0 })).toThrow(
      expect.objectContaining({ code: 'NOT_KEYFRAME' }),
    );
    expect(() => mux.write(v, { data: annexB(slice(true, 100)), pts: 0 })).toThrow(
      expect.objectContaining({ code: 'MISSING_PARAMETER_SETS' }),
    );
    expect(out.chunks).toHaveLength(0);
    mux.write(v, { data: idrAu(), pts: 0 });
    expect(out.chunks).toHaveLength(1);
  });

  it('refuses bad options and late tracks with TypeError/RangeError naming the option', () => {
    const sink = (): void => {};
    expect(() => new TsMuxer({ sink: 3 as never })).toThrow(/options.sink/);
    expect(() => new TsMuxer({ sink, pcrOffsetMs: 2000 })).toThrow(RangeError);
    expect(() => new TsMuxer({ sink, pcrIntervalMs: Number.NaN })).toThrow(/pcrIntervalMs/);
    const mux = new TsMuxer({ sink });
    expect(() => mux.addTrack({ codec: 'vp8' } as never)).toThrow(/options.codec/);
    expect(() => mux.addTrack({ codec: 'opus', channelCount: 9 })).toThrow(/channelCount/);
    expect(() => mux.addTrack({ codec: 'aac' })).toThrow(/timescale/);
    expect(() => mux.addTrack({ codec: 'aac', audioSpecificConfig: Uint8Array.of(0xf8, 0) })).toThrow(
      TypeError,
    );
    const v = mux.addTrack({ codec: 'h264' });
    mux.write(v, { data: idrAu(), pts: 0 });
    expect(() => mux.addTrack({ codec: 'h264' })).toThrow(/before the first write/);
    mux.close();
    expect(() => mux.write(v, { data: interAu(), pts: 3000 })).toThrow(
      expect.objectContaining({ code: 'CLOSED' }),
    );
  });
});

describe('TsMuxer clock: PCR, tables and DTS − PCR hold whatever the schedule', () => {
  it('holds the bounds for random frame rates, jitter, stalls and audio (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 60 }), // fps
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 30, maxLength: 90 }), // stall ms per frame
        fc.boolean(),
        fc.constantFrom(0, 20, 100),
        (fps, stalls, withAudio, audioPesMs) => {
          const out = collector();
          const mux = new TsMuxer({ sink: out.sink, maxAudioPesDurationMs: audioPesMs });
          const v = mux.addTrack({ codec: 'h264' });
          const a = withAudio ? mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO }) : -1;
          let t = 0;
          let audioSamples = 0;
          stalls.forEach((stall, i) => {
            t += Math.round(90000 / fps) + (stall > 300 ? stall * 90 : 0);
            while (a >= 0 && (audioSamples * 90000) / 48000 <= t) {
              mux.write(a, { data: aacFrame(200), pts: audioSamples });
              audioSamples += 1024;
            }
            mux.write(v, { data: i % 30 === 0 ? idrAu(2000, i) : interAu(300 + stall, i), pts: t });
          });
          mux.close();
          const report = inspectTs(out.bytes(), STRICT);
          expect(report.violations).toEqual([]);
          expect(report.maxPcrGapMs!).toBeLessThanOrEqual(40.01);
          expect(report.maxPatGapMs!).toBeLessThanOrEqual(100.01);
          expect(report.dtsMinusPcrMs!.min).toBeGreaterThan(0);
          expect(report.dtsMinusPcrMs!.max).toBeLessThanOrEqual(1000);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fills a video stall with PCR-only packets on the video PID while audio flows', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
    mux.write(v, { data: idrAu(), pts: 0 });
    for (let i = 0; i < 100; i++) mux.write(a, { data: aacFrame(), pts: i * 1024 }); // 2.1 s, camera muted
    mux.write(v, { data: interAu(), pts: 2 * 90000 });
    mux.close();
    const packets = readPackets(out.bytes());
    const pcrOnly = packets.filter((p) => p.pid === 0x100 && !p.hasPayload && p.pcr27 !== null);
    expect(pcrOnly.length).toBeGreaterThanOrEqual(45); // ≥ 1.9 s / 40 ms
    const report = inspectTs(out.bytes(), STRICT);
    expect(report.violations).toEqual([]);
    expect(report.maxPcrGapMs!).toBeLessThanOrEqual(40.01);
  });

  it('crosses 2^32 and 2^33 ticks with correct fields and monotonic unwrapped time', () => {
    for (const start of [2 ** 32 - 90000, 2 ** 33 - 90000]) {
      const out = collector();
      const mux = new TsMuxer({ sink: out.sink });
      const v = mux.addTrack({ codec: 'h264' });
      const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO, timescale: 90000 });
      for (let i = 0; i < 90; i++) {
        const t = start + i * 3000;
        mux.write(a, { data: aacFrame(), pts: start + Math.round(i * 1920 * 1.5625) });
        mux.write(v, { data: i % 30 === 0 ? idrAu(1000, i) : interAu(200, i), pts: t });
      }
      mux.close();
      const video = readPes(out.bytes()).filter((p) => p.pid === 0x100);
      expect(video.map((p) => p.pts)).toEqual(video.map((_, i) => (start + 45000 + i * 3000) % 2 ** 33));
      const infos = out.chunks.filter((c) => c.info.kind === 'video').map((c) => c.info.pts);
      expect(infos.every((p, i) => i === 0 || p > infos[i - 1]!)).toBe(true);
      expect(infos.at(-1)).toBe(start + 45000 + 89 * 3000); // unwrapped in ChunkInfo
      const report = inspectTs(out.bytes(), STRICT);
      expect(report.violations).toEqual([]);
      expect(report.durationMs).toBeGreaterThan(2900);
      expect(report.durationMs).toBeLessThan(3100);
    }
  });
});

describe('TsMuxer segments and discontinuities', () => {
  it('startSegment flushes audio and makes the next audio PES a random access point (audio only)', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const a = mux.addTrack({ codec: 'opus', channelCount: 2 });
    for (let i = 0; i < 3; i++) mux.write(a, { data: opusPacket(), pts: i * 960 });
    const before = out.chunks.length;
    mux.startSegment();
    expect(out.chunks.length).toBe(before + 1); // pending audio written now
    mux.write(a, { data: opusPacket(), pts: 3 * 960 });
    mux.flush();
    const next = out.chunks[before + 1]!;
    expect(next.info.randomAccess).toBe(true);
    expect(
      readPackets(next.bytes)
        .map((p) => p.pid)
        .slice(0, 2),
    ).toEqual([0, 0x1000]);
  });

  it('every IDR chunk starts with PAT/PMT, and pending audio is written before it', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
    for (let i = 0; i < 60; i++) {
      mux.write(a, { data: aacFrame(), pts: i * 1600 });
      mux.write(v, { data: i % 20 === 0 ? idrAu(800, i) : interAu(200, i), pts: i * 3000 });
    }
    mux.close();
    const keyChunks = out.chunks.filter((c) => c.info.keyframe);
    expect(keyChunks).toHaveLength(3);
    for (const c of keyChunks) {
      expect(c.info.randomAccess).toBe(true);
      expect(
        readPackets(c.bytes)
          .map((p) => p.pid)
          .slice(0, 2),
      ).toEqual([0, 0x1000]);
      // Audio written after an IDR chunk starts after the IDR's time minus at most one PES.
      const index = out.chunks.indexOf(c);
      const later = out.chunks.slice(index + 1).filter((x) => x.info.kind === 'audio');
      expect(later.every((x) => x.info.pts >= c.info.pts - 100 * 90)).toBe(true);
    }
  });

  it('markDiscontinuity sets discontinuity_indicator on every PID and lets time restart', () => {
    const out = collector();
    const mux = new TsMuxer({ sink: out.sink });
    const v = mux.addTrack({ codec: 'h264' });
    const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: ASC_LC_48K_STEREO });
    mux.write(v, { data: idrAu(), pts: 900000 });
    mux.write(a, { data: aacFrame(), pts: 480000 });
    mux.markDiscontinuity();
    const cut = out.bytes().length / 188;
    mux.write(v, { data: idrAu(), pts: 0 });
    mux.write(a, { data: aacFrame(), pts: 0 });
    mux.close();
    const after = readPackets(out.bytes()).slice(cut);
    const firstOf = (pid: number) => after.find((p) => p.pid === pid)!;
    expect(firstOf(0x100).discontinuity).toBe(true);
    expect(firstOf(0x101).discontinuity).toBe(true);
    expect(after.filter((p) => p.discontinuity)).toHaveLength(2);
    expect(out.chunks.find((c) => c.info.pts === 45000)?.info.discontinuity).toBe(true);
    const report = inspectTs(out.bytes(), STRICT);
    expect(report.violations).toEqual([]);
  });
});

describe('TsMuxer packetization (property)', () => {
  it('every packet is 188 bytes, CC runs on every PID, and each PES reassembles byte-exact', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 5000 }),
            key: fc.boolean(),
            audio: fc.integer({ min: 0, max: 3 }),
          }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        (frames) => {
          const out = collector();
          const mux = new TsMuxer({ sink: out.sink, maxAudioPesDurationMs: 0 });
          const v = mux.addTrack({ codec: 'h264' });
          const o = mux.addTrack({ codec: 'opus', channelCount: 1 });
          const expected = new Map<number, Uint8Array[]>([
            [0x100, []],
            [0x101, []],
          ]);
          let audioPts = 0;
          frames.forEach((f, i) => {
            const au = i === 0 || f.key ? idrAu(f.size, i) : interAu(f.size, i);
            mux.write(v, { data: au, pts: i * 3000 });
            expected.get(0x100)!.push(au);
            for (let k = 0; k < f.audio; k++) {
              const packet = opusPacket(1 + ((f.size * (k + 1)) % 700));
              mux.write(o, { data: packet, pts: audioPts });
              audioPts += 960;
              expected.get(0x101)!.push(packet);
            }
          });
          mux.close();
          const bytes = out.bytes();
          expect(bytes.length % 188).toBe(0);
          const lastCc = new Map<number, number>();
          for (const p of readPackets(bytes)) {
            if (!p.hasPayload) continue;
            const prev = lastCc.get(p.pid);
            if (prev !== undefined) expect(p.cc).toBe((prev + 1) % 16);
            lastCc.set(p.pid, p.cc);
          }
          const pes = readPes(bytes);
          const video = pes.filter((p) => p.pid === 0x100).map((p) => p.data);
          expect(video.map(hex)).toEqual(expected.get(0x100)!.map(hex)); // AUD already first: bytes unchanged
          const opus = pes.filter((p) => p.pid === 0x101);
          expect(
            opus.map((p) =>
              hex(p.data.subarray(p.data.length - expected.get(0x101)![opus.indexOf(p)]!.length)),
            ),
          ).toEqual(expected.get(0x101)!.map(hex));
        },
      ),
      { numRuns: 150 },
    );
  });
});
