/**
 * MPEG-TS muxing throughput: trackrec's `TsMuxer` against FFmpeg's libavformat `mpegts` muxer (node-av,
 * synchronous API, AVIO on /dev/null) and mediabunny's `MpegTsOutputFormat` (NullTarget), all fed the
 * same in-memory packets in one process: 60 s of 1280×720 30 fps H.264 (x264 veryfast, no B-frames,
 * keyframe every 2 s) + 48 kHz stereo AAC-LC, interleaved by DTS.
 *
 * Run with `pnpm bench:muxer`. Prints a table, then as its last line one JSON object. MB = 10^6 bytes;
 * "out MB/s" is bytes of transport stream produced per second of muxing time (the measure of the
 * anchors), "in MB/s" the elementary-stream bytes consumed per second (identical input for all).
 * `vs_ffmpeg` / `vs_mediabunny` are ratios of out MB/s (trackrec ÷ peer); `speedup_*` ratios of median
 * times. The trackrec row's sink only counts bytes; an extra row writes every chunk to /dev/null.
 * Environment: TRACKREC_BENCH_RUNS (timed runs per muxer, default 21), TRACKREC_BENCH_SECONDS (media
 * duration, default 60).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  MpegTsOutputFormat,
  NullTarget,
  Output,
} from 'mediabunny';
import { FFmpegError, FormatContext, Packet, Rational } from 'node-av';
import {
  AV_CHANNEL_LAYOUT_STEREO,
  AV_CODEC_ID_AAC,
  AV_CODEC_ID_H264,
  AV_PKT_FLAG_KEY,
  AVMEDIA_TYPE_AUDIO,
  AVMEDIA_TYPE_VIDEO,
  type AVPacketFlag,
} from 'node-av/constants';
import { TsMuxer } from '../src/index.js';
import { type AacMedia, aacFixture, type H264Media, h264Fixture } from '../test/fixtures/encoded-media.js';

const RUNS = Number(process.env.TRACKREC_BENCH_RUNS ?? 21);
const WARMUP = 3;
const SECONDS = Number(process.env.TRACKREC_BENCH_SECONDS ?? 60);

/** One packet of the interleaved input, with every representation the three muxers need precomputed. */
interface Item {
  video: boolean;
  data: Uint8Array;
  buffer: Buffer;
  /** Track timescale: 90 kHz for video, samples for audio. */
  pts: number;
  dts: number;
  keyframe: boolean;
  /** 90 kHz, for FFmpeg. */
  pts90: bigint;
  dts90: bigint;
  /** Seconds, for mediabunny. */
  seconds: number;
  durationS: number;
}

function interleave(video: H264Media, audio: AacMedia): Item[] {
  const items: Item[] = [];
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
      seconds: f.pts / 90000,
      durationS: 1 / video.fps,
    });
  }
  for (const f of audio.frames) {
    const t90 = Math.round((f.pts * 90000) / audio.sampleRate);
    items.push({
      video: false,
      data: f.data,
      buffer: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      pts: f.pts,
      dts: f.pts,
      keyframe: true,
      pts90: BigInt(t90),
      dts90: BigInt(t90),
      seconds: f.pts / audio.sampleRate,
      durationS: f.duration / audio.sampleRate,
    });
  }
  // Stable sort by DTS in 90 kHz; video first on ties (as a live source would deliver them).
  return items.sort((x, y) => Number(x.dts90 - y.dts90) || Number(y.video) - Number(x.video));
}

const NO_FLAGS = 0 as AVPacketFlag;

type MuxRun = () => number | Promise<number>;

function ffmpegRun(items: Item[], video: H264Media, audio: AacMedia): MuxRun {
  return () => {
    const fmt = new FormatContext();
    FFmpegError.throwIfError(fmt.allocOutputContext2(null, 'mpegts', '/dev/null'), 'allocOutputContext2');
    const vs = fmt.newStream(null);
    vs.codecpar.codecType = AVMEDIA_TYPE_VIDEO;
    vs.codecpar.codecId = AV_CODEC_ID_H264;
    vs.codecpar.width = video.width;
    vs.codecpar.height = video.height;
    vs.timeBase = new Rational(1, 90000);
    const as = fmt.newStream(null);
    as.codecpar.codecType = AVMEDIA_TYPE_AUDIO;
    as.codecpar.codecId = AV_CODEC_ID_AAC;
    as.codecpar.sampleRate = audio.sampleRate;
    as.codecpar.channelLayout = AV_CHANNEL_LAYOUT_STEREO;
    as.codecpar.frameSize = audio.frameSize;
    as.codecpar.extradata = Buffer.from(audio.audioSpecificConfig);
    as.timeBase = new Rational(1, 90000);
    FFmpegError.throwIfError(fmt.openOutputSync(), 'openOutput');
    FFmpegError.throwIfError(fmt.writeHeaderSync(null), 'writeHeader');
    const vIndex = vs.index;
    const aIndex = as.index;
    const pkt = new Packet();
    pkt.alloc();
    for (const it of items) {
      pkt.data = it.buffer;
      pkt.pts = it.pts90;
      pkt.dts = it.dts90;
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
    return bytes;
  };
}

function avcCodecString(video: H264Media): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `avc1.${hex(video.sps[1]!)}${hex(video.sps[2]!)}${hex(video.sps[3]!)}`;
}

/** mediabunny writes to a NullTarget (the muxer alone); its output size is measured once with onPacket. */
function mediabunnyRun(
  items: Item[],
  video: H264Media,
  audio: AacMedia,
  onPacket?: (d: Uint8Array) => void,
): MuxRun {
  return async () => {
    const output = new Output({
      format: new MpegTsOutputFormat(onPacket ? { onPacket } : {}),
      target: new NullTarget(),
    });
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
    return 0;
  };
}

/**
 * trackrec with a sink that counts bytes (the muxer alone), or with `fd` a sink that writes every chunk
 * to it with writeSync (one syscall per PES, like a recorder without a write buffer; comparable to
 * FFmpeg's AVIO writing to /dev/null).
 */
function trackrecRun(items: Item[], audio: AacMedia, fd?: number): MuxRun {
  return () => {
    let bytes = 0;
    const mux = new TsMuxer({
      sink:
        fd === undefined
          ? (chunk) => {
              bytes += chunk.byteLength;
            }
          : (chunk) => {
              bytes += writeSync(fd, chunk);
            },
    });
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

interface Result {
  name: string;
  medianMs: number;
  minMs: number;
  outBytes: number;
  outMBps: number;
  inMBps: number;
  heapGrowthMB: number;
  retainedMB: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Contender {
  name: string;
  run: MuxRun;
  /** Output size when the run itself cannot count it (mediabunny with a NullTarget). */
  outBytes?: number;
}

/**
 * Warms every muxer up, then runs them round-robin so that load from other processes on the machine
 * hits all of them alike. No GC is forced between timed runs: a forced full GC collects the previous
 * run's sink closure and deoptimizes the JIT code that inlined it ("weak objects"), which a long-lived
 * muxer never sees. Heap figures: growth of heapUsed across a timed run (allocation, no GC forced), and
 * what one run leaves behind after a full GC, measured apart from the timed runs.
 */
async function measureAll(contenders: Contender[], inBytes: number): Promise<Result[]> {
  const outBytes = contenders.map((c) => c.outBytes ?? 0);
  for (let w = 0; w < WARMUP; w++) {
    for (const [i, c] of contenders.entries()) {
      const bytes = await c.run();
      if (c.outBytes === undefined) outBytes[i] = bytes;
    }
  }
  for (const [i, c] of contenders.entries()) {
    if (outBytes[i]! <= inBytes || outBytes[i]! % 188 !== 0) {
      throw new Error(`${c.name} produced ${outBytes[i]} bytes for ${inBytes} bytes of input`);
    }
  }
  const times = contenders.map((): number[] => []);
  const growth = contenders.map((): number[] => []);
  gc?.();
  for (let r = 0; r < RUNS; r++) {
    for (const [i, c] of contenders.entries()) {
      const h0 = heapUsed();
      const t0 = performance.now();
      await c.run();
      const t1 = performance.now();
      growth[i]!.push(heapUsed() - h0);
      times[i]!.push(t1 - t0);
    }
  }
  const retained = contenders.map(() => 0);
  if (gc) {
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
    return {
      name: c.name,
      medianMs,
      minMs: Math.min(...times[i]!),
      outBytes: outBytes[i]!,
      outMBps: outBytes[i]! / 1e6 / (medianMs / 1000),
      inMBps: inBytes / 1e6 / (medianMs / 1000),
      heapGrowthMB: median(growth[i]!) / 1e6,
      retainedMB: retained[i]! / 1e6,
    };
  });
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

async function main(): Promise<void> {
  if (!gc) console.warn('run with --expose-gc for heap figures');
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

  // mediabunny's output size, once, outside the timed runs (onPacket copies every packet).
  let mbBytes = 0;
  await mediabunnyRun(items, video, audio, (d) => {
    mbBytes += d.byteLength;
  })();

  const devNull = openSync('/dev/null', 'w');
  const results = await measureAll(
    [
      { name: 'trackrec TsMuxer', run: trackrecRun(items, audio) },
      { name: 'FFmpeg mpegts (node-av sync)', run: ffmpegRun(items, video, audio) },
      { name: 'mediabunny MpegTs + NullTarget', run: mediabunnyRun(items, video, audio), outBytes: mbBytes },
      { name: 'trackrec → /dev/null (writeSync/PES)', run: trackrecRun(items, audio, devNull) },
    ],
    inBytes,
  );
  closeSync(devNull);

  const header = [
    'muxer',
    'median ms',
    'min ms',
    'out MB',
    'out MB/s',
    'in MB/s',
    'heap Δ MB',
    'retained MB',
  ];
  const rows = results.map((r) => [
    r.name,
    r.medianMs.toFixed(1),
    r.minMs.toFixed(1),
    (r.outBytes / 1e6).toFixed(2),
    r.outMBps.toFixed(0),
    r.inMBps.toFixed(0),
    r.heapGrowthMB.toFixed(1),
    r.retainedMB.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));

  const [t, f, m, d] = [results[0]!, results[1]!, results[2]!, results[3]!];
  const summary = {
    trackrec_mbps: round(t.outMBps),
    ffmpeg_mbps: round(f.outMBps),
    mediabunny_mbps: round(m.outMBps),
    vs_ffmpeg: round(t.outMBps / f.outMBps, 2),
    vs_mediabunny: round(t.outMBps / m.outMBps, 2),
    trackrec_ms: round(t.medianMs, 2),
    ffmpeg_ms: round(f.medianMs, 2),
    mediabunny_ms: round(m.medianMs, 2),
    speedup_vs_ffmpeg: round(f.medianMs / t.medianMs, 2),
    speedup_vs_mediabunny: round(m.medianMs / t.medianMs, 2),
    trackrec_out_mb: round(t.outBytes / 1e6, 2),
    ffmpeg_out_mb: round(f.outBytes / 1e6, 2),
    mediabunny_out_mb: round(m.outBytes / 1e6, 2),
    trackrec_heap_growth_mb: round(t.heapGrowthMB, 1),
    trackrec_devnull_mbps: round(d.outMBps),
    trackrec_devnull_vs_ffmpeg: round(d.outMBps / f.outMBps, 2),
    input_mb: round(inBytes / 1e6, 2),
    runs: RUNS,
    media_s: SECONDS,
  };
  console.log(JSON.stringify(summary));
}

await main();
