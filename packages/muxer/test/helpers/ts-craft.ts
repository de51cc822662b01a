/**
 * Hand-made MPEG-TS (ISO/IEC 13818-1) for checker tests: packets, PSI sections with their CRC,
 * PES with PTS/DTS, H.264 access units, ADTS and Opus framing. Written from the standard, with no
 * code shared with the muxer or the checker under test.
 */

/** CRC-32/MPEG-2, bit by bit (deliberately not table-driven like the checker's). */
export function crc32Bitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = (crc >>> 31) ^ ((byte >> bit) & 1);
      crc = (crc << 1) >>> 0;
      if (top) crc = (crc ^ 0x04c11db7) >>> 0;
    }
  }
  return crc >>> 0;
}

/** A PSI long section with section_length and CRC_32 filled in. */
export function longSection(tableId: number, idExtension: number, body: number[], version = 0): Uint8Array {
  const sectionLength = 5 + body.length + 4;
  const head = [
    tableId,
    0xb0 | (sectionLength >> 8), // section_syntax_indicator, '0', reserved, section_length
    sectionLength & 0xff,
    idExtension >> 8,
    idExtension & 0xff,
    0xc1 | (version << 1), // reserved, version_number, current_next_indicator
    0x00, // section_number
    0x00, // last_section_number
  ];
  const s = new Uint8Array(head.length + body.length + 4);
  s.set(head, 0);
  s.set(body, head.length);
  const crc = crc32Bitwise(s.subarray(0, s.length - 4));
  s.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], s.length - 4);
  return s;
}

/** PAT with one program. */
export function patSection(program = 1, pmtPid = 0x1000): Uint8Array {
  return longSection(0x00, 1, [program >> 8, program & 0xff, 0xe0 | (pmtPid >> 8), pmtPid & 0xff]);
}

/** One elementary stream of a PMT. */
export interface CraftStream {
  type: number;
  pid: number;
  descriptors?: number[];
}

/** PMT of `program`. */
export function pmtSection(pcrPid: number, streams: CraftStream[], program = 1): Uint8Array {
  const body = [0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0x00];
  for (const s of streams) {
    const d = s.descriptors ?? [];
    body.push(s.type, 0xe0 | (s.pid >> 8), s.pid & 0xff, 0xf0 | (d.length >> 8), d.length & 0xff, ...d);
  }
  return longSection(0x02, program, body);
}

/** registration_descriptor 'Opus' and the Opus extension descriptor for `channels`. */
export function opusDescriptors(channels = 2): number[] {
  return [0x05, 0x04, 0x4f, 0x70, 0x75, 0x73, 0x7f, 0x02, 0x80, channels];
}

/** A 5-byte PTS/DTS field with 4-bit `prefix`. */
export function timestampField(prefix: number, v: number): number[] {
  return [
    (prefix << 4) | ((Math.floor(v / 2 ** 30) % 8) << 1) | 1,
    Math.floor(v / 2 ** 22) % 256,
    ((Math.floor(v / 2 ** 15) % 128) << 1) | 1,
    Math.floor(v / 2 ** 7) % 256,
    ((v % 128) << 1) | 1,
  ];
}

/** The 6-byte program_clock_reference of 27 MHz ticks (wrapped modulo 2^33 × 300). */
export function pcrField(pcr27: number): number[] {
  const period = 2 ** 33 * 300;
  const wrapped = ((pcr27 % period) + period) % period;
  const base = Math.floor(wrapped / 300);
  const ext = wrapped % 300;
  return [
    Math.floor(base / 2 ** 25) % 256,
    Math.floor(base / 2 ** 17) % 256,
    Math.floor(base / 2 ** 9) % 256,
    Math.floor(base / 2) % 256,
    ((base % 2) << 7) | 0x7e | (ext >> 8),
    ext & 0xff,
  ];
}

/** Adaptation-field content of a packet. */
export interface AfFlags {
  pcr?: number;
  discontinuity?: boolean;
  randomAccess?: boolean;
}

/** Packets written so far with per-PID continuity counters. */
export class TsWriter {
  private readonly cc = new Map<number, number>();
  readonly packets: Uint8Array[] = [];

  /** Number of packets so far (the index of the next one). */
  get count(): number {
    return this.packets.length;
  }

  /**
   * Appends one packet. `payload` ≤ 184 bytes minus the adaptation field; a short payload is
   * padded by adaptation-field stuffing unless `fill` is given (PSI uses 0xFF after the section).
   */
  packet(
    pid: number,
    payload: Uint8Array | null,
    opts: { pusi?: boolean; af?: AfFlags; cc?: number; fill?: number } = {},
  ): number {
    const p = new Uint8Array(188);
    const hasPayload = payload !== null;
    const afBody: number[] = [];
    const af = opts.af;
    if (af !== undefined && (af.pcr !== undefined || af.discontinuity || af.randomAccess)) {
      afBody.push(
        (af.discontinuity ? 0x80 : 0) | (af.randomAccess ? 0x40 : 0) | (af.pcr !== undefined ? 0x10 : 0),
      );
      if (af.pcr !== undefined) afBody.push(...pcrField(af.pcr));
    }
    let data = payload ?? new Uint8Array(0);
    if (opts.fill !== undefined && data.length < 184 - (afBody.length > 0 ? afBody.length + 1 : 0)) {
      const filled = new Uint8Array(184 - (afBody.length > 0 ? afBody.length + 1 : 0)).fill(opts.fill);
      filled.set(data, 0);
      data = filled;
    }
    let afLength = -1; // no adaptation field
    if (!hasPayload) afLength = 183;
    else if (afBody.length > 0 || data.length < 184) afLength = 183 - data.length;
    if (afLength >= 0 && afLength < afBody.length)
      throw new Error('payload too long for the adaptation field');
    const lastCc = this.cc.get(pid) ?? 15;
    const cc = opts.cc ?? (hasPayload ? (lastCc + 1) & 15 : lastCc);
    if (hasPayload) this.cc.set(pid, cc);
    p[0] = 0x47;
    p[1] = (opts.pusi ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    p[3] = (((afLength >= 0 ? 2 : 0) | (hasPayload ? 1 : 0)) << 4) | cc;
    let o = 4;
    if (afLength >= 0) {
      p[o++] = afLength;
      if (afLength > 0) {
        const body = afBody.length > 0 ? afBody : [0x00];
        p.set(body, o);
        p.fill(0xff, o + body.length, o + afLength);
        o += afLength;
      }
    }
    p.set(data, o);
    this.packets.push(p);
    return this.packets.length - 1;
  }

  /** Appends a section as packets (pointer_field 0, 0xFF after it); returns the first index. */
  section(pid: number, section: Uint8Array): number {
    const payload = new Uint8Array(section.length + 1);
    payload.set(section, 1);
    const first = this.count;
    for (let o = 0; o < payload.length; o += 184) {
      this.packet(pid, payload.subarray(o, Math.min(o + 184, payload.length)), { pusi: o === 0, fill: 0xff });
    }
    return first;
  }

  /** Appends a PES as packets; returns the index of its first packet. */
  pes(pid: number, pes: Uint8Array, firstAf?: AfFlags): number {
    const first = this.count;
    let o = 0;
    let isFirst = true;
    while (o < pes.length) {
      const af = isFirst ? firstAf : undefined;
      const afBytes =
        af !== undefined && (af.pcr !== undefined || af.discontinuity || af.randomAccess)
          ? 2 + (af.pcr !== undefined ? 6 : 0)
          : 0;
      const n = Math.min(184 - afBytes, pes.length - o);
      this.packet(pid, pes.subarray(o, o + n), { pusi: isFirst, af });
      o += n;
      isFirst = false;
    }
    return first;
  }

  /** All packets as one byte array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.packets.length * 188);
    for (const [i, p] of this.packets.entries()) out.set(p, i * 188);
    return out;
  }
}

/** PES bytes: header with PTS (and DTS) and `data`. `length` 'exact' writes the true PES_packet_length. */
export function pesBytes(
  streamId: number,
  data: Uint8Array,
  opts: { pts?: number; dts?: number; length?: 'exact' | 'zero' | number },
): Uint8Array {
  const fields: number[] = [];
  let flags = 0;
  if (opts.pts !== undefined && opts.dts !== undefined) {
    flags = 0xc0;
    fields.push(...timestampField(0b0011, opts.pts), ...timestampField(0b0001, opts.dts));
  } else if (opts.pts !== undefined) {
    flags = 0x80;
    fields.push(...timestampField(0b0010, opts.pts));
  }
  const headerLength = 9 + fields.length;
  const out = new Uint8Array(headerLength + data.length);
  const mode = opts.length ?? 'exact';
  const declared = mode === 'exact' ? out.length - 6 : mode === 'zero' ? 0 : mode;
  out.set([0, 0, 1, streamId, declared >> 8, declared & 0xff, 0x80, flags, fields.length, ...fields], 0);
  out.set(data, headerLength);
  return out;
}

/** An H.264 access unit in Annex B with the NAL units asked for; slices are filler bytes. */
export function h264Au(opts: {
  aud?: boolean;
  parameterSets?: boolean;
  idr: boolean;
  size?: number;
}): Uint8Array {
  const parts: number[] = [];
  if (opts.aud ?? true) parts.push(0, 0, 0, 1, 0x09, 0xf0);
  if (opts.idr && (opts.parameterSets ?? true)) {
    parts.push(0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80); // SPS
    parts.push(0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80); // PPS
  }
  parts.push(0, 0, 1, opts.idr ? 0x65 : 0x41);
  const size = Math.max(opts.size ?? 600, parts.length + 8);
  const au = new Uint8Array(size);
  au.set(parts, 0);
  // Slice bytes free of start-code emulation.
  for (let i = parts.length; i < size; i++) au[i] = 0x80 | ((i * 7) & 0x7f);
  return au;
}

/** One ADTS frame (AAC-LC, 48 kHz, stereo, no CRC) of `size` bytes including its header. */
export function adtsFrame(size: number, frameLengthDelta = 0): Uint8Array {
  const f = new Uint8Array(size);
  const len = size + frameLengthDelta;
  f.set([0xff, 0xf1, 0x4c, 0x80 | (len >> 11), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc], 0);
  for (let i = 7; i < size; i++) f[i] = (i * 13) & 0xff;
  return f;
}

/** One Opus access unit: control header (prefix 0x3FF, au_size) and a 20 ms CELT packet. */
export function opusAu(
  packetSize: number,
  opts: { startTrim?: number; badPrefix?: boolean } = {},
): Uint8Array {
  const head = [opts.badPrefix ? 0x7e : 0x7f, 0xe0 | (opts.startTrim !== undefined ? 0x10 : 0)];
  for (let n = packetSize; ; n -= 255) {
    if (n >= 255) head.push(0xff);
    else {
      head.push(n);
      break;
    }
  }
  if (opts.startTrim !== undefined) head.push(opts.startTrim >> 8, opts.startTrim & 0xff);
  const au = new Uint8Array(head.length + packetSize);
  au.set(head, 0);
  au[head.length] = 0xfc; // TOC: config 31 (CELT FB 20 ms), stereo, code 0
  for (let i = head.length + 1; i < au.length; i++) au[i] = (i * 5) & 0xff;
  return au;
}

/** How {@link buildStream} should build (and break) a stream. */
export interface BuildOptions {
  /** Video frames at 30 fps. Default 30. */
  frames?: number;
  /** IDR every `gop` frames, starting at frame `firstIdr`. Default 15 / 0. */
  gop?: number;
  firstIdr?: number;
  /** Audio track. Default 'aac'. */
  audio?: 'aac' | 'opus' | 'none';
  /** First DTS in 90 kHz ticks. Default 126000 (1.4 s). */
  start?: number;
  /** DTS − PCR in 90 kHz ticks. Default 45000 (500 ms). */
  pcrOffset?: number;
  /** PCR_PID written in the PMT. Default the video PID; 0x1FFF for none. */
  pcrPid?: number;
  /** Tables at least every this many 90 kHz ticks of DTS, and before IDRs. Default 9000 (100 ms). */
  tableInterval?: number;
  /** Frames that get no PCR. */
  noPcr?: (frame: number) => boolean;
  /** Frame written without AUD. */
  noAudFrame?: number;
  /** IDR frame written without SPS/PPS. */
  noParamSetsFrame?: number;
  /** Frame whose PES has no PTS. */
  noPtsFrame?: number;
  /** Audio PES index whose last ADTS frame_length is off by one. */
  badAdtsPes?: number;
  /** Audio PES index whose second Opus control header has a bad prefix. */
  badOpusPes?: number;
  /** Write audio PES with PES_packet_length 0. */
  audioLengthZero?: boolean;
  /** From this frame on (and audio of the same time), timestamps jump by `jump` ticks. */
  jumpAtFrame?: number;
  jump?: number;
  /** Whether the jump is signalled by discontinuity_indicator. Default true. */
  signalJump?: boolean;
}

/** Where things went in a stream made by {@link buildStream}. */
export interface BuiltStream {
  bytes: Uint8Array;
  writer: TsWriter;
  /** First packet of each video PES. */
  videoPes: number[];
  /** First packet of each audio PES. */
  audioPes: number[];
  /** Packets of the PATs. */
  pats: number[];
  /** DTS of each video frame and PTS of each audio PES (90 kHz, unwrapped). */
  videoDts: number[];
  audioPts: number[];
}

export const VIDEO_PID = 0x100;
export const AUDIO_PID = 0x101;
export const PMT_PID = 0x1000;
/** 4 AAC frames of 1024 samples at 48 kHz per audio PES: 7680 ticks. Opus: 4 × 20 ms = 7200. */
export const AAC_PES_TICKS = 7680;
export const OPUS_PES_TICKS = 7200;

/** A valid H.264 + AAC/Opus stream laid out like a live muxer would (or broken as asked). */
export function buildStream(o: BuildOptions = {}): BuiltStream {
  const frames = o.frames ?? 30;
  const gop = o.gop ?? 15;
  const firstIdr = o.firstIdr ?? 0;
  const audio = o.audio ?? 'aac';
  const start = o.start ?? 126000;
  const pcrOffset = o.pcrOffset ?? 45000;
  const tableInterval = o.tableInterval ?? 9000;
  const jumpAt = o.jumpAtFrame ?? Number.POSITIVE_INFINITY;
  const jump = o.jump ?? 0;
  const signal = o.signalJump ?? true;
  const streams: CraftStream[] = [{ type: 0x1b, pid: VIDEO_PID }];
  if (audio === 'aac') streams.push({ type: 0x0f, pid: AUDIO_PID });
  if (audio === 'opus') streams.push({ type: 0x06, pid: AUDIO_PID, descriptors: opusDescriptors(2) });
  const pat = patSection(1, PMT_PID);
  const pmt = pmtSection(o.pcrPid ?? VIDEO_PID, streams);
  const w = new TsWriter();
  const built: BuiltStream = {
    bytes: new Uint8Array(0),
    writer: w,
    videoPes: [],
    audioPes: [],
    pats: [],
    videoDts: [],
    audioPts: [],
  };

  type Event = { t: number; kind: 'v' | 'a'; i: number };
  const events: Event[] = [];
  for (let i = 0; i < frames; i++) events.push({ t: start + i * 3000, kind: 'v', i });
  const audioStep = audio === 'opus' ? OPUS_PES_TICKS : AAC_PES_TICKS;
  if (audio !== 'none') {
    const end = start + frames * 3000;
    for (let j = 0; start + j * audioStep < end; j++)
      events.push({ t: start + j * audioStep, kind: 'a', i: j });
  }
  events.sort((a, b) => a.t - b.t || (a.kind === 'v' ? -1 : 1));
  const jumpTime = start + jumpAt * 3000;
  let lastTables = Number.NEGATIVE_INFINITY;
  const signalled = new Set<number>();
  for (const ev of events) {
    const shifted = ev.t >= jumpTime;
    const t = ev.t + (shifted ? jump : 0);
    const pid = ev.kind === 'v' ? VIDEO_PID : AUDIO_PID;
    const discontinuity = shifted && signal && !signalled.has(pid);
    if (discontinuity) signalled.add(pid);
    const idr = ev.kind === 'v' && ev.i >= firstIdr && (ev.i - firstIdr) % gop === 0;
    if (idr || ev.t - lastTables >= tableInterval) {
      built.pats.push(w.section(0, pat));
      w.section(PMT_PID, pmt);
      lastTables = ev.t;
    }
    if (ev.kind === 'v') {
      const au = h264Au({
        idr,
        aud: ev.i !== o.noAudFrame,
        parameterSets: ev.i !== o.noParamSetsFrame,
        size: idr ? 3000 : 500 + ((ev.i * 37) % 400),
      });
      const pes = pesBytes(
        0xe0,
        au,
        ev.i === o.noPtsFrame ? { length: 'zero' } : { pts: t, dts: t, length: 'zero' },
      );
      const withPcr = o.pcrPid !== 0x1fff && !(o.noPcr?.(ev.i) ?? false);
      built.videoPes.push(
        w.pes(VIDEO_PID, pes, {
          pcr: withPcr ? (t - pcrOffset) * 300 : undefined,
          randomAccess: idr,
          discontinuity,
        }),
      );
      built.videoDts.push(t);
    } else {
      const parts: Uint8Array[] = [];
      for (let k = 0; k < 4; k++) {
        if (audio === 'aac')
          parts.push(adtsFrame(180 + ((ev.i + k) % 7) * 11, ev.i === o.badAdtsPes && k === 3 ? 1 : 0));
        else
          parts.push(
            opusAu(160 + ((ev.i + k) % 5) * 60, {
              badPrefix: ev.i === o.badOpusPes && k === 1,
              startTrim: ev.i === 0 && k === 0 ? 312 : undefined,
            }),
          );
      }
      const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o2 = 0;
      for (const p of parts) {
        data.set(p, o2);
        o2 += p.length;
      }
      const pes = pesBytes(audio === 'aac' ? 0xc0 : 0xbd, data, {
        pts: t,
        length: o.audioLengthZero ? 'zero' : 'exact',
      });
      built.audioPes.push(w.pes(AUDIO_PID, pes, { randomAccess: true, discontinuity }));
      built.audioPts.push(t);
    }
  }
  built.bytes = w.bytes();
  return built;
}

/** `bytes` without the 188-byte packets at `indices`. */
export function dropPackets(bytes: Uint8Array, indices: number[]): Uint8Array {
  const drop = new Set(indices);
  const n = bytes.length / 188;
  const out = new Uint8Array((n - drop.size) * 188);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (drop.has(i)) continue;
    out.set(bytes.subarray(i * 188, i * 188 + 188), o);
    o += 188;
  }
  return out;
}

/** PID of the 188-byte packet `index`. */
export function pidAt(bytes: Uint8Array, index: number): number {
  return ((bytes[index * 188 + 1]! & 0x1f) << 8) | bytes[index * 188 + 2]!;
}
