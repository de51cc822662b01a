/**
 * Cost of recording 720p30 + 48 kHz stereo, against peers in the same run on the same synthetic input
 * (FFmpeg's testsrc2 pattern, as the anchors' encoding figures; a tone). Four parts:
 *
 * 1. Overhead, media fed as fast as it goes (explicit arrival times, `drained()` as backpressure):
 *    - encode only: @trackrec/encoder's VideoEncoder + AudioEncoder alone, with exactly the settings
 *      TrackRecording opens them with (the floor any recorder built on x264 veryfast/AAC must spend);
 *    - TrackRecording → TS, and → TS + HLS (queue, clock, interleaver, muxer, durable writes);
 *    - FFmpeg CLI (Debian ffmpeg, one x264 thread, same settings) reading raw frames from a pipe → TS.
 *    `overheadPct` = (recorder CPU-s − encode-only CPU-s) / encode-only CPU-s × 100, same frames, same
 *    process, runs interleaved; the median of the per-run differences.
 * 2. Memory: one TS + HLS recording fed faster than real time for 10 min of media (60 min with `--full`),
 *    x264 `ultrafast` so it fits in minutes; RSS and V8 heap after a forced GC, every media minute;
 *    growth at minute N = value at N − lowest value from minute 1 (end of warm-up) to N. Then the same
 *    in a child process with V8's semi-spaces pinned at 16 MB (`*PinnedNewSpace`): with default flags
 *    V8 resizes its young generation in the first minutes, which moves RSS by 10–15 MB either way.
 * 3. K concurrent real-time recordings (x264 veryfast, TS file each), K = 1…10, paced at 30 fps / 10 ms
 *    audio, stopping at the first K that does not keep real time; two sweeps. `maxRealtimeK`: each fed by
 *    real rtc-node local tracks (VideoSource/AudioSource → VideoStream/AudioStream), so this process also
 *    carries the publishing side's capture work (about 0.08 CPU-s per media-s per 720p track here).
 *    `maxRealtimeKDirect`: the same frames on the same schedule pushed into `pushVideoFrame` /
 *    `pushAudioFrame`, which is how the anchors' concurrency figure was measured. "Real time kept" for a K means, for every
 *    recording: 0 frames dropped, 0 late packets, encoder lag ≤ 200 ms when the feed ends, every frame it
 *    received written, at most 1 % of captured frames lost inside rtc-node before reaching it (reported),
 *    and the feeder itself ≤ 200 ms behind its schedule at the end.
 * 4. Frame → on-disk latency, measured in part 3: from `VideoSource.captureFrame` to the return of the
 *    `FileSink.write` that wrote the frame's PES (the sink writes synchronously: bytes are in the kernel
 *    when it returns). There is no public per-chunk hook on TrackRecording, so the bench wraps
 *    `FileSink.prototype.write` of @trackrec/node-writer (chunk info `kind: 'video'`, `frames`), and matches
 *    the n-th video frame written to the n-th the recorder received (checked: as many written as
 *    received, none dropped or filled in), and that one to its capture by rtc-node's timestamp (the
 *    monotonic clock, as `process.hrtime`). The headline figure is K = 1.
 *
 * Prints tables, then one JSON line of figures and ratios.
 *
 * Run: node --expose-gc --import tsx packages/core/bench/recorder.bench.ts [--full]
 * Env: TRACKREC_BENCH_SECONDS (part 1 media seconds, 10), TRACKREC_BENCH_RUNS (5),
 *      TRACKREC_BENCH_PARTS (comma list of overhead,memory,realtime; all), TRACKREC_BENCH_K_SECONDS (10),
 *      TRACKREC_BENCH_MEMORY_MIN (10, or 60 with --full), TRACKREC_BENCH_MAX_K (10).
 * Profiling: TRACKREC_BENCH_PROFILE=recorder (or =encoder) node --cpu-prof --import tsx … runs only
 * the recorder → TS (or encode-only) loop of part 1, RUNS × SECONDS of media; compare the two profiles'
 * main-thread time with bench/profile-top.ts (x264 itself runs on the libuv pool, outside the profile).
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  LocalVideoTrack,
  VideoBufferType,
  VideoFrame,
  type VideoFrameEvent,
  VideoSource,
  VideoStream,
} from '@livekit/rtc-node';
import { AudioEncoder, VideoEncoder, type X264Preset } from '@trackrec/encoder';
import { FileSink, type SinkChunkInfo } from '@trackrec/node-writer';
import { TrackRecording } from '../src/index.js';
import { testsrc2I420 } from './test-pictures.js';

const W = 1280;
const H = 720;
const FPS = 30;
const FULL = process.argv.includes('--full');
const SECONDS = Number(process.env.TRACKREC_BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.TRACKREC_BENCH_RUNS ?? 5);
const FRAMES = SECONDS * FPS;
const MEMORY_MIN = Number(process.env.TRACKREC_BENCH_MEMORY_MIN ?? (FULL ? 60 : 10));
const K_SECONDS = Number(process.env.TRACKREC_BENCH_K_SECONDS ?? 10);
const MAX_K = Number(process.env.TRACKREC_BENCH_MAX_K ?? 10);
const PARTS = new Set((process.env.TRACKREC_BENCH_PARTS ?? 'overhead,memory,realtime').split(','));
const PROFILE = process.env.TRACKREC_BENCH_PROFILE ?? '';
/** Real time is kept when the encoder lag and the feeder's own lateness end at or below this. */
const REALTIME_LAG_MS = 200;
const dir = mkdtempSync(join(tmpdir(), 'trackrec-recorder-bench-'));
const gc = (globalThis as { gc?: () => void }).gc;
const quiet = { info() {}, warn() {} };

/**
 * 2 s of FFmpeg's testsrc2 (the anchors' content), cycled: the jump back lands on the 2 s IDR.
 * Generation is not what is measured.
 */
const pictures = testsrc2I420(W, H, 60);
const frameOf = (i: number) => ({
  data: pictures[i % pictures.length] as Uint8Array,
  width: W,
  height: H,
  type: 5, // I420
  convert(): never {
    throw new Error('I420 only');
  },
});
const tone = (() => {
  const pcm = new Int16Array(480 * 2 * 100); // 1 s stereo, cycled
  for (let i = 0; i < 48_000; i++) {
    const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000));
    pcm[2 * i] = v;
    pcm[2 * i + 1] = v;
  }
  return pcm;
})();
const audioFrame = (n: number) => ({
  data: tone.subarray((n % 100) * 960, (n % 100) * 960 + 960),
  sampleRate: 48_000,
  channels: 2,
  samplesPerChannel: 480,
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
/**
 * CPU seconds of the main thread (where the recorder's JavaScript runs: clock, queue, interleaver, muxer,
 * sink writes) from /proc/self/task/<pid>/stat utime + stime (clock ticks of 10 ms); NaN off Linux.
 * The rest of the process (libuv pool running x264, V8 helper threads) is total minus this.
 */
function mainThreadCpuS(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}
const round = (x: number | null, digits: number) => (x === null ? null : Number(x.toFixed(digits)));

// ---- Part 1: overhead ----------------------------------------------------------------------------

interface Result {
  name: string;
  cpuS: number;
  /** Main-thread share of cpuS. */
  mainS: number;
  wallS: number;
  bytes: number;
  peakRssMb: number;
  dropped: number;
}

async function encodeOnly(): Promise<Result> {
  gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuS();
  const t0 = performance.now();
  // What TrackRecording.#start opens for preset H264_720P_30, encoding { hardware: 'software', audioChannels: 2 }.
  const ve = await VideoEncoder.create({
    preset: 'H264_720P_30',
    width: W,
    height: H,
    fps: FPS,
    hardware: 'software',
    logger: quiet,
  });
  const ae = await AudioEncoder.create({ codec: 'aac', channels: 2 });
  let bytes = 0;
  let a = 0;
  for (let f = 0; f < FRAMES; f++) {
    for (const p of await ve.encode(frameOf(f), Math.round((f * 1e6) / FPS))) bytes += p.data.byteLength;
    while (a * 10_000 < ((f + 1) * 1e6) / FPS)
      for (const p of ae.encode(audioFrame(a++))) bytes += p.data.byteLength;
    if (f % 30 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  for (const p of await ve.flush()) bytes += p.data.byteLength;
  for (const p of ae.flush()) bytes += p.data.byteLength;
  await Promise.all([ve.close(), ae.close()]);
  return {
    name: 'encode only (floor)',
    cpuS: cpuSeconds(process.cpuUsage(c0)),
    mainS: mainThreadCpuS() - m0,
    wallS: (performance.now() - t0) / 1000,
    bytes,
    peakRssMb: (peak - rss0) / 1e6,
    dropped: 0,
  };
}

async function recorder(hls: boolean, run: number | string): Promise<Result> {
  gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuS();
  const t0 = performance.now();
  const rec = new TrackRecording({
    outputDir: dir,
    file: { filepath: `rec-${hls ? 'hls' : 'ts'}-${run}` },
    segments: hls ? { filenamePrefix: `hls-${run}/seg`, segmentDuration: 4 } : undefined,
    preset: 'H264_720P_30',
    encoding: { hardware: 'software', audioChannels: 2 },
  });
  await rec.start();
  let a = 0;
  for (let f = 0; f < FRAMES; f++) {
    const us = Math.round((f * 1e6) / FPS);
    rec.pushVideoFrame({ frame: frameOf(f), timestampUs: us }, us + 20_000);
    while (a * 10_000 < ((f + 1) * 1e6) / FPS) {
      rec.pushAudioFrame(audioFrame(a), (a + 1) * 10_000 + 20_000);
      a++;
    }
    await rec.drained();
    if (f % 30 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const info = await rec.stop();
  if (info.status !== 'COMPLETE') throw new Error(`recording ended ${info.status}: ${info.error}`);
  const m = rec.metrics();
  return {
    name: hls ? 'TrackRecording → TS + HLS' : 'TrackRecording → TS',
    cpuS: cpuSeconds(process.cpuUsage(c0)),
    mainS: mainThreadCpuS() - m0,
    wallS: (performance.now() - t0) / 1000,
    bytes: (info.file?.size ?? 0) + (info.segments?.size ?? 0),
    peakRssMb: (peak - rss0) / 1e6,
    dropped: m.video?.framesDropped ?? 0,
  };
}

async function ffmpegCli(run: number): Promise<Result | null> {
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) return null;
  const out = join(dir, `ffmpeg-${run}.ts`);
  const timing = join(dir, `ffmpeg-${run}.time`);
  const t0 = performance.now();
  // biome-ignore format: one option per pair reads best
  const args = [
    '-f', '%e %U %S %M', '-o', timing, 'ffmpeg', '-v', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-r', String(FPS), '-i', 'pipe:0',
    '-f', 'lavfi', '-i', `sine=f=440:r=48000:d=${SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'main', '-b:v', '3M',
    '-maxrate', '3M', '-bufsize', '3M', '-g', String(2 * FPS), '-bf', '0', '-threads', '1',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-f', 'mpegts', out,
  ];
  const child = spawn('/usr/bin/time', args, { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  for (let f = 0; f < FRAMES; f++) {
    if (!child.stdin.write(pictures[f % pictures.length]))
      await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  const code = await done;
  if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  const [, user, sys, maxKb] = readFileSync(timing, 'utf8').trim().split(/\s+/).map(Number);
  return {
    name: 'ffmpeg CLI (x264 1 thread) → TS',
    cpuS: (user ?? 0) + (sys ?? 0),
    mainS: Number.NaN,
    wallS: (performance.now() - t0) / 1000,
    bytes: statSync(out).size,
    peakRssMb: (maxKb ?? 0) / 1000,
    dropped: 0,
  };
}

interface OverheadFigures {
  floor: number;
  ts: number | null;
  hls: number | null;
  ff: number | null;
  overheadPct: number;
  overheadMainThreadPct: number;
  overheadOtherThreadsPct: number;
  overheadHlsPct: number;
  overheadSpreadPct: [number, number];
  peakRssMb: number | null;
  dropped: number;
}

async function overhead(): Promise<OverheadFigures> {
  const byName = new Map<string, Result[]>();
  for (let run = 0; run < RUNS; run++) {
    // Interleaved so drift in machine load hits every variant alike.
    for (const r of [
      await encodeOnly(),
      await recorder(false, run),
      await recorder(true, run),
      await ffmpegCli(run),
    ]) {
      if (r === null) continue;
      const list = byName.get(r.name) ?? [];
      list.push(r);
      byName.set(r.name, list);
    }
  }
  const rows = [...byName.entries()].map(([name, rs]) => ({
    name,
    rs,
    cpuPerMediaS: median(rs.map((r) => r.cpuS)) / SECONDS,
    wallS: median(rs.map((r) => r.wallS)),
    mb: median(rs.map((r) => r.bytes)) / 1e6,
    peakRssMb: median(rs.map((r) => r.peakRssMb)),
    dropped: Math.max(...rs.map((r) => r.dropped)),
  }));
  const get = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const enc = get('encode only') as (typeof rows)[number];
  const ts = get('TrackRecording → TS') as (typeof rows)[number];
  const hls = get('TrackRecording → TS + HLS') as (typeof rows)[number];
  const ff = get('ffmpeg CLI');
  // Per-run paired differences: each run's recorder against the encode-only run just before it.
  const pct = (row: (typeof rows)[number]) =>
    row.rs.map((r, i) => ((r.cpuS - (enc.rs[i] as Result).cpuS) / (enc.rs[i] as Result).cpuS) * 100);
  const tsPct = pct(ts);
  // The same difference split by thread, as % of the encode-only total.
  const mainPct = ts.rs.map(
    (r, i) => ((r.mainS - (enc.rs[i] as Result).mainS) / (enc.rs[i] as Result).cpuS) * 100,
  );
  const restPct = tsPct.map((x, i) => x - (mainPct[i] as number));
  const hlsPct = pct(hls);
  const floor = enc.cpuPerMediaS;
  console.log(
    `\n## Overhead: ${SECONDS} s of 1280x720 @ ${FPS} fps + 48 kHz stereo AAC fed as fast as it goes, median of ${RUNS} interleaved runs\n`,
  );
  console.log(
    '| pipeline | CPU-s per media-s | main thread CPU-s per media-s | vs encode only | overhead % (per run) | wall s | output MB | memory MB* | frames dropped |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const per = r === ts ? tsPct : r === hls ? hlsPct : null;
    console.log(
      `| ${r.name} | ${r.cpuPerMediaS.toFixed(3)} | ${(median(r.rs.map((x) => x.mainS)) / SECONDS).toFixed(3)} | ${(r.cpuPerMediaS / floor).toFixed(3)} | ${per ? `${median(per).toFixed(1)} (${per.map((x) => x.toFixed(1)).join(', ')})` : '—'} | ${r.wallS.toFixed(2)} | ${r.mb.toFixed(2)} | ${r.peakRssMb.toFixed(1)} | ${r.dropped} |`,
    );
  }
  console.log(
    "\n* in-process rows: peak RSS growth during the run; ffmpeg CLI: the child process's max RSS.",
  );
  console.log(
    `overhead % = (recorder − encode only) / encode only CPU-s, median of per-run pairs; TS: ${median(tsPct).toFixed(1)} % = main thread ${median(mainPct).toFixed(1)} % + other threads ${median(restPct).toFixed(1)} % (medians of each).`,
  );
  return {
    floor,
    ts: ts.cpuPerMediaS,
    hls: hls.cpuPerMediaS,
    ff: ff?.cpuPerMediaS ?? null,
    overheadPct: median(tsPct),
    overheadMainThreadPct: median(mainPct),
    overheadOtherThreadsPct: median(restPct),
    overheadHlsPct: median(hlsPct),
    overheadSpreadPct: [Math.min(...tsPct), Math.max(...tsPct)],
    peakRssMb: ts.peakRssMb,
    dropped: Math.max(ts.dropped, hls.dropped),
  };
}

// ---- Part 2: memory over long media ---------------------------------------------------------------

interface MemoryFigures {
  preset: X264Preset;
  minutes: number;
  wallS: number;
  rssGrowth10minMb: number | null;
  /** Largest RSS growth seen up to min 10 (same definition). */
  rssMaxGrowth10minMb: number | null;
  heapGrowth10minMb: number | null;
  rssGrowth60minMb: number | null;
  heapGrowth60minMb: number | null;
  dropped: number;
}

function settledMemory(): { rss: number; heap: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss / 1e6, heap: m.heapUsed / 1e6 };
}

async function memory(): Promise<MemoryFigures> {
  const preset: X264Preset = 'ultrafast';
  const rec = new TrackRecording({
    outputDir: dir,
    file: { filepath: 'mem' },
    segments: { filenamePrefix: 'mem-hls/seg', segmentDuration: 4 },
    preset: 'H264_720P_30',
    encoding: { hardware: 'software', audioChannels: 2, x264Preset: preset },
  });
  await rec.start();
  const t0 = performance.now();
  const samples: { minute: number; rss: number; heap: number }[] = [];
  const total = MEMORY_MIN * 60 * FPS;
  let a = 0;
  for (let f = 0; f < total; f++) {
    const us = Math.round((f * 1e6) / FPS);
    rec.pushVideoFrame({ frame: frameOf(f), timestampUs: us }, us + 20_000);
    while (a * 10_000 < ((f + 1) * 1e6) / FPS) {
      rec.pushAudioFrame(audioFrame(a), (a + 1) * 10_000 + 20_000);
      a++;
    }
    await rec.drained();
    if ((f + 1) % (60 * FPS) === 0) samples.push({ minute: (f + 1) / (60 * FPS), ...settledMemory() });
  }
  const info = await rec.stop();
  if (info.status !== 'COMPLETE') throw new Error(`memory run ended ${info.status}: ${info.error}`);
  const wallS = (performance.now() - t0) / 1000;
  // Growth at minute N: the value then minus the lowest seen from minute 1 (end of warm-up) to N. RSS
  // also falls when the allocator returns pages, so a plain difference from minute 1 can hide a rise.
  const at = (minute: number) => samples.find((s) => s.minute === minute);
  const growth = (minute: number, key: 'rss' | 'heap') => {
    const s = at(minute);
    if (!s) return null;
    return s[key] - Math.min(...samples.filter((x) => x.minute <= minute).map((x) => x[key]));
  };
  console.log(
    `\n## Memory: one recording (TS + HLS) fed ${MEMORY_MIN} min of 720p30 media faster than real time, x264 ${preset}, ${wallS.toFixed(0)} s wall\n`,
  );
  console.log(
    '| media minute | RSS MB | heap MB | RSS growth (over lowest since min 1) | heap growth (same) |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const s of samples) {
    if (s.minute > 10 && s.minute % 10 !== 0) continue;
    console.log(
      `| ${s.minute} | ${s.rss.toFixed(1)} | ${s.heap.toFixed(1)} | ${growth(s.minute, 'rss')?.toFixed(2)} | ${growth(s.minute, 'heap')?.toFixed(2)} |`,
    );
  }
  return {
    preset,
    minutes: MEMORY_MIN,
    wallS,
    rssGrowth10minMb: growth(10, 'rss'),
    rssMaxGrowth10minMb: at(10)
      ? Math.max(...samples.filter((s) => s.minute <= 10).map((s) => growth(s.minute, 'rss') ?? 0))
      : null,
    heapGrowth10minMb: growth(10, 'heap'),
    rssGrowth60minMb: growth(60, 'rss'),
    heapGrowth60minMb: growth(60, 'heap'),
    dropped: rec.metrics().video?.framesDropped ?? 0,
  };
}

// ---- Parts 3 and 4: concurrent real-time recordings, frame → disk latency --------------------------

const hrUs = () => Number(process.hrtime.bigint() / 1000n);
/** Per output file: when (monotonic µs) each video frame's PES came back from `FileSink.write`. */
const writeTimes = new Map<string, number[]>();
const originalWrite = FileSink.prototype.write;
FileSink.prototype.write = function write(this: FileSink, chunk: Uint8Array, info?: SinkChunkInfo) {
  originalWrite.call(this, chunk, info);
  const times = writeTimes.get(this.path);
  if (times && info?.kind === 'video') {
    const now = hrUs();
    for (let i = 0; i < (info.frames ?? 1); i++) times.push(now);
  }
};

/** A frame delivered to the recorder is matched to the capture whose monotonic time is nearest its rtc-node timestamp. */
const MATCH_US = 15_000;
/** Frames rtc-node may lose between `captureFrame` and the stream (not the recorder's doing) and still count as real time. */
const MAX_UPSTREAM_LOSS = 0.01;
const AUDIO_LEAD_MS = Number(process.env.TRACKREC_BENCH_AUDIO_LEAD_MS ?? 20);

/** Passes a stream through, noting each frame's rtc-node timestamp (µs, the monotonic clock of its capture). */
async function* tap(
  stream: VideoStream,
  timestamps: number[],
  arrivals: number[],
): AsyncGenerator<VideoFrameEvent> {
  for await (const e of stream) {
    timestamps.push(Number(e.timestampUs));
    arrivals.push(hrUs());
    yield e;
  }
}

/** Passes an audio stream through, noting when each frame reached the recorder's reader and the samples so far (pairs). */
async function* tapAudio(stream: AudioStream, arrivals: number[]): AsyncGenerator<AudioFrame> {
  let samples = 0;
  for await (const f of stream) {
    samples += f.samplesPerChannel;
    arrivals.push(hrUs(), samples);
    yield f;
  }
}

interface KResult {
  k: number;
  kept: boolean;
  why: string;
  /** Frames whose rtc-node timestamp is more than MATCH_US from every capture: left out of latency. */
  unmatched: number;
  maxLagMs: number;
  feederLateMs: number;
  dropped: number;
  late: number;
  captured: number;
  minWritten: number;
  minIn: number;
  upstreamLost: number;
  latencies: number[];
  /** captureFrame → the recorder's reader got the frame, ms (rtc-node's share of the latency). */
  deliveries: number[];
  /**
   * AudioSource.captureFrame → the recorder's reader got the frame completing that sample, ms. Approximate:
   * rtc-node delivers a few more 10 ms frames than captured (silence on underrun), which shifts the match.
   */
  audioDeliveries: number[];
  cpuPerRecordingPerMediaS: number;
}

/**
 * How frames reach the recordings: `rtc-node` through local tracks (VideoSource → VideoStream), so the
 * process also pays for the publishing side's capture; `direct` pushes the same frames into
 * `TrackRecording.pushVideoFrame`/`pushAudioFrame` on the same schedule, as the anchors' concurrency
 * figure was measured (encoders fed paced frames).
 */
type Feed = 'rtc-node' | 'direct';

async function realtimeK(k: number, feed: Feed): Promise<KResult> {
  gc?.();
  const rigs = [];
  for (let i = 0; i < k; i++) {
    const rec = new TrackRecording({
      outputDir: dir,
      file: { filepath: `rt-${feed}-${k}-${i}` },
      preset: 'H264_720P_30',
      encoding: { hardware: 'software', audioChannels: 2 },
    });
    await rec.start();
    const path = rec.info.file?.location ?? '';
    writeTimes.set(path, []);
    const delivered: number[] = [];
    const arrived: number[] = [];
    const audioArrived: number[] = [];
    let captureVideo: (picture: Uint8Array) => void;
    let captureAudio: (frame: AudioFrame) => Promise<void>;
    let close: () => Promise<unknown>;
    if (feed === 'rtc-node') {
      const vs = new VideoSource(W, H);
      const vt = LocalVideoTrack.createVideoTrack(`v${i}`, vs);
      const as = new AudioSource(48_000, 2, 200);
      const at = LocalAudioTrack.createAudioTrack(`a${i}`, as);
      rec.attachVideo(tap(new VideoStream(vt), delivered, arrived));
      rec.attachAudio(tapAudio(new AudioStream(at, { sampleRate: 48_000, numChannels: 2 }), audioArrived));
      captureVideo = (picture) => vs.captureFrame(new VideoFrame(picture, W, H, VideoBufferType.I420));
      captureAudio = (frame) => as.captureFrame(frame);
      close = () => Promise.allSettled([vt.close(), at.close()]);
    } else {
      let samples = 0;
      captureVideo = (picture) => {
        const now = hrUs();
        delivered.push(now);
        arrived.push(now);
        rec.pushVideoFrame({
          frame: new VideoFrame(picture, W, H, VideoBufferType.I420),
          timestampUs: BigInt(now),
        });
      };
      captureAudio = async (frame) => {
        samples += frame.samplesPerChannel;
        audioArrived.push(hrUs(), samples);
        rec.pushAudioFrame(frame);
      };
      close = async () => undefined;
    }
    rigs.push({
      rec,
      path,
      captureVideo,
      captureAudio,
      close,
      captured: [] as number[],
      delivered,
      arrived,
      audioCaptured: [] as number[],
      audioArrived,
    });
  }
  const frames = K_SECONDS * FPS;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let feederLateMs = 0;
  const audioFeeds = rigs.map(async (r) => {
    // 10 ms stereo frames, at most AUDIO_LEAD_MS ahead of the wall clock, as a microphone delivers them
    // (the source queue would take 200 ms; every ms queued there delays audio and so the interleaved video).
    for (let n = 0; n < K_SECONDS * 100; n++) {
      const f = audioFrame(n);
      r.audioCaptured.push(hrUs());
      await r.captureAudio(new AudioFrame(f.data.slice(), 48_000, 2, 480));
      const ahead = (n + 1) * 10 - (performance.now() - t0);
      if (ahead > AUDIO_LEAD_MS) await sleep(ahead - AUDIO_LEAD_MS);
    }
  });
  for (let n = 0; n < frames; n++) {
    const due = t0 + (n * 1000) / FPS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    feederLateMs = Math.max(0, performance.now() - due);
    for (const r of rigs) {
      r.captured.push(hrUs());
      r.captureVideo(pictures[n % pictures.length] as Uint8Array);
    }
  }
  await Promise.all(audioFeeds);
  const metrics = rigs.map((r) => r.rec.metrics());
  const cpu = cpuSeconds(process.cpuUsage(c0));
  // Let the last frames through the stream before stopping (stop encodes what is queued).
  await sleep(300);
  for (const r of rigs) await r.rec.stop();
  const latencies: number[] = [];
  let minWritten = Number.POSITIVE_INFINITY;
  let minIn = Number.POSITIVE_INFINITY;
  let upstreamLost = 0;
  let notMatched = 0;
  let unmatched = 0;
  const deliveries: number[] = [];
  const audioDeliveries: number[] = [];
  let lost = 0;
  for (const r of rigs) {
    const w = writeTimes.get(r.path) ?? [];
    writeTimes.delete(r.path);
    minWritten = Math.min(minWritten, w.length);
    // Audio is matched by sample count: the frame that completes sample n against the capture holding it.
    for (let i = 0; i + 1 < r.audioArrived.length; i += 2) {
      const c = r.audioCaptured[Math.floor(((r.audioArrived[i + 1] as number) - 1) / 480)];
      if (c !== undefined) audioDeliveries.push(((r.audioArrived[i] as number) - c) / 1000);
    }
    upstreamLost += r.captured.length - r.delivered.length;
    const m = r.rec.metrics();
    minIn = Math.min(minIn, m.video?.framesIn ?? 0);
    // The n-th frame written is the n-th delivered to the recorder when it dropped and filled in none.
    if (w.length === r.delivered.length && m.video?.fillerFrames === 0 && m.video.framesDropped === 0) {
      let j = 0;
      for (let i = 0; i < w.length; i++) {
        const ts = r.delivered[i] as number;
        while (
          j + 1 < r.captured.length &&
          Math.abs((r.captured[j + 1] as number) - ts) <= Math.abs((r.captured[j] as number) - ts)
        )
          j++;
        if (Math.abs((r.captured[j] as number) - ts) <= MATCH_US) {
          latencies.push(((w[i] as number) - (r.captured[j] as number)) / 1000);
          deliveries.push(((r.arrived[i] as number) - (r.captured[j] as number)) / 1000);
        } else unmatched++;
      }
    } else {
      notMatched++;
    }
    lost += Math.max(0, (m.video?.framesIn ?? 0) - (m.video?.framesDropped ?? 0) - w.length);
    await r.close();
  }
  const maxLagMs = Math.max(...metrics.map((m) => m.video?.encoderLagMs ?? 0));
  const dropped = rigs.reduce((s, r) => s + (r.rec.metrics().video?.framesDropped ?? 0), 0);
  const late = rigs.reduce((s, r) => s + r.rec.metrics().latePackets, 0);
  const why: string[] = [];
  if (dropped > 0) why.push(`${dropped} frames dropped`);
  if (late > 0) why.push(`${late} late packets`);
  if (maxLagMs > REALTIME_LAG_MS) why.push(`encoder lag ${maxLagMs.toFixed(0)} ms`);
  if (feederLateMs > REALTIME_LAG_MS) why.push(`feeder ${feederLateMs.toFixed(0)} ms behind`);
  if (lost > 0) why.push(`${lost} frames received by a recorder but not written`);
  if (upstreamLost > MAX_UPSTREAM_LOSS * frames * k)
    why.push(`${upstreamLost} frames lost between captureFrame and the recorders`);
  if (notMatched > 0 && dropped === 0)
    why.push(`${notMatched} recordings wrote other frames than they received (or filled gaps)`);
  // Bookkeeping of the latency figure, not of real time: rtc-node stamps a frame when its FFI request
  // runs, which on saturated cores can be more than MATCH_US after captureFrame was called.
  return {
    k,
    kept: why.length === 0,
    why: why.join(', ') || 'ok',
    unmatched,
    maxLagMs,
    feederLateMs,
    dropped,
    late,
    captured: frames,
    minWritten,
    minIn,
    upstreamLost,
    latencies,
    deliveries,
    audioDeliveries,
    cpuPerRecordingPerMediaS: cpu / K_SECONDS / k,
  };
}

async function realtime(feed: Feed): Promise<KResult[]> {
  const results: KResult[] = [];
  const how =
    feed === 'rtc-node'
      ? 'fed by rtc-node local tracks (the process also runs the publishing side)'
      : 'frames pushed directly on the same schedule';
  console.log(
    `\n## Concurrent real-time recordings: K × (720p30 x264 veryfast + 48 kHz stereo AAC → TS), ${K_SECONDS} s each, ${how}\n`,
  );
  console.log(
    '| K | real time kept | max encoder lag ms | feeder late ms | frames captured per rec / lost in rtc-node (all recs) / min written | dropped | late packets | CPU-s per rec per media-s | latency p50 ms | latency p99 ms | of which rtc-node video delivery p50 ms | ≈ rtc-node audio delivery p50 ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (let k = 1; k <= MAX_K; k++) {
    const r = await realtimeK(k, feed);
    results.push(r);
    const p50 = percentile(r.latencies, 50);
    const p99 = percentile(r.latencies, 99);
    console.log(
      `| ${k} | ${r.kept ? 'yes' : `no (${r.why})`}${r.unmatched > 0 ? ` (${r.unmatched} frames matched to no capture, left out of latency)` : ''} | ${r.maxLagMs.toFixed(0)} | ${r.feederLateMs.toFixed(0)} | ${r.captured} / ${r.upstreamLost} / ${r.minWritten} | ${r.dropped} | ${r.late} | ${r.cpuPerRecordingPerMediaS.toFixed(3)} | ${p50?.toFixed(1) ?? '—'} | ${p99?.toFixed(1) ?? '—'} | ${percentile(r.deliveries, 50)?.toFixed(1) ?? '—'} | ${percentile(r.audioDeliveries, 50)?.toFixed(1) ?? '—'} |`,
    );
    if (!r.kept) break;
  }
  console.log(
    `\nReal time kept: every recording 0 drops, 0 late packets, encoder lag ≤ ${REALTIME_LAG_MS} ms when the feed ends, every frame received written, ≤ ${MAX_UPSTREAM_LOSS * 100} % lost inside rtc-node before the recorder, feeder ≤ ${REALTIME_LAG_MS} ms behind. Latency: VideoSource.captureFrame → FileSink.write returned for that frame's PES.`,
  );
  return results;
}

/** Set in the child that `pinnedNewSpaceMemory` starts. */
const PINNED_CHILD = process.env.TRACKREC_BENCH_PINNED_CHILD === '1';

/**
 * Part 2 again in a child whose V8 young generation has a fixed size. With default flags, V8 grows (and
 * sometimes shrinks) its semi-spaces during the first minutes, which moves RSS by 10–15 MB either way;
 * pinned at their 16 MB maximum, what RSS still gains is what the recording itself holds on to.
 */
function pinnedNewSpaceMemory(): { rssGrowth10minMb: number | null; heapGrowth10minMb: number | null } {
  const child = spawnSync(
    process.execPath,
    [
      '--min-semi-space-size=16',
      '--max-semi-space-size=16',
      '--expose-gc',
      '--import',
      'tsx',
      process.argv[1] as string,
      ...(FULL ? ['--full'] : []),
    ],
    {
      env: { ...process.env, TRACKREC_BENCH_PARTS: 'memory', TRACKREC_BENCH_PINNED_CHILD: '1' },
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const figures = JSON.parse(last) as { rssGrowth10minMb: number | null; heapGrowth10minMb: number | null };
    console.log(
      `\nSame part, V8 semi-spaces pinned at 16 MB (--min/--max-semi-space-size): RSS growth ${figures.rssGrowth10minMb} MB, heap growth ${figures.heapGrowth10minMb} MB at minute 10.`,
    );
    return figures;
  } catch {
    console.log(
      `\nThe pinned-new-space memory run failed (exit ${child.status}): ${child.stderr.slice(-500)}`,
    );
    return { rssGrowth10minMb: null, heapGrowth10minMb: null };
  }
}

// ---- Main -------------------------------------------------------------------------------------------

if (PROFILE === 'recorder' || PROFILE === 'encoder') {
  for (let run = 0; run < RUNS; run++)
    console.log(PROFILE === 'recorder' ? await recorder(false, `profile-${run}`) : await encodeOnly());
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const t0 = performance.now();
const ov = PARTS.has('overhead') ? await overhead() : null;
const mem = PARTS.has('memory') ? await memory() : null;
const memPinned = PARTS.has('memory') && !PINNED_CHILD ? pinnedNewSpaceMemory() : null;
const rtDirect = PARTS.has('realtime') ? await realtime('direct') : null;
const rt = PARTS.has('realtime') ? await realtime('rtc-node') : null;
rmSync(dir, { recursive: true, force: true });

const largestKept = (rs: KResult[] | null) =>
  rs === null ? null : Math.max(0, ...rs.filter((r) => r.kept).map((r) => r.k));
const maxRealtimeK = largestKept(rt);
const maxRealtimeKDirect = largestKept(rtDirect);
const k1 = rt?.find((r) => r.k === 1);
console.log(`\nTotal wall ${((performance.now() - t0) / 1000).toFixed(0)} s.\n`);
console.log(
  JSON.stringify({
    seconds: SECONDS,
    runs: RUNS,
    encodeOnlyCpuPerMediaS: round(ov?.floor ?? null, 4),
    recorderTsCpuPerMediaS: round(ov?.ts ?? null, 4),
    recorderTsHlsCpuPerMediaS: round(ov?.hls ?? null, 4),
    ffmpegCliCpuPerMediaS: round(ov?.ff ?? null, 4),
    overheadPct: round(ov?.overheadPct ?? null, 2),
    overheadHlsPct: round(ov?.overheadHlsPct ?? null, 2),
    overheadMainThreadPct: round(ov?.overheadMainThreadPct ?? null, 2),
    overheadOtherThreadsPct: round(ov?.overheadOtherThreadsPct ?? null, 2),
    overheadPctMin: round(ov?.overheadSpreadPct[0] ?? null, 2),
    overheadPctMax: round(ov?.overheadSpreadPct[1] ?? null, 2),
    recorderTsOverEncodeOnly: ov?.ts ? round(ov.ts / ov.floor, 4) : null,
    recorderTsHlsOverEncodeOnly: ov?.hls ? round(ov.hls / ov.floor, 4) : null,
    recorderTsOverFfmpegCli: ov?.ts && ov.ff ? round(ov.ts / ov.ff, 4) : null,
    realtimeRecordingsPerCore: ov?.ts ? round(1 / ov.ts, 2) : null,
    recorderPeakRssGrowthMb: round(ov?.peakRssMb ?? null, 2),
    framesDropped: ov?.dropped ?? null,
    latencyP50Ms: round(k1 ? percentile(k1.latencies, 50) : null, 1),
    latencyP99Ms: round(k1 ? percentile(k1.latencies, 99) : null, 1),
    latencyRtcDeliveryP50Ms: round(k1 ? percentile(k1.deliveries, 50) : null, 1),
    audioRtcDeliveryP50Ms: round(k1 ? percentile(k1.audioDeliveries, 50) : null, 1),
    memoryX264Preset: mem?.preset ?? null,
    memoryMinutes: mem?.minutes ?? null,
    rssGrowth10minMb: round(mem?.rssGrowth10minMb ?? null, 2),
    rssGrowth10minMbPinnedNewSpace: memPinned?.rssGrowth10minMb ?? null,
    heapGrowth10minMbPinnedNewSpace: memPinned?.heapGrowth10minMb ?? null,
    rssMaxGrowth10minMb: round(mem?.rssMaxGrowth10minMb ?? null, 2),
    heapGrowth10minMb: round(mem?.heapGrowth10minMb ?? null, 2),
    rssGrowth60minMb: round(mem?.rssGrowth60minMb ?? null, 2),
    heapGrowth60minMb: round(mem?.heapGrowth60minMb ?? null, 2),
    maxRealtimeK,
    maxRealtimeKDirect,
    cpuPerRecordingK1: round(k1?.cpuPerRecordingPerMediaS ?? null, 3),
    cpuPerRecordingK1Direct: round(rtDirect?.find((r) => r.k === 1)?.cpuPerRecordingPerMediaS ?? null, 3),
    realtimeKSeconds: rt === null ? null : K_SECONDS,
  }),
);
// rtc-node's FFI keeps the process alive.
process.exit(0);
