import { describe, expect, it } from 'vitest';
import {
  formatBitrate,
  formatBytes,
  formatElapsed,
  formatLastWrite,
  formatStatus,
  StatusLine,
  type StatusSnapshot,
} from '../src/status-line.js';
import { capture } from './helpers/cli.js';

describe('status formatting', () => {
  it('formats elapsed time', () => {
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(999)).toBe('0:00');
    expect(formatElapsed(61_000)).toBe('1:01');
    expect(formatElapsed(3_599_999)).toBe('59:59');
    expect(formatElapsed(3_600_000)).toBe('1:00:00');
    expect(formatElapsed(26 * 3_600_000 + 5 * 60_000 + 7_000)).toBe('26:05:07');
    expect(formatElapsed(-5)).toBe('0:00');
  });

  it('formats sizes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.00 kB');
    expect(formatBytes(1536)).toBe('1.54 kB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(123_456_789)).toBe('123 MB');
    expect(formatBytes(1_020_000_000)).toBe('1.02 GB');
    expect(formatBytes(5e12)).toBe('5.00 TB');
  });

  it('formats bit rates', () => {
    expect(formatBitrate(null)).toBe('– b/s');
    expect(formatBitrate(undefined)).toBe('– b/s');
    expect(formatBitrate(Number.NaN)).toBe('– b/s');
    expect(formatBitrate(800)).toBe('800 b/s');
    expect(formatBitrate(96_000)).toBe('96 kb/s');
    expect(formatBitrate(2_450_000)).toBe('2.45 Mb/s');
  });

  it('formats the last write', () => {
    expect(formatLastWrite(null, 1000)).toBe('never');
    expect(formatLastWrite(800, 1000)).toBe('0.2 s ago');
    expect(formatLastWrite(1200, 1000)).toBe('0.0 s ago');
  });

  it('puts the fields on one line and leaves out the unknown ones', () => {
    const full: StatusSnapshot = {
      label: 'room1',
      elapsedMs: 3_723_000,
      bytes: 12_300_000,
      bitrate: 2_450_000,
      fps: 29.97,
      drops: 3,
      lastWriteAt: 9_800,
    };
    expect(formatStatus(full, 10_000)).toBe(
      'room1  rec 1:02:03  12.3 MB  2.45 Mb/s  30.0 fps  3 drops  write 0.2 s ago',
    );
    expect(formatStatus({ elapsedMs: 5000, bytes: 10, drops: 1, fps: null }, 0)).toBe(
      'rec 0:05  10 B  – b/s  – fps  1 drop',
    );
  });
});

describe('StatusLine', () => {
  function driven(tty: boolean, columns?: number) {
    let now = 1_000_000;
    let bytes = 0;
    const output = capture(tty);
    if (columns !== undefined) Object.assign(output, { columns });
    const line = new StatusLine({
      output,
      now: () => now,
      sample: () => ({ elapsedMs: now - 1_000_000, bytes, fps: 30, drops: 0, lastWriteAt: now - 100 }),
    });
    return {
      line,
      output,
      advance(ms: number, addBytes: number) {
        now += ms;
        bytes += addBytes;
      },
    };
  }

  it('rewrites one line on a terminal, with the bit rate derived from the bytes written', () => {
    const d = driven(true);
    expect(d.line.tty).toBe(true);
    d.line.tick();
    d.advance(1000, 250_000); // 2 Mb/s
    d.line.tick();
    d.advance(1000, 500_000); // 4 Mb/s in this second, 3 Mb/s over both
    d.line.tick();
    const frames = d.output.text.split('\r\x1b[2K').slice(1);
    expect(frames).toEqual([
      'rec 0:00  0 B  – b/s  30.0 fps  0 drops  write 0.1 s ago',
      'rec 0:01  250 kB  2.00 Mb/s  30.0 fps  0 drops  write 0.1 s ago',
      'rec 0:02  750 kB  3.00 Mb/s  30.0 fps  0 drops  write 0.1 s ago',
    ]);
    expect(d.output.text).not.toContain('\n');
    d.line.stop();
    expect(
      d.output.text.endsWith('\r\x1b[2Krec 0:02  750 kB  3.00 Mb/s  30.0 fps  0 drops  write 0.1 s ago\n'),
    ).toBe(true);
  });

  it('keeps the bit rate window to the last few seconds', () => {
    const d = driven(true);
    d.line.tick();
    d.advance(1000, 1_000_000); // a burst: 8 Mb/s
    d.line.tick();
    for (let i = 0; i < 5; i++) {
      d.advance(1000, 125_000); // then 1 Mb/s
      d.line.tick();
    }
    expect(d.output.text.split('\r\x1b[2K').at(-1)).toContain('  1.00 Mb/s  ');
  });

  it('cuts the line to the terminal width', () => {
    const d = driven(true, 20);
    d.line.tick();
    const frame = d.output.text.split('\r\x1b[2K').at(-1)!;
    expect(frame).toBe('rec 0:00  0 B  – b/');
    expect(frame.length).toBe(19);
  });

  it('prints plain lines when not on a terminal', () => {
    const d = driven(false);
    expect(d.line.tty).toBe(false);
    d.line.tick();
    d.advance(10_000, 1_250_000);
    d.line.tick();
    d.line.stop();
    expect(d.output.text).toBe(
      'rec 0:00  0 B  – b/s  30.0 fps  0 drops  write 0.1 s ago\n' +
        'rec 0:10  1.25 MB  1.00 Mb/s  30.0 fps  0 drops  write 0.1 s ago\n' +
        'rec 0:10  1.25 MB  1.00 Mb/s  30.0 fps  0 drops  write 0.1 s ago\n',
    );
    expect(d.output.text).not.toContain('\x1b');
  });

  it('prints on its own timer once started', async () => {
    const output = capture(false);
    const line = new StatusLine({ output, plainIntervalMs: 20, sample: () => ({ elapsedMs: 0, bytes: 0 }) });
    line.start();
    await new Promise((r) => setTimeout(r, 110));
    line.stop();
    const count = output.text.split('\n').length - 1;
    expect(count).toBeGreaterThanOrEqual(3);
    const settled = output.text;
    await new Promise((r) => setTimeout(r, 60));
    expect(output.text).toBe(settled);
  });

  it('validates its options', () => {
    const output = capture(false);
    const sample = () => ({ elapsedMs: 0, bytes: 0 });
    expect(() => new StatusLine({ output, sample, plainIntervalMs: 0 })).toThrow(
      'options.plainIntervalMs must be a positive number',
    );
    expect(() => new StatusLine({ output, sample, tty: true, ttyIntervalMs: Number.NaN })).toThrow(
      RangeError,
    );
    expect(() => new StatusLine({ output, sample: 5 as unknown as () => StatusSnapshot })).toThrow(TypeError);
  });
});
