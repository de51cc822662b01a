import { AV_LOG_INFO, AV_LOG_WARNING } from 'node-av/constants';
import { Log } from 'node-av/lib';
import { describe, expect, it } from 'vitest';
import { AudioEncoder, setFFmpegLogLevel } from '../src/index.js';

describe('FFmpeg log level', () => {
  it('the first encoder quiets FFmpeg to warnings; an explicit choice wins afterwards', async () => {
    expect(Log.getLevel()).toBe(AV_LOG_INFO); // FFmpeg's own default, untouched until an encoder opens
    const first = await AudioEncoder.create({ codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(Log.getLevel()).toBe(AV_LOG_WARNING);
    await first.close();
    setFFmpegLogLevel('info');
    const second = await AudioEncoder.create({ codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(Log.getLevel()).toBe(AV_LOG_INFO);
    await second.close();
    expect(() => setFFmpegLogLevel('loud' as never)).toThrow(RangeError);
  });
});
