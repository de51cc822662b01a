/**
 * Child process of mp4-kill9.test.ts: records synthetic video and audio in real time through
 * TrackRecording into a fragmented MP4 and fMP4 HLS until it is killed. Prints `ready` once the file
 * holds its first video fragment (past 10 kB). Usage: mp4-kill9-child.ts <outputDir>
 */

import { statSync } from 'node:fs';
import { TrackRecording } from '../src/recording.js';
import { i420Frame, syntheticI420, toneFrame } from './helpers.js';

const outputDir = process.argv[2];
if (outputDir === undefined) throw new Error('usage: mp4-kill9-child.ts <outputDir>');
const rec = new TrackRecording({
  outputDir,
  file: { filepath: 'rec', fileType: 'mp4', fsync: { intervalMs: 100 } },
  segments: {
    filenamePrefix: 'hls/rec',
    segmentType: 'fmp4',
    segmentDuration: 1,
    fsync: { intervalMs: 100 },
  },
  encoding: {
    width: 320,
    height: 240,
    framerate: 30,
    videoBitrate: 300,
    keyFrameInterval: 1,
    x264Preset: 'ultrafast',
  },
});
const info = await rec.start();
if (info.status !== 'ACTIVE') throw new Error(`recording did not start: ${info.error}`);
const path = info.file?.location as string;
const t0 = performance.now();
let frame = 0;
let audio = 0;
let ready = false;
setInterval(() => {
  const us = (performance.now() - t0) * 1000;
  while ((frame * 1e6) / 30 <= us) {
    rec.pushVideoFrame({
      frame: i420Frame(320, 240, syntheticI420(320, 240, frame)),
      timestampUs: Math.round((frame * 1e6) / 30),
    });
    frame++;
  }
  while (audio * 10_000 <= us) {
    rec.pushAudioFrame(toneFrame(audio));
    audio++;
  }
  if (!ready && statSync(path).size > 10_000) {
    ready = true;
    process.stdout.write('ready\n');
  }
}, 10);
