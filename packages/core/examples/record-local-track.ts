/**
 * Runnable without a LiveKit server: records a real rtc-node local video + audio track (a moving bar
 * and a 440 Hz tone) for 3 s into a TS file and HLS, then prints the result.
 *
 *   node --import tsx packages/core/examples/record-local-track.ts [outputDir]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  dispose,
  LocalAudioTrack,
  LocalVideoTrack,
  VideoBufferType,
  VideoFrame,
  VideoSource,
  VideoStream,
} from '@livekit/rtc-node';
import { TrackRecording } from '../src/index.js';

const outputDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'trackrec-example-'));
const W = 320;
const H = 240;

const videoSource = new VideoSource(W, H);
const videoTrack = LocalVideoTrack.createVideoTrack('camera', videoSource);
const audioSource = new AudioSource(48_000, 1);
const audioTrack = LocalAudioTrack.createAudioTrack('microphone', audioSource);

const recording = new TrackRecording({
  outputDir,
  file: { filepath: '{room_name}/{publisher_identity}-{time}' },
  segments: {
    filenamePrefix: '{room_name}/hls/{publisher_identity}',
    segmentDuration: 1,
    livePlaylistName: 'live.m3u8',
  },
  encoding: { width: W, height: H, framerate: 30, videoBitrate: 500, keyFrameInterval: 1 },
  names: { roomName: 'example', publisherIdentity: 'alice' },
  logger: {
    debug() {},
    info: (o, m) => console.log(m ?? o),
    warn: (o, m) => console.warn(m ?? o),
    error: (o, m) => console.error(m ?? o),
  },
});
recording.on('health', (w) => console.warn('health:', w.code, w.message));
await recording.start();
recording.attachVideo(new VideoStream(videoTrack));
recording.attachAudio(new AudioStream(audioTrack, { sampleRate: 48_000, numChannels: 1 }));

const t0 = performance.now();
let frame = 0;
let phase = 0;
const video = (async () => {
  while (performance.now() - t0 < 3000) {
    const data = new Uint8Array(W * H * 1.5).fill(128);
    data.fill(40, 0, W * H);
    const x = (frame * 4) % (W - 20);
    for (let y = 0; y < H; y++) data.fill(220, y * W + x, y * W + x + 20);
    videoSource.captureFrame(new VideoFrame(data, W, H, VideoBufferType.I420));
    frame++;
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (frame * 1000) / 30 - performance.now())));
  }
})();
const audio = (async () => {
  for (let i = 0; i < 300; i++) {
    const pcm = new Int16Array(480);
    for (let k = 0; k < 480; k++) {
      phase += (2 * Math.PI * 440) / 48_000;
      pcm[k] = Math.round(8000 * Math.sin(phase));
    }
    await audioSource.captureFrame(new AudioFrame(pcm, 48_000, 1, 480));
  }
})();
await Promise.all([video, audio]);

const info = await recording.stop();
await Promise.all([videoTrack.close(), audioTrack.close()]);
console.log(
  JSON.stringify(
    { status: info.status, file: info.file, segments: info.segments, metrics: recording.metrics() },
    null,
    2,
  ),
);
// rtc-node's native side keeps the process alive until it is disposed.
await dispose();
