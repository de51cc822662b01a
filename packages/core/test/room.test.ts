import { createHmac } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Room } from '@livekit/rtc-node';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { RecorderError } from '../src/errors.js';
import { RoomRecorder } from '../src/room.js';
import { mintRecorderToken } from '../src/token.js';
import type { RecordingInfo } from '../src/types.js';
import {
  inspectFile,
  judgeAvailable,
  lumaMeans,
  removeDir,
  SyntheticAudio,
  SyntheticVideo,
  sleep,
  tempDir,
} from './helpers.js';
import { closedPort, silentServer } from './net.js';
import { StandInRoom } from './stand-in-room.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const small = { width: 320, height: 240, framerate: 30, videoBitrate: 400, x264Preset: 'ultrafast' as const };
const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

function b64url(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

describe('recorder token', () => {
  it('grants join + subscribe only, hidden, flagged as recorder (HS256 signed with the secret)', async () => {
    const jwt = await mintRecorderToken({
      apiKey: 'APIkey1',
      apiSecret: SECRET,
      roomName: 'room-1',
      identity: 'rec-1',
    });
    const [header, payload, signature] = jwt.split('.');
    expect(JSON.parse(b64url(header as string).toString()).alg).toBe('HS256');
    const claims = JSON.parse(b64url(payload as string).toString());
    expect(claims.iss).toBe('APIkey1');
    expect(claims.sub).toBe('rec-1');
    expect(claims.video).toEqual({
      roomJoin: true,
      room: 'room-1',
      canSubscribe: true,
      canPublish: false,
      canPublishData: false,
      hidden: true,
      recorder: true,
    });
    expect(claims.exp - claims.nbf).toBe(6 * 3600);
    // Signature checked independently of the SDK …
    const expected = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
    expect(signature).toBe(expected);
    // … and by the SDK's verifier.
    const verified = await new TokenVerifier('APIkey1', SECRET).verify(jwt);
    expect(verified.video?.recorder).toBe(true);
    await expect(new TokenVerifier('APIkey1', `${SECRET}x`).verify(jwt)).rejects.toThrow();
  });

  it('rejects missing credentials naming the option', async () => {
    await expect(mintRecorderToken({ apiKey: '', apiSecret: SECRET, roomName: 'r' })).rejects.toThrow(
      /options.apiKey/,
    );
    await expect(mintRecorderToken({ apiKey: 'k', apiSecret: SECRET, roomName: '' })).rejects.toThrow(
      /options.roomName/,
    );
  });
});

describe('RoomRecorder.connect', () => {
  const base = { apiKey: 'k', apiSecret: SECRET, roomName: 'r', defaults: { outputDir: '/tmp' } };

  it('fails fast with a clear error when nothing listens', async () => {
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}`;
    const t0 = performance.now();
    const error = await RoomRecorder.connect({ ...base, url, connectTimeoutMs: 20_000 }).catch(
      (e: unknown) => e,
    );
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(RecorderError);
    expect((error as RecorderError).code).toBe('CONNECT_FAILED');
    expect((error as RecorderError).message).toContain(url);
    expect((error as RecorderError).message).toMatch(/refused/i);
  });

  it('times out when the server accepts but never answers', async () => {
    const { port, close } = await silentServer();
    try {
      const t0 = performance.now();
      const error = await RoomRecorder.connect({
        ...base,
        url: `ws://127.0.0.1:${port}`,
        connectTimeoutMs: 700,
      }).catch((e: unknown) => e);
      const elapsed = performance.now() - t0;
      expect((error as RecorderError).code).toBe('CONNECT_TIMEOUT');
      expect(elapsed).toBeGreaterThanOrEqual(690);
      expect(elapsed).toBeLessThan(5000);
    } finally {
      await close();
    }
  });

  it('rejects a malformed URL', async () => {
    const error = await RoomRecorder.connect({ ...base, url: 'not a url' }).catch((e: unknown) => e);
    expect((error as RecorderError).code).toBe('CONNECT_FAILED');
    expect((error as RecorderError).message).toMatch(/url/i);
  });
});

describe('RoomRecorder event mapping', () => {
  it('participant recording follows a republished camera and ends when the participant leaves', async () => {
    const out = tempDir();
    dirs.push(out);
    const room = new StandInRoom('RM_test');
    const recorder = RoomRecorder.attach(room as unknown as Room, {
      defaults: { outputDir: out, encoding: small, gapFill: { videoAfterMs: 300, videoFps: 5 } },
    });
    const alice = room.join('alice');
    const cam1 = new SyntheticVideo(320, 240);
    const mic = new SyntheticAudio();
    const camPub = room.publish(alice, 'TR_cam1', 'video', cam1.track);
    room.publish(alice, 'TR_mic', 'audio', mic.track);
    const rec = await recorder.recordParticipant('alice');
    const ended = new Promise<RecordingInfo>((r) => rec.once('ended', r));
    const micRun = mic.run(2600);
    await cam1.run(900);
    room.unpublish(alice, camPub);
    await cam1.close();
    await sleep(500);
    const cam2 = new SyntheticVideo(320, 240);
    cam2.background = 120;
    room.publish(alice, 'TR_cam2', 'video', cam2.track);
    await cam2.run(900);
    await micRun;
    room.leave(alice);
    const info = await ended;
    await Promise.all([cam2.close(), mic.close()]);
    expect(info.status).toBe('COMPLETE');
    expect(info.mode).toBe('participant');
    expect(info.file?.filename).toMatch(/^stand-in-alice-\d{4}-\d\d-\d\dT\d{6}\.ts$/);
    expect(readdirSync(out).filter((f) => f.endsWith('.ts')).length).toBe(1);
    const report = inspectFile(info.file?.location as string);
    expect(report.streams.map((s) => s.codec).sort()).toEqual(['aac', 'h264']);
    expect(report.durationMs).toBeGreaterThan(2000);
    if (judgeAvailable('ffprobe')) {
      const luma = lumaMeans(info.file?.location as string);
      expect(luma.some((y) => y < 70)).toBe(true); // first camera
      expect(luma.some((y) => y > 125)).toBe(true); // second camera
    }
    expect(recorder.recordings).toEqual([]);
    await recorder.close();
  });

  it('auto mode records every participant, present and joining, in its own file', async () => {
    const out = tempDir();
    dirs.push(out);
    const room = new StandInRoom('RM_test');
    const logs: string[] = [];
    const logger = {
      debug: () => {},
      info: (o: unknown, m?: string) => logs.push(typeof o === 'string' ? o : (m ?? '')),
      warn: () => {},
      error: () => {},
    };
    const recorder = RoomRecorder.attach(room as unknown as Room, {
      defaults: {
        outputDir: out,
        video: false,
        file: { filepath: '{room_id}/{publisher_identity}' },
        logger,
      },
    });
    const bob = room.join('bob');
    const bobMic = new SyntheticAudio();
    room.publish(bob, 'TR_bob', 'audio', bobMic.track);
    const started = await recorder.startAuto();
    expect(started.length).toBe(1);
    const created = new Promise<unknown>((r) => recorder.once('recording', r));
    const carol = room.join('../carol');
    const carolMic = new SyntheticAudio(48_000, 660);
    room.publish(carol, 'TR_carol', 'audio', carolMic.track);
    await created;
    await sleep(50);
    expect(recorder.recordings.length).toBe(2);
    expect(recorder.metricSamples().filter((s) => s.name === 'trackrec_bytes_written_total').length).toBe(2);
    await Promise.all([bobMic.run(1000), carolMic.run(1000)]);
    const infos = await recorder.close();
    await Promise.all([bobMic.close(), carolMic.close()]);
    expect(infos.map((i) => i.status)).toEqual(['COMPLETE', 'COMPLETE']);
    expect(infos.map((i) => i.mode)).toEqual(['auto', 'auto']);
    expect(infos.map((i) => i.file?.filename).sort()).toEqual(
      ['RM_test/___carol.ts', 'RM_test/bob.ts'].sort(),
    );
    for (const i of infos) {
      const r = inspectFile(i.file?.location as string);
      expect(r.durationMs).toBeGreaterThan(700);
    }
    expect(logs.filter((l) => l.includes('started in auto mode')).length).toBe(2);
  });
});

describe('RoomRecorder track recordings', () => {
  it('track composite records the two named tracks; a single-track recording ends when its track is unpublished', async () => {
    const out = tempDir();
    dirs.push(out);
    const room = new StandInRoom('RM_test');
    const recorder = RoomRecorder.attach(room as unknown as Room, {
      defaults: {
        outputDir: out,
        encoding: small,
        file: { filepath: '{track_id}-{track_type}-{track_source}' },
      },
    });
    const dave = room.join('dave');
    const cam = new SyntheticVideo(320, 240);
    const mic = new SyntheticAudio();
    room.publish(dave, 'TR_v', 'video', cam.track);
    const micPub = room.publish(dave, 'TR_a', 'audio', mic.track);
    const composite = await recorder.recordTrackComposite({ videoTrackId: 'TR_v', audioTrackId: 'TR_a' });
    const single = await recorder.recordTrack('TR_a');
    await expect(recorder.recordTrack('TR_missing')).rejects.toThrow(/no track TR_missing/);
    const singleEnded = new Promise<RecordingInfo>((r) => single.once('ended', r));
    await Promise.all([cam.run(1200), mic.run(1200)]);
    room.unpublish(dave, micPub);
    const s = await singleEnded;
    const c = await composite.stop();
    await recorder.close();
    await Promise.all([cam.close(), mic.close()]);
    expect(s.status).toBe('COMPLETE');
    expect(s.mode).toBe('track');
    expect(s.file?.filename).toBe('TR_a-audio-microphone.ts');
    expect(inspectFile(s.file?.location as string).streams.map((x) => x.codec)).toEqual(['aac']);
    expect(c.mode).toBe('track_composite');
    expect(c.file?.filename).toBe('TR_v-audio_video-unknown.ts');
    const report = inspectFile(c.file?.location as string);
    expect(report.streams.map((x) => x.codec).sort()).toEqual(['aac', 'h264']);
    expect(report.durationMs).toBeGreaterThan(1000);
  });
});
