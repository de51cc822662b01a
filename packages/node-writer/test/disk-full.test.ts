import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskFullError, FileSink, repairHls, SegmentSink, SinkClosedError } from '../src/index.js';
import { readPlaylist } from './helpers/hls.js';
import { expectSameBytes, useTmpDir } from './helpers/tmp.js';
import { completePrefixLength, concat, makeStream, prng, segmentDuration } from './helpers/ts.js';

const tmp = useTmpDir();
const mounts: string[] = [];

// Registered after useTmpDir's hook, so (hooks run as a stack) it unmounts before the directory is removed.
afterEach(() => {
  for (const m of mounts.splice(0)) execFileSync('umount', [m]);
});

/** Mounts a tmpfs of `size` at a fresh directory, or returns the reason it cannot. */
function tinyTmpfs(size: string): { dir: string } | { reason: string } {
  const dir = join(tmp(), 'mnt');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return { reason: `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]}): needs root` };
  }
  mounts.push(dir);
  return { dir };
}

describe('a really full device', () => {
  it('/dev/full: write throws DiskFullError with code and path, the sink refuses more', () => {
    const sink = new FileSink('/dev/full', { fsync: 'always' });
    let err: unknown;
    try {
      sink.write(new Uint8Array(188 * 7));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DiskFullError);
    expect(err).toMatchObject({ code: 'ENOSPC', path: '/dev/full', syscall: 'write' });
    expect(sink.stats.bytesWritten).toBe(0);
    expect(() => sink.write(new Uint8Array(188))).toThrow(SinkClosedError);
    sink.close();
    sink.close();
  });

  it('tmpfs of 64 KiB: earlier chunks intact, the file ends on a whole chunk', (ctx) => {
    const m = tinyTmpfs('64k');
    if ('reason' in m) {
      console.warn(`skipped: ${m.reason}`);
      ctx.skip(m.reason);
      return;
    }
    const path = join(m.dir, 'full.ts');
    const sink = new FileSink(path, { fsync: 'always' });
    const rnd = prng(9);
    const written: Uint8Array[] = [];
    let err: unknown;
    for (let i = 0; i < 1000 && err === undefined; i++) {
      const chunk = new Uint8Array(1316);
      for (let j = 0; j < chunk.length; j++) chunk[j] = Math.floor(rnd() * 256);
      try {
        sink.write(chunk);
        written.push(chunk);
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(DiskFullError);
    expect(err).toMatchObject({ code: 'ENOSPC', path });
    // 64 KiB is no multiple of 1316: the kernel took part of the last chunk, and the sink cut it off again.
    expect((err as Error).message).toContain('cut back to');
    sink.close();
    const size = statSync(path).size;
    expect(size).toBe(written.length * 1316);
    expect(size % 188).toBe(0);
    expect(size).toBeGreaterThan(40_000);
    expectSameBytes(readFileSync(path), concat(written));
  });

  it('SegmentSink on a full tmpfs: DiskFullError, listed segments whole, playlist parseable, repair closes it', (ctx) => {
    const m = tinyTmpfs('256k');
    if ('reason' in m) {
      console.warn(`skipped: ${m.reason}`);
      ctx.skip(m.reason);
      return;
    }
    const hls = new SegmentSink({ dir: m.dir, targetDuration: 1, fsync: 'always' });
    let err: unknown;
    for (const { bytes, info } of makeStream({ seconds: 30, gop: 15, maxFrameBytes: 4000 })) {
      try {
        hls.write(bytes, info);
      } catch (e) {
        err = e;
        break;
      }
    }
    expect(err).toBeInstanceOf(DiskFullError);
    expect(hls.failure).toBe(err);
    hls.close();
    const before = readPlaylist(m.dir);
    expect(before.manifest.endList).toBeUndefined();
    expect(before.manifest.segments.length).toBeGreaterThan(0);
    for (const name of readdirSync(m.dir).filter((n) => n.endsWith('.ts'))) {
      expect(statSync(join(m.dir, name)).size % 188).toBe(0);
    }
    // Repair needs room for the new playlist: the operator frees space first (here: grow the tmpfs).
    execFileSync('mount', ['-o', 'remount,size=1m', m.dir]);
    const report = repairHls({ dir: m.dir, completePrefixLength, segmentDuration });
    expect(report.endListAdded).toBe(true);
    const after = readPlaylist(m.dir);
    expect(after.manifest.endList).toBe(true);
    const onDisk = readdirSync(m.dir)
      .filter((n) => n.endsWith('.ts'))
      .sort();
    expect(after.manifest.segments.map((s) => s.uri)).toEqual(onDisk);
  });
});
