/**
 * Test recordings made the way trackrec makes them: H.264 (libx264) and AAC-LC encoded in-process by
 * node-av (the muxer's cached fixtures), muxed by `@trackrec/muxer`, written by `@trackrec/node-writer`.
 */

import { writeFileSync } from 'node:fs';
import { type EncodedPacket, type TrackOptions, TsMuxer } from '@trackrec/muxer';
import { Fmp4Muxer, progressiveFromFragmented } from '@trackrec/muxer/mp4';
import { FileSink, SegmentSink } from '@trackrec/node-writer';
import { aacFixture, h264Fixture } from '../../../muxer/test/fixtures/encoded-media.js';

/** Size and length of a test recording. */
export interface MediaSpec {
  durationS: number;
  width: number;
  height: number;
  fps?: number;
  keyframeIntervalS?: number;
}

/** What the steps call: the TS and the fMP4 muxer alike. */
interface Muxer {
  addTrack(options: TrackOptions): number;
  write(trackId: number, packet: EncodedPacket): void;
}

type Step = (mux: Muxer) => void;

/** The muxer calls of a recording, in decode order across tracks (one call per encoded frame). */
export async function mediaSteps(spec: MediaSpec): Promise<{ steps: Array<{ t: number; run: Step }> }> {
  const fps = spec.fps ?? 30;
  const [video, audio] = await Promise.all([
    h264Fixture({
      durationS: spec.durationS,
      width: spec.width,
      height: spec.height,
      fps,
      keyframeIntervalS: spec.keyframeIntervalS ?? 1,
      preset: 'ultrafast',
    }),
    aacFixture({ durationS: spec.durationS }),
  ]);
  const steps: Array<{ t: number; run: Step }> = [];
  // Tracks are created lazily on the first step so every recording gets its own ids.
  let ids: { v: number; a: number } | null = null;
  const trackIds = (mux: Muxer): { v: number; a: number } => {
    ids ??= {
      v: mux.addTrack({ codec: 'h264' }),
      a: mux.addTrack({ codec: 'aac', audioSpecificConfig: audio.audioSpecificConfig }),
    };
    return ids;
  };
  for (const f of video.frames) {
    steps.push({ t: f.dts / 90000, run: (mux) => mux.write(trackIds(mux).v, f) });
  }
  for (const f of audio.frames) {
    steps.push({ t: f.pts / audio.sampleRate, run: (mux) => mux.write(trackIds(mux).a, f) });
  }
  steps.sort((x, y) => x.t - y.t);
  return { steps };
}

/** Writes a single-file recording with FileSink. */
export async function writeTsRecording(path: string, spec: MediaSpec): Promise<void> {
  const { steps } = await mediaSteps(spec);
  const sink = new FileSink(path, { fsync: 'none' });
  const mux = new TsMuxer({ sink: sink.asTsSink() });
  for (const s of steps) s.run(mux);
  mux.close();
  sink.close();
}

/** Writes a progressive MP4: the fMP4 muxer's fragments rebuilt as one moov + mdat, as core does on a stop. */
export async function writeMp4Recording(path: string, spec: MediaSpec): Promise<void> {
  const { steps } = await mediaSteps(spec);
  const chunks: Uint8Array[] = [];
  const mux = new Fmp4Muxer({ sink: (chunk) => chunks.push(chunk.slice()) });
  for (const s of steps) s.run(mux);
  mux.close();
  writeFileSync(path, progressiveFromFragmented(mux.sampleTable(), Buffer.concat(chunks)));
}

/**
 * Writes an HLS recording with SegmentSink. With `crash`, the recording stops after `crash.atS` seconds
 * without closing the muxer or the sink, as a killed process leaves it (no EXT-X-ENDLIST, the open
 * segment unlisted).
 */
export async function writeHlsRecording(
  dir: string,
  spec: MediaSpec & { targetDuration?: number; livePlaylistName?: string },
  crash?: { atS: number },
): Promise<SegmentSink> {
  const { steps } = await mediaSteps(spec);
  const sink = new SegmentSink({
    dir,
    prefix: 'rec',
    targetDuration: spec.targetDuration ?? 1,
    fsync: 'none',
    ...(spec.livePlaylistName === undefined ? {} : { livePlaylistName: spec.livePlaylistName }),
  });
  const mux = new TsMuxer({ sink: sink.asTsSink() });
  for (const s of steps) {
    if (crash !== undefined && s.t >= crash.atS) break;
    s.run(mux);
  }
  if (crash === undefined) {
    mux.close();
    sink.close();
  }
  return sink;
}
