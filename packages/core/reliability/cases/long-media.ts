// Case 7: long media. The recording clock is made to read 13.25 h and 26.5 h (the explicit arrival times
// of pushVideoFrame / pushAudioFrame), so the whole real path (core timeline → x264/AAC → interleaver →
// TS muxer → FileSink) writes 90 kHz timestamps that cross 2^32 and 2^33 ticks (the 33-bit PTS/DTS field
// wraps there, ISO/IEC 13818-1 2.4.3.7). FFmpeg must decode everything with monotonic unwrapped DTS,
// spanning the media fed, and the checker must find no violation.
import { TrackRecording } from '../../src/index.js';
import { type CaseResult, check, decode, decodedClean, feedSynthetic, type SuiteOptions } from '../lib.js';

const TICKS = 90_000;

/** Records across each boundary (30 s in CI, 120 s with --full). */
export async function longMedia(o: SuiteOptions): Promise<CaseResult> {
  const seconds = o.full ? 120 : 30;
  const figures: Record<string, number | string> = { mediaSPerBoundary: seconds };
  const notes: string[] = [];
  let pass = true;
  for (const [label, bits] of [
    ['2^32', 32],
    ['2^33', 33],
  ] as const) {
    const boundaryS = 2 ** bits / TICKS;
    // Start half the media before the boundary.
    const startS = boundaryS - seconds / 2;
    const rec = new TrackRecording({
      outputDir: o.work,
      file: { filepath: `wrap-${bits}` },
      encoding: { width: 320, height: 240, framerate: 30, videoBitrate: 400, x264Preset: 'ultrafast' },
    });
    await rec.start();
    await feedSynthetic(rec, {
      width: 320,
      height: 240,
      fps: 30,
      seconds,
      arrivalOffsetUs: Math.round(startS * 1e6),
    });
    const info = await rec.stop();
    const path = info.file?.location ?? '';
    const report = check(path);
    const dec = await decode(path);
    const first = Math.min(...dec.videoPtsS);
    const last = Math.max(...dec.videoPtsS);
    // Across 2^32 nothing wraps: FFmpeg reads the timestamps as written. Across 2^33 the 33-bit field
    // wraps to 0; FFmpeg unwraps it (pts_wrap_reference) by moving the pre-wrap part below 0, so the
    // stream reads continuous from −seconds/2 to +seconds/2.
    const crossed = bits === 33 ? first < -1 && last > 1 : first < boundaryS - 1 && last > boundaryS + 1;
    const ok =
      info.status === 'COMPLETE' &&
      report.violationTotal === 0 &&
      decodedClean(dec) &&
      dec.dtsMonotonic &&
      Math.abs(dec.videoSpanS - seconds) < 0.5 &&
      dec.videoFrames === seconds * 30 &&
      crossed;
    figures[`${label}FirstPtsH`] = Number((first / 3600).toFixed(4));
    figures[`${label}LastPtsH`] = Number((last / 3600).toFixed(4));
    figures[`${label}SpanS`] = Number(dec.videoSpanS.toFixed(2));
    figures[`${label}VideoFramesDecoded`] = `${dec.videoFrames}/${seconds * 30}`;
    figures[`${label}DtsMonotonic`] = String(dec.dtsMonotonic);
    figures[`${label}Violations`] = report.violationTotal;
    figures[`${label}DecodeErrors`] = dec.errors.length + dec.logErrors.length + dec.corruptPackets;
    if (!ok) {
      pass = false;
      notes.push(
        `${label}: ${info.status} ${info.error}; first ${first} last ${last}; violations ${report.violationTotal}; decode ${JSON.stringify([...dec.errors, ...dec.logErrors].slice(0, 3))}`,
      );
    }
  }
  return {
    id: 'longMedia',
    name: 'long media (90 kHz clock through 2^32 and 2^33 ticks)',
    figures,
    bound:
      'both crossings: COMPLETE, 0 violations, every frame decoded, monotonic unwrapped DTS, span = media fed',
    pass,
    notes,
  };
}
