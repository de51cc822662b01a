import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PREFIX_BYTES, SegmentSink } from '../src/index.js';
import { readPlaylist } from './helpers/hls.js';
import { useTmpDir } from './helpers/tmp.js';
import { makeStream } from './helpers/ts.js';

const tmp = useTmpDir();

const HOSTILE: [string, string][] = [
  ['parent traversal', '../x'],
  ['nested traversal', 'a/../../x'],
  ['absolute path', '/etc/passwd'],
  ['subdirectory', 'a/b'],
  ['backslash', '..\\x'],
  ['windows drive', 'C:x'],
  ['NUL byte', 'x\0y'],
  ['newline (would forge playlist lines)', 'x\n#EXT-X-ENDLIST'],
  ['other control character', 'x\u001b[31m'],
  ['dot', '.'],
  ['dot dot', '..'],
  ['4 KB name', 'a'.repeat(4096)],
  ['leading space', ' x'],
  ['empty', ''],
];

/** Every file under `root`, recursively. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
}

describe('hostile names are rejected and never touch the disk outside the output directory', () => {
  for (const [what, name] of HOSTILE) {
    it(`rejects a ${what} as prefix, playlist name and live playlist name`, () => {
      const root = tmp();
      const dir = join(root, 'out');
      mkdirSync(dir);
      // '.m3u8', '..m3u8' and '...m3u8' are harmless names: test the bare hostile ones there.
      const m3u8 = name === '.' || name === '..' || name === '' ? name : `${name}.m3u8`;
      for (const options of [{ prefix: name }, { playlistName: m3u8 }, { livePlaylistName: m3u8 }]) {
        let err: unknown;
        try {
          new SegmentSink({ dir, ...options }).close();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RangeError);
        expect((err as Error).message).toMatch(/^options\.(prefix|playlistName|livePlaylistName) /);
      }
      // Nothing was created anywhere: not in the directory, not beside it.
      expect(tree(root)).toEqual(['out']);
    });
  }

  it('rejects a NUL byte in the directory itself', () => {
    expect(() => new SegmentSink({ dir: `${tmp()}/x\0/y` })).toThrow(
      new TypeError('options.dir must not contain NUL bytes'),
    );
  });

  it('accepts unusual but harmless names and percent-encodes them in the playlist', () => {
    const dir = tmp();
    const prefix = 'room #1 ü?%';
    const hls = new SegmentSink({ dir, prefix, fsync: 'none', targetDuration: 1 });
    for (const { bytes, info } of makeStream({ seconds: 3, gop: 30 })) hls.write(bytes, info);
    hls.close();
    const { manifest, text } = readPlaylist(dir);
    expect(manifest.segments.length).toBe(3);
    expect(text).toContain('room%20%231%20%C3%BC%3F%25_00000.ts');
    expect(text).not.toContain('room #1');
    for (const s of manifest.segments) expect(existsSync(join(dir, decodeURIComponent(s.uri)))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([
      'playlist.m3u8',
      `${prefix}_00000.ts`,
      `${prefix}_00001.ts`,
      `${prefix}_00002.ts`,
    ]);
  });

  it(`accepts a prefix of ${MAX_PREFIX_BYTES} bytes and refuses one more`, () => {
    const dir = tmp();
    const hls = new SegmentSink({ dir, prefix: 'p'.repeat(MAX_PREFIX_BYTES), fsync: 'none' });
    const [first] = makeStream({ seconds: 0.1 });
    hls.write(first!.bytes, first!.info);
    hls.close();
    expect(readFileSync(join(dir, `${'p'.repeat(MAX_PREFIX_BYTES)}_00000.ts`)).length).toBe(
      first!.bytes.length,
    );
    expect(() => new SegmentSink({ dir: tmp(), prefix: 'p'.repeat(MAX_PREFIX_BYTES + 1) })).toThrow(
      new RangeError(`options.prefix must be at most ${MAX_PREFIX_BYTES} UTF-8 bytes`),
    );
    // Multi-byte characters count as bytes, not UTF-16 units.
    expect(() => new SegmentSink({ dir: tmp(), prefix: 'ü'.repeat(101) })).toThrow(RangeError);
  });
});
