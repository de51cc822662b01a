/**
 * Shared harness of the muxing benchmarks: the fixture (60 s of 1280×720 30 fps H.264 from x264 veryfast,
 * no B-frames, keyframe every 2 s, as Annex B access units + 48 kHz stereo AAC-LC raw frames), interleaved
 * by DTS; one run of each contender (trackrec, FFmpeg's libavformat through node-av's synchronous API with
 * AVIO on /dev/null, mediabunny); the timing loop (warm-ups, then round-robin timed runs) and the table.
 * MB = 10^6 bytes. Environment: TRACKREC_BENCH_RUNS (timed runs per muxer, default 21),
 * TRACKREC_BENCH_SECONDS (media duration, default 60), TRACKREC_BENCH_DEBUG (print every run's time).
 */
import { writeSync } from 'node:fs';
import {
  BufferTarget,
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  NullTarget,
  Output,
  type OutputFormat,
  type Target,
} from 'mediabunny';
import { Dictionary, FFmpegError, FormatContext, Packet, Rational } from 'node-av';
import {
  AV_CHANNEL_LAYOUT_STEREO,
  AV_CODEC_ID_AAC,
  AV_CODEC_ID_H264,
  AV_PKT_FLAG_KEY,
  AVMEDIA_TYPE_AUDIO,
  AVMEDIA_TYPE_VIDEO,
  type AVPacketFlag,
} from 'node-av/constants';
import type { TrackOptions, EncodedPacket as TrackrecPacket } from '../src/types.js';
import { type AacMedia, aacFixture, type H264Media, h264Fixture } from '../test/fixtures/encoded-media.js';

/** Timed runs per muxer. */
export const RUNS = Number(process.env.TRACKREC_BENCH_RUNS ?? 21);
/** Untimed runs per muxer before the timed ones (JIT warm-up; also where output sizes are taken). */
export const WARMUP = 3;
/** Media duration of the fixture, seconds. */
export const SECONDS = Number(process.env.TRACKREC_BENCH_SECONDS ?? 60);

/** One packet of the interleaved input, with every representation the three muxers need precomputed. */
export interface Item {
  video: boolean;
  data: Uint8Array;
  buffer: Buffer;
  /** Track timescale: 90 kHz for video, samples for audio. */
  pts: number;
  dts: number;
  keyframe: boolean;
  /** 90 kHz (audio rounded), for FFmpeg streams in 1/90000. */
  pts90: bigint;
  dts90: bigint;
  /** Track timescale, for FFmpeg streams in 1/sampleRate (audio). */
  ptsTrack: bigint;
  dtsTrack: bigint;
  /** Seconds, for mediabunny. */
  seconds: number;
  durationS: number;
}

/** The benchmark's input: both elementary streams and their packets interleaved by DTS. */
export interface Media {
  video: H264Media;
  audio: AacMedia;
  items: Item[];
  /** Elementary-stream bytes of all items. */
  inBytes: number;
}

function interleave(video: H264Media, audio: AacMedia): Item[] {
  const items: (Item & { t90: number })[] = [];
  for (const f of video.frames) {
    items.push({
      video: true,
      data: f.data,
      buffer: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      pts: f.pts,
      dts: f.dts,
      keyframe: f.keyframe,
      pts90: BigInt(f.pts),
      dts90: BigInt(f.dts),
      ptsTrack: BigInt(f.pts),
      dtsTrack: BigInt(f.dts),
      seconds: f.pts / 90000,
      durationS: 1 / video.fps,
      t90: f.dts,
    });
  }
  for (const f of audio.frames) {
    const t90 = (f.pts * 90000) / audio.sampleRate;
    items.push({
      video: false,
      data: f.data,
      buffer: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      pts: f.pts,
      dts: f.pts,
      keyframe: true,
      pts90: BigInt(Math.round(t90)),
      dts90: BigInt(Math.round(t90)),
      ptsTrack: BigInt(f.pts),
      dtsTrack: BigInt(f.pts),
      seconds: f.pts / audio.sampleRate,
      durationS: f.duration / audio.sampleRate,
      t90,
    });
  }
  // Stable sort by DTS; video first on ties (as a live source would deliver them).
  return items.sort((x, y) => x.t90 - y.t90 || Number(y.video) - Number(x.video));
}

/** Loads (or encodes once, then caches) the fixture and prints one line about it. */
export async function loadMedia(): Promise<Media> {
  const tFix = performance.now();
  const video = await h264Fixture({ durationS: SECONDS, width: 1280, height: 720, fps: 30 });
  const audio = await aacFixture({ durationS: SECONDS, sampleRate: 48000, channelCount: 2 });
  const items = interleave(video, audio);
  let inBytes = 0;
  for (const it of items) inBytes += it.data.byteLength;
  console.log(
    `fixture: ${video.frames.length} H.264 + ${audio.frames.length} AAC packets, ${round(inBytes / 1e6, 2)} MB ` +
      `of elementary stream (${round((performance.now() - tFix) / 1000, 1)} s to load/encode); ${RUNS} timed runs ` +
      `after ${WARMUP} warm-ups`,
  );
  return { video, audio, items, inBytes };
}

/** One complete mux of the whole input; returns the bytes produced, or 0 where the run cannot count them. */
export type MuxRun = () => number | Promise<number>;

const NO_FLAGS = 0 as AVPacketFlag;

/** How to set up FFmpeg's muxer for one output format. */
export interface FfmpegSpec {
  /** libavformat short name (`mpegts`, `mp4`). */
  format: string;
  /** Muxer private options given to `avformat_write_header`. */
  options?: Record<string, string>;
  /** The muxer needs SPS/PPS as video extradata (mov builds its avcC from it; mpegts reads them in-band). */
  videoExtradata: boolean;
  /** Audio stream time base: 1/90000 or 1/sampleRate. */
  audioTimeBase: 90000 | 'sampleRate';
}

/** SPS and PPS as Annex B extradata. */
function annexBExtradata(video: H264Media): Buffer {
  const out = Buffer.alloc(8 + video.sps.length + video.pps.length);
  out.writeUInt32BE(1, 0);
  out.set(video.sps, 4);
  out.writeUInt32BE(1, 4 + video.sps.length);
  out.set(video.pps, 8 + video.sps.length);
  return out;
}

/** FFmpeg's libavformat muxer (node-av synchronous API, AVIO on /dev/null); counts bytes via `pb`. */
export function ffmpegRun({ items, video, audio }: Media, spec: FfmpegSpec): MuxRun {
  const extradata = spec.videoExtradata ? annexBExtradata(video) : undefined;
  const audioInSamples = spec.audioTimeBase === 'sampleRate';
  return () => {
    const fmt = new FormatContext();
    FFmpegError.throwIfError(fmt.allocOutputContext2(null, spec.format, '/dev/null'), 'allocOutputContext2');
    const vs = fmt.newStream(null);
    vs.codecpar.codecType = AVMEDIA_TYPE_VIDEO;
    vs.codecpar.codecId = AV_CODEC_ID_H264;
    vs.codecpar.width = video.width;
    vs.codecpar.height = video.height;
    if (extradata) vs.codecpar.extradata = extradata;
    vs.timeBase = new Rational(1, 90000);
    const as = fmt.newStream(null);
    as.codecpar.codecType = AVMEDIA_TYPE_AUDIO;
    as.codecpar.codecId = AV_CODEC_ID_AAC;
    as.codecpar.sampleRate = audio.sampleRate;
    as.codecpar.channelLayout = AV_CHANNEL_LAYOUT_STEREO;
    as.codecpar.frameSize = audio.frameSize;
    as.codecpar.extradata = Buffer.from(audio.audioSpecificConfig);
    as.timeBase = new Rational(1, audioInSamples ? audio.sampleRate : 90000);
    FFmpegError.throwIfError(fmt.openOutputSync(), 'openOutput');
    const options = spec.options ? Dictionary.fromObject(spec.options) : null;
    FFmpegError.throwIfError(fmt.writeHeaderSync(options), 'writeHeader');
    const vIndex = vs.index;
    const aIndex = as.index;
    const pkt = new Packet();
    pkt.alloc();
    for (const it of items) {
      pkt.data = it.buffer;
      pkt.pts = audioInSamples ? it.ptsTrack : it.pts90;
      pkt.dts = audioInSamples ? it.dtsTrack : it.dts90;
      pkt.streamIndex = it.video ? vIndex : aIndex;
      pkt.flags = it.keyframe ? AV_PKT_FLAG_KEY : NO_FLAGS;
      const ret = fmt.interleavedWriteFrameSync(pkt);
      if (ret < 0) FFmpegError.throwIfError(ret, 'interleavedWriteFrame');
    }
    FFmpegError.throwIfError(fmt.writeTrailerSync(), 'writeTrailer');
    const bytes = Number(fmt.pbBytes);
    pkt.free();
    fmt.closeOutputSync();
    fmt.freeContext();
    options?.free();
    return bytes;
  };
}

function avcCodecString(video: H264Media): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `avc1.${hex(video.sps[1]!)}${hex(video.sps[2]!)}${hex(video.sps[3]!)}`;
}

/**
 * mediabunny with a fresh `format()` per run, writing to a NullTarget (the muxer alone) unless `target`
 * says otherwise; returns the size only when the target is a BufferTarget.
 */
export function mediabunnyRun(
  { items, video, audio }: Media,
  format: () => OutputFormat,
  target: () => Target = () => new NullTarget(),
): MuxRun {
  return async () => {
    const out = target();
    const output = new Output({ format: format(), target: out });
    const vsrc = new EncodedVideoPacketSource('avc');
    const asrc = new EncodedAudioPacketSource('aac');
    output.addVideoTrack(vsrc, { frameRate: video.fps });
    output.addAudioTrack(asrc);
    await output.start();
    let firstVideo = true;
    let firstAudio = true;
    for (const it of items) {
      const packet = new EncodedPacket(it.data, it.keyframe ? 'key' : 'delta', it.seconds, it.durationS);
      if (it.video) {
        await vsrc.add(
          packet,
          firstVideo
            ? {
                decoderConfig: {
                  codec: avcCodecString(video),
                  codedWidth: video.width,
                  codedHeight: video.height,
                },
              }
            : undefined,
        );
        firstVideo = false;
      } else {
        await asrc.add(
          packet,
          firstAudio
            ? {
                decoderConfig: {
                  codec: 'mp4a.40.2',
                  sampleRate: audio.sampleRate,
                  numberOfChannels: audio.channelCount,
                  description: audio.audioSpecificConfig,
                },
              }
            : undefined,
        );
        firstAudio = false;
      }
    }
    await output.finalize();
    return out instanceof BufferTarget ? (out.buffer?.byteLength ?? 0) : 0;
  };
}

/** What the benchmark needs of a trackrec muxer (`TsMuxer`, `Fmp4Muxer`). */
export interface TrackrecMuxer {
  addTrack(options: TrackOptions): number;
  write(trackId: number, packet: TrackrecPacket): void;
  close(): void;
}

/**
 * trackrec with a sink that counts bytes (the muxer alone), or with `fd` a sink that writes every chunk
 * to it with writeSync (one syscall per chunk, like a recorder without a write buffer; comparable to
 * FFmpeg's AVIO writing to /dev/null).
 */
export function trackrecRun(
  { items, audio }: Media,
  create: (sink: (chunk: Uint8Array) => void) => TrackrecMuxer,
  fd?: number,
): MuxRun {
  return () => {
    let bytes = 0;
    const mux = create(
      fd === undefined
        ? (chunk) => {
            bytes += chunk.byteLength;
          }
        : (chunk) => {
            bytes += writeSync(fd, chunk);
          },
    );
    const v = mux.addTrack({ codec: 'h264' });
    const a = mux.addTrack({ codec: 'aac', audioSpecificConfig: audio.audioSpecificConfig });
    for (const it of items) {
      if (it.video) mux.write(v, { data: it.data, pts: it.pts, dts: it.dts, keyframe: it.keyframe });
      else mux.write(a, { data: it.data, pts: it.pts });
    }
    mux.close();
    return bytes;
  };
}

/** One muxer of a set. */
export interface Contender {
  name: string;
  run: MuxRun;
  /** Output size when the run itself cannot count it (mediabunny with a NullTarget). */
  outBytes?: number;
}

/** How a set is measured; each set keeps the policy its figures were established with. */
export interface MeasurePolicy {
  /**
   * true: a full GC and a 100 ms pause before every timed run, so the collector's concurrent sweeping
   * does not land on the next contender. false: one GC before the timed runs and none between them (a
   * forced full GC collects the previous run's sink closure and deoptimizes the JIT code that inlined it,
   * "weak objects", which a long-lived muxer never sees); retained heap is then measured apart.
   */
  gcBeforeEachRun: boolean;
  /** Rejects an implausible output size (a broken contender must not show as fast). */
  plausible: (outBytes: number, inBytes: number) => boolean;
}

/** Figures of one contender. */
export interface Result {
  name: string;
  medianMs: number;
  minMs: number;
  outBytes: number;
  outMBps: number;
  inMBps: number;
  /** Median growth of heapUsed across a timed run. */
  heapGrowthMB: number;
  /** What one run leaves behind after a full GC; only with `gcBeforeEachRun: false` and --expose-gc. */
  retainedMB?: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether heap figures can be taken (node --expose-gc). */
export const hasGc = gc !== undefined;

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Warms every muxer up, then runs them round-robin so that load from other processes on the machine
 * hits all of them alike, with the GC policy of `policy`.
 */
export async function measureAll(
  contenders: Contender[],
  inBytes: number,
  policy: MeasurePolicy,
): Promise<Result[]> {
  const outBytes = contenders.map((c) => c.outBytes ?? 0);
  for (let w = 0; w < WARMUP; w++) {
    for (const [i, c] of contenders.entries()) {
      const bytes = await c.run();
      if (c.outBytes === undefined) outBytes[i] = bytes;
    }
  }
  for (const [i, c] of contenders.entries()) {
    if (!policy.plausible(outBytes[i]!, inBytes)) {
      throw new Error(`${c.name} produced ${outBytes[i]} bytes for ${inBytes} bytes of input`);
    }
  }
  const times = contenders.map((): number[] => []);
  const growth = contenders.map((): number[] => []);
  if (!policy.gcBeforeEachRun) gc?.();
  for (let r = 0; r < RUNS; r++) {
    for (const [i, c] of contenders.entries()) {
      if (policy.gcBeforeEachRun) {
        gc?.();
        await settle();
      }
      const h0 = heapUsed();
      const t0 = performance.now();
      await c.run();
      const t1 = performance.now();
      growth[i]!.push(heapUsed() - h0);
      times[i]!.push(t1 - t0);
    }
  }
  const retained: (number | undefined)[] = contenders.map(() => undefined);
  if (gc && !policy.gcBeforeEachRun) {
    for (const [i, c] of contenders.entries()) {
      gc();
      const h0 = heapUsed();
      await c.run();
      gc();
      retained[i] = heapUsed() - h0;
    }
  }
  if (process.env.TRACKREC_BENCH_DEBUG) {
    for (const [i, c] of contenders.entries())
      console.log(c.name, times[i]!.map((t) => t.toFixed(1)).join(' '));
  }
  return contenders.map((c, i) => {
    const medianMs = median(times[i]!);
    const r = retained[i];
    return {
      name: c.name,
      medianMs,
      minMs: Math.min(...times[i]!),
      outBytes: outBytes[i]!,
      outMBps: outBytes[i]! / 1e6 / (medianMs / 1000),
      inMBps: inBytes / 1e6 / (medianMs / 1000),
      heapGrowthMB: median(growth[i]!) / 1e6,
      ...(r === undefined ? {} : { retainedMB: r / 1e6 }),
    };
  });
}

/** Prints a Markdown table of `results`; the retained column appears when any result has it. */
export function printTable(results: Result[]): void {
  const withRetained = results.some((r) => r.retainedMB !== undefined);
  const header = ['muxer', 'median ms', 'min ms', 'out MB', 'out MB/s', 'in MB/s', 'heap Δ MB'];
  if (withRetained) header.push('retained MB');
  const rows = results.map((r) => {
    const cells = [
      r.name,
      r.medianMs.toFixed(1),
      r.minMs.toFixed(1),
      (r.outBytes / 1e6).toFixed(2),
      r.outMBps.toFixed(0),
      r.inMBps.toFixed(0),
      r.heapGrowthMB.toFixed(1),
    ];
    if (withRetained) cells.push(r.retainedMB?.toFixed(2) ?? '');
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** Rounds for the JSON summary. */
export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/**
 * The JSON figures of a set's three peers, in the order the summaries print them: out MB/s and ratios
 * (`vs_*`, of out MB/s), median times and their ratios (`speedup_*`; with `minRatio` also
 * `min_ms_vs_ffmpeg`, of minimum times), output sizes.
 */
export function peerFigures(t: Result, f: Result, m: Result, minRatio = false): Record<string, number> {
  return {
    trackrec_mbps: round(t.outMBps),
    ffmpeg_mbps: round(f.outMBps),
    mediabunny_mbps: round(m.outMBps),
    vs_ffmpeg: round(t.outMBps / f.outMBps, 2),
    vs_mediabunny: round(t.outMBps / m.outMBps, 2),
    trackrec_ms: round(t.medianMs, 2),
    ffmpeg_ms: round(f.medianMs, 2),
    mediabunny_ms: round(m.medianMs, 2),
    speedup_vs_ffmpeg: round(f.medianMs / t.medianMs, 2),
    ...(minRatio ? { min_ms_vs_ffmpeg: round(f.minMs / t.minMs, 2) } : {}),
    speedup_vs_mediabunny: round(m.medianMs / t.medianMs, 2),
    trackrec_out_mb: round(t.outBytes / 1e6, 2),
    ffmpeg_out_mb: round(f.outBytes / 1e6, 2),
    mediabunny_out_mb: round(m.outBytes / 1e6, 2),
  };
}
