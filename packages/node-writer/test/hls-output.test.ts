// The TS and fMP4 HLS sinks share their option checks, playlist files and writer guard (src/hls-output.ts):
// these pin that both behave the same there, option by option.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fmp4SegmentSink, SegmentSink, SinkBusyError, SinkClosedError, WriterError } from '../src/index.js';
import { parseM3u8 } from './helpers/hls.js';
import { thrown } from './helpers/thrown.js';
import { useTmpDir } from './helpers/tmp.js';

const tmp = useTmpDir();

const sinks = [
  { kind: 'TS', make: (o: object) => new SegmentSink({ ...o } as never) },
  { kind: 'fMP4', make: (o: object) => new Fmp4SegmentSink({ ...o } as never) },
] as const;

const badOptions: [options: object, error: Error][] = [
  [
    { prefix: 'a/b' },
    new RangeError(
      'options.prefix must be a plain file name: no path separators, colons, NUL or control characters',
    ),
  ],
  [{ playlistName: 'index.txt' }, new RangeError('options.playlistName must end in .m3u8')],
  [{ livePlaylistName: '.m3u8' }, new RangeError('options.livePlaylistName must end in .m3u8')],
  [
    { playlistName: 'a.m3u8', livePlaylistName: 'a.m3u8' },
    new RangeError('options.livePlaylistName must differ from options.playlistName'),
  ],
  [{ liveSegmentCount: 1.5 }, new RangeError('options.liveSegmentCount must be a positive integer')],
  [{ targetDuration: Number.NaN }, new RangeError('options.targetDuration must be a positive number')],
  [{ onSegment: 'log' }, new TypeError('options.onSegment must be a function')],
  [{ now: 5 }, new TypeError('options.now must be a function')],
  [{ eagainRetries: -1 }, new RangeError('options.eagainRetries must be a non-negative integer')],
  [{ fsync: { intervalMs: 0 } }, new RangeError('options.fsync.intervalMs must be a positive number')],
  [{ fsync: 'sometimes' }, new TypeError("options.fsync must be 'none', 'always' or { intervalMs: number }")],
  // Checked in this order: the first bad option is the one named.
  [{ targetDuration: 0, now: 5 }, new RangeError('options.targetDuration must be a positive number')],
];

describe.each(sinks)('$kind segment sink', ({ make }) => {
  it.each(badOptions)('rejects %o before touching the disk', (options, error) => {
    const dir = join(tmp(), 'out');
    const err = thrown(() => make({ dir, ...options }));
    expect(err).toBeInstanceOf(error.constructor);
    expect((err as Error).message).toBe(error.message);
    expect(existsSync(dir)).toBe(false);
  });

  it('writes an empty EVENT playlist (and live one) at once, and ends both on close', () => {
    const dir = join(tmp(), 'nested', 'out');
    const hls = make({ dir, livePlaylistName: 'live.m3u8', targetDuration: 3, fsync: 'none' });
    expect(hls.playlistPath).toBe(join(dir, 'playlist.m3u8'));
    expect(hls.livePlaylistPath).toBe(join(dir, 'live.m3u8'));
    expect(hls.targetDuration).toBe(3);
    expect(hls.fsyncPolicy).toBe('none');
    const open = parseM3u8(readFileSync(hls.playlistPath, 'utf8')).manifest;
    expect(open.playlistType).toBe('EVENT');
    expect(open.targetDuration).toBe(3);
    expect(open.segments).toHaveLength(0);
    expect(open.endList).toBeFalsy();
    hls.close();
    hls.close();
    for (const name of ['playlist.m3u8', 'live.m3u8']) {
      const ended = parseM3u8(readFileSync(join(dir, name), 'utf8')).manifest;
      expect(ended.endList).toBe(true);
      expect(ended.segments).toHaveLength(0);
    }
    expect(hls.segments).toEqual([]);
  });

  it('holds its playlists against a second sink until closed, then refuses calls', () => {
    const dir = tmp();
    const hls = make({ dir, fsync: 'none' });
    expect(() => make({ dir, fsync: 'none', overwrite: true })).toThrow(SinkBusyError);
    hls.close();
    expect(() => hls.sync()).toThrow(
      expect.objectContaining({ name: 'SinkClosedError', code: 'ERR_SINK_CLOSED' }),
    );
    expect(() => hls.sync()).toThrow(SinkClosedError);
    // Released on close: the same directory can be recorded again when overwriting is allowed.
    make({ dir, fsync: 'none', overwrite: true }).close();
  });

  it('refuses an existing playlist (EEXIST), leaves it as it was and releases its claims', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'live.m3u8'), '#EXTM3U\n');
    expect(() => make({ dir, livePlaylistName: 'live.m3u8' })).toThrow(
      expect.objectContaining({ name: 'WriteError', code: 'EEXIST', path: join(dir, 'live.m3u8') }),
    );
    expect(readFileSync(join(dir, 'live.m3u8'), 'utf8')).toBe('#EXTM3U\n');
    expect(existsSync(join(dir, 'playlist.m3u8'))).toBe(false);
    make({ dir, livePlaylistName: 'live.m3u8', overwrite: true, fsync: 'none' }).close();
    expect(parseM3u8(readFileSync(join(dir, 'live.m3u8'), 'utf8')).manifest.endList).toBe(true);
  });
});

it('each sink keeps its own message for a bad dir', () => {
  const cases: [() => unknown, string][] = [
    [() => new SegmentSink({ dir: '' }), 'options.dir must be a non-empty string'],
    [() => new SegmentSink({ dir: 'a\0b' }), 'options.dir must not contain NUL bytes'],
    [() => new Fmp4SegmentSink({ dir: '' }), 'options.dir must be a non-empty string without NUL bytes'],
    [() => new Fmp4SegmentSink({ dir: 'a\0b' }), 'options.dir must be a non-empty string without NUL bytes'],
  ];
  for (const [make, message] of cases) {
    const err = thrown(make);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe(message);
  }
});

it('both sinks report a directory they cannot create as a WriterError with the system code', () => {
  const file = join(tmp(), 'a-file');
  writeFileSync(file, 'x');
  for (const { kind, make } of sinks) {
    const err = thrown(() => make({ dir: join(file, 'sub') }));
    expect(err, kind).toBeInstanceOf(WriterError);
    expect((err as WriterError).code, kind).toBe('ENOTDIR');
  }
});
