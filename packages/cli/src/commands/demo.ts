/**
 * `trackrec demo`: publishes a moving test picture and a tone through real rtc-node local tracks,
 * paced in real time, and records them through the whole SDK (`@trackrec/core`), then checks the
 * result as `trackrec probe` would. No LiveKit server needed.
 */

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EncodingOptions, RecorderLogger } from '@trackrec/core';
import { fileOption, numberOption, outputFormats, UsageError } from '../args.js';
import { EXIT, type TextOutput } from '../io.js';
import { checkOutputs, describeRecording } from '../report.js';
import { loadCore, loadRtc } from '../rtc.js';
import { StatusLine } from '../status-line.js';
import { TestPicture, TestTone } from '../test-pattern.js';
import type { Command } from './command.js';

const NAME = 'demo';
const FPS = 30;
const SAMPLE_RATE = 48_000;
const CHANNELS = 2;
/** 10 ms audio frames, as WebRTC sends them. */
const AUDIO_FRAME_SAMPLES = SAMPLE_RATE / 100;
const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'] as const;
type X264Preset = NonNullable<EncodingOptions['x264Preset']>;

/** Parses `WIDTHxHEIGHT` (even numbers, 16…3840 × 16…2160). */
export function parseSize(command: string, raw: string): { width: number; height: number } {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(raw);
  const width = m === null ? Number.NaN : Number(m[1]);
  const height = m === null ? Number.NaN : Number(m[2]);
  if (
    !(width >= 16 && width <= 3840 && width % 2 === 0) ||
    !(height >= 16 && height <= 2160 && height % 2 === 0)
  ) {
    throw new UsageError(
      `--size must be WIDTHxHEIGHT with even numbers up to 3840x2160 (got ${JSON.stringify(raw)})`,
      command,
    );
  }
  return { width, height };
}

/** A logger for the recorder that prints warnings and errors on `out`, above the status line. */
export function warningLogger(out: TextOutput, prefix: string): RecorderLogger {
  const line = (level: string, o: unknown, msg?: string): void => {
    const text = msg ?? (typeof o === 'string' ? o : JSON.stringify(o));
    out.write(`${out.isTTY === true ? '\r\x1b[2K' : ''}${prefix}: ${level}: ${text}\n`);
  };
  return {
    debug() {},
    info() {},
    warn: (o: unknown, msg?: string) => line('warning', o, msg),
    error: (o: unknown, msg?: string) => line('error', o, msg),
  } as RecorderLogger;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const timer = setTimeout(finish, Math.max(0, ms));
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** `trackrec demo`. */
export const demoCommand: Command = {
  name: NAME,
  summary: 'record a moving test picture and a tone through real rtc-node tracks (no server)',
  handlesSignals: true,
  help: `Usage: trackrec demo [options]

Publishes a moving test picture (colour bars, a bouncing square) and a tone (440 Hz, a beep every
second) through real @livekit/rtc-node local tracks (VideoSource/AudioSource), paced in real time,
and records them with @trackrec/core as a LiveKit participant would be recorded: H.264 + AAC (or
Opus) into a growing MPEG-TS file (or MP4 with --format mp4), plus HLS with --hls. Shows a status line while recording, then
what was written and the verdict of trackrec probe on it. Ctrl-C stops early, cleanly.

Options:
  --duration <s>        seconds to record (default 10)
  --out <dir>           output directory (default ./recordings)
  --format <fmt>        ts (default) or mp4: fragmented while recording, rewritten as a
                        standard progressive MP4 (moov first) on a clean stop
  --hls                 also write HLS (2 s segments, EVENT playlist) from the same encode
  --hls-format <fmt>    ts (default) or fmp4 (EXT-X-MAP init segment + .m4s segments)
  --audio <codec>       aac (default) or opus
  --size <WxH>          picture size (default 1280x720)
  --x264-preset <name>  ${X264_PRESETS.join(', ')} (default veryfast)
  -h, --help            this help

Writes <dir>/demo-<time>.ts (.mp4) and, with --hls, <dir>/demo-<time>/demo.m3u8 and its segments.

Exit codes: 0 recorded and checks clean, 1 recording failed or the check found violations,
2 usage error.`,
  options: {
    duration: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    hls: { type: 'boolean' },
    'hls-format': { type: 'string' },
    audio: { type: 'string' },
    size: { type: 'string' },
    'x264-preset': { type: 'string' },
  },
  async run({ values, positionals, io }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`, NAME);
    const durationS = numberOption(NAME, values, 'duration', { min: 0.5, max: 86_400 }) ?? 10;
    const outDir = resolve(io.cwd ?? process.cwd(), (values.out as string | undefined) ?? 'recordings');
    const audioCodec = (values.audio as string | undefined) ?? 'aac';
    if (audioCodec !== 'aac' && audioCodec !== 'opus') {
      throw new UsageError(`--audio must be aac or opus (got ${JSON.stringify(audioCodec)})`, NAME);
    }
    const { width, height } = parseSize(NAME, (values.size as string | undefined) ?? '1280x720');
    const x264Preset = (values['x264-preset'] as string | undefined) ?? 'veryfast';
    if (!(X264_PRESETS as readonly string[]).includes(x264Preset)) {
      throw new UsageError(`--x264-preset must be one of ${X264_PRESETS.join(', ')}`, NAME);
    }
    const hls = values.hls === true;
    const formats = outputFormats(NAME, values);
    mkdirSync(outDir, { recursive: true });

    const rtc = await loadRtc();
    const { TrackRecording } = await loadCore();
    // The 720p preset's 3 Mb/s scaled by picture area, never below 300 kb/s.
    const videoBitrate = Math.max(300, Math.round((3000 * width * height) / (1280 * 720)));
    const recording = new TrackRecording({
      outputDir: outDir,
      file: fileOption('demo-{time}', formats),
      ...(hls
        ? {
            segments: {
              filenamePrefix: 'demo-{time}/demo',
              segmentDuration: 2,
              ...(formats.hls === 'fmp4' ? { segmentType: 'fmp4' as const } : {}),
            },
          }
        : {}),
      encoding: {
        width,
        height,
        framerate: FPS,
        videoBitrate,
        keyFrameInterval: 1,
        audioCodec,
        x264Preset: x264Preset as X264Preset,
      },
      names: { roomName: 'demo', publisherIdentity: 'demo' },
      mode: 'participant',
      logger: warningLogger(io.stderr, 'trackrec demo'),
    });
    const started = await recording.start();
    if (started.status === 'FAILED') {
      io.stderr.write(`trackrec demo: the recording could not start: ${started.error}\n`);
      return EXIT.failure;
    }

    const picture = new TestPicture(width, height);
    const tone = new TestTone(SAMPLE_RATE, CHANNELS);
    const videoSource = new rtc.VideoSource(width, height);
    const videoTrack = rtc.LocalVideoTrack.createVideoTrack('demo-camera', videoSource);
    const audioSource = new rtc.AudioSource(SAMPLE_RATE, CHANNELS);
    const audioTrack = rtc.LocalAudioTrack.createAudioTrack('demo-microphone', audioSource);
    recording.attachVideo(new rtc.VideoStream(videoTrack));
    recording.attachAudio(
      new rtc.AudioStream(audioTrack, { sampleRate: SAMPLE_RATE, numChannels: CHANNELS }),
    );

    // Stop early on Ctrl-C, or when the recording ends by itself (a disk or encoder failure).
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    io.signal?.addEventListener('abort', onAbort, { once: true });
    if (io.signal?.aborted === true) stop.abort();
    recording.once('ended', onAbort);

    let fpsAt = { t: performance.now(), frames: 0 };
    let fps: number | null = null;
    const status = new StatusLine({
      output: io.stderr,
      sample: () => {
        const m = recording.metrics();
        const now = performance.now();
        const frames = m.video?.framesEncoded ?? 0;
        if (now - fpsAt.t >= 900) {
          fps = ((frames - fpsAt.frames) * 1000) / (now - fpsAt.t);
          fpsAt = { t: now, frames };
        }
        return {
          label: 'demo',
          elapsedMs: m.durationMs,
          // The whole recording's average: the test picture's rate is steady.
          bitrate: m.durationMs > 500 ? (m.bytesWritten * 8000) / m.durationMs : null,
          bytes: m.bytesWritten,
          fps,
          drops: m.video?.framesDropped ?? 0,
          lastWriteAt: m.lastDiskWriteAt,
        };
      },
      plainIntervalMs: 5000,
    });
    status.start();

    // Real-time pacing: each picture and each 10 ms of sound is sent when its time comes. A late
    // wake-up sends the current picture (never a burst of stale ones) and the sound that is due.
    const t0 = performance.now();
    const endAt = t0 + durationS * 1000;
    let videoN = 0;
    let audioN = 0;
    const totalAudioFrames = Math.round(durationS * 100);
    while (!stop.signal.aborted) {
      const now = performance.now();
      if (now >= endAt && audioN >= totalAudioFrames) break;
      const videoDue = Math.floor(((Math.min(now, endAt) - t0) * FPS) / 1000);
      if (videoDue >= videoN && now < endAt) {
        videoN = videoDue;
        const tUs = (t0 + (videoN * 1000) / FPS) * 1000;
        videoSource.captureFrame(
          new rtc.VideoFrame(picture.frame(videoN), width, height, rtc.VideoBufferType.I420),
          BigInt(Math.round(tUs)),
        );
        videoN++;
      }
      while (audioN < totalAudioFrames && t0 + audioN * 10 <= performance.now()) {
        const pcm = tone.next(AUDIO_FRAME_SAMPLES);
        await audioSource.captureFrame(new rtc.AudioFrame(pcm, SAMPLE_RATE, CHANNELS, AUDIO_FRAME_SAMPLES));
        audioN++;
      }
      const next = Math.min(t0 + (videoN * 1000) / FPS, t0 + audioN * 10);
      await sleep(next - performance.now(), stop.signal);
    }
    io.signal?.removeEventListener('abort', onAbort);
    recording.off('ended', onAbort);

    const info = await recording.stop();
    await Promise.allSettled([videoTrack.close(), audioTrack.close()]);
    await audioSource.close();
    status.stop();

    const metrics = recording.metrics();
    const wallS = (performance.now() - t0) / 1000;
    const lines = [
      `demo: ${width}x${height} @ ${FPS} fps H.264 (x264 ${x264Preset}) + ${audioCodec === 'aac' ? 'AAC' : 'Opus'}, ` +
        `${wallS.toFixed(1)} s${stop.signal.aborted && info.status !== 'FAILED' ? ' (stopped early)' : ''}`,
      ...describeRecording(info, metrics),
    ];
    const checks = info.status === 'FAILED' ? [] : await checkOutputs(info);
    for (const c of checks) {
      lines.push(`  check     ${c.kind} ${c.summary}`);
      if (!c.ok && c.details !== '') lines.push(...c.details.split('\n').map((l) => `            ${l}`));
    }
    const ok = info.status === 'COMPLETE' && checks.length > 0 && checks.every((c) => c.ok);
    lines.push(ok ? 'result: ok' : 'result: FAILED');
    io.stdout.write(`${lines.join('\n')}\n`);
    return ok ? EXIT.ok : EXIT.failure;
  },
};
