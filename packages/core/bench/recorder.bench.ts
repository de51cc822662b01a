/**
 * Cost of recording one 720p30 + 48 kHz stereo participant, per second of media, against its peers in the
 * same run on the same synthetic input (a moving bar, a tone):
 *   - encode only: @trackrec/encoder's VideoEncoder + AudioEncoder alone (the floor: what any recorder
 *     built on x264 veryfast/AAC must spend);
 *   - TrackRecording → TS, and → TS + HLS (queue, clock, interleaver, muxer, durable writes);
 *   - FFmpeg CLI (Debian ffmpeg, one x264 thread, same settings) reading raw frames from a pipe → TS.
 * Media is fed faster than real time (explicit arrival times, `drained()` as backpressure), so CPU time per
 * media second is measured directly. Prints a table, then one JSON line of figures and ratios.
 *
 * Run: node --expose-gc --import tsx packages/core/bench/recorder.bench.ts
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AudioEncoder, VideoEncoder } from '@trackrec/encoder';
import { TrackRecording } from '../src/index.js';

const W = 1280;
const H = 720;
const FPS = 30;
const SECONDS = Number(process.env.TRACKREC_BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.TRACKREC_BENCH_RUNS ?? 3);
const FRAMES = SECONDS * FPS;
const dir = mkdtempSync(join(tmpdir(), 'trackrec-recorder-bench-'));
const gc = (globalThis as { gc?: () => void }).gc;

/** 60 distinct pictures cycled (generation is not what is measured). */
const pictures = Array.from({ length: 60 }, (_, i) => {
  const data = new Uint8Array(W * H * 1.5);
  data.fill(40, 0, W * H);
  data.fill(128, W * H);
  const x = (i * 16) % (W - 80);
  for (let y = 0; y < H; y++) {
    data.fill(220, y * W + x, y * W + x + 80);
    for (let k = 0; k < 8; k++)
      data[y * W + ((x * 7 + y * 3 + k * 131) % W)] = (y * 13 + k * 31 + i * 7) & 0xff;
  }
  return data;
});
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

interface Result {
  name: string;
  cpuS: number;
  wallS: number;
  bytes: number;
  peakRssMb: number;
  dropped: number;
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

async function encodeOnly(): Promise<Result> {
  gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ve = await VideoEncoder.create({
    width: W,
    height: H,
    fps: FPS,
    hardware: 'software',
    logger: quiet,
  });
  const ae = await AudioEncoder.create({ codec: 'aac' });
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
    wallS: (performance.now() - t0) / 1000,
    bytes,
    peakRssMb: (peak - rss0) / 1e6,
    dropped: 0,
  };
}

const quiet = { info() {}, warn() {} };

async function recorder(hls: boolean, run: number): Promise<Result> {
  gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const c0 = process.cpuUsage();
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
    wallS: (performance.now() - t0) / 1000,
    bytes: statSync(out).size,
    peakRssMb: (maxKb ?? 0) / 1000,
    dropped: 0,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

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
  cpuPerMediaS: median(rs.map((r) => r.cpuS)) / SECONDS,
  wallS: median(rs.map((r) => r.wallS)),
  mb: median(rs.map((r) => r.bytes)) / 1e6,
  peakRssMb: median(rs.map((r) => r.peakRssMb)),
  dropped: Math.max(...rs.map((r) => r.dropped)),
}));
const floor = rows.find((r) => r.name.startsWith('encode only'))?.cpuPerMediaS ?? Number.NaN;
console.log(
  `\n${SECONDS} s of 1280x720 @ ${FPS} fps + 48 kHz stereo AAC, median of ${RUNS} interleaved runs\n`,
);
console.log(
  '| pipeline | CPU-s per media-s | vs encode only | wall s | output MB | memory MB* | frames dropped |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.cpuPerMediaS.toFixed(3)} | ${(r.cpuPerMediaS / floor).toFixed(2)} | ${r.wallS.toFixed(2)} | ${r.mb.toFixed(2)} | ${r.peakRssMb.toFixed(1)} | ${r.dropped} |`,
  );
}
console.log(
  "\n* in-process rows: peak RSS growth during the run; ffmpeg CLI: the child process's max RSS.\n",
);
const get = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
const ts = get('TrackRecording → TS');
const hls = get('TrackRecording → TS + HLS');
const ff = get('ffmpeg CLI');
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    seconds: SECONDS,
    runs: RUNS,
    encodeOnlyCpuPerMediaS: floor,
    recorderTsCpuPerMediaS: ts?.cpuPerMediaS ?? null,
    recorderTsHlsCpuPerMediaS: hls?.cpuPerMediaS ?? null,
    ffmpegCliCpuPerMediaS: ff?.cpuPerMediaS ?? null,
    recorderTsOverEncodeOnly: ts ? ts.cpuPerMediaS / floor : null,
    recorderTsHlsOverEncodeOnly: hls ? hls.cpuPerMediaS / floor : null,
    recorderTsOverFfmpegCli: ts && ff ? ts.cpuPerMediaS / ff.cpuPerMediaS : null,
    realtimeRecordingsPerCore: ts ? 1 / ts.cpuPerMediaS : null,
    recorderPeakRssGrowthMb: ts?.peakRssMb ?? null,
    framesDropped: Math.max(ts?.dropped ?? 0, hls?.dropped ?? 0),
  }),
);
