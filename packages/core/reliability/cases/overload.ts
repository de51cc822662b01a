// Case 5: overload. 1080p frames pushed at 4× real time (media clock four times faster than the wall
// clock, no backpressure) into an x264 veryfast encoder that manages about 2× real time at 1080p on one
// core: the bounded queue must drop the oldest frames and count them, RSS must stay within a fixed bound,
// and the file must stay valid.
import { TrackRecording } from '../../src/index.js';
import { i420Frame, syntheticI420 } from '../../test/helpers.js';
import { type CaseResult, check, decode, decodedClean, fullGc, rssMb, type SuiteOptions } from '../lib.js';

const W = 1920;
const H = 1080;
/** RSS growth allowed over the run: the queue (8 × 3 MB frames), x264's 1080p buffers, and slack. */
const RSS_BOUND_MB = 100;

/** Runs the overload case (20 s of media in CI, 120 s with --full). */
export async function overload(o: SuiteOptions): Promise<CaseResult> {
  const mediaS = o.full ? 120 : 20;
  const speed = 4;
  const pics = Array.from({ length: 6 }, (_, i) => syntheticI420(W, H, i * 40));
  fullGc();
  const rss0 = rssMb();
  const rec = new TrackRecording({
    outputDir: o.work,
    file: { filepath: 'overload' },
    encoding: { width: W, height: H, framerate: 30, videoBitrate: 4500, x264Preset: 'veryfast' },
  });
  await rec.start();
  const t0 = performance.now();
  let rssMax = rss0;
  let rssAtQuarter = 0;
  let audioN = 0;
  const frames = mediaS * 30;
  for (let f = 0; f < frames; f++) {
    const us = Math.round((f * 1e6) / 30);
    rec.pushVideoFrame(
      { frame: i420Frame(W, H, pics[f % pics.length] as Uint8Array), timestampUs: us },
      us + 20_000,
    );
    while (audioN * 10_000 < ((f + 1) * 1e6) / 30) {
      audioN++;
      rec.pushAudioFrame(
        { data: new Int16Array(480), sampleRate: 48_000, channels: 1, samplesPerChannel: 480 },
        audioN * 10_000 + 20_000,
      );
    }
    // Pace the pushes at `speed` × real time, whatever the encoder does.
    const due = t0 + ((f + 1) * 1000) / 30 / speed;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    if (f % 15 === 0) rssMax = Math.max(rssMax, rssMb());
    if (f === Math.floor(frames / 4)) rssAtQuarter = rssMb();
  }
  const wallS = (performance.now() - t0) / 1000;
  const m = rec.metrics();
  const info = await rec.stop();
  const after = rec.metrics();
  const path = info.file?.location ?? '';
  const report = check(path);
  const dec = await decode(path);
  const v = after.video;
  const growth = rssMax - rss0;
  const accounted =
    v !== null && v.framesIn === frames && v.framesEncoded - v.fillerFrames + v.framesDropped === frames;
  const ok =
    info.status === 'COMPLETE' &&
    growth <= RSS_BOUND_MB &&
    (v?.framesDropped ?? 0) > 0 &&
    accounted &&
    report.violationTotal === 0 &&
    decodedClean(dec) &&
    dec.dtsMonotonic;
  const notes: string[] = [];
  if (!ok)
    notes.push(
      `status ${info.status}; rss growth ${growth.toFixed(1)} MB; metrics ${JSON.stringify(v)}; violations ${report.violationTotal}; decode ${JSON.stringify([...dec.errors, ...dec.logErrors].slice(0, 3))}`,
    );
  return {
    id: 'overload',
    name: `overload (1080p30 at ${speed}× real time into x264 veryfast, ${mediaS} s of media)`,
    figures: {
      mediaS,
      wallS: Number(wallS.toFixed(1)),
      framesIn: v?.framesIn ?? 0,
      framesEncoded: v?.framesEncoded ?? 0,
      framesDropped: v?.framesDropped ?? 0,
      queuedAtEnd: m.video?.queued ?? 0,
      rssGrowthMaxMb: Number(growth.toFixed(1)),
      rssBoundMb: RSS_BOUND_MB,
      rssLast3QuartersGrowthMb: Number((rssMax - rssAtQuarter).toFixed(1)),
      latePacketsDropped: after.latePackets,
      decodedVideoFrames: dec.videoFrames,
      encodedNotDecoded: (v?.framesEncoded ?? 0) - after.latePackets - dec.videoFrames,
      checkerViolations: report.violationTotal,
      decodeErrors: dec.errors.length + dec.logErrors.length + dec.corruptPackets,
    },
    bound: `RSS growth ≤ ${RSS_BOUND_MB} MB, drops counted (in = encoded + dropped), file valid (checker + decode)`,
    pass: ok,
    notes,
  };
}
