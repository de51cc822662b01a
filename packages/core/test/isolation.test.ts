import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecorderError } from '../src/errors.js';
import type { RecorderLogger } from '../src/log.js';
import { TrackRecording } from '../src/recording.js';
import type { HealthWarning, RecordingInfo } from '../src/types.js';
import {
  ffmpegDecode,
  inspectFile,
  judgeAvailable,
  removeDir,
  SyntheticAudio,
  SyntheticVideo,
  tempDir,
} from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const small = { width: 320, height: 240, framerate: 30, videoBitrate: 400, x264Preset: 'ultrafast' as const };

/** A pino-shaped logger that keeps every line. */
function memoryLogger(): RecorderLogger & {
  lines: { level: string; obj: Record<string, unknown>; msg: string }[];
} {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const make =
    (level: string, bindings: Record<string, unknown>) =>
    (obj: Record<string, unknown> | string, msg?: string) => {
      if (typeof obj === 'string') lines.push({ level, obj: { ...bindings }, msg: obj });
      else lines.push({ level, obj: { ...bindings, ...obj }, msg: msg ?? '' });
    };
  const build = (bindings: Record<string, unknown>): RecorderLogger => ({
    debug: make('debug', bindings),
    info: make('info', bindings),
    warn: make('warn', bindings),
    error: make('error', bindings),
    child: (more) => build({ ...bindings, ...more }),
  });
  return Object.assign(build({}), { lines });
}

describe('isolation', () => {
  it('a recording on a full disk fails alone; the other completes', async () => {
    if (!existsSync('/dev/full')) throw new Error('/dev/full is required');
    const out = tempDir();
    dirs.push(out);
    const logger = memoryLogger();
    const video = new SyntheticVideo(320, 240);
    const audio = new SyntheticAudio();
    // The failing output: a name inside outputDir that leads to /dev/full (every write: ENOSPC).
    symlinkSync('/dev/full', join(out, 'full.ts'));
    const full = new TrackRecording({
      outputDir: out,
      file: { filepath: 'full', fsync: 'none' },
      encoding: small,
      logger,
      id: 'full',
    });
    const good = new TrackRecording({
      outputDir: out,
      file: { filepath: 'good' },
      encoding: small,
      logger,
      id: 'good',
    });
    const fullEnded = new Promise<RecordingInfo>((r) => full.once('ended', r));
    for (const r of [full, good]) {
      await r.start();
      r.attachVideo(video.stream());
      r.attachAudio(audio.stream());
    }
    await Promise.all([video.run(1500), audio.run(1500)]);
    const failed = await fullEnded;
    const ok = await good.stop();
    await Promise.all([video.close(), audio.close()]);

    expect(failed.status).toBe('FAILED');
    expect(failed.egressStatus).toBe(4);
    expect(failed.errorCause).toBeInstanceOf(RecorderError);
    expect((failed.errorCause as RecorderError).code).toBe('DISK');
    expect(failed.error).toMatch(/no space left/);
    expect(ok.status).toBe('COMPLETE');
    expect(ok.file?.duration).toBeGreaterThan(1200);
    inspectFile(ok.file?.location as string);
    if (judgeAvailable('ffmpeg')) expect(ffmpegDecode(ok.file?.location as string).status).toBe(0);
    // Logs carry the recording id and the mode; the failure is logged as an error of that recording only.
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.obj.recordingId)).toEqual(['full']);
    const started = logger.lines.filter((l) => l.msg.includes('started in custom mode'));
    expect(started.map((l) => l.obj.recordingId).sort()).toEqual(['full', 'good']);
  });

  it('refuses bad options with errors naming the option', () => {
    expect(() => new TrackRecording({ outputDir: '' })).toThrow(/options.outputDir/);
    expect(() => new TrackRecording({ outputDir: '/tmp', video: false, audio: false })).toThrow(
      /options.video/,
    );
    expect(() => new TrackRecording({ outputDir: '/tmp', maxDurationS: -1 })).toThrow(/options.maxDurationS/);
    expect(() => new TrackRecording({ outputDir: '/tmp', videoQueueFrames: 0 })).toThrow(
      /options.videoQueueFrames/,
    );
  });

  it('fails clearly when a template leaves the output directory', async () => {
    const out = tempDir();
    dirs.push(out);
    const rec = new TrackRecording({ outputDir: out, file: { filepath: '../outside' }, encoding: small });
    const info = await rec.start();
    expect(info.status).toBe('FAILED');
    expect(info.error).toMatch(/options.file.filepath/);
    expect(existsSync(`${out}/../outside.ts`)).toBe(false);
  });
});

describe('watchdog', () => {
  it('warns when nothing reaches the disk', async () => {
    const out = tempDir();
    dirs.push(out);
    const logger = memoryLogger();
    const rec = new TrackRecording({
      outputDir: out,
      file: { filepath: 'stalled' },
      audio: false,
      encoding: small,
      gapFill: { videoFps: 0 }, // no filler: a video track that never delivers writes nothing
      health: { stallMs: 300, checkIntervalMs: 50 },
      logger,
    });
    const warnings: HealthWarning[] = [];
    rec.on('health', (w) => warnings.push(w));
    await rec.start();
    await new Promise((r) => setTimeout(r, 600));
    expect(warnings.length).toBe(1); // once per episode
    expect(warnings[0]?.code).toBe('NO_DISK_WRITE');
    expect(warnings[0]?.id).toBe(rec.id);
    expect(logger.lines.some((l) => l.level === 'warn' && l.obj.code === 'NO_DISK_WRITE')).toBe(true);
    expect(rec.metrics().lastDiskWriteAt).toBeNull();
    await rec.stop();
  });

  it('stays quiet while the file grows', async () => {
    const out = tempDir();
    dirs.push(out);
    const rec = new TrackRecording({
      outputDir: out,
      file: { filepath: 'healthy' },
      video: false,
      health: { stallMs: 400, checkIntervalMs: 50 },
    });
    const warnings: HealthWarning[] = [];
    rec.on('health', (w) => warnings.push(w));
    await rec.start();
    const audio = new SyntheticAudio();
    rec.attachAudio(audio.stream());
    await audio.run(1200);
    await rec.stop();
    await audio.close();
    expect(warnings).toEqual([]);
    expect(rec.metrics().bytesWritten).toBeGreaterThan(0);
  });
});

describe('watchdog: file not growing', () => {
  it('warns when frames arrive and writes succeed but the file does not grow', async () => {
    const out = tempDir();
    dirs.push(out);
    // Writes to /dev/null succeed, yet the "file" never grows: what a silently failing mount looks like.
    symlinkSync('/dev/null', join(out, 'sink.ts'));
    const rec = new TrackRecording({
      outputDir: out,
      file: { filepath: 'sink', fsync: 'none' },
      video: false,
      health: { stallMs: 300, checkIntervalMs: 50 },
    });
    const warnings: HealthWarning[] = [];
    rec.on('health', (w) => warnings.push(w));
    await rec.start();
    const audio = new SyntheticAudio();
    rec.attachAudio(audio.stream());
    await audio.run(900);
    const m = rec.metrics();
    await rec.stop();
    await audio.close();
    expect(m.bytesWritten).toBeGreaterThan(0);
    expect(warnings.map((w) => w.code)).toEqual(['FILE_NOT_GROWING']);
    expect(warnings[0]?.message).toContain('sink.ts');
  });
});

describe('encoder faults', () => {
  it('a recording whose encoder cannot open fails alone with a clear error', async () => {
    const out = tempDir();
    dirs.push(out);
    const bad = new TrackRecording({
      outputDir: out,
      file: { filepath: 'bad' },
      encoding: { ...small, hardware: 'vaapi' }, // explicitly requested, absent here
      id: 'bad',
    });
    const good = new TrackRecording({ outputDir: out, file: { filepath: 'good' }, video: false, id: 'good' });
    const [badInfo] = await Promise.all([bad.start(), good.start()]);
    expect(badInfo.status).toBe('FAILED');
    expect(badInfo.errorCause).toBeInstanceOf(RecorderError);
    expect((badInfo.errorCause as RecorderError).code).toBe('ENCODER');
    expect(badInfo.error).toMatch(/VA-API|vaapi/i);
    const audio = new SyntheticAudio();
    good.attachAudio(audio.stream());
    await audio.run(600);
    const ok = await good.stop();
    await audio.close();
    expect(ok.status).toBe('COMPLETE');
    inspectFile(ok.file?.location as string);
  });

  it('drops invalid frames from a source and goes on', async () => {
    const out = tempDir();
    dirs.push(out);
    const rec = new TrackRecording({ outputDir: out, file: { filepath: 'invalid' }, encoding: small });
    await rec.start();
    const video = new SyntheticVideo(320, 240);
    rec.attachVideo(video.stream());
    const run = video.run(800);
    await new Promise((r) => setTimeout(r, 300));
    // A frame whose buffer is far too short for its size, and an audio frame with no channels.
    rec.pushVideoFrame({
      frame: {
        data: new Uint8Array(10),
        width: 320,
        height: 240,
        type: 5,
        convert: () => {
          throw new Error('no');
        },
      },
      timestampUs: 1,
    });
    rec.pushAudioFrame({
      data: new Int16Array(480),
      sampleRate: 48_000,
      channels: 0,
      samplesPerChannel: 480,
    });
    // And one whose buffer is shorter than its sample count says.
    rec.pushAudioFrame({
      data: new Int16Array(10),
      sampleRate: 48_000,
      channels: 2,
      samplesPerChannel: 480,
    });
    await run;
    const info = await rec.stop();
    await video.close();
    expect(info.status).toBe('COMPLETE');
    const m = rec.metrics();
    expect(m.video?.framesDropped).toBeGreaterThanOrEqual(1);
    expect(m.video?.framesInvalid).toBe(1);
    expect(m.audio?.framesInvalid).toBe(2);
    inspectFile(info.file?.location as string);
    if (judgeAvailable('ffmpeg')) expect(ffmpegDecode(info.file?.location as string).status).toBe(0);
  });
});

describe('listeners', () => {
  it('a throwing event listener is logged and does not disturb the recording', async () => {
    const out = tempDir();
    dirs.push(out);
    const logger = memoryLogger();
    const rec = new TrackRecording({ outputDir: out, file: { filepath: 'listener' }, video: false, logger });
    rec.on('updated', () => {
      throw new Error('listener bug');
    });
    await rec.start();
    const audio = new SyntheticAudio();
    rec.attachAudio(audio.stream());
    await audio.run(500);
    const info = await rec.stop();
    await audio.close();
    expect(info.status).toBe('COMPLETE');
    inspectFile(info.file?.location as string);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.length).toBe(3); // ACTIVE, ENDING, COMPLETE updates
    expect(errors[0]?.msg).toMatch(/'updated' listener threw: listener bug/);
  });
});
