/**
 * Child process of the kill -9 sweep: records real rtc-node local tracks (VideoSource → LocalVideoTrack →
 * VideoStream, AudioSource → LocalAudioTrack → AudioStream) through a TrackRecording into a growing `.ts`
 * and HLS, paced in real time, until it is killed.
 *
 *   node --import tsx child-record.ts <outputDir>
 *
 * Prints `ACTIVE <epoch ms>` once the outputs are open and the tracks attached.
 */
import { TrackRecording } from '../src/index.js';
import { SyntheticAudio, SyntheticVideo } from '../test/helpers.js';

const outputDir = process.argv[2];
if (!outputDir) throw new TypeError('usage: child-record.ts <outputDir>');
const W = 320;
const H = 240;
const rec = new TrackRecording({
  outputDir,
  file: { filepath: 'rec' },
  segments: { filenamePrefix: 'hls/seg', segmentDuration: 1 },
  encoding: {
    width: W,
    height: H,
    framerate: 30,
    videoBitrate: 500,
    keyFrameInterval: 1,
    x264Preset: 'ultrafast',
  },
});
const started = await rec.start();
if (started.status !== 'ACTIVE') {
  console.error(`recording did not start: ${started.status} ${started.error}`);
  process.exit(1);
}
const video = new SyntheticVideo(W, H);
const audio = new SyntheticAudio();
rec.attachVideo(video.stream());
rec.attachAudio(audio.stream());
process.stdout.write(`ACTIVE ${Date.now()}\n`);
// Until killed (an hour is a bound, not a plan).
await Promise.all([video.run(3_600_000), audio.run(3_600_000)]);
