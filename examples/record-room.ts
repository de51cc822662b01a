/**
 * Records one participant of a LiveKit room to a growing MPEG-TS file and HLS, in-process, until
 * Ctrl-C or until the participant leaves. Needs a LiveKit server (LiveKit Cloud or `livekit-server --dev`).
 *
 *   LIVEKIT_URL=wss://… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… \
 *     node --import tsx examples/record-room.ts <room> <identity> [outputDir]
 *
 * Writes `<outputDir>/<room>/<identity>-<time>.ts` and `<outputDir>/<room>/<identity>/index.m3u8` (4 s
 * segments, EVENT playlist). Then: `trackrec probe <file>`, `trackrec serve <outputDir>`.
 * The same as a command: `trackrec record --room <room> --identity <identity> --hls`.
 */

import { RecorderError, RoomRecorder } from '@trackrec/core';

const [roomName, identity, outputDir = 'recordings'] = process.argv.slice(2);
const { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret } = process.env;
if (roomName === undefined || identity === undefined || !url || !apiKey || !apiSecret) {
  console.error(
    'usage: LIVEKIT_URL=… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… node --import tsx examples/record-room.ts <room> <identity> [outputDir]',
  );
  process.exit(2);
}

let recorder: RoomRecorder;
try {
  // Mints a hidden, subscribe-only recorder token from the key and secret, and joins.
  recorder = await RoomRecorder.connect({
    url,
    apiKey,
    apiSecret,
    roomName,
    connectTimeoutMs: 10_000,
    defaults: {
      outputDir,
      file: { filepath: '{room_name}/{publisher_identity}-{time}' },
      segments: { filenamePrefix: '{room_name}/{publisher_identity}/index', segmentDuration: 4 },
    },
  });
} catch (error) {
  // CONNECT_FAILED (refused, bad URL, bad credentials) or CONNECT_TIMEOUT.
  console.error(error instanceof RecorderError ? `${error.code}: ${error.message}` : error);
  process.exit(3);
}

// Camera + microphone in one file; tracks published later (or republished) join the same file.
const recording = await recorder.recordParticipant(identity);
recording.on('started', (info) =>
  console.log('recording', info.file?.location, info.segments?.playlistLocation),
);
recording.on('health', (w) => console.warn('health:', w.code, w.message));
const timer = setInterval(() => {
  const m = recording.metrics();
  console.log(
    `${(m.durationMs / 1000).toFixed(0)} s, ${m.bytesWritten} bytes, ${m.video?.framesDropped ?? 0} frames dropped`,
  );
}, 10_000);

// Ends when the participant leaves, or on Ctrl-C (encoders flushed, playlist ended with EXT-X-ENDLIST).
await new Promise<void>((done) => {
  recording.once('ended', () => done());
  process.once('SIGINT', () => done());
  process.once('SIGTERM', () => done());
});
clearInterval(timer);
const [info] = await recorder.close(); // stops the recording (if still running) and leaves the room
const final = info ?? recording.info;
console.log(final.status, final.file?.location, final.file?.size, 'bytes');
console.log('playlist', final.segments?.playlistLocation, final.segments?.segmentCount, 'segments');
// rtc-node keeps the process alive until disposed.
const { dispose } = await import('@livekit/rtc-node');
await dispose();
