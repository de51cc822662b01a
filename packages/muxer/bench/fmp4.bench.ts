/**
 * Fragmented MP4 muxing throughput: trackrec's `Fmp4Muxer` against FFmpeg's libavformat `mp4` muxer with
 * `movflags=frag_keyframe+empty_moov` (node-av, synchronous API, AVIO on /dev/null) and mediabunny's
 * `Mp4OutputFormat({ fastStart: 'fragmented' })` (NullTarget), all fed the same in-memory packets in one
 * process: 60 s of 1280×720 30 fps H.264 (x264 veryfast, no B-frames, keyframe every 2 s) as Annex B
 * access units + 48 kHz stereo AAC-LC raw frames, interleaved by DTS.
 *
 * Run with `node --expose-gc --import tsx packages/muxer/bench/fmp4.bench.ts` (after `pnpm run build`).
 * Prints a table, then as its last line one JSON object. MB = 10^6 bytes; "out MB/s" is bytes of MP4
 * produced per second of muxing time, "in MB/s" the elementary-stream bytes consumed per second.
 * Fragmentation differs by design: trackrec cuts at every keyframe and at least every 1 s, FFmpeg at every
 * keyframe (2 s), mediabunny at the first keyframe after 1 s. Environment: TRACKREC_BENCH_RUNS (timed runs
 * per muxer, default 21), TRACKREC_BENCH_SECONDS (media duration, default 60), TRACKREC_BENCH_DEBUG (print
 * every run's time). Each timed run follows a full collection and a 100 ms pause, so the collector's
 * concurrent sweeping does not land on the next contender.
 */
import {
  BufferTarget,
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  Mp4OutputFormat,
  NullTarget,
  Output,
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
import { Fmp4Muxer } from '../src/mp4/index.js';
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
  /** FFmpeg stream time base units (1/90000 video, 1/sampleRate audio). */
  ffPts: bigint;
  ffDts: bigint;
  /** Seconds, for mediabunny. */
  seconds: number;
  durationS: number;
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
      ffPts: BigInt(f.pts),
      ffDts: BigInt(f.dts),
      seconds: f.pts / 90000,
      durationS: 1 / video.fps,
      t90: f.dts,
    });
  }
  for (const f of audio.frames) {
    items.push({
      video: false,
      data: f.data,
      buffer: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      pts: f.pts,
      dts: f.pts,
      keyframe: true,
      ffPts: BigInt(f.pts),
      ffDts: BigInt(f.pts),
      seconds: f.pts / audio.sampleRate,
      durationS: f.duration / audio.sampleRate,
      t90: (f.pts * 90000) / audio.sampleRate,
    });
  }
  // Stable sort by DTS; video first on ties (as a live source would deliver them).
  return items.sort((x, y) => x.t90 - y.t90 || Number(y.video) - Number(x.video));
}

const NO_FLAGS = 0 as AVPacketFlag;

type MuxRun = () => number | Promise<number>;

/** SPS and PPS as Annex B extradata: FFmpeg's mov muxer builds its avcC from it. */
function annexBExtradata(video: H264Media): Buffer {
  const out = Buffer.alloc(8 + video.sps.length + video.pps.length);
  out.writeUInt32BE(1, 0);
  out.set(video.sps, 4);
  out.writeUInt32BE(1, 4 + video.sps.length);
  out.set(video.pps, 8 + video.sps.length);
  return out;
}

function ffmpegRun(items: Item[], video: H264Media, audio: AacMedia): MuxRun {
  const extradata = annexBExtradata(video);
  return () => {
    const fmt = new FormatContext();
    FFmpegError.throwIfError(fmt.allocOutputContext2(null, 'mp4', '/dev/null'), 'allocOutputContext2');
    const vs = fmt.newStream(null);
    vs.codecpar.codecType = AVMEDIA_TYPE_VIDEO;
    vs.codecpar.codecId = AV_CODEC_ID_H264;
    vs.codecpar.width = video.width;
    vs.codecpar.height = video.height;
    vs.codecpar.extradata = extradata;
    vs.timeBase = new Rational(1, 90000);
    const as = fmt.newStream(null);
    as.codecpar.codecType = AVMEDIA_TYPE_AUDIO;
    as.codecpar.codecId = AV_CODEC_ID_AAC;
    as.codecpar.sampleRate = audio.sampleRate;
    as.codecpar.channelLayout = AV_CHANNEL_LAYOUT_STEREO;
    as.codecpar.frameSize = audio.frameSize;
    as.codecpar.extradata = Buffer.from(audio.audioSpecificConfig);
    as.timeBase = new Rational(1, audio.sampleRate);
    FFmpegError.throwIfError(fmt.openOutputSync(), 'openOutput');
    const options = Dictionary.fromObject({ movflags: 'frag_keyframe+empty_moov' });
    FFmpegError.throwIfError(fmt.writeHeaderSync(options), 'writeHeader');
    const vIndex = vs.index;
    const aIndex = as.index;
    const pkt = new Packet();
    pkt.alloc();
    for (const it of items) {
      pkt.data = it.buffer;
      pkt.pts = it.ffPts;
      pkt.dts = it.ffDts;
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
    options.free();
    return bytes;
  };
}

function avcCodecString(video: H264Media): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `avc1.${hex(video.sps[1]!)}${hex(video.sps[2]!)}${hex(video.sps[3]!)}`;
}

/** mediabunny writes to a NullTarget (the muxer alone), or to a BufferTarget once to measure its size. */
function mediabunnyRun(items: Item[], video: H264Media, audio: AacMedia, measure = false): MuxRun {
  return async () => {
    const target = measure ? new BufferTarget() : new NullTarget();
    const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'fragmented' }), target });
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
    return target instanceof BufferTarget ? (target.buffer?.byteLength ?? 0) : 0;
  };
}

function trackrecRun(items: Item[], audio: AacMedia): MuxRun {
  return () => {
    let bytes = 0;
    const mux = new Fmp4Muxer({
      keepSampleTable: true,
      sink: (chunk) => {
        bytes += chunk.byteLength;
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
}

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
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

/** Warms every muxer up, then runs them round-robin so that machine load hits all of them alike. */
async function measureAll(contenders: Contender[], inBytes: number): Promise<Result[]> {
  const outBytes = contenders.map((c) => c.outBytes ?? 0);
  for (let w = 0; w < WARMUP; w++) {
    for (const [i, c] of contenders.entries()) {
      const bytes = await c.run();
      if (c.outBytes === undefined) outBytes[i] = bytes;
    }
  }
  for (const [i, c] of contenders.entries()) {
    if (outBytes[i]! <= inBytes * 0.9) {
      throw new Error(`${c.name} produced ${outBytes[i]} bytes for ${inBytes} bytes of input`);
    }
  }
  const times = contenders.map((): number[] => []);
  const growth = contenders.map((): number[] => []);
  for (let r = 0; r < RUNS; r++) {
    for (const [i, c] of contenders.entries()) {
      gc?.();
      // Let the collector's concurrent sweeping finish so it does not run on the next contender's time.
      await settle();
      const h0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      await c.run();
      const t1 = performance.now();
      growth[i]!.push(process.memoryUsage().heapUsed - h0);
      times[i]!.push(t1 - t0);
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
  const mbBytes = await mediabunnyRun(items, video, audio, true)();

  const results = await measureAll(
    [
      { name: 'trackrec Fmp4Muxer', run: trackrecRun(items, audio) },
      { name: 'FFmpeg mp4 frag_keyframe+empty_moov (node-av sync)', run: ffmpegRun(items, video, audio) },
      {
        name: "mediabunny Mp4 fastStart:'fragmented' + NullTarget",
        run: mediabunnyRun(items, video, audio),
        outBytes: mbBytes,
      },
    ],
    inBytes,
  );

  const header = ['muxer', 'median ms', 'min ms', 'out MB', 'out MB/s', 'in MB/s', 'heap Δ MB'];
  const rows = results.map((r) => [
    r.name,
    r.medianMs.toFixed(1),
    r.minMs.toFixed(1),
    (r.outBytes / 1e6).toFixed(2),
    r.outMBps.toFixed(0),
    r.inMBps.toFixed(0),
    r.heapGrowthMB.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));

  const [t, f, m] = [results[0]!, results[1]!, results[2]!];
  const summary = {
    trackrec_fmp4_mbps: round(t.outMBps),
    ffmpeg_mp4_mbps: round(f.outMBps),
    mediabunny_fmp4_mbps: round(m.outMBps),
    vs_ffmpeg: round(t.outMBps / f.outMBps, 2),
    vs_mediabunny: round(t.outMBps / m.outMBps, 2),
    trackrec_ms: round(t.medianMs, 2),
    ffmpeg_ms: round(f.medianMs, 2),
    mediabunny_ms: round(m.medianMs, 2),
    speedup_vs_ffmpeg: round(f.medianMs / t.medianMs, 2),
    min_ms_vs_ffmpeg: round(f.minMs / t.minMs, 2),
    speedup_vs_mediabunny: round(m.medianMs / t.medianMs, 2),
    trackrec_out_mb: round(t.outBytes / 1e6, 2),
    ffmpeg_out_mb: round(f.outBytes / 1e6, 2),
    mediabunny_out_mb: round(m.outBytes / 1e6, 2),
    input_mb: round(inBytes / 1e6, 2),
    runs: RUNS,
    media_s: SECONDS,
  };
  console.log(JSON.stringify(summary));
}

await main();
