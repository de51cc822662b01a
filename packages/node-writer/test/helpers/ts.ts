/**
 * Test-only MPEG-TS (ISO/IEC 13818-1) crafting and inspection, so the writer's tests do not depend on the
 * muxer being built: PAT/PMT sections with a computed CRC-32/MPEG-2, PES packetised into 188-byte packets
 * (PUSI on the first packet, adaptation-field stuffing on the last), a deterministic A/V chunk stream shaped
 * like the muxer's sink calls, and a small completePrefixLength / PTS scan for repair.
 */

export const PACKET = 188;
export const VIDEO_PID = 0x100;
export const AUDIO_PID = 0x101;
const PMT_PID = 0x1000;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2: poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final XOR. */
export function crc32mpeg(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Chunk metadata in the muxer's ChunkInfo shape. */
export interface TestChunkInfo {
  trackId: number;
  kind: 'video' | 'audio' | 'clock';
  pts: number;
  dts: number;
  duration: number;
  frames: number;
  keyframe: boolean;
  randomAccess: boolean;
  discontinuity: boolean;
  byteLength: number;
}

export interface TestChunk {
  bytes: Uint8Array;
  info: TestChunkInfo;
}

/** Packetiser with per-PID continuity counters. */
export class TsCrafter {
  readonly #cc = new Map<number, number>();

  #header(pkt: Uint8Array, pid: number, pusi: boolean, adaptation: boolean): void {
    const cc = this.#cc.get(pid) ?? 0;
    this.#cc.set(pid, (cc + 1) % 16);
    pkt[0] = 0x47; // sync_byte
    pkt[1] = (pusi ? 0x40 : 0) | ((pid >> 8) & 0x1f); // payload_unit_start_indicator, PID high bits
    pkt[2] = pid & 0xff;
    pkt[3] = (adaptation ? 0x30 : 0x10) | cc; // adaptation_field_control, continuity_counter
  }

  #section(pid: number, section: Uint8Array): Uint8Array {
    const pkt = new Uint8Array(PACKET).fill(0xff);
    this.#header(pkt, pid, true, false);
    pkt[4] = 0; // pointer_field
    pkt.set(section, 5);
    return pkt;
  }

  pat(): Uint8Array {
    const s = [
      0x00,
      0xb0,
      0x0d,
      0x00,
      0x01,
      0xc1,
      0x00,
      0x00,
      0x00,
      0x01,
      0xe0 | (PMT_PID >> 8),
      PMT_PID & 0xff,
    ];
    return this.#section(0, withCrc(s));
  }

  pmt(): Uint8Array {
    const streams = [0x1b, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00];
    streams.push(0x0f, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00);
    const body = [
      0x00,
      0x01,
      0xc1,
      0x00,
      0x00,
      0xe0 | (VIDEO_PID >> 8),
      VIDEO_PID & 0xff,
      0xf0,
      0x00,
      ...streams,
    ];
    const len = body.length + 4;
    return this.#section(PMT_PID, withCrc([0x02, 0xb0 | (len >> 8), len & 0xff, ...body]));
  }

  /** One PES (video: length 0 and PTS+DTS; audio: true PES_packet_length and PTS) as whole packets. */
  pes(pid: number, payload: Uint8Array, pts: number, dts: number | null, boundedLength: boolean): Uint8Array {
    const headerData = dts === null ? 5 : 10;
    const pes = new Uint8Array(9 + headerData + payload.byteLength);
    pes[2] = 1; // packet_start_code_prefix
    pes[3] = pid === VIDEO_PID ? 0xe0 : 0xc0; // stream_id
    const pesLength = boundedLength ? pes.byteLength - 6 : 0;
    pes[4] = pesLength >> 8; // PES_packet_length
    pes[5] = pesLength & 0xff;
    pes[6] = 0x80;
    pes[7] = dts === null ? 0x80 : 0xc0; // PTS_DTS_flags
    pes[8] = headerData; // PES_header_data_length
    writeTimestamp(pes, 9, dts === null ? 0x2 : 0x3, pts);
    if (dts !== null) writeTimestamp(pes, 14, 0x1, dts);
    pes.set(payload, 9 + headerData);
    const packets: Uint8Array[] = [];
    let off = 0;
    while (off < pes.byteLength) {
      const pkt = new Uint8Array(PACKET);
      const left = pes.byteLength - off;
      const first = off === 0;
      if (left >= 184) {
        this.#header(pkt, pid, first, false);
        pkt.set(pes.subarray(off, off + 184), 4);
        off += 184;
      } else {
        this.#header(pkt, pid, first, true);
        const afLength = 183 - left; // adaptation_field_length: stuffing fills the rest
        pkt[4] = afLength;
        if (afLength > 0) {
          pkt[5] = 0x00; // adaptation flags
          pkt.fill(0xff, 6, 5 + afLength);
        }
        pkt.set(pes.subarray(off), 5 + afLength);
        off = pes.byteLength;
      }
      packets.push(pkt);
    }
    return concat(packets);
  }
}

function withCrc(section: number[]): Uint8Array {
  const out = new Uint8Array(section.length + 4);
  out.set(section);
  const crc = crc32mpeg(out.subarray(0, section.length));
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(section.length, crc);
  return out;
}

function writeTimestamp(buf: Uint8Array, at: number, prefix: number, ts: number): void {
  const t = ts % 2 ** 33;
  buf[at] = (prefix << 4) | ((Math.floor(t / 2 ** 30) % 8) << 1) | 1;
  const mid = Math.floor(t / 2 ** 15) % 2 ** 15;
  buf[at + 1] = mid >> 7;
  buf[at + 2] = ((mid & 0x7f) << 1) | 1;
  const low = t % 2 ** 15;
  buf[at + 3] = low >> 7;
  buf[at + 4] = ((low & 0x7f) << 1) | 1;
}

function readTimestamp(buf: Uint8Array, at: number): number {
  const hi = (buf[at]! >> 1) & 7;
  const mid = (buf[at + 1]! << 7) | (buf[at + 2]! >> 1);
  const low = (buf[at + 3]! << 7) | (buf[at + 4]! >> 1);
  return hi * 2 ** 30 + mid * 2 ** 15 + low;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

export interface StreamOptions {
  /** Seconds of media. */
  seconds: number;
  /** Seed of the payload bytes and sizes. */
  seed?: number;
  /** Video frames per keyframe (30 fps). Default 60. */
  gop?: number;
  /** Largest video frame payload in bytes. Default 6000. */
  maxFrameBytes?: number;
  /** First PTS, 90 kHz. Default 126000. */
  startPts?: number;
  /** Include an audio track (AAC-like, 4 × 1920-tick frames per PES). Default true. */
  audio?: boolean;
  /** Frames (video) at which a timebase discontinuity happens: timestamps restart at startPts. */
  discontinuityAtFrames?: readonly number[];
}

/**
 * A deterministic A/V chunk stream shaped like the muxer's sink calls: keyframe chunks start with PAT+PMT
 * and carry `randomAccess`, audio PES batch 4 frames with a true length, interleaved by DTS.
 */
export function* makeStream(options: StreamOptions): Generator<TestChunk> {
  const rnd = prng(options.seed ?? 1);
  const crafter = new TsCrafter();
  const gop = options.gop ?? 60;
  const maxFrame = options.maxFrameBytes ?? 6000;
  const start = options.startPts ?? 126_000;
  const frames = Math.round(options.seconds * 30);
  const withAudio = options.audio ?? true;
  const jumps = new Set(options.discontinuityAtFrames ?? []);
  const audioStep = 1920 * 4;
  let base = start;
  let baseFrame = 0;
  let audioPts = start;
  let audioDisc = false;
  for (let f = 0; f < frames; f++) {
    let disc = false;
    if (jumps.has(f)) {
      // Timestamps restart; the next chunk of each PID carries the discontinuity flag.
      base = start;
      baseFrame = f;
      audioPts = start;
      disc = true;
      audioDisc = true;
    }
    const vpts = base + (f - baseFrame) * 3000;
    while (withAudio && audioPts < vpts) {
      const payload = randomBytes(rnd, 200 + Math.floor(rnd() * 600));
      const bytes = crafter.pes(AUDIO_PID, payload, audioPts, null, true);
      yield {
        bytes,
        info: {
          trackId: 1,
          kind: 'audio',
          pts: audioPts,
          dts: audioPts,
          duration: audioStep,
          frames: 4,
          keyframe: false,
          randomAccess: false,
          discontinuity: audioDisc && !disc,
          byteLength: bytes.byteLength,
        },
      };
      if (!disc) audioDisc = false;
      audioPts += audioStep;
    }
    const key = f % gop === 0 || disc;
    const payload = randomBytes(rnd, key ? maxFrame : 300 + Math.floor(rnd() * (maxFrame / 3)));
    const pes = crafter.pes(VIDEO_PID, payload, vpts, vpts, false);
    const bytes = key ? concat([crafter.pat(), crafter.pmt(), pes]) : pes;
    yield {
      bytes,
      info: {
        trackId: 0,
        kind: 'video',
        pts: vpts,
        dts: vpts,
        duration: 0,
        frames: 1,
        keyframe: key,
        randomAccess: key,
        discontinuity: disc,
        byteLength: bytes.byteLength,
      },
    };
  }
}

function randomBytes(rnd: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

interface PesSpan {
  start: number;
  end: number;
  expected: number;
  got: number;
}

/**
 * Test-only completePrefixLength: a PES is complete when the next PUSI on its PID appears, or (audio)
 * when PES_packet_length bytes are present. Returns the largest packet-aligned cut that splits no PES.
 */
export function completePrefixLength(bytes: Uint8Array): number {
  const aligned = bytes.byteLength - (bytes.byteLength % PACKET);
  const spans: PesSpan[] = [];
  const open = new Map<number, PesSpan>();
  let limit = aligned;
  for (let off = 0; off < aligned; off += PACKET) {
    if (bytes[off] !== 0x47) {
      limit = off;
      break;
    }
    const pid = ((bytes[off + 1]! & 0x1f) << 8) | bytes[off + 2]!;
    if (pid === 0 || pid === PMT_PID) continue;
    const pusi = (bytes[off + 1]! & 0x40) !== 0;
    const afc = (bytes[off + 3]! >> 4) & 3;
    const payloadAt = afc === 3 ? off + 5 + bytes[off + 4]! : afc === 1 ? off + 4 : off + PACKET;
    const payload = off + PACKET - payloadAt;
    let span = open.get(pid);
    if (pusi) {
      if (span !== undefined && span.expected === 0) open.delete(pid);
      const len = (bytes[payloadAt + 4]! << 8) | bytes[payloadAt + 5]!;
      span = { start: off, end: Number.POSITIVE_INFINITY, expected: len === 0 ? 0 : len + 6, got: 0 };
      spans.push(span);
      open.set(pid, span);
    }
    if (span === undefined) continue;
    span.got += payload;
    if (span.expected === 0) span.end = off + PACKET;
    if (span.expected > 0 && span.got >= span.expected) {
      span.end = off + PACKET;
      open.delete(pid);
    }
  }
  // Unbounded (video) PES still open at the end have no known end: incomplete.
  for (const span of open.values()) span.end = Number.POSITIVE_INFINITY;
  let cut = limit;
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of spans) {
      if (s.start < cut && s.end > cut) {
        cut = s.start;
        changed = true;
      }
    }
  }
  return cut;
}

/** PTS of every PES start in `bytes`, in order, with its PID. */
export function scanPts(bytes: Uint8Array): { pid: number; pts: number }[] {
  const out: { pid: number; pts: number }[] = [];
  for (let off = 0; off + PACKET <= bytes.byteLength; off += PACKET) {
    const pid = ((bytes[off + 1]! & 0x1f) << 8) | bytes[off + 2]!;
    if (pid === 0 || pid === PMT_PID || (bytes[off + 1]! & 0x40) === 0) continue;
    const afc = (bytes[off + 3]! >> 4) & 3;
    const at = afc === 3 ? off + 5 + bytes[off + 4]! : off + 4;
    if ((bytes[at + 7]! & 0x80) !== 0) out.push({ pid, pts: readTimestamp(bytes, at + 9) });
  }
  return out;
}

/** Test-only segment duration: video PTS span plus one frame (30 fps), seconds. */
export function segmentDuration(bytes: Uint8Array): number {
  const pts = scanPts(bytes)
    .filter((p) => p.pid === VIDEO_PID)
    .map((p) => p.pts);
  if (pts.length === 0) return 0;
  return (Math.max(...pts) - Math.min(...pts) + 3000) / 90_000;
}
