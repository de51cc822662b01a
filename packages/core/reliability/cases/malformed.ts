// Case 4: malformed input. Between good frames, a recording is fed video frames with wrong buffer
// lengths, zero, odd and absurd sizes, NaN / backwards / huge / infinite timestamps, and audio whose rate
// and channel count change, with zero, short or impossible layouts. Every bad frame must be dropped and
// counted (video: framesDropped; audio: a logged warning) or absorbed; the recording must end COMPLETE
// and its TS file and HLS segments must pass the checker and decode cleanly with monotonic DTS.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type RecorderLogger, TrackRecording } from '../../src/index.js';
import { i420Frame, parsePlaylist, syntheticI420 } from '../../test/helpers.js';
import { type CaseResult, check, decode, decodedClean, type SuiteOptions } from '../lib.js';

const W = 320;
const H = 240;

type Bad =
  | { kind: 'video'; frame: ReturnType<typeof i420Frame>; ts: number | bigint }
  | {
      kind: 'audio';
      frame: { data: Int16Array; sampleRate: number; channels: number; samplesPerChannel: number };
    };

function tone(rate: number, channels: number, samples: number): Int16Array {
  const pcm = new Int16Array(samples * channels);
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.round(5000 * Math.sin((2 * Math.PI * 440 * Math.floor(i / channels)) / rate));
  return pcm;
}

/** The malformed inputs, injected one per 100 ms of media at media time `us`. */
function badInputs(us: number): Bad[] {
  const good = syntheticI420(W, H, 3);
  const v = (frame: ReturnType<typeof i420Frame>, ts: number | bigint = us): Bad => ({
    kind: 'video',
    frame,
    ts,
  });
  const a = (data: Int16Array, sampleRate: number, channels: number, samplesPerChannel: number): Bad => ({
    kind: 'audio',
    frame: { data, sampleRate, channels, samplesPerChannel },
  });
  return [
    v(i420Frame(W, H, new Uint8Array(10))), // far too short
    v(i420Frame(W, H, good.subarray(0, good.length - 1))), // one byte short
    v(i420Frame(W, H, new Uint8Array(good.length * 2))), // too long
    v(i420Frame(0, 0, new Uint8Array(0))), // zero size
    v(i420Frame(321, 241, new Uint8Array(321 * 241 + 2 * 161 * 121).fill(90))), // odd size, right length
    v(i420Frame(321, 241, new Uint8Array(321 * 241))), // odd size, wrong length
    v(i420Frame(1, 1, new Uint8Array(3))), // tiny
    v(i420Frame(65_536, 65_536, new Uint8Array(64))), // absurd size
    v(i420Frame(-320, 240, good)), // negative width
    v(i420Frame(Number.NaN, 240, good)), // NaN width
    v(i420Frame(W, H, good), Number.NaN), // NaN timestamp
    v(i420Frame(W, H, good), us - 5_000_000), // 5 s backwards
    v(i420Frame(W, H, good), us + 1e12), // 11.6 days ahead
    v(i420Frame(W, H, good), Number.POSITIVE_INFINITY),
    v(i420Frame(W, H, good), -1e15),
    v(i420Frame(W, H, good), 2n ** 62n),
    a(tone(16_000, 1, 160), 16_000, 1, 160), // rate change
    a(tone(44_100, 1, 441), 44_100, 1, 441),
    a(tone(48_000, 2, 480), 48_000, 2, 480), // channel change
    a(tone(48_000, 6, 480), 48_000, 6, 480),
    a(new Int16Array(0), 48_000, 1, 0), // zero samples
    a(new Int16Array(100), 48_000, 1, 480), // short buffer
    a(new Int16Array(480), Number.NaN, 1, 480),
    a(new Int16Array(480), 48_000, 0, 480),
    a(new Int16Array(480), 48_000, 9, 480),
    a(new Int16Array(480), 1_000_000, 1, 480),
    a(new Int16Array(480), 48_000, 1, 480.5),
    a(new Int16Array(480), -48_000, 1, 480),
  ];
}

/** Feeds 10 s of media with every malformed input injected once, at its own moment. */
export async function malformed(o: SuiteOptions): Promise<CaseResult> {
  let warnings = 0;
  const logger: RecorderLogger = { debug() {}, info() {}, warn: () => void warnings++, error() {} };
  const rec = new TrackRecording({
    outputDir: o.work,
    file: { filepath: 'malformed' },
    segments: { filenamePrefix: 'hls/seg', segmentDuration: 2 },
    encoding: { width: W, height: H, framerate: 30, videoBitrate: 500, x264Preset: 'ultrafast' },
    logger,
  });
  await rec.start();
  const pics = Array.from({ length: 30 }, (_, i) => syntheticI420(W, H, i * 5));
  let audioN = 0;
  const bad = badInputs(0);
  let injected = 0;
  let thrown = 0;
  const notes: string[] = [];
  for (let f = 0; f < 300; f++) {
    const us = Math.round((f * 1e6) / 30);
    rec.pushVideoFrame({ frame: i420Frame(W, H, pics[f % 30] as Uint8Array), timestampUs: us }, us + 20_000);
    while (audioN * 10_000 < ((f + 1) * 1e6) / 30) {
      audioN++;
      rec.pushAudioFrame(
        { data: tone(48_000, 1, 480), sampleRate: 48_000, channels: 1, samplesPerChannel: 480 },
        audioN * 10_000 + 20_000,
      );
    }
    // One malformed input every 100 ms of media from 0.5 s on.
    if (f >= 15 && f % 3 === 0 && injected < bad.length) {
      const item = badInputs(us)[injected] as Bad;
      injected++;
      try {
        if (item.kind === 'video')
          rec.pushVideoFrame({ frame: item.frame, timestampUs: item.ts }, us + 25_000);
        else rec.pushAudioFrame(item.frame, audioN * 10_000 + 25_000);
      } catch (error) {
        // A typed error at the boundary is acceptable; anything else is not.
        if (error instanceof TypeError || error instanceof RangeError) thrown++;
        else throw error;
      }
    }
    await rec.drained();
  }
  const metrics = rec.metrics();
  const info = await rec.stop();
  const path = info.file?.location ?? '';
  const report = check(path);
  const dec = await decode(path);
  const playlistPath = join(o.work, 'hls', 'seg.m3u8');
  const { segments } = parsePlaylist(readFileSync(playlistPath, 'utf8'));
  let segmentsClean = 0;
  for (const s of segments) {
    const r = await decode(join(dirname(playlistPath), s.uri));
    if (decodedClean(r) && check(join(dirname(playlistPath), s.uri)).violationTotal === 0) segmentsClean++;
  }
  const ok =
    info.status === 'COMPLETE' &&
    report.violationTotal === 0 &&
    decodedClean(dec) &&
    dec.dtsMonotonic &&
    segmentsClean === segments.length &&
    dec.videoSpanS > 9.5;
  if (!ok) {
    notes.push(
      `status ${info.status} ${info.error}; violations ${report.violationTotal}; decode ${JSON.stringify([...dec.errors, ...dec.logErrors].slice(0, 3))}; dts monotonic ${dec.dtsMonotonic}; span ${dec.videoSpanS.toFixed(2)} s; segments ${segmentsClean}/${segments.length}`,
    );
  }
  const badVideo = bad.filter((b) => b.kind === 'video').length;
  return {
    id: 'malformed',
    name: `malformed input (${bad.length} bad frames among 10 s of media)`,
    figures: {
      badVideoFrames: badVideo,
      badAudioFrames: bad.length - badVideo,
      videoFramesDropped: metrics.video?.framesDropped ?? -1,
      videoReanchors: metrics.video?.reanchors ?? -1,
      warningsLogged: warnings,
      typedErrorsThrown: thrown,
      status: info.status,
      checkerViolations: report.violationTotal,
      decodeErrors: dec.errors.length + dec.logErrors.length + dec.corruptPackets,
      dtsMonotonic: String(dec.dtsMonotonic),
      videoSpanS: Number(dec.videoSpanS.toFixed(2)),
      hlsSegmentsClean: `${segmentsClean}/${segments.length}`,
    },
    bound:
      'COMPLETE, 0 checker violations, 0 decode errors, monotonic DTS, every segment clean; bad frames dropped and counted',
    pass: ok,
    notes,
  };
}
