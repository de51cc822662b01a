/**
 * The muxer on its own: encoded H.264 and AAC in, a growing MPEG-TS file out, no LiveKit and no
 * encoder of ours. Input is an H.264 Annex B elementary stream (ITU-T H.264 Annex B) and an AAC
 * ADTS stream (ISO/IEC 13818-7), as `ffmpeg -f h264` and `ffmpeg -f adts` write them.
 *
 *   node --import tsx examples/mux-only.ts out.ts                       # makes 5 s of test input with ffmpeg
 *   node --import tsx examples/mux-only.ts out.ts in.h264 in.aac [fps]  # your own streams (no B-frames)
 *
 * Then: `trackrec probe out.ts`, or `ffplay out.ts`.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsMuxer } from '@trackrec/muxer';
import { formatReport, inspectTs } from '@trackrec/muxer/inspect';
import { FileSink } from '@trackrec/node-writer';

/** One H.264 access unit: the NAL units of one picture, still in Annex B form. */
interface AccessUnit {
  data: Uint8Array;
  keyframe: boolean;
}

/** Start offsets (of the start code) and NAL types of every NAL unit in an Annex B stream. */
function nalUnits(bytes: Uint8Array): Array<{ at: number; payload: number; type: number }> {
  const nals: Array<{ at: number; payload: number; type: number }> = [];
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] !== 0 || bytes[i + 1] !== 0) continue;
    const long = bytes[i + 2] === 0 && bytes[i + 3] === 1; // 00 00 00 01
    if (!long && bytes[i + 2] !== 1) continue; // 00 00 01
    const payload = i + (long ? 4 : 3);
    if (payload < bytes.length) nals.push({ at: i, payload, type: bytes[payload]! & 0x1f }); // nal_unit_type
    i = payload - 1;
  }
  return nals;
}

/**
 * Groups NAL units into access units (H.264 §7.4.1.2.3): a new one starts at an access unit
 * delimiter, SPS, PPS or SEI after a picture's slices, or at a slice whose first_mb_in_slice is 0.
 */
function accessUnits(bytes: Uint8Array): AccessUnit[] {
  const units: AccessUnit[] = [];
  let start = -1;
  let hasSlice = false;
  let keyframe = false;
  const close = (end: number): void => {
    if (start >= 0 && hasSlice) units.push({ data: bytes.subarray(start, end), keyframe });
  };
  for (const nal of nalUnits(bytes)) {
    const isSlice = nal.type === 1 || nal.type === 5;
    // first_mb_in_slice is ue(v): 0 is the single bit '1' right after the NAL header.
    const firstSlice = isSlice && (bytes[nal.payload + 1]! & 0x80) !== 0;
    const opensUnit = nal.type === 9 || nal.type === 7 || nal.type === 8 || nal.type === 6 || firstSlice;
    if (start < 0 || (hasSlice && opensUnit)) {
      close(nal.at);
      start = nal.at;
      hasSlice = false;
      keyframe = false;
    }
    if (isSlice) hasSlice = true;
    if (nal.type === 5) keyframe = true;
  }
  close(bytes.length);
  return units;
}

/** ADTS sampling_frequency_index → Hz (ISO/IEC 14496-3 Table 1.18). */
const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Splits an ADTS stream into whole frames (header included) and reads its sample rate. */
function adtsFrames(bytes: Uint8Array): { sampleRate: number; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  let sampleRate = 0;
  let p = 0;
  while (p + 7 <= bytes.length) {
    if (bytes[p] !== 0xff || (bytes[p + 1]! & 0xf0) !== 0xf0)
      throw new Error(`no ADTS syncword at byte ${p}`);
    sampleRate ||= ADTS_RATES[(bytes[p + 2]! >> 2) & 0x0f] ?? 0; // sampling_frequency_index
    // aac_frame_length: 13 bits across bytes 3..5, header included.
    const length = ((bytes[p + 3]! & 0x03) << 11) | (bytes[p + 4]! << 3) | (bytes[p + 5]! >> 5);
    if (length < 7 || p + length > bytes.length) break; // a cut last frame is dropped
    frames.push(bytes.subarray(p, p + length));
    p += length;
  }
  if (sampleRate === 0) throw new Error('no ADTS frame with a known sampling rate');
  return { sampleRate, frames };
}

/** Five seconds of a moving test picture and a tone, encoded by the ffmpeg command-line tool. */
function makeTestInput(dir: string): { h264: string; aac: string } {
  const h264 = join(dir, 'in.h264');
  const aac = join(dir, 'in.aac');
  const args = [
    // -t before each -i: the lavfi sources are endless, and an output -t would bind to one output only.
    ['-v', 'error', '-f', 'lavfi', '-t', '5', '-i', 'testsrc2=size=640x360:rate=30'],
    ['-f', 'lavfi', '-t', '5', '-i', 'sine=frequency=440:sample_rate=48000'],
    ['-map', '0:v', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
    ['-bf', '0', '-g', '60', '-x264-params', 'aud=1', '-f', 'h264', h264],
    ['-map', '1:a', '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-f', 'adts', aac],
  ].flat();
  const run = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(
      `ffmpeg failed (${run.error?.message ?? run.stderr.trim()}); pass your own in.h264 and in.aac`,
    );
  }
  return { h264, aac };
}

function main(): void {
  const [out, h264Arg, aacArg, fpsArg] = process.argv.slice(2);
  if (out === undefined || (h264Arg === undefined) !== (aacArg === undefined)) {
    console.error('usage: node --import tsx examples/mux-only.ts out.ts [in.h264 in.aac [fps]]');
    process.exitCode = 2;
    return;
  }
  const fps = Number(fpsArg ?? 30);
  const scratch = mkdtempSync(join(tmpdir(), 'trackrec-mux-only-'));
  try {
    const input =
      h264Arg !== undefined && aacArg !== undefined ? { h264: h264Arg, aac: aacArg } : makeTestInput(scratch);
    const video = accessUnits(new Uint8Array(readFileSync(input.h264)));
    const audio = adtsFrames(new Uint8Array(readFileSync(input.aac)));

    // The writer: every chunk reaches the file at once (fdatasync at most once a second), so the
    // file plays while it grows and survives a crash.
    const file = new FileSink(out, { fsync: { intervalMs: 1000 } });
    const muxer = new TsMuxer({ sink: file.asTsSink() });
    // Video timestamps in 90 kHz ticks; ADTS frames in samples (1024 per AAC-LC frame).
    const v = muxer.addTrack({ codec: 'h264' });
    const a = muxer.addTrack({ codec: 'aac', timescale: audio.sampleRate });

    // Interleave in decode order, as a live source would deliver them. No B-frames: PTS = DTS.
    let vi = 0;
    let ai = 0;
    while (vi < video.length || ai < audio.frames.length) {
      const vTime = vi < video.length ? vi / fps : Number.POSITIVE_INFINITY;
      const aTime = ai < audio.frames.length ? (ai * 1024) / audio.sampleRate : Number.POSITIVE_INFINITY;
      if (vTime <= aTime) {
        const au = video[vi]!;
        const pts = Math.round((vi * 90000) / fps);
        muxer.write(v, { data: au.data, pts, dts: pts, keyframe: au.keyframe });
        vi++;
      } else {
        muxer.write(a, { data: audio.frames[ai]!, pts: ai * 1024 });
        ai++;
      }
    }
    muxer.close(); // writes the audio still batched
    file.close(); // final fdatasync

    // The muxer's independent checker, on what reached the disk.
    const report = inspectTs(new Uint8Array(readFileSync(out)));
    console.log(`${out}: ${video.length} video frames, ${audio.frames.length} AAC frames`);
    console.log(formatReport(report));
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
