import { openSync, readFileSync, readSync, closeSync as realClose, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DiskFullError,
  FileSink,
  SinkBusyError,
  SinkClosedError,
  WriteError,
  WriterError,
} from '../src/index.js';
import { spyFs, sysError } from './helpers/spy-fs.js';
import { expectSameBytes, useTmpDir } from './helpers/tmp.js';
import { concat, makeStream, prng } from './helpers/ts.js';

const tmp = useTmpDir();

function randomChunks(n: number, seed: number): Uint8Array[] {
  const rnd = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const c = new Uint8Array(188 * (1 + Math.floor(rnd() * 40)));
    for (let j = 0; j < c.length; j++) c[j] = Math.floor(rnd() * 256);
    out.push(c);
  }
  return out;
}

describe('FileSink on a real file', () => {
  it('writes byte-exact content, visible to a second reader after every write', () => {
    const path = join(tmp(), 'out.ts');
    const sink = new FileSink(path, { fsync: 'none' });
    const chunks = randomChunks(500, 7);
    let expected = 0;
    const reader = openSync(path, 'r');
    for (const c of chunks) {
      sink.write(c);
      expected += c.byteLength;
      // A separate descriptor sees the growth before close.
      expect(statSync(path).size).toBe(expected);
      const tail = new Uint8Array(c.byteLength);
      expect(readSync(reader, tail, 0, tail.byteLength, expected - c.byteLength)).toBe(c.byteLength);
      expectSameBytes(tail, c);
    }
    realClose(reader);
    expect(sink.stats.bytesWritten).toBe(expected);
    expect(sink.stats.chunksWritten).toBe(500);
    sink.close();
    expectSameBytes(readFileSync(path), concat(chunks));
  });

  it('accepts the muxer sink signature and a reused buffer (copies nothing it does not write at once)', () => {
    const path = join(tmp(), 'mux.ts');
    const sink = new FileSink(path, { fsync: 'none' });
    const tsSink = sink.asTsSink();
    const scratch = new Uint8Array(64 * 188);
    const expected: Uint8Array[] = [];
    for (const { bytes, info } of makeStream({ seconds: 2 })) {
      // Like the muxer: a view into a buffer that is overwritten after the call returns.
      const view = scratch.subarray(0, bytes.byteLength <= scratch.byteLength ? bytes.byteLength : 0);
      if (view.byteLength === 0) {
        tsSink(bytes, info);
        expected.push(bytes);
        continue;
      }
      view.set(bytes);
      tsSink(view, info);
      view.fill(0);
      expected.push(bytes);
    }
    sink.close();
    expectSameBytes(readFileSync(path), concat(expected));
  });

  it("appends with flags 'a' and refuses an existing file with 'wx'", () => {
    const path = join(tmp(), 'a.ts');
    writeFileSync(path, new Uint8Array(188).fill(1));
    const sink = new FileSink(path, { flags: 'a', fsync: 'none' });
    sink.write(new Uint8Array(376).fill(2));
    sink.close();
    const data = readFileSync(path);
    expect(data.length).toBe(564);
    expect(data[187]).toBe(1);
    expect(data[188]).toBe(2);
    expect(() => new FileSink(path, { flags: 'wx' })).toThrow(
      expect.objectContaining({ name: 'WriteError', code: 'EEXIST', path }),
    );
  });

  it('close is idempotent; calls after close throw SinkClosedError', () => {
    const path = join(tmp(), 'c.ts');
    const sink = new FileSink(path, { fsync: 'none' });
    sink.write(new Uint8Array(188));
    sink.close();
    sink.close();
    expect(sink.closed).toBe(true);
    for (const call of [() => sink.write(new Uint8Array(188)), () => sink.sync(), () => sink.flush()]) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SinkClosedError);
      expect(err).toMatchObject({ code: 'ERR_SINK_CLOSED', path });
    }
    expect(statSync(path).size).toBe(188);
  });

  it('guards a single writer per path in the process, released on close', () => {
    const path = join(tmp(), 'g.ts');
    const a = new FileSink(path, { fsync: 'none' });
    expect(() => new FileSink(path)).toThrow(SinkBusyError);
    a.close();
    const b = new FileSink(path, { fsync: 'none' });
    b.close();
  });

  it('rejects a re-entrant write from inside a write', () => {
    const path = join(tmp(), 'r.ts');
    const fs = spyFs();
    const sink = new FileSink(path, { fsync: 'none', fs });
    let inner: unknown;
    fs.hook = (name) => {
      if (name === 'writeSync' && inner === undefined) {
        try {
          sink.write(new Uint8Array(188));
        } catch (e) {
          inner = e;
        }
      }
      return undefined;
    };
    sink.write(new Uint8Array(188).fill(9));
    expect(inner).toBeInstanceOf(SinkBusyError);
    sink.close();
    expect(readFileSync(path)).toEqual(Buffer.alloc(188, 9));
  });

  it('rejects bad options with errors naming the option', () => {
    const path = join(tmp(), 'o.ts');
    expect(() => new FileSink(path, { fsync: { intervalMs: 0 } })).toThrow(
      new RangeError('options.fsync.intervalMs must be a positive number'),
    );
    expect(() => new FileSink(path, { fsync: 'sometimes' as never })).toThrow(TypeError);
    expect(() => new FileSink(path, { eagainRetries: -1 })).toThrow(/options\.eagainRetries/);
    expect(() => new FileSink(`${path}\0x`)).toThrow(TypeError);
    expect(() => new FileSink(path).write('abc' as never)).toThrow(TypeError);
  });
});

describe('fsync policy (spy over the real fs, real fdatasync)', () => {
  function run(policy: 'none' | 'always' | { intervalMs: number }, writes: number, stepMs: number) {
    const path = join(tmp(), 'sync.ts');
    const fs = spyFs();
    let now = 1_000_000;
    const sink = new FileSink(path, { fsync: policy, fs, now: () => now });
    const fd = fs.calls.find((c) => c.name === 'fstatSync')!.target as number;
    for (let i = 0; i < writes; i++) {
      now += stepMs;
      sink.write(new Uint8Array(1316).fill(i & 0xff));
    }
    const duringWrites = fs.count('fdatasyncSync', fd);
    const stats = sink.stats;
    sink.close();
    return { duringWrites, afterClose: fs.count('fdatasyncSync', fd), stats, fs, path };
  }

  it("'none' never syncs, not even the directory or at close", () => {
    const r = run('none', 50, 10);
    expect(r.duringWrites).toBe(0);
    expect(r.afterClose).toBe(0);
    expect(r.fs.count('fsyncSync')).toBe(0);
    expect(r.stats.lastSyncAt).toBe(null);
    expect(statSync(r.path).size).toBe(50 * 1316);
  });

  it("'always' syncs after every chunk", () => {
    const r = run('always', 40, 10);
    expect(r.duringWrites).toBe(40);
    expect(r.stats.syncCount).toBe(40);
    expect(r.stats.lastSyncAt).toBe(r.stats.lastWriteAt);
    // Nothing dirty at close: no extra sync. The new file's directory entry was synced at open.
    expect(r.afterClose).toBe(40);
    expect(r.fs.count('fsyncSync')).toBe(1);
  });

  it('{ intervalMs } syncs once per elapsed interval and once more at close', () => {
    // 100 writes 10 ms apart over 1 s with a 100 ms interval: at 10, 110, 210 … 910 ms → 10 syncs.
    const r = run({ intervalMs: 100 }, 100, 10);
    expect(r.duringWrites).toBe(10);
    expect(r.afterClose).toBe(11);
    expect(r.stats.lastWriteAt).toBe(1_000_000 + 1000);
    expect(r.stats.lastSyncAt).toBe(1_000_000 + 910);
  });

  it('explicit sync() syncs whatever the policy', () => {
    const path = join(tmp(), 's.ts');
    const fs = spyFs();
    const sink = new FileSink(path, { fsync: 'none', fs });
    sink.write(new Uint8Array(188));
    sink.sync();
    sink.sync();
    expect(fs.count('fdatasyncSync')).toBe(2);
    expect(sink.stats.syncCount).toBe(2);
    sink.close();
  });
});

describe('fault injection', () => {
  it('loops over partial writes until every byte is written', () => {
    const path = join(tmp(), 'p.ts');
    const fs = spyFs();
    const rnd = prng(3);
    fs.hook = (name) => (name === 'writeSync' ? 1 + Math.floor(rnd() * 700) : undefined);
    const sink = new FileSink(path, { fsync: 'none', fs });
    const chunks = randomChunks(100, 11);
    for (const c of chunks) sink.write(c);
    sink.close();
    expectSameBytes(readFileSync(path), concat(chunks));
    expect(fs.count('writeSync')).toBeGreaterThan(300);
  });

  it('retries EAGAIN a bounded number of times, then fails with WriteError and loses nothing written', () => {
    const path = join(tmp(), 'e.ts');
    const fs = spyFs();
    let failures = 3;
    fs.hook = (name) => {
      if (name === 'writeSync' && failures > 0) {
        failures--;
        throw sysError('EAGAIN', 'write');
      }
      return undefined;
    };
    const sink = new FileSink(path, { fsync: 'none', fs, eagainRetries: 4 });
    sink.write(new Uint8Array(188).fill(1));
    expect(fs.count('writeSync')).toBe(4);

    // Half a chunk goes through, then EAGAIN forever: the half is cut off again.
    let calls = 0;
    fs.hook = (name) => {
      if (name !== 'writeSync') return undefined;
      calls++;
      if (calls === 1) return 94;
      throw sysError('EAGAIN', 'write');
    };
    let err: unknown;
    try {
      sink.write(new Uint8Array(376).fill(2));
    } catch (e) {
      err = e;
    }
    expect(calls).toBe(1 + 5);
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ code: 'EAGAIN', path, syscall: 'write', errno: -11 });
    expect(readFileSync(path)).toEqual(Buffer.alloc(188, 1));
    expect(() => sink.write(new Uint8Array(188))).toThrow(
      expect.objectContaining({ code: 'ERR_SINK_FAILED' }),
    );
    sink.close();
    sink.close();
  });

  it.each([
    ['ENOSPC', DiskFullError],
    ['EIO', WriteError],
    ['EBADF', WriteError],
  ] as const)(
    '%s after part of a chunk: cut back to the last whole chunk, typed error, sink failed',
    (code, type) => {
      const path = join(tmp(), `${code}.ts`);
      const fs = spyFs();
      const sink = new FileSink(path, { fsync: 'none', fs });
      const good = randomChunks(20, 5);
      for (const c of good) sink.write(c);
      let n = 0;
      fs.hook = (name) => {
        if (name !== 'writeSync') return undefined;
        n++;
        if (n === 1) return 1000; // part of the chunk reaches the file…
        throw sysError(code, 'write'); // …then the device fails
      };
      let err: unknown;
      try {
        sink.write(new Uint8Array(188 * 10).fill(0xee));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(type);
      expect(err).toBeInstanceOf(WriterError);
      expect(err).toMatchObject({ code, path, syscall: 'write' });
      expect((err as Error).message).toContain('cut back to');
      expect(sink.failure).toBe(err);
      expectSameBytes(readFileSync(path), concat(good));
      expect(statSync(path).size % 188).toBe(0);
      let again: unknown;
      try {
        sink.write(new Uint8Array(188));
      } catch (e) {
        again = e;
      }
      expect(again).toBeInstanceOf(SinkClosedError);
      expect((again as Error).cause).toBe(err);
      sink.close();
    },
  );

  it('reports an fdatasync failure as WriteError and fails the sink', () => {
    const path = join(tmp(), 'fsyncfail.ts');
    const fs = spyFs();
    const sink = new FileSink(path, { fsync: 'always', fs });
    fs.hook = (name) => {
      if (name === 'fdatasyncSync') throw sysError('EIO', 'fdatasync');
      return undefined;
    };
    expect(() => sink.write(new Uint8Array(188))).toThrow(
      expect.objectContaining({ name: 'WriteError', code: 'EIO', syscall: 'fdatasync' }),
    );
    expect(() => sink.write(new Uint8Array(188))).toThrow(SinkClosedError);
    fs.hook = null;
    sink.close();
  });

  it('a failing ftruncate is reported on the error, not swallowed', () => {
    const path = join(tmp(), 'trunc.ts');
    const fs = spyFs();
    const sink = new FileSink(path, { fsync: 'none', fs });
    fs.hook = (name) => {
      if (name === 'writeSync' && fs.count('writeSync') === 1) return 100;
      if (name === 'writeSync') throw sysError('EIO', 'write');
      if (name === 'ftruncateSync') throw sysError('EIO', 'ftruncate');
      return undefined;
    };
    let err: WriterError | undefined;
    try {
      sink.write(new Uint8Array(376));
    } catch (e) {
      err = e as WriterError;
    }
    expect(err).toBeInstanceOf(WriteError);
    expect(err?.truncateError).toMatchObject({ code: 'EIO', syscall: 'ftruncate' });
    expect(err?.message).toContain('failed too');
    fs.hook = null;
    sink.close();
  });
});
