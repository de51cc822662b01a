import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repairHls, repairTs } from '../src/index.js';
import { readPlaylist } from './helpers/hls.js';
import { useTmpDir } from './helpers/tmp.js';
import { completePrefixLength, makeStream, prng, segmentDuration } from './helpers/ts.js';

const tmp = useTmpDir();
const REPO = resolve(import.meta.dirname, '../../..');
const CHILD = 'packages/node-writer/test/child/writer-child.ts';
const ITERATIONS = Number(process.env.TRACKREC_KILL_ITERATIONS ?? 4);

/**
 * Runs the child until `ready`, lets it write for `ms`, then SIGKILLs it. `whileRunning` is started at
 * `ready` and awaited before the kill.
 */
function runAndKill(
  outDir: string,
  seed: number,
  ms: number,
  whileRunning?: (until: number) => Promise<void>,
): Promise<NodeJS.Signals | null> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, outDir, String(seed)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      if (!d.toString().includes('ready')) return;
      if (whileRunning === undefined) setTimeout(() => child.kill('SIGKILL'), ms);
      else
        whileRunning(Date.now() + ms).then(
          () => child.kill('SIGKILL'),
          (err: unknown) => {
            child.kill('SIGKILL');
            fail(err);
          },
        );
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') done(signal);
      else fail(new Error(`child exited on its own (code ${code}): ${stderr}`));
    });
  });
}

/** The stream the child writes, long enough to cover `bytes`. */
function expectedStream(seed: number, bytes: number): Buffer {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const { bytes: b } of makeStream({ seconds: 3600, gop: 15, seed })) {
    if (n >= bytes) break;
    parts.push(b);
    n += b.byteLength;
  }
  return Buffer.concat(parts);
}

function isPrefix(actual: Buffer, expected: Buffer): boolean {
  return actual.length <= expected.length && actual.equals(expected.subarray(0, actual.length));
}

describe('kill -9 while writing with fsync', () => {
  it(`never leaves an unparseable playlist or a listed torn segment; repair makes it whole (${ITERATIONS} kills)`, async () => {
    const rnd = prng(Date.now() % 2 ** 31);
    let tornFiles = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const out = tmp();
      const seed = 100 + i;
      const delay = 150 + Math.floor(rnd() * 900);
      await runAndKill(out, seed, delay);
      const hlsDir = join(out, 'hls');
      const filePath = join(out, 'file.ts');

      // Right after the kill: the playlist parses and every listed segment is whole (readPlaylist asserts).
      const before = readPlaylist(hlsDir);
      expect(before.manifest.endList).toBeUndefined();
      const live = readPlaylist(hlsDir, 'live.m3u8');
      expect(live.manifest.segments.length).toBeLessThanOrEqual(3);

      const fileBytes = readFileSync(filePath);
      const segFiles = () =>
        readdirSync(hlsDir)
          .filter((n) => n.endsWith('.ts'))
          .sort();
      const hlsBytes = () => Buffer.concat(segFiles().map((n) => readFileSync(join(hlsDir, n))));
      const expected = expectedStream(seed, Math.max(fileBytes.length, hlsBytes().length));
      // What reached the disk is exactly the stream, byte for byte, up to where the kill came.
      expect(isPrefix(fileBytes, expected)).toBe(true);
      expect(isPrefix(hlsBytes(), expected)).toBe(true);
      // A SIGKILL can only cut a write() between pages; with chunks this small it practically never does.
      if (fileBytes.length % 188 !== 0) tornFiles++;

      const ts = repairTs(filePath, completePrefixLength);
      expect(ts.repairedBytes % 188).toBe(0);
      expect(ts.repairedBytes).toBeGreaterThan(0);
      expect(isPrefix(readFileSync(filePath), expected)).toBe(true);

      const report = repairHls({
        dir: hlsDir,
        prefix: 'seg',
        livePlaylistName: 'live.m3u8',
        liveSegmentCount: 3,
        targetDuration: 0.5,
        completePrefixLength,
        segmentDuration,
      });
      expect(report.endListAdded).toBe(true);
      const after = readPlaylist(hlsDir);
      expect(after.manifest.endList).toBe(true);
      // Every segment on disk is listed, in order, and nothing was left over.
      expect(after.manifest.segments.map((s) => s.uri)).toEqual(segFiles());
      expect(after.manifest.segments.length).toBeGreaterThanOrEqual(before.manifest.segments.length);
      expect(readdirSync(hlsDir).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(isPrefix(hlsBytes(), expected)).toBe(true);
      for (const n of segFiles()) expect(statSync(join(hlsDir, n)).size % 188).toBe(0);
      expect(readPlaylist(hlsDir, 'live.m3u8').manifest.endList).toBe(true);
      expect(existsSync(join(hlsDir, 'playlist.m3u8'))).toBe(true);
    }
    if (tornFiles > 0) console.warn(`${tornFiles}/${ITERATIONS} kills tore a write mid-packet (repaired)`);
  });

  it('a reader polling the playlists while segments rotate always finds them whole and parseable', async () => {
    const out = tmp();
    const hlsDir = join(out, 'hls');
    let polls = 0;
    const counts = new Set<number>();
    await runAndKill(out, 7, 1500, async (until) => {
      while (Date.now() < until) {
        // Cheap whole-file checks many times per event-loop turn, a full parse now and then.
        for (let k = 0; k < 200; k++) {
          for (const name of ['playlist.m3u8', 'live.m3u8']) {
            const text = readFileSync(join(hlsDir, name), 'utf8');
            expect(text.startsWith('#EXTM3U\n')).toBe(true);
            expect(text.endsWith('.ts\n') || text.endsWith('#EXT-X-INDEPENDENT-SEGMENTS\n')).toBe(true);
            polls++;
          }
        }
        counts.add(readPlaylist(hlsDir).manifest.segments.length);
        readPlaylist(hlsDir, 'live.m3u8');
        await new Promise((r) => setImmediate(r));
      }
    });
    // The reader ran many times across many playlist rewrites.
    expect(polls).toBeGreaterThan(10_000);
    expect(counts.size).toBeGreaterThan(3);
  });
});
