import { AudioFrame } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import {
  type AudioCodecName,
  AudioEncoder,
  type EncodedAudioPacket,
  OPUS_PRE_SKIP,
} from '../src/audio-encoder.js';
import { EncoderError } from '../src/errors.js';
import { decodeAudio, rms, sineFrame, toneFrequency } from './helpers.js';

/** Feeds `seconds` of a tone as rtc-node frames of `chunkMs` and returns every packet (flushed). */
function encodeTone(
  enc: AudioEncoder,
  freq: number,
  rate: number,
  channels: number,
  seconds: number,
  chunkSamples: (i: number) => number = () => rate / 100,
): EncodedAudioPacket[] {
  const packets: EncodedAudioPacket[] = [];
  const total = Math.round(rate * seconds);
  for (let at = 0, i = 0; at < total; i++) {
    const n = Math.min(chunkSamples(i), total - at);
    packets.push(...enc.encode(new AudioFrame(sineFrame(freq, rate, channels, at, n), rate, channels, n)));
    at += n;
  }
  packets.push(...enc.flush());
  return packets;
}

function expectContiguous(packets: EncodedAudioPacket[], start: number, step: number): void {
  packets.forEach((p, i) => {
    expect(p.pts).toBe(start + i * step);
  });
}

/** Index of the first sample whose magnitude exceeds `threshold`. */
function onset(samples: Float32Array, threshold: number): number {
  return samples.findIndex((v) => Math.abs(v) > threshold);
}

describe('AudioEncoder', () => {
  it('encodes AAC that FFmpeg decodes back to the same tone, with an AudioSpecificConfig', async () => {
    const enc = await AudioEncoder.create({ codec: 'aac' });
    expect([enc.sampleRate, enc.channels, enc.frameSize, enc.primingSamples]).toEqual([
      48_000, 2, 1024, 1024,
    ]);
    // AudioSpecificConfig: AAC-LC (2), 48 kHz (index 3), 2 channels.
    expect([...enc.codecConfig.subarray(0, 2)]).toEqual([0x11, 0x90]);
    const packets = encodeTone(enc, 440, 48_000, 2, 2);
    await enc.close();

    expectContiguous(packets.slice(0, -1), -1024, 1024);
    expect(packets.slice(0, -1).every((p) => p.duration === 1024)).toBe(true);
    const decoded = await decodeAudio('aac', enc.codecConfig, packets, 2, 48_000);
    expect(decoded.sampleRate).toBe(48_000);
    // Every input sample comes back once the priming frame is accounted for.
    expect(decoded.channels[0]!.length).toBeGreaterThanOrEqual(96_000 + 1024 - 1024);
    for (const ch of decoded.channels) {
      const body = ch.subarray(4096, 90_000);
      expect(toneFrequency(body, 48_000)).toBeCloseTo(440, 0);
      expect(rms(body)).toBeGreaterThan(0.2); // 0.4 peak sine -> 0.28 rms
    }
  });

  it('resamples and remixes 44.1 kHz mono to 48 kHz stereo AAC, re-chunking odd frame sizes', async () => {
    const enc = await AudioEncoder.create({ codec: 'aac', bitrate: 96_000 });
    const sizes = [441, 100, 1000, 4410, 7, 2048];
    const packets = encodeTone(enc, 1000, 44_100, 1, 1.5, (i) => sizes[i % sizes.length]!);
    const stats = enc.stats;
    await enc.close();
    expect(stats.samplesIn).toBe(66_150);
    expect(Math.abs(stats.samplesEncoded - 72_000)).toBeLessThan(64);
    expectContiguous(packets.slice(0, -1), -1024, 1024);
    const decoded = await decodeAudio('aac', enc.codecConfig, packets, 2, 48_000);
    expect(decoded.channels).toHaveLength(2);
    for (const ch of decoded.channels) {
      expect(toneFrequency(ch.subarray(4096, 70_000), 48_000)).toBeCloseTo(1000, 0);
    }
  });

  it('encodes Opus that libopus decodes back to the tone, with contiguous pre-skipped timestamps', async () => {
    const enc = await AudioEncoder.create({ codec: 'opus', channels: 2 });
    expect([enc.sampleRate, enc.frameSize, enc.primingSamples]).toEqual([48_000, 960, OPUS_PRE_SKIP]);
    // OpusHead: magic, version 1, 2 channels, pre-skip 312 (0x0138 LE), 48000 Hz LE, gain 0, family 0.
    expect(Buffer.from(enc.codecConfig).toString('hex')).toBe('4f707573486561640102380180bb0000000000');
    const packets = encodeTone(enc, 1000, 48_000, 2, 2);
    await enc.close();
    expect(packets).toHaveLength(100);
    expectContiguous(packets, -312, 960);
    const decoded = await decodeAudio('opus', enc.codecConfig, packets, 2, 48_000);
    for (const ch of decoded.channels) {
      expect(toneFrequency(ch.subarray(4800, 90_000), 48_000)).toBeCloseTo(1000, 0);
    }
  });

  it('reports the true encoder delay: a decoded onset lands primingSamples late', async () => {
    for (const codec of ['aac', 'opus'] as AudioCodecName[]) {
      const enc = await AudioEncoder.create({ codec, channels: 1 });
      const rate = 48_000;
      const start = 4800; // 100 ms of silence, then a tone
      const packets: EncodedAudioPacket[] = [];
      for (let at = 0; at < rate; at += 480) {
        const pcm = sineFrame(3000, rate, 1, at - start, 480, 0.5);
        for (let s = 0; s < 480; s++) if (at + s < start) pcm[s] = 0;
        packets.push(...enc.encode(new AudioFrame(pcm, rate, 1, 480)));
      }
      packets.push(...enc.flush());
      await enc.close();
      // FFmpeg's aac decoder keeps the priming samples; its libopus wrapper drops OpusHead's pre-skip.
      const decoded = await decodeAudio(codec, enc.codecConfig, packets, 1, rate);
      const delay = onset(decoded.channels[0]!, 0.1) - start;
      const expected = codec === 'aac' ? enc.primingSamples : 0;
      expect(Math.abs(delay - expected)).toBeLessThanOrEqual(24);
    }
  });

  it('resamples 16 kHz mono input for Opus and follows an input format change mid-stream', async () => {
    const enc = await AudioEncoder.create({ codec: 'opus', channels: 1, bitrate: 48_000 });
    const packets: EncodedAudioPacket[] = [];
    for (let i = 0; i < 50; i++) {
      packets.push(...enc.encode(new AudioFrame(sineFrame(500, 16_000, 1, i * 160, 160), 16_000, 1, 160)));
    }
    for (let i = 0; i < 50; i++) {
      packets.push(...enc.encode(new AudioFrame(sineFrame(500, 48_000, 2, i * 480, 480), 48_000, 2, 480)));
    }
    packets.push(...enc.flush());
    await enc.close();
    expectContiguous(packets, -312, 960);
    expect(packets.length).toBeGreaterThanOrEqual(50);
    const decoded = await decodeAudio('opus', enc.codecConfig, packets, 1, 48_000);
    const ch = decoded.channels[0]!;
    expect(toneFrequency(ch.subarray(4800, 20_000), 48_000)).toBeCloseTo(500, 0);
    expect(toneFrequency(ch.subarray(30_000, 46_000), 48_000)).toBeCloseTo(500, 0);
  });

  it('rejects invalid frames with INVALID_INPUT and keeps encoding', async () => {
    const enc = await AudioEncoder.create({ codec: 'aac', channels: 1 });
    const bad = [
      new AudioFrame(new Int16Array(10), 48_000, 1, 480),
      new AudioFrame(new Int16Array(960), 48_000, 0, 480),
      new AudioFrame(new Int16Array(960), Number.NaN, 1, 480),
      new AudioFrame(new Int16Array(960), 48_000, 2, 480.5),
      { data: new Float32Array(480), sampleRate: 48_000, channels: 1, samplesPerChannel: 480 } as never,
    ];
    for (const frame of bad) {
      const error = (() => {
        try {
          enc.encode(frame);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(EncoderError);
      expect((error as EncoderError).code).toBe('INVALID_INPUT');
    }
    const packets = encodeTone(enc, 440, 48_000, 1, 0.5);
    expectContiguous(packets.slice(0, -1), -1024, 1024);
    const decoded = await decodeAudio('aac', enc.codecConfig, packets, 1, 48_000);
    expect(toneFrequency(decoded.channels[0]!.subarray(2048, 20_000), 48_000)).toBeCloseTo(440, 0);
    expect(() => enc.encode(new AudioFrame(new Int16Array(480), 48_000, 1, 480))).toThrow(/after flush/);
    await enc[Symbol.asyncDispose]();
    await enc.close();
    expect(() => enc.encode(new AudioFrame(new Int16Array(480), 48_000, 1, 480))).toThrow(EncoderError);
  });

  it('validates options with errors naming the option', async () => {
    await expect(AudioEncoder.create({ codec: 'mp3' as never })).rejects.toThrow(/options\.codec/);
    await expect(AudioEncoder.create({ codec: 'opus', sampleRate: 44_100 })).rejects.toThrow(
      /options\.sampleRate/,
    );
    await expect(AudioEncoder.create({ codec: 'aac', sampleRate: 12_345 })).rejects.toThrow(RangeError);
    await expect(AudioEncoder.create({ codec: 'aac', channels: 6 })).rejects.toThrow(/options\.channels/);
    await expect(AudioEncoder.create({ codec: 'aac', bitrate: 1 })).rejects.toThrow(/options\.bitrate/);
  });
});
