/**
 * Muxing throughput, two sets in one process, all fed the same in-memory packets (see harness.ts):
 * - MPEG-TS: trackrec's `TsMuxer` against FFmpeg's libavformat `mpegts` muxer (node-av, synchronous API,
 *   AVIO on /dev/null) and mediabunny's `MpegTsOutputFormat` (NullTarget). The trackrec row's sink only
 *   counts bytes; an extra row writes every chunk to /dev/null.
 * - fMP4: trackrec's `Fmp4Muxer` against FFmpeg's `mp4` muxer with `movflags=frag_keyframe+empty_moov`
 *   and mediabunny's `Mp4OutputFormat({ fastStart: 'fragmented' })` (NullTarget). Fragmentation differs
 *   by design: trackrec cuts at every keyframe and at least every 1 s, FFmpeg at every keyframe (2 s),
 *   mediabunny at the first keyframe after 1 s.
 *
 * Run with `pnpm bench:muxer`. Prints a table per set, then as its last line one JSON object: the MPEG-TS
 * figures first (`trackrec_mbps`, `ffmpeg_mbps`, `mediabunny_mbps`, `vs_ffmpeg`, `vs_mediabunny`, …), then
 * the fMP4 ones (`trackrec_fmp4_mbps`, `ffmpeg_mp4_mbps`, `mediabunny_fmp4_mbps`, `fmp4_vs_ffmpeg`,
 * `fmp4_vs_mediabunny`, `fmp4_…`). "out MB/s" is bytes of output produced per second of muxing time (the
 * measure of the anchors), "in MB/s" the elementary-stream bytes consumed per second (identical input for
 * all). `*vs_*` are ratios of out MB/s (trackrec ÷ peer); `*speedup_*` ratios of median times,
 * `fmp4_min_ms_vs_ffmpeg` of minimum times. The sets keep the GC policies they were established with (see
 * `MeasurePolicy`): none forced between MPEG-TS runs, a full GC and a 100 ms pause before each fMP4 run.
 * Environment: TRACKREC_BENCH_FORMATS (`ts`, `fmp4` or `ts,fmp4`, default both), and those of harness.ts.
 */
import { closeSync, openSync } from 'node:fs';
import { BufferTarget, Mp4OutputFormat, MpegTsOutputFormat } from 'mediabunny';
import { TsMuxer } from '../src/index.js';
import { Fmp4Muxer } from '../src/mp4/index.js';
import {
  ffmpegRun,
  hasGc,
  loadMedia,
  type Media,
  measureAll,
  mediabunnyRun,
  peerFigures,
  printTable,
  RUNS,
  round,
  SECONDS,
  trackrecRun,
} from './harness.js';

const FORMATS = ['ts', 'fmp4'] as const;
type Format = (typeof FORMATS)[number];

function selectedFormats(): Set<Format> {
  const raw = process.env.TRACKREC_BENCH_FORMATS?.trim();
  if (!raw) return new Set(FORMATS);
  const picked = new Set<Format>();
  for (const name of raw.split(',').map((s) => s.trim())) {
    const format = FORMATS.find((f) => f === name);
    if (!format) throw new RangeError(`TRACKREC_BENCH_FORMATS must list ts and/or fmp4, got "${raw}"`);
    picked.add(format);
  }
  return picked;
}

type Summary = Record<string, number>;

async function benchTs(media: Media): Promise<Summary> {
  // mediabunny's output size, once, outside the timed runs (onPacket copies every packet).
  let mbBytes = 0;
  await mediabunnyRun(
    media,
    () =>
      new MpegTsOutputFormat({
        onPacket: (d) => {
          mbBytes += d.byteLength;
        },
      }),
  )();

  const devNull = openSync('/dev/null', 'w');
  const tsMuxer = (sink: (chunk: Uint8Array) => void) => new TsMuxer({ sink });
  const results = await measureAll(
    [
      { name: 'trackrec TsMuxer', run: trackrecRun(media, tsMuxer) },
      {
        name: 'FFmpeg mpegts (node-av sync)',
        run: ffmpegRun(media, { format: 'mpegts', videoExtradata: false, audioTimeBase: 90000 }),
      },
      {
        name: 'mediabunny MpegTs + NullTarget',
        run: mediabunnyRun(media, () => new MpegTsOutputFormat({})),
        outBytes: mbBytes,
      },
      { name: 'trackrec → /dev/null (writeSync/PES)', run: trackrecRun(media, tsMuxer, devNull) },
    ],
    media.inBytes,
    { gcBeforeEachRun: false, plausible: (out, input) => out > input && out % 188 === 0 },
  );
  closeSync(devNull);
  console.log('MPEG-TS');
  printTable(results);

  const [t, f, m, d] = [results[0]!, results[1]!, results[2]!, results[3]!];
  return {
    ...peerFigures(t, f, m),
    trackrec_heap_growth_mb: round(t.heapGrowthMB, 1),
    trackrec_devnull_mbps: round(d.outMBps),
    trackrec_devnull_vs_ffmpeg: round(d.outMBps / f.outMBps, 2),
  };
}

async function benchFmp4(media: Media): Promise<Summary> {
  const fragmented = () => new Mp4OutputFormat({ fastStart: 'fragmented' });
  const mbBytes = await mediabunnyRun(media, fragmented, () => new BufferTarget())();

  const results = await measureAll(
    [
      {
        name: 'trackrec Fmp4Muxer',
        run: trackrecRun(media, (sink) => new Fmp4Muxer({ keepSampleTable: true, sink })),
      },
      {
        name: 'FFmpeg mp4 frag_keyframe+empty_moov (node-av sync)',
        run: ffmpegRun(media, {
          format: 'mp4',
          options: { movflags: 'frag_keyframe+empty_moov' },
          videoExtradata: true,
          audioTimeBase: 'sampleRate',
        }),
      },
      {
        name: "mediabunny Mp4 fastStart:'fragmented' + NullTarget",
        run: mediabunnyRun(media, fragmented),
        outBytes: mbBytes,
      },
    ],
    media.inBytes,
    { gcBeforeEachRun: true, plausible: (out, input) => out > input * 0.9 },
  );
  console.log('fMP4');
  printTable(results);

  const [t, f, m] = [results[0]!, results[1]!, results[2]!];
  // Apart from the MPEG-TS names: the throughputs name their format, every other figure takes `fmp4_`.
  const names: Record<string, string> = {
    trackrec_mbps: 'trackrec_fmp4_mbps',
    ffmpeg_mbps: 'ffmpeg_mp4_mbps',
    mediabunny_mbps: 'mediabunny_fmp4_mbps',
  };
  return Object.fromEntries(
    Object.entries(peerFigures(t, f, m, true)).map(([k, v]) => [names[k] ?? `fmp4_${k}`, v]),
  );
}

async function main(): Promise<void> {
  const formats = selectedFormats();
  if (!hasGc) console.warn('run with --expose-gc for heap figures');
  const media = await loadMedia();
  const ts = formats.has('ts') ? await benchTs(media) : {};
  const fmp4 = formats.has('fmp4') ? await benchFmp4(media) : {};
  const common = { input_mb: round(media.inBytes / 1e6, 2), runs: RUNS, media_s: SECONDS };
  console.log(JSON.stringify({ ...ts, ...common, ...fmp4 }));
}

await main();
