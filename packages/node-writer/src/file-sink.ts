/**
 * FileSink: appends chunks to one file with synchronous system calls, so a chunk is in the kernel (and
 * visible to any reader) when `write` returns, and on the device as the fsync policy says.
 */

import { resolve } from 'node:path';
import { SinkBusyError, SinkClosedError, toWriterError, type WriterError } from './errors.js';
import { datasync, defaultFs, sleepSync, syncDirectory, type WriterFs } from './fs.js';
import { type ChunkSink, type FsyncPolicy, type SinkChunkInfo, validateFsyncPolicy } from './types.js';

/** Options of {@link FileSink}. */
export interface FileSinkOptions {
  /** When to force data to the device. Default `{ intervalMs: 1000 }`. */
  fsync?: FsyncPolicy;
  /**
   * `'w'` (default) creates or truncates, `'wx'` refuses an existing file (`WriteError` code `EEXIST`),
   * `'a'` appends to an existing file.
   */
  flags?: 'w' | 'wx' | 'a';
  /** File mode for a created file. Default 0o644. */
  mode?: number;
  /** How many times one chunk is retried after `EAGAIN`/`EINTR` before a `WriteError`. Default 10. */
  eagainRetries?: number;
  /** File-system calls; default `node:fs`. Inject a wrapper to test faults. */
  fs?: WriterFs;
  /** Wall clock in ms (for `lastWriteAt`, `lastSyncAt` and interval fsync). Default `Date.now`. */
  now?: () => number;
}

/** Counters of a {@link FileSink}. */
export interface FileSinkStats {
  /** Bytes of whole chunks written since open. */
  bytesWritten: number;
  /** Chunks written since open. */
  chunksWritten: number;
  /** Clock time of the last completed write, or null before the first. */
  lastWriteAt: number | null;
  /** Clock time of the last completed fsync/fdatasync, or null before the first. */
  lastSyncAt: number | null;
  /** Number of fsync/fdatasync calls made. */
  syncCount: number;
}

/** Paths this process has open for writing: the single-writer guard across sinks. */
const openPaths = new Set<string>();

/** Claims `path` for one writer; throws {@link SinkBusyError} if another sink has it. @internal */
export function claimPath(path: string): string {
  const key = resolve(path);
  if (openPaths.has(key)) {
    throw new SinkBusyError(`${key} is already open for writing by another sink`, 'ERR_SINK_BUSY', key);
  }
  openPaths.add(key);
  return key;
}

/** Releases a path claimed with {@link claimPath}. @internal */
export function releasePath(key: string): void {
  openPaths.delete(key);
}

const MAX_BACKOFF_MS = 100;

/**
 * A durable, synchronous file writer. Each `write(chunk)` is one logical append: `writeSync` in a loop
 * until every byte is written (short writes continue, `EAGAIN`/`EINTR` retry with a bounded back-off).
 * If the append fails, the file is cut back to the end of the previous chunk, the sink fails, and the
 * error ({@link DiskFullError} or {@link WriteError}) is thrown; later calls throw {@link SinkClosedError}.
 *
 * @example
 * const sink = new FileSink('/rec/out.ts', { fsync: { intervalMs: 1000 } });
 * const mux = new TsMuxer({ sink: sink.asTsSink() });
 * // … mux.write(…) …
 * mux.close();
 * sink.close();
 */
export class FileSink {
  /** Absolute path of the file. */
  readonly path: string;
  /** The fsync policy in force. */
  readonly fsyncPolicy: FsyncPolicy;
  readonly #fs: WriterFs;
  readonly #now: () => number;
  readonly #retries: number;
  readonly #regular: boolean;
  /** File offset where this sink's first chunk went (the old size when appending). */
  readonly #base: number;
  #fd: number;
  #closed = false;
  #failure: WriterError | null = null;
  #busy = false;
  #dirty = false;
  #bytes = 0;
  #chunks = 0;
  #lastWriteAt: number | null = null;
  #lastSyncAt: number | null = null;
  #syncCount = 0;
  #claim: string;

  /**
   * Opens (creates) `path` and, unless the policy is `'none'`, makes its directory entry durable.
   * @throws {TypeError | RangeError} on bad options; {@link WriteError}/{@link DiskFullError} if the open fails;
   *   {@link SinkBusyError} if another sink of this process writes `path`.
   */
  constructor(path: string, options: FileSinkOptions = {}) {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    if (path.includes('\0')) throw new TypeError('path must not contain NUL bytes');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    this.fsyncPolicy = validateFsyncPolicy(options.fsync ?? { intervalMs: 1000 }, 'options.fsync');
    const flags = options.flags ?? 'w';
    if (flags !== 'w' && flags !== 'wx' && flags !== 'a') {
      throw new TypeError("options.flags must be 'w', 'wx' or 'a'");
    }
    const mode = options.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new RangeError('options.mode must be an integer file mode (0 to 0o7777)');
    }
    const retries = options.eagainRetries ?? 10;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError('options.eagainRetries must be a non-negative integer');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('options.now must be a function');
    }
    this.#fs = options.fs ?? defaultFs;
    this.#now = options.now ?? Date.now;
    this.#retries = retries;
    this.path = resolve(path);
    this.#claim = claimPath(this.path);
    let fd = -1;
    try {
      fd = this.#fs.openSync(this.path, flags, mode);
      const st = this.#fs.fstatSync(fd);
      this.#regular = st.isFile();
      this.#base = flags === 'a' && this.#regular ? st.size : 0;
      if (this.#regular && this.fsyncPolicy !== 'none') syncDirectory(this.#fs, resolve(this.path, '..'));
    } catch (err) {
      releasePath(this.#claim);
      if (fd >= 0) {
        try {
          this.#fs.closeSync(fd);
        } catch {
          // The open/fstat fault below is the one to report; this fd is unusable either way.
        }
      }
      throw toWriterError(err, this.path, 'open');
    }
    this.#fd = fd;
  }

  /** Counters since open (a snapshot). */
  get stats(): FileSinkStats {
    return {
      bytesWritten: this.#bytes,
      chunksWritten: this.#chunks,
      lastWriteAt: this.#lastWriteAt,
      lastSyncAt: this.#lastSyncAt,
      syncCount: this.#syncCount,
    };
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The fault that failed the sink, or null. */
  get failure(): WriterError | null {
    return this.#failure;
  }

  /**
   * Appends one chunk (a whole number of TS packets from the muxer). `info` is accepted for the muxer's
   * sink signature and not needed here. Returns after the bytes are in the kernel and, per the fsync
   * policy, on the device.
   */
  write(chunk: Uint8Array, _info?: SinkChunkInfo): void {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    this.#enter();
    try {
      this.#append(chunk);
      if (this.fsyncPolicy === 'always') this.#sync();
      else if (this.fsyncPolicy !== 'none') {
        const since = this.#lastSyncAt ?? -Infinity;
        if (this.#now() - since >= this.fsyncPolicy.intervalMs) this.#sync();
      }
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Hands everything written to the kernel. Writes are unbuffered, so this only checks the sink is usable;
   * it exists for the writer contract (`write`, `flush`, `sync`, `close`).
   */
  flush(): void {
    this.#enter();
    this.#busy = false;
  }

  /** Forces written data to the device now (`fdatasync`, or `fsync` where that is missing), whatever the policy. */
  sync(): void {
    this.#enter();
    try {
      this.#sync();
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Syncs (unless the policy is `'none'` or the sink failed) and closes the file. Idempotent; a second call
   * does nothing. After a failure it only releases the descriptor.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#busy)
      throw new SinkBusyError(`close() re-entered a call on ${this.path}`, 'ERR_SINK_BUSY', this.path);
    this.#closed = true;
    releasePath(this.#claim);
    const fd = this.#fd;
    this.#fd = -1;
    let syncError: unknown;
    if (this.#failure === null && this.fsyncPolicy !== 'none' && this.#dirty) {
      try {
        this.#sync(fd);
      } catch (err) {
        syncError = err;
      }
    }
    try {
      this.#fs.closeSync(fd);
    } catch (err) {
      if (syncError === undefined) throw toWriterError(err, this.path, 'close');
    }
    if (syncError !== undefined) throw syncError;
  }

  /** A function with the muxer's sink signature that writes to this file: `new TsMuxer({ sink: s.asTsSink() })`. */
  asTsSink(): ChunkSink {
    return (chunk, info) => this.write(chunk, info);
  }

  #enter(): void {
    if (this.#busy) throw new SinkBusyError(`re-entrant call on ${this.path}`, 'ERR_SINK_BUSY', this.path);
    if (this.#failure !== null) {
      throw new SinkClosedError(
        `${this.path} failed earlier: ${this.#failure.message}`,
        'ERR_SINK_FAILED',
        this.path,
        {
          cause: this.#failure,
        },
      );
    }
    if (this.#closed) throw new SinkClosedError(`${this.path} is closed`, 'ERR_SINK_CLOSED', this.path);
    this.#busy = true;
  }

  #append(chunk: Uint8Array): void {
    let done = 0;
    let again = 0;
    while (done < chunk.byteLength) {
      let n: number;
      try {
        n = this.#fs.writeSync(this.#fd, chunk, done, chunk.byteLength - done, null);
      } catch (err) {
        const code = (err as { code?: unknown } | null)?.code;
        if ((code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') && again < this.#retries) {
          sleepSync(Math.min(2 ** again, MAX_BACKOFF_MS));
          again++;
          continue;
        }
        this.#fail(err, 'write', done);
      }
      if (!Number.isInteger(n) || n < 0 || n > chunk.byteLength - done) {
        this.#fail(
          Object.assign(new Error(`writeSync returned ${String(n)}`), { code: 'EIO' }),
          'write',
          done,
        );
      }
      if (n === 0) {
        // A zero-byte write that is not an error would loop forever: treat it like EAGAIN.
        if (again >= this.#retries) {
          this.#fail(Object.assign(new Error('write made no progress'), { code: 'EAGAIN' }), 'write', done);
        }
        sleepSync(Math.min(2 ** again, MAX_BACKOFF_MS));
        again++;
        continue;
      }
      done += n;
    }
    this.#bytes += chunk.byteLength;
    this.#chunks++;
    this.#dirty = true;
    this.#lastWriteAt = this.#now();
  }

  #sync(fd = this.#fd): void {
    try {
      datasync(this.#fs, fd);
    } catch (err) {
      if (fd === this.#fd) this.#fail(err, 'fdatasync', 0);
      throw toWriterError(err, this.path, 'fdatasync');
    }
    this.#syncCount++;
    this.#dirty = false;
    this.#lastSyncAt = this.#now();
  }

  /** Cuts a partly written chunk off, fails the sink and throws the mapped error. */
  #fail(err: unknown, syscall: string, partial: number): never {
    let truncateError: unknown;
    if (partial > 0 && this.#regular) {
      try {
        this.#fs.ftruncateSync(this.#fd, this.#base + this.#bytes);
      } catch (e) {
        truncateError = e;
      }
    }
    const detail =
      partial > 0
        ? truncateError === undefined
          ? `cut back to ${this.#base + this.#bytes} bytes, the end of the last whole chunk`
          : `cutting back to ${this.#base + this.#bytes} bytes failed too`
        : undefined;
    const error = toWriterError(
      err,
      this.path,
      syscall,
      detail === undefined ? { truncateError } : { truncateError, detail },
    );
    this.#failure = error;
    throw error;
  }
}
