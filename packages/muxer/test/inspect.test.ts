import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { crc32Mpeg2 } from '../src/inspect/crc32.js';
import {
  completePrefixLength,
  formatReport,
  inspectTs,
  TsInspector,
  type TsReport,
  type Violation,
  type ViolationCode,
} from '../src/inspect/index.js';
import { readPcr, readTimestamp } from '../src/inspect/timestamps.js';
import {
  AAC_PES_TICKS,
  AUDIO_PID,
  adtsFrame,
  buildStream,
  type CraftStream,
  crc32Bitwise,
  dropPackets,
  h264Au,
  opusAu,
  opusDescriptors,
  PMT_PID,
  patSection,
  pcrField,
  pesBytes,
  pidAt,
  pmtSection,
  TsWriter,
  timestampField,
  VIDEO_PID,
} from './helpers/ts-craft.js';

/** What our muxer promises: tables every 100 ms, PCR every 40 ms. */
const STRICT = { maxTableGapMs: 100.001, maxPcrGapMs: 40.001 };
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function codes(report: TsReport): ViolationCode[] {
  return report.violations.map((v) => v.code);
}

function only(report: TsReport, code: ViolationCode): Violation[] {
  return report.violations.filter((v) => v.code === code);
}

describe('CRC-32/MPEG-2', () => {
  test('check value and zero remainder over a section', () => {
    expect(crc32Bitwise(ascii('123456789'))).toBe(0x0376e6e7);
    expect(crc32Mpeg2(ascii('123456789'))).toBe(0x0376e6e7);
    // The PAT FFmpeg 5.1 writes, CRC included.
    const ffPat = new Uint8Array([
      0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2,
    ]);
    expect(crc32Mpeg2(ffPat)).toBe(0);
    expect(patSection(1, 0x1000)).toEqual(ffPat);
  });

  test('table-driven and bitwise implementations agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32Mpeg2(bytes)).toBe(crc32Bitwise(bytes));
      }),
    );
  });
});

describe('33-bit fields', () => {
  test('PTS and PCR round-trip above 2^32 and near 2^33', () => {
    for (const v of [0, 1, 2 ** 30 - 1, 2 ** 32 + 12345, 2 ** 33 - 1]) {
      expect(readTimestamp(new Uint8Array(timestampField(0b0010, v)), 0)).toBe(v);
    }
    for (const v of [0, 299, 300 * (2 ** 32 + 7) + 123, 300 * (2 ** 33 - 1) + 299]) {
      expect(readPcr(new Uint8Array(pcrField(v)), 0)).toBe(v);
    }
  });
});

describe('valid streams', () => {
  test('H.264 + AAC: no violation, streams, counts, clocks and durations', () => {
    const built = buildStream();
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.packets).toBe(built.bytes.length / 188);
    expect(r.bytes).toBe(built.bytes.length);
    expect(r.trailingBytes).toBe(0);
    expect(r.programs).toEqual([{ programNumber: 1, pmtPid: PMT_PID, pcrPid: VIDEO_PID, version: 0 }]);
    expect(r.pcrPid).toBe(VIDEO_PID);
    const [video, audio] = r.streams;
    expect(video).toMatchObject({
      pid: VIDEO_PID,
      streamType: 0x1b,
      codec: 'h264',
      pesCount: 30,
      frames: 30,
      keyframes: 2,
    });
    expect(video!.firstPts).toBe(126000);
    expect(video!.lastDts).toBe(126000 + 29 * 3000);
    expect(video!.durationMs).toBeCloseTo(1000, 6);
    expect(audio).toMatchObject({
      pid: AUDIO_PID,
      streamType: 0x0f,
      codec: 'aac',
      pesCount: built.audioPes.length,
    });
    expect(audio!.frames).toBe(4 * built.audioPes.length);
    expect(audio!.durationMs).toBeCloseTo((built.audioPes.length * AAC_PES_TICKS) / 90, 6);
    expect(r.durationMs).toBe(Math.max(video!.durationMs, audio!.durationMs));
    expect(r.pcrCount).toBe(30);
    expect(r.maxPcrGapMs).toBeCloseTo(33.333, 3);
    expect(r.maxPatGapMs).toBeCloseTo(100, 3);
    expect(r.maxPmtGapMs).toBeCloseTo(100, 3);
    expect(r.dtsMinusPcrMs!.min).toBeCloseTo(500, 6);
    expect(r.dtsMinusPcrMs!.max).toBeLessThan(534);
    const pids = Object.fromEntries(r.pids.map((p) => [p.pid, p]));
    expect(pids[0]).toMatchObject({ kind: 'pat', packets: built.pats.length, ccErrors: 0 });
    expect(pids[PMT_PID]).toMatchObject({ kind: 'pmt', packets: built.pats.length });
    expect(pids[VIDEO_PID]!.packets + pids[AUDIO_PID]!.packets + 2 * built.pats.length).toBe(r.packets);
    const text = formatReport(r);
    expect(text).toContain('violations: none');
    expect(text).toContain('0x0100 h264 (stream_type 0x1b): 30 PES, 30 frames, 2 keyframes');
    expect(text).toContain(`PIDs: 0x0000 pat ×${built.pats.length}, 0x0100 pes ×`);
    expect(text).toContain('PCR: 30 on 0x0100, max gap 33.3 ms; PAT max gap 100.0 ms');
  });

  test('H.264 + Opus: control headers, TOC durations', () => {
    const built = buildStream({ audio: 'opus' });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([]);
    const audio = r.streams[1]!;
    expect(audio).toMatchObject({ codec: 'opus', streamType: 0x06, frames: 4 * built.audioPes.length });
    expect(audio.durationMs).toBeCloseTo(built.audioPes.length * 80, 6);
  });

  test('property: any valid stream the builder makes checks clean, with exact durations', () => {
    fc.assert(
      fc.property(
        fc.record({
          frames: fc.integer({ min: 1, max: 40 }),
          gop: fc.integer({ min: 1, max: 40 }),
          audio: fc.constantFrom('aac' as const, 'opus' as const, 'none' as const),
          start: fc.oneof(fc.integer({ min: 90000, max: 2 ** 33 - 1 }), fc.constant(2 ** 33 - 3000)),
          pcrOffset: fc.integer({ min: 1, max: 85000 }), // audio PES may start up to a frame after the last PCR
        }),
        (o) => {
          const built = buildStream(o);
          const r = inspectTs(built.bytes, { ...STRICT, maxTableGapMs: 134 });
          expect(r.violations).toEqual([]);
          expect(r.streams[0]!.durationMs).toBeCloseTo(o.frames > 1 ? (o.frames * 1000) / 30 : 0, 2);
          expect(r.streams[0]!.firstPts).toBe(o.start);
          expect(r.streams[0]!.keyframes).toBe(Math.ceil(o.frames / o.gop));
          expect(completePrefixLength(built.bytes, { lastVideoPesComplete: true })).toBe(built.bytes.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('pushed in arbitrary chunks, the report is the same as in one piece', () => {
    const built = buildStream({ frames: 12 });
    // A few broken packets too, so that resync runs across chunk edges.
    const bytes = built.bytes.slice();
    bytes[5 * 188] = 0x00;
    bytes.copyWithin(20 * 188 + 50, 21 * 188, 22 * 188);
    const whole = inspectTs(bytes, STRICT);
    expect(whole.violationCounts.SYNC_LOST).toBeGreaterThanOrEqual(2);
    // Chunk edges right around the broken packets.
    for (const edge of [5 * 188, 6 * 188, 6 * 188 + 1, 7 * 188 - 1, 20 * 188 + 50, 21 * 188 + 50, 22 * 188]) {
      const inspector = new TsInspector(STRICT);
      inspector.push(bytes.subarray(0, edge));
      inspector.push(bytes.subarray(edge));
      expect(inspector.finish()).toEqual(whole);
    }
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        const inspector = new TsInspector(STRICT);
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          inspector.push(bytes.subarray(from, cut));
          from = cut;
        }
        inspector.push(bytes.subarray(from));
        expect(inspector.finish()).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  test('timestamps crossing 2^33 stay monotonic: no false PTS_BACKWARDS or PCR error', () => {
    const start = 2 ** 33 - 45000; // DTS wraps after 0.5 s, the PCR after 1 s
    const built = buildStream({ start, frames: 60 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([]);
    const video = r.streams[0]!;
    expect(video.firstPts).toBe(start);
    expect(video.lastDts).toBe(start + 59 * 3000); // unwrapped: > 2^33
    expect(video.lastDts).toBeGreaterThan(2 ** 33);
    expect(video.durationMs).toBeCloseTo(2000, 6);
    expect(r.maxPcrGapMs).toBeCloseTo(33.333, 3);
  });

  test('timestamps above 2^32 (13.3 h) keep bit 32', () => {
    const start = 2 ** 32 + 90000;
    const r = inspectTs(buildStream({ start }).bytes, STRICT);
    expect(r.violations).toEqual([]);
    expect(r.streams[0]!.firstPts).toBe(start);
    expect(r.streams[1]!.firstPts).toBe(start);
  });

  test('a signalled time-base jump is no violation; unsignalled it is', () => {
    const jump = -10 * 90000;
    const start = 20 * 90000;
    const signalled = inspectTs(buildStream({ start, frames: 40, jumpAtFrame: 20, jump }).bytes, STRICT);
    expect(signalled.violations).toEqual([]);
    // The duration adds both epochs instead of spanning the jump.
    expect(signalled.streams[0]!.durationMs).toBeCloseTo(40 * (1000 / 30), 3);
    // Signalled on the PCR PID only: every PES that follows refers to the new time base (§2.4.3.5).
    const pcrOnly = buildStream({ start, frames: 40, jumpAtFrame: 20, jump });
    const firstAfter = pcrOnly.audioPes[pcrOnly.audioPts.findIndex((t) => t < start)]!;
    expect(pcrOnly.bytes[firstAfter * 188 + 5]! & 0x80).toBe(0x80);
    pcrOnly.bytes[firstAfter * 188 + 5]! &= 0x7f; // clear discontinuity_indicator
    expect(inspectTs(pcrOnly.bytes, STRICT).violations).toEqual([]);
    const silent = inspectTs(
      buildStream({ start, frames: 40, jumpAtFrame: 20, jump, signalJump: false }).bytes,
      STRICT,
    );
    expect(silent.violationCounts.PTS_BACKWARDS).toBe(2); // video and audio
    expect(silent.violationCounts.PCR_BACKWARDS).toBe(1);
    expect(silent.ok).toBe(false);
  });
});

describe('broken streams', () => {
  test('corrupt sync byte: SYNC_LOST at that packet, the packet is lost (CC_ERROR next on its PID)', () => {
    const built = buildStream();
    const k = built.videoPes[3]! + 2; // inside a video PES
    expect(pidAt(built.bytes, k)).toBe(VIDEO_PID);
    const bytes = built.bytes.slice();
    bytes[k * 188] = 0x48;
    const r = inspectTs(bytes, STRICT);
    expect(r.violations[0]).toMatchObject({
      code: 'SYNC_LOST',
      packetIndex: k,
      byteOffset: k * 188,
      pid: -1,
    });
    expect(r.violations[1]).toMatchObject({ code: 'CC_ERROR', pid: VIDEO_PID, packetIndex: k + 1 });
    expect(r.violations).toHaveLength(2);
    expect(r.packets).toBe(built.bytes.length / 188 - 1);
    expect(r.skippedBytes).toBe(188);
  });

  test('bytes inserted between packets: SYNC_LOST, then resync on the next packet', () => {
    const built = buildStream();
    const k = built.audioPes[2]!;
    const bytes = new Uint8Array(built.bytes.length + 13);
    bytes.set(built.bytes.subarray(0, k * 188), 0);
    bytes.fill(0xab, k * 188, k * 188 + 13);
    bytes.set(built.bytes.subarray(k * 188), k * 188 + 13);
    const r = inspectTs(bytes, STRICT);
    expect(r.violations).toEqual([expect.objectContaining({ code: 'SYNC_LOST', byteOffset: k * 188 })]);
    expect(r.skippedBytes).toBe(13);
    expect(r.packets).toBe(built.bytes.length / 188);
  });

  test('a lost packet: CC_ERROR on the next packet of the PID; the damaged PES raises nothing more', () => {
    const built = buildStream();
    const k = built.videoPes[5]! + 1;
    const r = inspectTs(dropPackets(built.bytes, [k]), STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'CC_ERROR', pid: VIDEO_PID, packetIndex: k, byteOffset: k * 188 }),
    ]);
    expect(r.violations[0]!.message).toMatch(/expected/);
    expect(r.streams[0]!.ccErrors).toBe(1);
  });

  test('CC on PAT/PMT counts; a duplicate packet is allowed once, twice is an error', () => {
    const built = buildStream();
    const k = built.pats[2]!;
    const n = built.bytes.length / 188;
    const twice = new Uint8Array((n + 1) * 188);
    twice.set(built.bytes.subarray(0, (k + 1) * 188), 0);
    twice.set(built.bytes.subarray(k * 188), (k + 1) * 188);
    expect(inspectTs(twice, STRICT).violations).toEqual([]);
    const thrice = new Uint8Array((n + 2) * 188);
    thrice.set(twice.subarray(0, (k + 2) * 188), 0);
    thrice.set(twice.subarray((k + 1) * 188), (k + 2) * 188);
    const r = inspectTs(thrice, STRICT);
    expect(r.violations).toEqual([expect.objectContaining({ code: 'CC_ERROR', pid: 0, packetIndex: k + 2 })]);
    // A PAT missing its CC step.
    const skipped = built.bytes.slice();
    skipped[k * 188 + 3] = (skipped[k * 188 + 3]! & 0xf0) | ((skipped[k * 188 + 3]! + 1) & 0x0f);
    const r2 = inspectTs(skipped, STRICT);
    expect(r2.violations[0]).toMatchObject({ code: 'CC_ERROR', pid: 0, packetIndex: k });
    expect(r2.pids.find((p) => p.pid === 0)!.ccErrors).toBeGreaterThanOrEqual(1);
  });

  test('bad CRC: CRC_ERROR at the section, which is ignored', () => {
    const built = buildStream();
    const k = built.pats[3]!;
    const bytes = built.bytes.slice();
    bytes[k * 188 + 5 + 16 - 1]! ^= 0x01; // last CRC byte of the 16-byte PAT after the pointer_field
    const r = inspectTs(bytes);
    expect(r.violations).toEqual([expect.objectContaining({ code: 'CRC_ERROR', pid: 0, packetIndex: k })]);
    expect(r.maxPatGapMs).toBeCloseTo(200, 3); // the ignored PAT leaves a gap of two intervals
    // Against the muxer's 100 ms promise, that gap is a violation too.
    expect(codes(inspectTs(bytes, STRICT))).toEqual(['CRC_ERROR', 'PAT_GAP']);
  });

  test('bad CRC on the PMT: CRC_ERROR with the PMT PID', () => {
    const built = buildStream();
    const k = built.pats[1]! + 1;
    expect(pidAt(built.bytes, k)).toBe(PMT_PID);
    const bytes = built.bytes.slice();
    bytes[k * 188 + 5 + 4]! ^= 0x01; // program_number
    const r = inspectTs(bytes);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'CRC_ERROR', pid: PMT_PID, packetIndex: k }),
    ]);
  });

  test('PES without PTS', () => {
    const built = buildStream({ noPtsFrame: 7 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'PES_WITHOUT_PTS', pid: VIDEO_PID, packetIndex: built.videoPes[7] }),
    ]);
  });

  test('H.264 access unit without AUD first', () => {
    const built = buildStream({ noAudFrame: 4 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'AUD_NOT_FIRST', pid: VIDEO_PID, packetIndex: built.videoPes[4] }),
    ]);
    expect(r.violations[0]!.message).toContain('type 1');
  });

  test('IDR without SPS/PPS', () => {
    const built = buildStream({ noParamSetsFrame: 15 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({
        code: 'IDR_WITHOUT_SPS_PPS',
        pid: VIDEO_PID,
        packetIndex: built.videoPes[15],
      }),
    ]);
  });

  test('first video access unit not an IDR', () => {
    const built = buildStream({ firstIdr: 3 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({
        code: 'FIRST_VIDEO_NOT_IDR',
        pid: VIDEO_PID,
        packetIndex: built.videoPes[0],
      }),
    ]);
  });

  test('PAT/PMT gap over the threshold', () => {
    const built = buildStream({ tableInterval: 54000, frames: 45, gop: 1000 }); // every 600 ms
    const r = inspectTs(built.bytes); // default 500 ms
    const pat = only(r, 'PAT_GAP');
    // Tables at frames 0, 18, 36: seen at the PCRs of frames 0, 17, 35 (the table precedes the frame's PCR).
    expect(pat.map((v) => v.packetIndex)).toEqual([built.pats[1], built.pats[2]]);
    expect(only(r, 'PMT_GAP').map((v) => v.packetIndex)).toEqual([built.pats[1]! + 1, built.pats[2]! + 1]);
    expect(r.maxPatGapMs).toBeCloseTo(600, 3);
    expect(r.violationTotal).toBe(4);
    // The same stream with a looser limit passes; our muxer's own limit flags the original stream too.
    expect(inspectTs(built.bytes, { maxTableGapMs: 700 }).ok).toBe(true);
    expect(inspectTs(buildStream().bytes, { maxTableGapMs: 50 }).violationCounts.PAT_GAP).toBeGreaterThan(0);
  });

  test('a table that stops: the gap to the end of the stream counts', () => {
    const built = buildStream({ tableInterval: 1e12, gop: 1000, frames: 30 });
    expect(built.pats).toHaveLength(1);
    const r = inspectTs(built.bytes, STRICT);
    expect(r.maxPatGapMs).toBeCloseTo(29 * (1000 / 30), 3);
    expect(only(r, 'PAT_GAP')).toHaveLength(1);
    expect(only(r, 'PAT_GAP')[0]!.message).toContain('until the end');
  });

  test('PCR gap', () => {
    const built = buildStream({ noPcr: (i) => i >= 10 && i < 15 });
    const r = inspectTs(built.bytes);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'PCR_GAP', pid: VIDEO_PID, packetIndex: built.videoPes[15] }),
    ]);
    expect(r.maxPcrGapMs).toBeCloseTo(200, 3);
    // 33 ms is fine by default and by our 40 ms promise, not by 30 ms.
    expect(inspectTs(buildStream().bytes, { maxPcrGapMs: 30 }).violationCounts.PCR_GAP).toBe(29);
  });

  test('DTS before PCR, and DTS too far after it', () => {
    const built = buildStream({ pcrOffset: -900 }); // PCR 10 ms ahead of DTS
    const r = inspectTs(built.bytes, STRICT);
    // Audio PES are compared with the PCR of the last video frame before them.
    const audioBefore = built.audioPts.filter(
      (t) => t - Math.max(...built.videoDts.filter((d) => d <= t)) <= 900,
    );
    expect(audioBefore.length).toBeGreaterThan(0);
    expect(r.violationCounts.DTS_BEFORE_PCR).toBe(built.videoPes.length + audioBefore.length);
    expect(r.violations[0]).toMatchObject({
      code: 'DTS_BEFORE_PCR',
      pid: VIDEO_PID,
      packetIndex: built.videoPes[0],
    });
    expect(r.dtsMinusPcrMs!.min).toBeCloseTo(-10, 6);
    const far = inspectTs(buildStream({ pcrOffset: 1.2 * 90000 }).bytes, STRICT);
    expect(far.violationCounts.DTS_PCR_TOO_FAR).toBeGreaterThan(0);
    expect(far.violationCounts.DTS_BEFORE_PCR).toBeUndefined();
    expect(far.dtsMinusPcrMs!.min).toBeCloseTo(1200, 6);
  });

  test('no PCR at all', () => {
    const built = buildStream({ pcrPid: 0x1fff });
    const r = inspectTs(built.bytes);
    expect(codes(r)).toEqual(['PCR_MISSING']);
    expect(r.pcrCount).toBe(0);
    // Table intervals fall back to PES time (the largest DTS before each table).
    expect(r.maxPatGapMs).toBeGreaterThanOrEqual(100);
    expect(r.maxPatGapMs).toBeLessThan(134);
    expect(r.dtsMinusPcrMs).toBeNull();
    // PCR_PID names the video PID, which never carries one: payload came before any PCR.
    const r2 = inspectTs(buildStream({ noPcr: () => true }).bytes);
    expect(r2.violationCounts).toEqual({ PAYLOAD_BEFORE_PCR: 2, PCR_MISSING: 1 });
  });

  test('stream not starting with PAT then PMT; no PAT at all', () => {
    const built = buildStream();
    const r = inspectTs(dropPackets(built.bytes, [0, 1]), STRICT);
    expect(r.violations[0]).toMatchObject({ code: 'PSI_NOT_FIRST', packetIndex: 0, pid: VIDEO_PID });
    expect(
      inspectTs(dropPackets(built.bytes, [0, 1]), { ...STRICT, requirePsiFirst: false }).violationCounts
        .PSI_NOT_FIRST,
    ).toBeUndefined();
    const noTables = dropPackets(
      built.bytes,
      built.pats.flatMap((k) => [k, k + 1]),
    );
    const r2 = inspectTs(noTables, STRICT);
    expect(r2.violationCounts.MISSING_PAT).toBe(1);
    expect(r2.violationCounts.PSI_NOT_FIRST).toBe(1);
    expect(r2.streams.every((s) => s.codec === 'unknown' && s.streamType === -1)).toBe(true);
  });

  test('PAT names a PMT that never comes', () => {
    const w = new TsWriter();
    w.section(0, patSection(1, 0x1000));
    const r = inspectTs(w.bytes());
    expect(codes(r)).toEqual(['MISSING_PMT']);
  });

  test('ADTS frames that do not chain to the PES end', () => {
    const built = buildStream({ badAdtsPes: 3 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'INVALID_ADTS', pid: AUDIO_PID, packetIndex: built.audioPes[3] }),
    ]);
  });

  test('Opus control header with a bad prefix', () => {
    const built = buildStream({ audio: 'opus', badOpusPes: 2 });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violations).toEqual([
      expect.objectContaining({
        code: 'INVALID_OPUS_CONTROL_HEADER',
        pid: AUDIO_PID,
        packetIndex: built.audioPes[2],
      }),
    ]);
  });

  test('audio PES_packet_length 0, and a length that does not match', () => {
    const built = buildStream({ audioLengthZero: true });
    const r = inspectTs(built.bytes, STRICT);
    expect(r.violationCounts).toEqual({ PES_LENGTH_MISMATCH: built.audioPes.length });
    // PES_packet_length one byte too small: the last byte overflows it.
    const bytes = buildStream().bytes.slice();
    const k = buildStream().audioPes[1]!;
    const at = k * 188 + 4 + 2 + 4; // packet header, adaptation field (random_access only), PES prefix
    expect([bytes[at - 4], bytes[at - 3], bytes[at - 2]]).toEqual([0, 0, 1]);
    const declared = (bytes[at]! << 8) | bytes[at + 1]!;
    bytes[at] = (declared - 1) >> 8;
    bytes[at + 1] = (declared - 1) & 0xff;
    const r2 = inspectTs(bytes, STRICT);
    // The byte past PES_packet_length is not part of the PES: its last ADTS frame is cut short.
    expect(r2.violations).toEqual([
      expect.objectContaining({ code: 'PES_LENGTH_MISMATCH', packetIndex: k }),
      expect.objectContaining({ code: 'INVALID_ADTS', packetIndex: k }),
    ]);
  });

  test('trailing partial packet', () => {
    const built = buildStream();
    const bytes = new Uint8Array(built.bytes.length + 100);
    bytes.set(built.bytes, 0);
    bytes.set(built.bytes.subarray(0, 100), built.bytes.length);
    const r = inspectTs(bytes, STRICT);
    expect(r.trailingBytes).toBe(100);
    expect(r.packets).toBe(built.bytes.length / 188);
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'TRAILING_PARTIAL_PACKET', byteOffset: built.bytes.length }),
    ]);
  });

  test('violations are capped, counts are not', () => {
    const r = inspectTs(buildStream({ pcrOffset: -900 }).bytes, { ...STRICT, maxViolations: 5 });
    expect(r.violations).toHaveLength(5);
    expect(r.violationTotal).toBeGreaterThan(30);
    expect(r.violationCounts.DTS_BEFORE_PCR).toBe(r.violationTotal);
    expect(formatReport(r)).toContain('more');
  });

  test('options are validated', () => {
    expect(() => inspectTs(new Uint8Array(0), { maxTableGapMs: 0 })).toThrow(/options.maxTableGapMs/);
    expect(() => inspectTs(new Uint8Array(0), { maxPcrGapMs: Number.NaN })).toThrow(RangeError);
    expect(() => inspectTs(new Uint8Array(0), { maxViolations: -1 })).toThrow(/options.maxViolations/);
    expect(() =>
      completePrefixLength(new Uint8Array(0), { lastVideoPesComplete: 1 as unknown as boolean }),
    ).toThrow(/options.lastVideoPesComplete/);
  });

  test('random corruption never throws and is reported', () => {
    const base = buildStream({ frames: 10 }).bytes;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: base.length }),
        (edits, length) => {
          const bytes = base.slice(0, length);
          for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
          const r = inspectTs(bytes);
          expect(r.packets * 188 + r.trailingBytes + r.skippedBytes).toBe(bytes.length);
          expect(r.ok).toBe(r.violationTotal === 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('completePrefixLength', () => {
  test('a finished stream: whole with lastVideoPesComplete, else without the last video PES', () => {
    const built = buildStream({ audio: 'none' });
    expect(completePrefixLength(built.bytes, { lastVideoPesComplete: true })).toBe(built.bytes.length);
    const last = built.videoPes.at(-1)!;
    expect(completePrefixLength(built.bytes)).toBe(last * 188);
  });

  test('cut inside an audio PES: the cut goes to the earliest incomplete PES', () => {
    const built = buildStream();
    const j = 7;
    const audioStart = built.audioPes[j]!;
    const audioEnd = built.audioPes[j + 1] ?? built.bytes.length / 188;
    expect(audioEnd - audioStart).toBeGreaterThan(1);
    // Crash in the middle of the second packet of audio PES j, 100 bytes into it.
    const torn = built.bytes.subarray(0, (audioStart + 1) * 188 + 100);
    const lastVideo = Math.max(...built.videoPes.filter((k) => k < audioStart));
    // Without knowing the writer finished, the last video PES (length 0) is cut too.
    expect(completePrefixLength(torn)).toBe(Math.min(lastVideo, audioStart) * 188);
    // A torn packet shows the writer did not finish: the flag does not apply.
    expect(completePrefixLength(torn, { lastVideoPesComplete: true })).toBe(
      Math.min(lastVideo, audioStart) * 188,
    );
    // Cut at a packet boundary and known finished: only the torn audio PES goes.
    const tornAtPacket = built.bytes.subarray(0, (audioStart + 1) * 188);
    expect(completePrefixLength(tornAtPacket, { lastVideoPesComplete: true })).toBe(audioStart * 188);
    // The checker agrees: the torn file has a TRUNCATED_PES there and the prefixes are clean.
    const r = inspectTs(torn, STRICT);
    expect(codes(r)).toEqual(['TRUNCATED_PES', 'TRAILING_PARTIAL_PACKET']);
    expect(r.violations[0]).toMatchObject({ pid: AUDIO_PID, packetIndex: audioStart });
    for (const cut of [completePrefixLength(torn), audioStart * 188]) {
      expect(inspectTs(torn.subarray(0, cut), STRICT).violations).toEqual([]);
    }
  });

  test('cut at every packet boundary: every prefix it keeps checks clean', () => {
    const built = buildStream({ frames: 8 });
    const n = built.bytes.length / 188;
    let previous = 0;
    for (let i = 1; i <= n; i++) {
      const cut = completePrefixLength(built.bytes.subarray(0, i * 188));
      expect(cut % 188).toBe(0);
      expect(cut).toBeLessThanOrEqual(i * 188);
      const report = inspectTs(built.bytes.subarray(0, cut), { ...STRICT, maxTableGapMs: 1000 });
      expect(report.violationCounts.TRUNCATED_PES).toBeUndefined();
      expect(report.violationCounts.CC_ERROR).toBeUndefined();
      // A longer prefix never repairs to less.
      expect(cut).toBeGreaterThanOrEqual(previous);
      previous = cut;
    }
  });

  test('drops a partial packet and everything after a lost sync byte (zeros after a crash)', () => {
    const built = buildStream({ audio: 'none', frames: 5 });
    const withZeros = new Uint8Array(built.bytes.length + 4096);
    withZeros.set(built.bytes, 0);
    const lastVideo = built.videoPes.at(-1)! * 188;
    // The torn end shows the writer did not finish: lastVideoPesComplete does not apply.
    expect(completePrefixLength(withZeros, { lastVideoPesComplete: true })).toBe(lastVideo);
    expect(
      completePrefixLength(withZeros.subarray(0, built.bytes.length), { lastVideoPesComplete: true }),
    ).toBe(built.bytes.length);
    expect(
      completePrefixLength(built.bytes.subarray(0, built.bytes.length - 1), { lastVideoPesComplete: true }),
    ).toBe(lastVideo);
    expect(completePrefixLength(new Uint8Array(100))).toBe(0);
  });
});

describe('framing details', () => {
  function program(streams: CraftStream[], pcrPid = VIDEO_PID): TsWriter {
    const w = new TsWriter();
    w.section(0, patSection(1, PMT_PID));
    w.section(PMT_PID, pmtSection(pcrPid, streams));
    return w;
  }

  /** A PES whose first packet carries only `head` bytes of it (the rest of the packet is stuffing). */
  function splitPes(w: TsWriter, pid: number, pes: Uint8Array, head: number, pcr?: number): void {
    w.packet(pid, pes.subarray(0, head), { pusi: true, af: { pcr, randomAccess: true } });
    for (let o = head; o < pes.length; o += 184)
      w.packet(pid, pes.subarray(o, Math.min(o + 184, pes.length)));
  }

  test('a PMT longer than a packet, a PES header split across packets', () => {
    const descriptors: number[] = [];
    for (let i = 0; i < 60; i++) descriptors.push(0x80 + (i % 32), 2, i, i); // user-private descriptors
    const w = program([
      { type: 0x1b, pid: VIDEO_PID, descriptors },
      { type: 0x0f, pid: AUDIO_PID },
    ]);
    expect(w.count).toBe(3); // PAT + a PMT of two packets
    for (let i = 0; i < 3; i++) {
      const t = 90000 + i * 3000;
      const pes = pesBytes(0xe0, h264Au({ idr: i === 0 }), { pts: t, dts: t, length: 'zero' });
      splitPes(w, VIDEO_PID, pes, 5 + i, (t - 45000) * 300); // the header ends in the second packet
      const adts = new Uint8Array([...adtsFrame(190), ...adtsFrame(200)]);
      splitPes(w, AUDIO_PID, pesBytes(0xc0, adts, { pts: t }), 3);
    }
    const r = inspectTs(w.bytes(), STRICT);
    expect(r.violations).toEqual([]);
    expect(r.streams[0]).toMatchObject({
      codec: 'h264',
      pesCount: 3,
      keyframes: 1,
      firstPts: 90000,
      lastDts: 96000,
    });
    expect(r.streams[1]).toMatchObject({ codec: 'aac', pesCount: 3, frames: 6 });
  });

  test('a section ending after the pointer_field of the next one, then a new section in the same packet', () => {
    const pmt = pmtSection(VIDEO_PID, [{ type: 0x1b, pid: VIDEO_PID, descriptors: new Array(230).fill(0) }]);
    expect(pmt.length).toBeGreaterThan(183);
    const w = new TsWriter();
    w.section(0, patSection(1, PMT_PID));
    w.packet(PMT_PID, new Uint8Array([0, ...pmt.subarray(0, 183)]), { pusi: true });
    const rest = pmt.subarray(183);
    const second = pmt.slice();
    second[20]! ^= 0x01; // a corrupt copy: its CRC_ERROR proves it was parsed
    w.packet(PMT_PID, new Uint8Array([rest.length, ...rest, ...second.subarray(0, 183 - rest.length)]), {
      pusi: true,
    });
    w.packet(PMT_PID, second.subarray(183 - rest.length), { fill: 0xff });
    const idr = pesBytes(0xe0, h264Au({ idr: true }), { pts: 90000, dts: 90000, length: 'zero' });
    w.pes(VIDEO_PID, idr, { pcr: 45000 * 300, randomAccess: true });
    const r = inspectTs(w.bytes());
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'CRC_ERROR', pid: PMT_PID, packetIndex: 2 }),
    ]);
    expect(r.streams[0]).toMatchObject({ codec: 'h264', keyframes: 1 });
  });

  test('two access units in one PES; PTS before DTS', () => {
    const w = program([{ type: 0x1b, pid: VIDEO_PID }]);
    const two = new Uint8Array([...h264Au({ idr: true }), ...h264Au({ idr: false })]);
    const first = w.pes(VIDEO_PID, pesBytes(0xe0, two, { pts: 90000, dts: 90000, length: 'zero' }), {
      pcr: 45000 * 300,
    });
    const au = h264Au({ idr: false });
    const second = w.pes(VIDEO_PID, pesBytes(0xe0, au, { pts: 92000, dts: 96000, length: 'zero' }), {
      pcr: 51000 * 300,
    });
    const r = inspectTs(w.bytes());
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'MULTIPLE_AUS_IN_PES', packetIndex: first }),
      expect.objectContaining({ code: 'PTS_BEFORE_DTS', packetIndex: second }),
    ]);
    expect(r.streams[0]).toMatchObject({ frames: 3, keyframes: 1 });
  });

  test('H.265: AUD first, VPS/SPS/PPS before an IRAP picture', () => {
    const nal = (type: number, size = 40): number[] => {
      const bytes = [0, 0, 0, 1, type << 1, 0x01];
      for (let i = 0; i < size; i++) bytes.push(0x80 | (i & 0x7f));
      return bytes;
    };
    const au = (parts: number[][]): Uint8Array => new Uint8Array(parts.flat());
    const w = program([{ type: 0x24, pid: VIDEO_PID }]);
    const frames = [
      au([nal(35, 1), nal(32), nal(33), nal(34), nal(19)]), // AUD VPS SPS PPS IDR_W_RADL
      au([nal(35, 1), nal(1)]),
      au([nal(35, 1), nal(33), nal(34), nal(20)]), // IDR_N_LP without VPS
      au([nal(1)]), // no AUD
    ];
    const first: number[] = [];
    frames.forEach((data, i) => {
      const t = 90000 + i * 3000;
      first.push(
        w.pes(VIDEO_PID, pesBytes(0xe0, data, { pts: t, dts: t, length: 'zero' }), {
          pcr: (t - 45000) * 300,
        }),
      );
    });
    const r = inspectTs(w.bytes(), STRICT);
    expect(r.streams[0]).toMatchObject({ codec: 'h265', keyframes: 2, frames: 4 });
    expect(r.violations).toEqual([
      expect.objectContaining({ code: 'IDR_WITHOUT_SPS_PPS', packetIndex: first[2] }),
      expect.objectContaining({ code: 'AUD_NOT_FIRST', packetIndex: first[3] }),
    ]);
  });

  test('Opus: au_size above 255, trims, PCR on the audio PID', () => {
    const w = program([{ type: 0x06, pid: AUDIO_PID, descriptors: opusDescriptors(2) }], AUDIO_PID);
    for (let i = 0; i < 5; i++) {
      const t = 90000 + i * 3600;
      const data = new Uint8Array([...opusAu(600, { startTrim: i === 0 ? 312 : undefined }), ...opusAu(2)]);
      w.pes(AUDIO_PID, pesBytes(0xbd, data, { pts: t }), { pcr: (t - 45000) * 300, randomAccess: true });
    }
    const r = inspectTs(w.bytes()); // tables only at the start: 160 ms, fine by the 500 ms default
    expect(r.violations).toEqual([]);
    expect(r.streams[0]).toMatchObject({ codec: 'opus', frames: 10 });
    expect(r.streams[0]!.durationMs).toBeCloseTo(4 * 40 + 40, 6); // 2 × 20 ms per PES
    expect(r.pcrPid).toBe(AUDIO_PID);
    // Without the registration descriptor, stream_type 0x06 is not known to be Opus.
    const plain = program([{ type: 0x06, pid: AUDIO_PID }], AUDIO_PID);
    const broken = opusAu(100, { badPrefix: true });
    plain.pes(AUDIO_PID, pesBytes(0xbd, broken, { pts: 90000 }), { pcr: 45000 * 300 });
    const r2 = inspectTs(plain.bytes());
    expect(r2.violations).toEqual([]);
    expect(r2.streams[0]).toMatchObject({ codec: 'unknown', streamType: 0x06, pesCount: 1 });
    const opus = program([{ type: 0x06, pid: AUDIO_PID, descriptors: opusDescriptors(2) }], AUDIO_PID);
    opus.pes(AUDIO_PID, pesBytes(0xbd, broken, { pts: 90000 }), { pcr: 45000 * 300 });
    expect(codes(inspectTs(opus.bytes()))).toEqual(['INVALID_OPUS_CONTROL_HEADER']);
  });

  test('a stream cut inside a PES: PSI_NOT_FIRST unless allowed, nothing else', () => {
    const built = buildStream({ frames: 40 });
    const idrTables = built.videoPes[15]! - 2;
    expect(pidAt(built.bytes, idrTables)).toBe(0);
    const fromIdr = built.bytes.subarray(idrTables * 188);
    expect(inspectTs(fromIdr, STRICT).violations).toEqual([]);
    const inside = built.bytes.subarray((idrTables - 1) * 188);
    expect(codes(inspectTs(inside, STRICT))).toEqual(['PSI_NOT_FIRST']);
    expect(inspectTs(inside, { ...STRICT, requirePsiFirst: false }).violations).toEqual([]);
  });

  test('scrambled payloads and null packets are not parsed', () => {
    const built = buildStream({ frames: 6 });
    const bytes = built.bytes.slice();
    const k = built.videoPes[2]!;
    bytes[k * 188 + 3]! |= 0x80; // transport_scrambling_control '10'
    const w = new TsWriter();
    w.packet(0x1fff, new Uint8Array(184).fill(0xff));
    const withNull = new Uint8Array(bytes.length + 188);
    withNull.set(bytes, 0);
    withNull.set(w.bytes(), bytes.length);
    const r = inspectTs(withNull, STRICT);
    // The scrambled first packet hides the PES start: its bytes count as the previous PES's.
    expect(r.streams[0]!.pesCount).toBe(5);
    expect(r.pids.find((p) => p.pid === 0x1fff)).toMatchObject({ kind: 'null', packets: 1 });
    expect(r.violations.every((v) => v.pid !== 0x1fff)).toBe(true);
  });
});
