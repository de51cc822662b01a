/**
 * A LiveKit agent worker that records every room it is dispatched to: each remote participant
 * (present and joining) into its own growing MPEG-TS file and HLS playlist, in-process. Recordings
 * are finalised (encoders flushed, EXT-X-ENDLIST written) in the job's shutdown callback, when the
 * room ends or the job is stopped.
 *
 *   LIVEKIT_URL=wss://… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… \
 *     node --import tsx examples/agent-recorder/agent.ts start      # or `dev`
 *
 * Scale-out is LiveKit's agent dispatch: run this worker on as many machines as needed; the server
 * hands each room to one worker with capacity (see README.md next to this file).
 */

import { fileURLToPath } from 'node:url';
import {
  AutoSubscribe,
  cli,
  defineAgent,
  type JobContext,
  ServerOptions,
  WorkerPermissions,
} from '@livekit/agents';
import { RoomRecorder, toEgressInfo } from '@trackrec/core';

const OUTPUT_DIR = process.env.TRACKREC_OUTPUT_DIR ?? 'recordings';

export default defineAgent({
  entry: async (ctx: JobContext) => {
    // Subscribe to everything: the recorder attaches to tracks as they are subscribed.
    await ctx.connect(undefined, AutoSubscribe.SUBSCRIBE_ALL);
    const recorder = RoomRecorder.attach(ctx.room, {
      defaults: {
        outputDir: OUTPUT_DIR,
        file: { filepath: '{room_name}/{publisher_identity}-{time}' },
        segments: { filenamePrefix: '{room_name}/{publisher_identity}-{time}/index', segmentDuration: 4 },
      },
    });
    recorder.on('ended', (info) => {
      // Egress-shaped result, e.g. for existing webhook code.
      const egress = toEgressInfo(info, { roomName: ctx.room.name ?? '' });
      console.log(`recording ${info.id} ${info.status}: ${info.file?.location} (${egress.status})`);
    });
    // Finalise every recording before the job process exits (room ended, job stopped, worker drained).
    ctx.addShutdownCallback(async () => {
      const infos = await recorder.close(); // the agent owns the room: close() leaves it connected
      console.log(`room ${ctx.room.name}: ${infos.length} recordings finalised`);
    });
    await recorder.startAuto();
  },
});

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cli.runApp(
    new ServerOptions({
      agent: fileURLToPath(import.meta.url),
      // A recorder only listens: hidden, subscribe-only.
      permissions: new WorkerPermissions(false, true, false, false, [], true),
      // Explicit dispatch: rooms get this worker only when asked for it (API or token room config).
      agentName: 'trackrec-recorder',
    }),
  );
}
