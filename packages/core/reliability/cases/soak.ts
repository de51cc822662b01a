// Case 8: soak. Media through the whole path (synthetic frames → TrackRecording → x264/AAC → muxer →
// FileSink + SegmentSink), faster than real time with drained() as backpressure. After warm-up, the heap
// (after full GCs) and RSS must not grow by more than 5 MB. CI: 3 min of 640×360; --full: 60 min of
// 1280×720 @ 30 fps (H264_720P_30).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TrackRecording } from '../../src/index.js';
import { parsePlaylist } from '../../test/helpers.js';
import {
  type CaseResult,
  check,
  decode,
  decodedClean,
  feedSynthetic,
  heapMb,
  rssMb,
  type SuiteOptions,
} from '../lib.js';

const BOUND_MB = 5;

function median3(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs the soak (3 min of 640×360 in CI, 60 min of 720p30 with --full). */
export async function soak(o: SuiteOptions): Promise<CaseResult> {
  const seconds = o.full ? 3600 : 180;
  const warmupS = o.full ? 300 : 45;
  const width = o.full ? 1280 : 640;
  const height = o.full ? 720 : 360;
  const rec = new TrackRecording({
    outputDir: o.work,
    file: { filepath: 'soak' },
    segments: { filenamePrefix: 'hls/seg', segmentDuration: 4 },
    preset: 'H264_720P_30',
    encoding: o.full ? {} : { width, height, videoBitrate: 1200 },
  });
  const started = await rec.start();
  if (started.status !== 'ACTIVE') throw new Error(`soak recording did not start: ${started.error}`);
  const samples: { s: number; heap: number; rss: number }[] = [];
  const t0 = performance.now();
  let cpu0 = process.cpuUsage();
  let maxPending = 0;
  await feedSynthetic(rec, {
    width,
    height,
    fps: 30,
    seconds,
    onSecond: (s) => {
      maxPending = Math.max(maxPending, rec.metrics().pendingPackets);
      if (s % 10 === 0) samples.push({ s, heap: heapMb(), rss: rssMb() });
      if (s === warmupS) cpu0 = process.cpuUsage();
    },
  });
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const m = rec.metrics();
  const info = await rec.stop();
  const after = samples.filter((x) => x.s >= warmupS);
  const atWarm = after.slice(0, 3);
  const atEnd = after.slice(-3);
  const heapGrowth = median3(atEnd.map((x) => x.heap)) - median3(atWarm.map((x) => x.heap));
  const rssGrowth = median3(atEnd.map((x) => x.rss)) - median3(atWarm.map((x) => x.rss));
  const heapMax = Math.max(...after.map((x) => x.heap)) - median3(atWarm.map((x) => x.heap));
  const path = info.file?.location ?? '';
  const report = check(path);
  const dec = await decode(path);
  const playlist = join(o.work, 'hls', 'seg.m3u8');
  const { segments, endList } = parsePlaylist(readFileSync(playlist, 'utf8'));
  // Every segment passes the checker; decode a sample of them (first, middle, last) too.
  let segmentViolations = 0;
  for (const s of segments) segmentViolations += check(join(dirname(playlist), s.uri)).violationTotal;
  let segmentsDecoded = 0;
  for (const s of [segments[0], segments[Math.floor(segments.length / 2)], segments.at(-1)]) {
    if (s && decodedClean(await decode(join(dirname(playlist), s.uri)))) segmentsDecoded++;
  }
  const ok =
    info.status === 'COMPLETE' &&
    heapGrowth <= BOUND_MB &&
    rssGrowth <= BOUND_MB &&
    report.violationTotal === 0 &&
    decodedClean(dec) &&
    dec.dtsMonotonic &&
    Math.abs(dec.videoSpanS - seconds) < 1 &&
    (m.video?.framesDropped ?? 1) === 0 &&
    segmentViolations === 0 &&
    segmentsDecoded === 3 &&
    endList;
  const notes: string[] = [];
  if (!ok)
    notes.push(
      `status ${info.status}; heap ${heapGrowth.toFixed(2)} rss ${rssGrowth.toFixed(2)} MB; violations ${report.violationTotal}/${segmentViolations}; decode ${JSON.stringify([...dec.errors, ...dec.logErrors].slice(0, 3))}; span ${dec.videoSpanS}; dropped ${m.video?.framesDropped}`,
    );
  return {
    id: 'soak',
    name: `soak (${seconds / 60} min of ${width}×${height} @ 30 fps + AAC, TS + HLS, faster than real time)`,
    figures: {
      mediaS: seconds,
      wallS: Number(wallS.toFixed(1)),
      speedX: Number((seconds / wallS).toFixed(2)),
      cpuSPerMediaS: Number(((cpu.user + cpu.system) / 1e6 / (seconds - warmupS)).toFixed(3)),
      warmupS,
      heapAtWarmupMb: Number(median3(atWarm.map((x) => x.heap)).toFixed(2)),
      heapGrowthAfterWarmupMb: Number(heapGrowth.toFixed(2)),
      heapMaxAboveWarmupMb: Number(heapMax.toFixed(2)),
      rssAtWarmupMb: Number(median3(atWarm.map((x) => x.rss)).toFixed(1)),
      rssGrowthAfterWarmupMb: Number(rssGrowth.toFixed(2)),
      maxPendingPackets: maxPending,
      framesDropped: m.video?.framesDropped ?? -1,
      fileMb: Number(((info.file?.size ?? 0) / 1048576).toFixed(1)),
      segments: segments.length,
      checkerViolations: report.violationTotal + segmentViolations,
      decodedVideoFrames: dec.videoFrames,
      decodeErrors: dec.errors.length + dec.logErrors.length + dec.corruptPackets,
    },
    bound: `heap and RSS growth after warm-up ≤ ${BOUND_MB} MB; file and segments valid; 0 drops`,
    pass: ok,
    notes,
  };
}
