/**
 * A deliberately small transport-stream reader for the muxer's own tests: it splits packets and
 * reassembles PES per PID, without sharing code with the muxer or the inspector.
 */

export interface RawPacket {
  index: number;
  pid: number;
  pusi: boolean;
  cc: number;
  hasPayload: boolean;
  discontinuity: boolean;
  randomAccess: boolean;
  /** PCR in 27 MHz units, or null. */
  pcr27: number | null;
  payload: Uint8Array;
}

export function readPackets(ts: Uint8Array): RawPacket[] {
  if (ts.length % 188 !== 0) throw new Error(`length ${ts.length} is not a multiple of 188`);
  const packets: RawPacket[] = [];
  for (let i = 0; i * 188 < ts.length; i++) {
    const p = ts.subarray(i * 188, i * 188 + 188);
    if (p[0] !== 0x47) throw new Error(`packet ${i}: sync byte ${p[0]}`);
    const afc = (p[3]! >> 4) & 3;
    let o = 4;
    let discontinuity = false;
    let randomAccess = false;
    let pcr27: number | null = null;
    if (afc & 2) {
      const afLength = p[4]!;
      if (afLength > 0) {
        const flags = p[5]!;
        discontinuity = (flags & 0x80) !== 0;
        randomAccess = (flags & 0x40) !== 0;
        if (flags & 0x10) {
          const base =
            p[6]! * 2 ** 25 + p[7]! * 2 ** 17 + p[8]! * 2 ** 9 + p[9]! * 2 + Math.floor(p[10]! / 128);
          pcr27 = base * 300 + (p[10]! % 2) * 256 + p[11]!;
        }
      }
      o = 5 + afLength;
    }
    packets.push({
      index: i,
      pid: (p[1]! % 32) * 256 + p[2]!,
      pusi: (p[1]! & 0x40) !== 0,
      cc: p[3]! % 16,
      hasPayload: (afc & 1) !== 0,
      discontinuity,
      randomAccess,
      pcr27,
      payload: afc & 1 ? p.subarray(o) : new Uint8Array(0),
    });
  }
  return packets;
}

export interface Pes {
  pid: number;
  firstPacket: number;
  streamId: number;
  pesPacketLength: number;
  pts: number | null;
  dts: number | null;
  /** Elementary stream bytes after the PES header. */
  data: Uint8Array;
}

function timestamp(b: Uint8Array, o: number): number {
  return (
    Math.floor((b[o]! % 16) / 2) * 2 ** 30 +
    b[o + 1]! * 2 ** 22 +
    Math.floor(b[o + 2]! / 2) * 2 ** 15 +
    b[o + 3]! * 2 ** 7 +
    Math.floor(b[o + 4]! / 2)
  );
}

/** Reassembles every PES of the elementary-stream PIDs (those ≥ 0x100 and < 0x1000). */
export function readPes(ts: Uint8Array): Pes[] {
  const open = new Map<number, { first: number; parts: Uint8Array[] }>();
  const done: Pes[] = [];
  const close = (pid: number): void => {
    const cur = open.get(pid);
    if (!cur) return;
    let size = 0;
    for (const part of cur.parts) size += part.length;
    const bytes = new Uint8Array(size);
    let w = 0;
    for (const part of cur.parts) {
      bytes.set(part, w);
      w += part.length;
    }
    if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 1)
      throw new Error(`PES on PID ${pid} lacks a start code`);
    const flags = bytes[7]!;
    const headerLength = 9 + bytes[8]!;
    done.push({
      pid,
      firstPacket: cur.first,
      streamId: bytes[3]!,
      pesPacketLength: bytes[4]! * 256 + bytes[5]!,
      pts: flags & 0x80 ? timestamp(bytes, 9) : null,
      dts: flags & 0x40 ? timestamp(bytes, 14) : null,
      data: bytes.subarray(headerLength),
    });
    open.delete(pid);
  };
  for (const p of readPackets(ts)) {
    if (p.pid < 0x100 || p.pid >= 0x1000 || !p.hasPayload) continue;
    if (p.pusi) {
      close(p.pid);
      open.set(p.pid, { first: p.index, parts: [] });
    }
    open.get(p.pid)?.parts.push(p.payload);
  }
  for (const pid of [...open.keys()]) close(pid);
  return done.sort((a, b) => a.firstPacket - b.firstPacket);
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (h) => Number.parseInt(h, 16));
}

/** Collects everything a muxer writes, with a copy of each chunk's info. */
export function collector(): {
  sink: (chunk: Uint8Array, info: import('../../src/index.js').ChunkInfo) => void;
  chunks: { bytes: Uint8Array; info: import('../../src/index.js').ChunkInfo }[];
  bytes: () => Uint8Array;
} {
  const chunks: { bytes: Uint8Array; info: import('../../src/index.js').ChunkInfo }[] = [];
  return {
    chunks,
    sink: (chunk, info) => chunks.push({ bytes: chunk.slice(), info: { ...info } }),
    bytes: () => {
      let size = 0;
      for (const c of chunks) size += c.bytes.length;
      const out = new Uint8Array(size);
      let o = 0;
      for (const c of chunks) {
        out.set(c.bytes, o);
        o += c.bytes.length;
      }
      return out;
    },
  };
}

/** Synthetic H.264 access units: structurally valid Annex B (not decodable pictures). */
export const SPS = Uint8Array.of(0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x47, 0xfe, 0xc8);
export const PPS = Uint8Array.of(0x68, 0xce, 0x3c, 0x80);

export function annexB(...nals: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const n of nals) size += 4 + n.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const n of nals) {
    out[o + 3] = 1;
    out.set(n, o + 4);
    o += 4 + n.length;
  }
  return out;
}

/** A slice NAL of `size` bytes (type 5 IDR or type 1), filled with a pattern free of start codes. */
export function slice(idr: boolean, size: number, seed = 1): Uint8Array {
  const nal = new Uint8Array(size);
  nal[0] = idr ? 0x65 : 0x41;
  for (let i = 1; i < size; i++) nal[i] = ((i * 31 + seed * 17) % 250) + 3;
  return nal;
}

export function idrAu(size = 3000, seed = 1): Uint8Array {
  return annexB(Uint8Array.of(0x09, 0x10), SPS, PPS, slice(true, size, seed));
}

export function interAu(size = 800, seed = 1): Uint8Array {
  return annexB(Uint8Array.of(0x09, 0x30), slice(false, size, seed));
}
