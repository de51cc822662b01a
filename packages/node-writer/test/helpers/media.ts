/**
 * Real encoded media made with the ffmpeg CLI (libx264 Annex B with an AUD per access unit, keyframe every
 * second, no B-frames; AAC-LC in ADTS), split into access units for the muxer. Cached in the temp dir.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Media {
  /** Annex B access units at 30 fps; pts in 90 kHz ticks. */
  video: { data: Uint8Array; pts: number; keyframe: boolean }[];
  /** ADTS frames (header included) at 48 kHz; pts in samples. */
  audio: { data: Uint8Array; pts: number }[];
}

/** Runs `ffmpeg -v error -y <args> <out>` unless `out` exists (written to a temp name, then renamed). */
export function encodeCached(out: string, args: string[]): void {
  if (existsSync(out)) return;
  const tmp = `${out}.${process.pid}.part`;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args, tmp], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  renameSync(tmp, out);
}

export function ffmpegMedia(seconds: number): Media {
  const dir = join(tmpdir(), 'trackrec-writer-media-v1');
  mkdirSync(dir, { recursive: true });
  const h264 = join(dir, `v${seconds}.h264`);
  const aac = join(dir, `a${seconds}.aac`);
  encodeCached(h264, [
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=30:duration=${seconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-bf', '0'],
    ...['-x264-params', 'aud=1', '-f', 'h264'],
  ]);
  encodeCached(aac, [
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
    ...['-ac', '2', '-c:a', 'aac', '-b:a', '64k', '-f', 'adts'],
  ]);
  return { video: splitAccessUnits(readFileSync(h264)), audio: splitAdts(readFileSync(aac)) };
}

/** Splits an Annex B stream with an AUD per access unit into 30 fps access units (keyframe = has an IDR). */
export function splitAccessUnits(b: Uint8Array): Media['video'] {
  // Each access unit starts with an AUD (nal_unit_type 9) behind a 4-byte start code.
  const starts: number[] = [];
  for (let i = 0; i + 4 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 0 && b[i + 3] === 1 && (b[i + 4]! & 0x1f) === 9)
      starts.push(i);
  }
  return starts.map((s, i) => {
    const data = b.subarray(s, starts[i + 1] ?? b.length);
    let keyframe = false;
    for (let j = 0; j + 3 < data.length; j++) {
      if (data[j] === 0 && data[j + 1] === 0 && data[j + 2] === 1 && (data[j + 3]! & 0x1f) === 5)
        keyframe = true;
    }
    return { data, pts: i * 3000, keyframe };
  });
}

/** A muxer's `write`, as the TS and fMP4 muxers share it. */
export interface PacketWriter {
  write(track: number, packet: { data: Uint8Array; pts: number; dts?: number; keyframe?: boolean }): void;
}

/**
 * Writes H.264 access units to track `v` and AAC frames to track `a` interleaved by time (video first on
 * a tie); `tick` runs after each write.
 */
export function writeInterleaved(
  muxer: PacketWriter,
  v: number,
  a: number,
  video: Media['video'],
  audio: Media['audio'],
  tick?: () => void,
): void {
  let i = 0;
  let j = 0;
  while (i < video.length || j < audio.length) {
    const vt = i < video.length ? video[i]!.pts / 90_000 : Number.POSITIVE_INFINITY;
    const at = j < audio.length ? audio[j]!.pts / 48_000 : Number.POSITIVE_INFINITY;
    if (vt <= at) {
      const f = video[i++]!;
      muxer.write(v, { data: f.data, pts: f.pts, dts: f.pts, keyframe: f.keyframe });
    } else {
      const f = audio[j++]!;
      muxer.write(a, { data: f.data, pts: f.pts });
    }
    tick?.();
  }
}

function splitAdts(b: Uint8Array): Media['audio'] {
  const out: Media['audio'] = [];
  let off = 0;
  while (off + 7 <= b.length && b[off] === 0xff && (b[off + 1]! & 0xf0) === 0xf0) {
    const len = ((b[off + 3]! & 3) << 11) | (b[off + 4]! << 3) | (b[off + 5]! >> 5); // aac_frame_length
    out.push({ data: b.subarray(off, off + len), pts: out.length * 1024 });
    off += len;
  }
  return out;
}
