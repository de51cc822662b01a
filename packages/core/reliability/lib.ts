// Shared parts of the reliability suite: the judges (FFmpeg 8.1 in-process through node-av, the muxer's
// ISO/IEC 13818-1 checker), a synthetic faster-than-real-time feeder, memory readings and case results.
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { formatReport, TsInspector, type TsReport } from '@trackrec/muxer/inspect';
import {
  AV_LOG_ERROR,
  AV_LOG_WARNING,
  AV_NOPTS_VALUE,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  AVMEDIA_TYPE_VIDEO,
  Codec,
  CodecContext,
  FormatContext,
  Frame,
  Log,
  Packet,
} from 'node-av';
import type { TrackRecording } from '../src/index.js';
import { pushSyntheticFrame, syntheticI420 } from '../test/helpers.js';

/** One case's outcome: its figures, the bound it asserts, and whether the bound held. */
export interface CaseResult {
  id: string;
  name: string;
  /** Figures shown in the table and the JSON line. */
  figures: Record<string, number | string>;
  /** The bound, in words. */
  bound: string;
  pass: boolean;
  /** Why a bound failed, or notes worth reading. */
  notes: string[];
}

/** What FFmpeg (libavformat + libavcodec through node-av) made of a file. */
export interface DecodeResult {
  /** Decoded video frames and audio frames. */
  videoFrames: number;
  audioFrames: number;
  /** Decoder return codes < 0 and frames flagged with decode errors. */
  errors: string[];
  /** Messages FFmpeg logged at error level (demuxer and decoders). */
  logErrors: string[];
  /** Messages at warning level. */
  logWarnings: string[];
  /** Packets flagged corrupt by the demuxer. */
  corruptPackets: number;
  /** Video presentation span: last − first decoded PTS + one frame, seconds (0 without video). */
  videoSpanS: number;
  /** Video PTS in the stream time base were strictly increasing in decode order after sorting by DTS. */
  dtsMonotonic: boolean;
  /** Decoded video PTS, seconds, in output order. */
  videoPtsS: number[];
}

/** `decode` refusing to open the input at all. */
export class DecodeOpenError extends Error {}

/**
 * Demuxes and decodes every packet of a TS file with FFmpeg 8.1 (node-av). The log callback is global:
 * one decode at a time per process.
 */
export async function decode(path: string): Promise<DecodeResult> {
  const logErrors: string[] = [];
  const logWarnings: string[] = [];
  const level = Log.getLevel();
  Log.setLevel(AV_LOG_WARNING);
  Log.setCallback(
    (level, message) => {
      if (level <= AV_LOG_ERROR) logErrors.push(message.trim());
      else if (level <= AV_LOG_WARNING) logWarnings.push(message.trim());
    },
    { maxLevel: AV_LOG_WARNING },
  );
  const fmt = new FormatContext();
  const decoders: (CodecContext | null)[] = [];
  const pkt = new Packet();
  pkt.alloc();
  const frame = new Frame();
  frame.alloc();
  const errors: string[] = [];
  let videoFrames = 0;
  let audioFrames = 0;
  let corruptPackets = 0;
  let dtsMonotonic = true;
  const lastDts: number[] = [];
  const videoPts: number[] = [];
  let videoIndex = -1;
  let videoTb = 1 / 90_000;
  let frameDur = 0;
  try {
    const opened = await fmt.openInput(path);
    if (opened < 0) throw new DecodeOpenError(`openInput failed: ${opened}`);
    const found = await fmt.findStreamInfo(null);
    if (found < 0) throw new DecodeOpenError(`findStreamInfo failed: ${found}`);
    for (const s of fmt.streams) {
      const codec = Codec.findDecoder(s.codecpar.codecId);
      if (s.codecpar.codecType === AVMEDIA_TYPE_VIDEO && videoIndex < 0) {
        videoIndex = s.index;
        videoTb = s.timeBase.num / s.timeBase.den;
      }
      if (!codec) {
        decoders.push(null);
        continue;
      }
      const ctx = new CodecContext();
      ctx.allocContext3(codec);
      ctx.parametersToContext(s.codecpar);
      ctx.pktTimebase = s.timeBase;
      const ret = await ctx.open2(codec, null);
      if (ret < 0) throw new Error(`open decoder ${codec.name} failed: ${ret}`);
      decoders.push(ctx);
    }
    const receive = (index: number): void => {
      const ctx = decoders[index];
      if (!ctx) return;
      for (;;) {
        const ret = ctx.receiveFrameSync(frame);
        if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
        if (ret < 0) {
          errors.push(`stream ${index}: receiveFrame ${ret}`);
          return;
        }
        if (index === videoIndex) {
          videoFrames++;
          if (frame.pts !== AV_NOPTS_VALUE) videoPts.push(Number(frame.pts) * videoTb);
          if (frame.duration > 0n) frameDur = Number(frame.duration) * videoTb;
        } else audioFrames++;
        if (frame.decodeErrorFlags !== 0)
          errors.push(`stream ${index}: decode_error_flags ${frame.decodeErrorFlags}`);
        frame.unref();
      }
    };
    for (;;) {
      const ret = await fmt.readFrame(pkt);
      if (ret === AVERROR_EOF) break;
      if (ret < 0) {
        errors.push(`readFrame ${ret}`);
        break;
      }
      if ((pkt.flags & 2) !== 0) corruptPackets++; // AV_PKT_FLAG_CORRUPT
      if (pkt.dts !== AV_NOPTS_VALUE) {
        const d = Number(pkt.dts);
        const prev = lastDts[pkt.streamIndex];
        if (prev !== undefined && d <= prev) dtsMonotonic = false;
        lastDts[pkt.streamIndex] = d;
      }
      const ctx = decoders[pkt.streamIndex];
      if (ctx) {
        const sent = ctx.sendPacketSync(pkt);
        if (sent < 0 && sent !== AVERROR_EAGAIN) errors.push(`stream ${pkt.streamIndex}: sendPacket ${sent}`);
        receive(pkt.streamIndex);
      }
      pkt.unref();
    }
    decoders.forEach((ctx, index) => {
      if (!ctx) return;
      ctx.sendPacketSync(null);
      receive(index);
    });
    // Log callbacks arrive through the event loop.
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    for (const d of decoders) d?.freeContext();
    pkt.free();
    frame.free();
    await fmt.closeInput();
    Log.resetCallback();
    Log.setLevel(level);
  }
  const span = videoPts.length > 0 ? Math.max(...videoPts) - Math.min(...videoPts) + (frameDur || 1 / 30) : 0;
  return {
    videoFrames,
    audioFrames,
    errors,
    logErrors,
    logWarnings,
    corruptPackets,
    videoSpanS: span,
    dtsMonotonic,
    videoPtsS: videoPts,
  };
}

/** True when FFmpeg decoded something and reported nothing wrong. */
export function decodedClean(r: DecodeResult): boolean {
  return (
    r.videoFrames + r.audioFrames > 0 &&
    r.errors.length === 0 &&
    r.logErrors.length === 0 &&
    r.corruptPackets === 0
  );
}

/** The muxer's checker with the core tests' thresholds (PCR gaps ≤ 41 ms, tables ≤ 101 ms). */
export function check(path: string): TsReport {
  // Streamed in 1 MiB reads: an hour of 720p is over a gigabyte.
  const inspector = new TsInspector({ maxPcrGapMs: 41, maxTableGapMs: 101 });
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.byteLength, null);
      if (n === 0) break;
      inspector.push(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return inspector.finish();
}

/** A checker report as one line per violation (for notes). */
export function describeViolations(report: TsReport): string {
  return formatReport(report);
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** What each open file descriptor of this process points at (for a note when they grow). */
export function fdTargets(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {}
  }
  return out.sort();
}

/** Runs full GCs (needs `--expose-gc`; without it, nothing). */
export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

/** Resident set size, MB. */
export function rssMb(): number {
  return process.memoryUsage().rss / 1048576;
}

/** Heap used after full GCs, MB. */
export function heapMb(): number {
  fullGc();
  return process.memoryUsage().heapUsed / 1048576;
}

/** Options of {@link feedSynthetic}. */
export interface FeedOptions {
  width: number;
  height: number;
  fps: number;
  /** Media seconds to feed. */
  seconds: number;
  /** First media second (continues an earlier feed). Default 0. */
  fromS?: number;
  /** Wait for the encoder after each frame (backpressure). Default true. */
  backpressure?: boolean;
  /** Called every media second with its index. */
  onSecond?: (s: number) => void | Promise<void>;
  /** Distinct pictures cycled through (allocated once). Default 30. */
  pictures?: number;
  /** Added to every arrival time (µs): a recording clock that reads this much at media time 0. Default 0. */
  arrivalOffsetUs?: number;
}

/**
 * Feeds a recording synthetic 30 fps-ish moving pictures and a 48 kHz mono tone on a synthetic clock
 * (explicit arrival = capture + 20 ms), faster than real time.
 */
export async function feedSynthetic(rec: TrackRecording, o: FeedOptions): Promise<void> {
  const pics = Array.from({ length: o.pictures ?? 30 }, (_, i) => syntheticI420(o.width, o.height, i * 7));
  const from = o.fromS ?? 0;
  const frames = Math.round(o.seconds * o.fps);
  const first = Math.round(from * o.fps);
  let audioN = Math.round(from * 100);
  const clock = { fps: o.fps, arrivalOffsetUs: o.arrivalOffsetUs ?? 0 };
  for (let f = first; f < first + frames; f++) {
    const data = pics[f % pics.length] as Uint8Array;
    audioN = pushSyntheticFrame(rec, f, audioN, { data, width: o.width, height: o.height }, clock);
    if (o.backpressure !== false) await rec.drained();
    else if (f % 4 === 0) await new Promise((r) => setImmediate(r));
    if (o.onSecond && (f + 1) % o.fps === 0) await o.onSecond((f + 1) / o.fps);
  }
}

/** A silent logger. */
export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Options shared by the cases. */
export interface SuiteOptions {
  full: boolean;
  seed: number;
  /** Scratch directory for this run. */
  work: string;
}

/** Unhandled rejections and uncaught exceptions seen since {@link watchCrashes} (a crash, had they been fatal). */
export const crashes: string[] = [];

/** Records unhandled rejections and uncaught exceptions instead of dying, so a case can count them. */
export function watchCrashes(): void {
  process.on('unhandledRejection', (reason) => crashes.push(`unhandledRejection: ${String(reason)}`));
  process.on('uncaughtException', (error) =>
    crashes.push(`uncaughtException: ${error.stack ?? error.message}`),
  );
}

/** Whether a file's size is whole 188-byte TS packets. */
export function wholePackets(size: number): boolean {
  return size % 188 === 0;
}
