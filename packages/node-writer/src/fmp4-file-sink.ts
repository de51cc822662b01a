/**
 * Mp4FileSink: a growing fragmented MP4 (ISO/IEC 14496-12 §8.8 movie fragments) on disk. The muxer's
 * init segment (`ftyp`+`moov`) and then each fragment (`moof`+`mdat`) arrive in one call and go out as
 * one {@link FileSink} write, with its fsync policy: the file is a valid MP4 after every write.
 *
 * A new init segment (the video configuration changed, e.g. a resolution change) starts a new file,
 * `name.1.mp4`, `name.2.mp4`…: a `moov` written first cannot announce a sample entry that did not exist
 * yet, so each configuration gets a self-contained file every player opens, and each can later be turned
 * into a progressive MP4 on its own. The `.n` suffix (not `-n`) keeps the parts of one recording apart
 * from another recording that was given the next free `name-1.mp4`.
 */

import { basename, dirname, extname, join } from 'node:path';
import { FileSink } from './file-sink.js';
import type { WriterFs } from './fs.js';
import type { FsyncPolicy } from './types.js';

/**
 * Metadata of one fragmented-MP4 chunk (structurally compatible with `Fmp4ChunkInfo` of
 * `@trackrec/muxer/mp4`, which this package does not import). Times are 90 kHz ticks.
 */
export interface Fmp4SinkChunkInfo {
  /** `'init'`: `ftyp`+`moov`; `'fragment'`: `moof`+`mdat`. */
  readonly kind: 'init' | 'fragment';
  /** An init chunk that replaces an earlier one (new video configuration). */
  readonly newInit: boolean;
  /** A fragment whose first video sample is an IDR: an HLS segment may start with it. */
  readonly randomAccess: boolean;
  /** Earliest decode time of the fragment (its `tfdt`), 90 kHz ticks. */
  readonly dts: number;
  /** Span of the fragment from `dts` to its latest sample end, 90 kHz ticks. */
  readonly duration: number;
}

/** A sink function with the fragmented-MP4 muxer's signature; consumes `chunk` before returning. */
export type Fmp4ChunkSink = (chunk: Uint8Array, info: Fmp4SinkChunkInfo) => void;

/** Options of {@link Mp4FileSink}. */
export interface Mp4FileSinkOptions {
  /** When to force data to the device (per file). Default `{ intervalMs: 1000 }`. */
  fsync?: FsyncPolicy;
  /** `'w'` (default) creates or truncates, `'wx'` refuses an existing file. Applies to every part. */
  flags?: 'w' | 'wx';
  /** Retries after `EAGAIN` per chunk, as in {@link FileSink}. */
  eagainRetries?: number;
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
  /** Wall clock in ms, as in {@link FileSink}. */
  now?: () => number;
}

/** One file of an {@link Mp4FileSink}: the recording's first part, or one begun by a new init segment. */
export interface Mp4FilePart {
  /** 0 for the first file, then 1, 2, … */
  index: number;
  /** Absolute path. */
  path: string;
  /** Bytes written to it (init segment and fragments). */
  bytes: number;
  /** Fragments written to it. */
  fragments: number;
  /** Decode time of its first fragment, 90 kHz ticks, or null before one. */
  firstDts: number | null;
  /** Latest sample end over its fragments, 90 kHz ticks. */
  endDts: number;
}

/**
 * Writes a fragmented MP4 from `Fmp4Muxer` chunks, one write per chunk, starting a new file at each new
 * init segment. Errors are those of {@link FileSink} (a failed write cuts the file back to its last whole
 * fragment); after one, the sink refuses writes.
 *
 * @example
 * const file = new Mp4FileSink('/rec/room1.mp4', { fsync: { intervalMs: 1000 } });
 * const mux = new Fmp4Muxer({ sink: file.asFmp4Sink() });
 * // … mux.write(…) …
 * mux.close();
 * file.close();
 */
export class Mp4FileSink {
  /** Absolute path of the first file; later parts are listed in {@link parts}. */
  readonly path: string;
  /** The fsync policy of every part. */
  readonly fsyncPolicy: FsyncPolicy;
  readonly #options: Mp4FileSinkOptions;
  readonly #parts: Mp4FilePart[] = [];
  #sink: FileSink;
  #closed = false;

  /**
   * Opens (creates) the first file at once, so a recording is visible from its start.
   * @throws {TypeError | RangeError} on bad options; a `WriterError` if the open fails.
   */
  constructor(path: string, options: Mp4FileSinkOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.flags !== undefined && options.flags !== 'w' && options.flags !== 'wx') {
      throw new TypeError("options.flags must be 'w' or 'wx'");
    }
    this.#options = options;
    this.#sink = this.#open(path);
    this.path = this.#sink.path;
    this.fsyncPolicy = this.#sink.fsyncPolicy;
    this.#parts.push(newPart(0, this.path));
  }

  /** Every file written so far, in order (snapshots); the last is the one being written. */
  get parts(): Mp4FilePart[] {
    return this.#parts.map((p) => ({ ...p }));
  }

  /** Absolute path of the file being written. */
  get currentPath(): string {
    return this.#sink.path;
  }

  /** Bytes written over all parts. */
  get bytesWritten(): number {
    let n = 0;
    for (const p of this.#parts) n += p.bytes;
    return n;
  }

  /** Wall clock of the last completed write, or null. */
  get lastWriteAt(): number | null {
    return this.#sink.stats.lastWriteAt;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes one muxer chunk. An init chunk with `newInit` closes the current file (synced per policy) and
   * starts the next part with it.
   */
  write(chunk: Uint8Array, info: Fmp4SinkChunkInfo): void {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    if (typeof info !== 'object' || info === null || (info.kind !== 'init' && info.kind !== 'fragment')) {
      throw new TypeError("info.kind must be 'init' or 'fragment'");
    }
    let part = this.#parts.at(-1) as Mp4FilePart;
    if (info.kind === 'init' && info.newInit && part.bytes > 0) {
      this.#sink.close();
      const path = partPath(this.path, this.#parts.length);
      this.#sink = this.#open(path);
      part = newPart(this.#parts.length, this.#sink.path);
      this.#parts.push(part);
    }
    this.#sink.write(chunk);
    part.bytes += chunk.byteLength;
    if (info.kind === 'fragment') {
      part.fragments++;
      if (part.firstDts === null) part.firstDts = info.dts;
      part.endDts = Math.max(part.endDts, info.dts + info.duration);
    }
  }

  /** Forces the current file's data to the device now, whatever the policy. */
  sync(): void {
    this.#sink.sync();
  }

  /** Checks the sink is usable (writes are unbuffered). */
  flush(): void {
    this.#sink.flush();
  }

  /** Syncs (per policy) and closes the current file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink.close();
  }

  /** A function with `Fmp4Muxer`'s sink signature that writes here. */
  asFmp4Sink(): Fmp4ChunkSink {
    return (chunk, info) => this.write(chunk, info);
  }

  #open(path: string): FileSink {
    const o = this.#options;
    return new FileSink(path, {
      flags: o.flags ?? 'w',
      ...(o.fsync === undefined ? {} : { fsync: o.fsync }),
      ...(o.eagainRetries === undefined ? {} : { eagainRetries: o.eagainRetries }),
      ...(o.fs === undefined ? {} : { fs: o.fs }),
      ...(o.now === undefined ? {} : { now: o.now }),
    });
  }
}

function newPart(index: number, path: string): Mp4FilePart {
  return { index, path, bytes: 0, fragments: 0, firstDts: null, endDts: 0 };
}

/** `dir/name.mp4` → `dir/name.{index}.mp4` (the extension kept, `.mp4` when there is none). */
export function partPath(first: string, index: number): string {
  if (index === 0) return first;
  const ext = extname(first);
  const stem = basename(first, ext);
  return join(dirname(first), `${stem}.${index}${ext || '.mp4'}`);
}
