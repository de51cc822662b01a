import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TrackRecording } from '../src/recording.js';
import type { RecordingInfo } from '../src/types.js';
import {
  ffmpegDecode,
  ffprobeStreams,
  inspectFile,
  judgeAvailable,
  parsePlaylist,
  removeDir,
  SyntheticAudio,
  SyntheticVideo,
  tempDir,
} from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) if (!process.env.KEEP) removeDir(d);
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
const small = { width: 320, height: 240, framerate: 30, videoBitrate: 400, x264Preset: 'ultrafast' as const };

describe('TrackRecording with real rtc-node tracks', () => {
  it('writes TS and HLS from one encode, with status, events and results', async () => {
    const out = dir();
    const video = new SyntheticVideo(320, 240);
    const audio = new SyntheticAudio();
    const rec = new TrackRecording({
      outputDir: out,
      file: { filepath: '{room_name}/{publisher_identity}-{track_type}' },
      segments: {
        filenamePrefix: '{room_name}/hls/seg',
        playlistName: 'index.m3u8',
        livePlaylistName: 'live.m3u8',
        segmentDuration: 1,
      },
      encoding: { ...small, keyFrameInterval: 1 },
      names: { roomName: 'room1', publisherIdentity: 'alice', trackType: 'audio_video' },
      mode: 'participant',
    });
    const statuses: string[] = [];
    const events: string[] = [];
    rec.on('updated', (i) => statuses.push(i.status));
    rec.on('started', () => events.push('started'));
    rec.on('ended', () => events.push('ended'));
    await rec.start();
    expect(rec.status).toBe('ACTIVE');
    rec.attachVideo(video.stream());
    rec.attachAudio(audio.stream());
    await Promise.all([video.run(2500), audio.run(2500)]);
    const mid = rec.metrics();
    expect(mid.bytesWritten).toBeGreaterThan(10_000);
    expect(mid.lastDiskWriteAt).not.toBeNull();
    const info: RecordingInfo = await rec.stop();
    const again = await rec.stop();
    expect(again).toBe(info);
    await Promise.all([video.close(), audio.close()]);

    expect(info.status).toBe('COMPLETE');
    expect(events).toEqual(['started', 'ended']);
    expect(statuses).toEqual(['ACTIVE', 'ENDING', 'COMPLETE']);
    expect(info.egressStatus).toBe(3); // EgressStatus.EGRESS_COMPLETE
    expect(info.file?.filename).toBe(join('room1', 'alice-audio_video.ts'));
    const bytes = readFileSync(info.file?.location as string);
    expect(info.file?.size).toBe(bytes.byteLength);
    expect(info.file?.duration).toBeGreaterThan(2000);
    expect(info.file?.duration).toBeLessThan(3500);
    const report = inspectFile(info.file?.location as string);
    expect(report.streams.map((s) => s.codec).sort()).toEqual(['aac', 'h264']);
    const v = report.streams.find((s) => s.codec === 'h264');
    const a = report.streams.find((s) => s.codec === 'aac');
    expect(v?.frames).toBeGreaterThan(55);
    expect(a?.durationMs).toBeGreaterThan(2000);
    // A/V start and end within a few frames of each other.
    expect(Math.abs((v?.durationMs ?? 0) - (a?.durationMs ?? 0))).toBeLessThan(400);

    const m = rec.metrics();
    expect(m.video?.framesIn).toBeGreaterThan(55);
    expect(m.video?.framesEncoded).toBe(
      (m.video?.framesIn ?? 0) - (m.video?.framesDropped ?? 0) + (m.video?.fillerFrames ?? 0),
    );
    expect(Math.abs(m.avDriftMs)).toBeLessThan(34);

    const seg = info.segments;
    expect(seg?.playlistName).toBe(join('room1', 'hls', 'index.m3u8'));
    expect(seg?.segmentCount).toBeGreaterThanOrEqual(2);
    const pl = parsePlaylist(readFileSync(seg?.playlistLocation as string, 'utf8'));
    expect(pl.endList).toBe(true);
    expect(pl.segments.length).toBe(seg?.segmentCount);
    for (const s of pl.segments) inspectFile(join(out, 'room1', 'hls', s.uri));

    if (judgeAvailable('ffmpeg')) {
      const r = ffmpegDecode(info.file?.location as string);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const streams = ffprobeStreams(info.file?.location as string);
      const fv = streams.find((s) => s.codec_type === 'video');
      expect(fv?.width).toBe(320);
      expect(Number(fv?.nb_read_frames)).toBe(v?.frames);
      expect(ffmpegDecode(seg?.playlistLocation as string).status).toBe(0);
    }
  });
});
