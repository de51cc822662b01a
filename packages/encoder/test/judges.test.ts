// Independent judges: Debian's FFmpeg 5.1 command-line tools (a different build from node-av's
// FFmpeg 8) decode our elementary streams. Skipped when not installed unless TRACKREC_REQUIRE_JUDGES=1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioFrame, VideoBufferType, VideoFrame } from '@livekit/rtc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioEncoder } from '../src/audio-encoder.js';
import { silentLogger } from '../src/log.js';
import { VideoEncoder } from '../src/video-encoder.js';
import { judgeAvailable, movingI420, sineFrame } from './helpers.js';

const haveFfmpeg = judgeAvailable('ffmpeg') && judgeAvailable('ffprobe');
const dir = mkdtempSync(join(tmpdir(), 'trackrec-encoder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Debian's ffmpeg decodes the whole file with `-xerror`: no error, nothing on stderr. */
function expectFfmpegDecodes(file: string): void {
  const decode = run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  expect(decode.stderr).toBe('');
  expect(decode.status).toBe(0);
}

/** `ffprobe -show_entries <entries> -of csv=p=0` on `file`. */
function ffprobeCsv(
  file: string,
  entries: string,
): { status: number | null; stdout: string; stderr: string } {
  return run('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'csv=p=0', file]);
}

/** ADTS header (ISO/IEC 13818-7 §6.2, 7 bytes, no CRC) for a raw AAC frame, from its AudioSpecificConfig. */
function adts(asc: Uint8Array, frameLength: number): Uint8Array {
  const objectType = (asc[0]! >> 3) & 0x1f;
  const sfIndex = ((asc[0]! & 0x07) << 1) | (asc[1]! >> 7);
  const channels = (asc[1]! >> 3) & 0x0f;
  const len = frameLength + 7;
  return Uint8Array.from([
    0xff, // syncword
    0xf1, // syncword, ID=0 (MPEG-4), layer 0, protection_absent 1
    ((objectType - 1) << 6) | (sfIndex << 2) | (channels >> 2), // profile, sampling_frequency_index
    ((channels & 3) << 6) | (len >> 11), // channel_configuration, aac_frame_length (high bits)
    (len >> 3) & 0xff,
    ((len & 7) << 5) | 0x1f, // aac_frame_length (low bits), adts_buffer_fullness 0x7FF
    0xfc, // buffer fullness, number_of_raw_data_blocks_in_frame 0
  ]);
}

describe.runIf(haveFfmpeg)('judged by Debian ffmpeg/ffprobe', () => {
  it('decodes our H.264 Annex B with a size change without errors', async () => {
    const enc = await VideoEncoder.create({
      hardware: 'software',
      onResolutionChange: 'reopen',
      width: 640,
      height: 360,
      logger: silentLogger,
    });
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) {
      const [w, h] = i < 15 ? [640, 360] : [320, 180];
      const frame = new VideoFrame(movingI420(w, h, i), w, h, VideoBufferType.I420);
      for (const p of await enc.encode(frame, i * 33_333)) chunks.push(p.data);
    }
    for (const p of await enc.flush()) chunks.push(p.data);
    await enc.close();
    const file = join(dir, 'video.h264');
    writeFileSync(file, Buffer.concat(chunks));
    expectFfmpegDecodes(file);
    const probe = ffprobeCsv(file, 'frame=width,height,key_frame');
    // ffprobe prints key_frame,...,width,height per frame (plus blank side-data lines).
    const frames = probe.stdout
      .split('\n')
      .map((line) => /^(\d),.*?(\d+),(\d+)/.exec(line))
      .filter((m) => m !== null)
      .map((m) => `${m[1]} ${m[2]}x${m[3]}`);
    expect(frames).toHaveLength(30);
    expect(frames[0]).toBe('1 640x360');
    expect(frames[14]).toBe('0 640x360');
    expect(frames[15]).toBe('1 320x180');
    expect(frames.filter((f) => f.startsWith('1 '))).toHaveLength(2);
  });

  it('decodes our AAC (wrapped in ADTS from the AudioSpecificConfig) to the right duration', async () => {
    const enc = await AudioEncoder.create({ codec: 'aac' });
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const frame = new AudioFrame(sineFrame(440, 48_000, 2, i * 480, 480), 48_000, 2, 480);
      for (const p of enc.encode(frame)) chunks.push(adts(enc.codecConfig, p.data.byteLength), p.data);
    }
    for (const p of enc.flush()) chunks.push(adts(enc.codecConfig, p.data.byteLength), p.data);
    await enc.close();
    const file = join(dir, 'audio.aac');
    writeFileSync(file, Buffer.concat(chunks));
    expectFfmpegDecodes(file);
    const probe = ffprobeCsv(file, 'stream=codec_name,profile,sample_rate,channels');
    expect(probe.stdout.trim()).toBe('aac,LC,48000,2');
  });
});
