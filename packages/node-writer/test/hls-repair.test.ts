// repairHls (.ts) and repairFmp4Hls (.m4s) share their option checks, the search for unlisted segments and
// the ending of the playlists (src/hls-repair.ts): these pin that both behave the same there. The cutting
// functions are injected by the API; here they keep every byte, so what is checked is the listing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repairFmp4Hls, repairHls } from '../src/index.js';
import { parseM3u8 } from './helpers/hls.js';
import { thrown } from './helpers/thrown.js';
import { useTmpDir } from './helpers/tmp.js';

const tmp = useTmpDir();
const keepAll = (bytes: Uint8Array) => bytes.byteLength;
const INIT = new Uint8Array(8).fill(7);

const repairs = [
  {
    kind: 'TS',
    ext: '.ts',
    parser: 'completePrefixLength',
    repair: (o: object) => repairHls({ completePrefixLength: keepAll, ...o } as never),
    // One second per packet.
    seconds: (bytes: Uint8Array) => bytes.byteLength / 188,
    header: '',
  },
  {
    kind: 'fMP4',
    ext: '.m4s',
    parser: 'completeFragmentedLength',
    repair: (o: object) => repairFmp4Hls({ completeFragmentedLength: keepAll, ...o } as never),
    seconds: (initAndSegment: Uint8Array) => (initAndSegment.byteLength - INIT.byteLength) / 188,
    header: '#EXT-X-MAP:URI="rec_init.mp4"\n',
  },
] as const;

describe.each(repairs)('$kind HLS repair', ({ ext, parser, repair, seconds, header }) => {
  it.each([
    [{ dir: '' }, TypeError, 'options.dir must be a non-empty string'],
    [{ [parser]: 'no' }, TypeError, `options.${parser} must be a function`],
    [{ segmentDuration: 4 }, TypeError, 'options.segmentDuration must be a function'],
    [{ prefix: '..' }, RangeError, "options.prefix must not be '.' or '..'"],
    [{ playlistName: '' }, RangeError, 'options.playlistName must not be empty'],
    [{ livePlaylistName: 3 }, TypeError, 'options.livePlaylistName must be a string'],
    [{ liveSegmentCount: 0 }, RangeError, 'options.liveSegmentCount must be a positive integer'],
    [{ targetDuration: -1 }, RangeError, 'options.targetDuration must be a positive number'],
  ] as const)('rejects %o', (options, type, message) => {
    const err = thrown(() => repair({ dir: tmp(), ...options }));
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toBe(message);
  });

  it('lists the segments after the last listed one in numeric order, continuing the program date-time', () => {
    const dir = tmp();
    const t0 = Date.UTC(2025, 0, 2, 3, 4, 5);
    writeFileSync(
      join(dir, 'playlist.m3u8'),
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n' +
        `#EXT-X-PLAYLIST-TYPE:EVENT\n${header}#EXT-X-PROGRAM-DATE-TIME:${new Date(t0).toISOString()}\n` +
        `#EXTINF:2.5,\nrec_9${ext}\n`,
    );
    writeFileSync(join(dir, 'rec_init.mp4'), INIT);
    // rec_8 sorts before the last listed segment: not from this recording's tail, left alone.
    const packets = { 8: 1, 9: 2, 10: 3, 11: 1 };
    for (const [n, count] of Object.entries(packets)) {
      writeFileSync(join(dir, `rec_${n}${ext}`), new Uint8Array(188 * count));
    }
    writeFileSync(join(dir, '.playlist.m3u8.tmp'), 'torn');
    writeFileSync(join(dir, '.live.m3u8.tmp'), 'torn');

    const report = repair({
      dir,
      prefix: 'rec',
      livePlaylistName: 'live.m3u8',
      liveSegmentCount: 2,
      segmentDuration: seconds,
    });
    expect(report).toMatchObject({
      playlistPath: join(dir, 'playlist.m3u8'),
      playlistCreated: false,
      segmentsAdded: [`rec_10${ext}`, `rec_11${ext}`],
      segmentsRemoved: [],
      durationsEstimated: [],
      endListAdded: true,
    });
    expect(existsSync(join(dir, '.playlist.m3u8.tmp'))).toBe(false);
    expect(existsSync(join(dir, '.live.m3u8.tmp'))).toBe(false);
    expect(existsSync(join(dir, `rec_8${ext}`))).toBe(true);

    const event = parseM3u8(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).manifest;
    expect(event.endList).toBe(true);
    expect(event.segments.map((s) => [s.uri, s.duration, s.programDateTime])).toEqual([
      [`rec_9${ext}`, 2.5, t0],
      [`rec_10${ext}`, 3, t0 + 2500],
      [`rec_11${ext}`, 1, t0 + 5500],
    ]);
    const live = parseM3u8(readFileSync(join(dir, 'live.m3u8'), 'utf8')).manifest;
    expect(live.endList).toBe(true);
    expect(live.mediaSequence).toBe(1);
    expect(live.segments.map((s) => s.uri)).toEqual([`rec_10${ext}`, `rec_11${ext}`]);

    // Whole now: a second run changes nothing.
    const again = repair({ dir, prefix: 'rec', livePlaylistName: 'live.m3u8', segmentDuration: seconds });
    expect(again).toMatchObject({ segmentsAdded: [], segmentsRemoved: [], endListAdded: false });
  });

  it('writes an ended playlist from scratch, with the target duration, when there was none', () => {
    const dir = tmp();
    const report = repair({ dir, targetDuration: 6 });
    expect(report).toMatchObject({ playlistCreated: true, endListAdded: true, segmentsAdded: [] });
    const m = parseM3u8(readFileSync(join(dir, 'playlist.m3u8'), 'utf8')).manifest;
    expect(m.endList).toBe(true);
    expect(m.targetDuration).toBe(6);
    expect(m.segments).toHaveLength(0);
  });
});
