/**
 * What the two HLS sinks ({@link SegmentSink} for `.ts`, {@link Fmp4SegmentSink} for `.m4s`) share
 * (RFC 8216, HTTP Live Streaming): their common options, the output directory and its EVENT and live
 * media playlists, the segments listed so far, the open segment, and the single-writer guard. The sinks
 * decide where a segment starts and how long it is; this lists it and keeps the playlists whole.
 */

import { SinkBusyError, SinkClosedError, toWriterError, WriteError, WriterError } from './errors.js';
import { claimPath, type FileSink, type FileSinkOptions, releasePath } from './file-sink.js';
import { defaultFs, type WriterFs } from './fs.js';
import { childPath, MAX_NAME_BYTES, MAX_PREFIX_BYTES, validateName } from './names.js';
import { type PlaylistSegment, validatePlaylistShape, writePlaylists } from './playlist.js';
import type { FinishedSegment, SegmentSinkOptions } from './segment-sink.js';
import { CLOCK_HZ, type FsyncPolicy, validateFsyncPolicy } from './types.js';

/**
 * The options both HLS sinks take besides `dir`. `Fmp4SegmentSinkOptions` is `SegmentSinkOptions` without
 * `naming`, so either sink's options fit. @internal
 */
export type HlsOutputOptions = Omit<SegmentSinkOptions, 'dir' | 'naming'>;

/** The checked file names and playlist shape. @internal */
export interface PlaylistSettings {
  prefix: string;
  playlistName: string;
  liveName: string | null;
  liveSegmentCount: number;
  targetDuration: number;
}

/** The checked I/O options. @internal */
export interface WriterSettings {
  onSegment: ((segment: FinishedSegment) => void) | undefined;
  now: () => number;
  eagainRetries: number | undefined;
  fsync: FsyncPolicy;
  overwrite: boolean;
  fs: WriterFs;
}

/** Everything {@link HlsOutput} is built from. @internal */
export interface HlsOutputSettings extends PlaylistSettings, WriterSettings {
  /** Absolute output directory. */
  dir: string;
}

/** A segment file being written; each sink extends it with its own timing. @internal */
export interface SegmentFile {
  readonly index: number;
  readonly name: string;
  readonly path: string;
  readonly sink: FileSink;
  /** Wall clock when it was opened (EXT-X-PROGRAM-DATE-TIME), ms since the epoch. */
  readonly startedAt: number;
  /** An EXT-X-DISCONTINUITY precedes it. */
  discontinuity: boolean;
  /** fMP4: the init segment it needs (EXT-X-MAP). */
  readonly map?: string;
}

/**
 * Checks prefix, playlist names, live segment count and target duration, throwing a `TypeError`/
 * `RangeError` that names the option. @internal
 */
export function validatePlaylistOptions(options: HlsOutputOptions): PlaylistSettings {
  const prefix = validateName(options.prefix ?? 'segment', 'options.prefix', MAX_PREFIX_BYTES);
  const playlistName = validatePlaylistName(options.playlistName ?? 'playlist.m3u8', 'options.playlistName');
  const liveName =
    options.livePlaylistName === undefined
      ? null
      : validatePlaylistName(options.livePlaylistName, 'options.livePlaylistName');
  if (liveName !== null && liveName === playlistName) {
    throw new RangeError('options.livePlaylistName must differ from options.playlistName');
  }
  const { liveSegmentCount, targetDuration } = validatePlaylistShape(options);
  return { prefix, playlistName, liveName, liveSegmentCount, targetDuration };
}

/** Checks the hook, clock, retry and fsync options and applies their defaults. @internal */
export function validateWriterOptions(options: HlsOutputOptions): WriterSettings {
  if (options.onSegment !== undefined && typeof options.onSegment !== 'function') {
    throw new TypeError('options.onSegment must be a function');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError('options.now must be a function');
  }
  if (
    options.eagainRetries !== undefined &&
    (!Number.isInteger(options.eagainRetries) || options.eagainRetries < 0)
  ) {
    throw new RangeError('options.eagainRetries must be a non-negative integer');
  }
  return {
    onSegment: options.onSegment,
    now: options.now ?? Date.now,
    eagainRetries: options.eagainRetries,
    fsync: validateFsyncPolicy(options.fsync ?? { intervalMs: 1000 }, 'options.fsync'),
    overwrite: options.overwrite === true,
    fs: options.fs ?? defaultFs,
  };
}

function validatePlaylistName(value: unknown, option: string): string {
  const name = validateName(value, option, MAX_NAME_BYTES);
  if (!name.endsWith('.m3u8') || name.length === '.m3u8'.length) {
    throw new RangeError(`${option} must end in .m3u8`);
  }
  return name;
}

/**
 * One HLS output directory while a sink records into it. Playlists are replaced atomically after every
 * finished segment, so a player or a crash never sees one that lists an unfinished or missing segment.
 * Calls are guarded as in {@link FileSink}: a re-entrant call throws `SinkBusyError`, and after a
 * `WriterError` the sink is failed and every later call throws `SinkClosedError`. @internal
 */
export class HlsOutput<S extends SegmentFile> {
  /** Absolute output directory. */
  readonly dir: string;
  readonly prefix: string;
  readonly playlistPath: string;
  readonly livePlaylistPath: string | null;
  /** Target segment duration, seconds. */
  readonly targetDuration: number;
  /** The same in 90 kHz ticks. */
  readonly targetTicks: number;
  readonly fsyncPolicy: FsyncPolicy;
  readonly now: () => number;
  /** The segment being written, or null. */
  current: S | null = null;
  readonly #fs: WriterFs;
  readonly #overwrite: boolean;
  readonly #retries: number | undefined;
  readonly #liveCount: number;
  readonly #playlistName: string;
  readonly #liveName: string | null;
  readonly #onSegment: ((segment: FinishedSegment) => void) | undefined;
  readonly #claims: string[] = [];
  readonly #segments: PlaylistSegment[] = [];
  #nextIndex = 0;
  #finishedBytes = 0;
  #finishedTicks = 0;
  #closed = false;
  #busy = false;
  #failure: WriterError | null = null;
  /** Finished segments whose `onSegment` call waits until the call that finished them is out of the guard. */
  #finishedQueue: FinishedSegment[] = [];

  /**
   * Claims the playlist paths, creates the directory and writes the (empty) EVENT playlist, so a playlist
   * exists from the start. Refuses existing playlists unless `overwrite` is set.
   */
  constructor(settings: HlsOutputSettings) {
    this.dir = settings.dir;
    this.prefix = settings.prefix;
    this.targetDuration = settings.targetDuration;
    this.targetTicks = settings.targetDuration * CLOCK_HZ;
    this.fsyncPolicy = settings.fsync;
    this.now = settings.now;
    this.#fs = settings.fs;
    this.#overwrite = settings.overwrite;
    this.#retries = settings.eagainRetries;
    this.#liveCount = settings.liveSegmentCount;
    this.#playlistName = settings.playlistName;
    this.#liveName = settings.liveName;
    this.#onSegment = settings.onSegment;
    this.playlistPath = childPath(this.dir, this.#playlistName);
    this.livePlaylistPath = this.#liveName === null ? null : childPath(this.dir, this.#liveName);

    try {
      this.#claims.push(claimPath(this.playlistPath));
      if (this.livePlaylistPath !== null) this.#claims.push(claimPath(this.livePlaylistPath));
      try {
        this.#fs.mkdirSync(this.dir, { recursive: true });
      } catch (err) {
        throw toWriterError(err, this.dir, 'mkdir');
      }
      if (!this.#overwrite) {
        for (const p of [this.playlistPath, this.livePlaylistPath]) {
          if (p !== null && this.#fs.existsSync(p)) {
            throw new WriteError(`${p} already exists (set options.overwrite to replace it)`, 'EEXIST', p, {
              syscall: 'open',
            });
          }
        }
      }
      this.#writePlaylists(false);
    } catch (err) {
      for (const c of this.#claims) releasePath(c);
      throw err;
    }
  }

  /** The open segment while the sink can still write to it: null once closed or failed. */
  get writable(): S | null {
    return this.#closed || this.#failure !== null ? null : this.current;
  }

  /** Finished segments, as listed in the playlist (a copy). */
  get segments(): PlaylistSegment[] {
    return this.#segments.map((s) => ({ ...s }));
  }

  /** Number of finished (listed) segments. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Bytes of finished segments. */
  get finishedBytes(): number {
    return this.#finishedBytes;
  }

  /** Media time of finished segments, 90 kHz ticks. */
  get finishedTicks(): number {
    return this.#finishedTicks;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The fault that failed the sink, or null. */
  get failure(): WriterError | null {
    return this.#failure;
  }

  /** The sequence number for the next segment (EXT-X-MEDIA-SEQUENCE numbering). */
  takeIndex(): number {
    return this.#nextIndex++;
  }

  /** Options of a segment (or init segment) file: the sink's fsync policy, clock, fs and retries. */
  fileOptions(): FileSinkOptions {
    return {
      fsync: this.fsyncPolicy,
      flags: this.#overwrite ? 'w' : 'wx',
      fs: this.#fs,
      now: this.now,
      ...(this.#retries === undefined ? {} : { eagainRetries: this.#retries }),
    };
  }

  /** Throws if the sink failed or is closed. */
  check(): void {
    if (this.#failure !== null) {
      throw new SinkClosedError(
        `${this.dir} failed earlier: ${this.#failure.message}`,
        'ERR_SINK_FAILED',
        this.dir,
        {
          cause: this.#failure,
        },
      );
    }
    if (this.#closed)
      throw new SinkClosedError(`segment sink in ${this.dir} is closed`, 'ERR_SINK_CLOSED', this.dir);
  }

  /**
   * Runs one `write` under the guard, then the `onSegment` hooks of the segments it finished: outside
   * the guard, so a hook may call back into the sink.
   */
  write(body: () => void): void {
    this.#guarded(body);
    this.#drainHooks();
  }

  /** Forces the open segment's data to the device now, whatever the policy. */
  sync(): void {
    this.#guarded(() => this.current?.sink.sync());
  }

  /**
   * Finishes the open segment with `finishLast` (which calls {@link finish}) or, when it holds nothing,
   * just closes it and ends the playlists. Idempotent. After a failure it only closes files: the playlist
   * keeps every finished segment, and repair adds the rest.
   */
  close(finishLast: (segment: S) => void): void {
    if (this.#closed) return;
    if (this.#busy)
      throw new SinkBusyError(`close() re-entered a call on ${this.dir}`, 'ERR_SINK_BUSY', this.dir);
    this.#closed = true;
    this.#busy = true;
    try {
      const seg = this.current;
      this.current = null;
      if (this.#failure !== null) {
        seg?.sink.close();
        return;
      }
      if (seg !== null && seg.sink.stats.bytesWritten > 0) finishLast(seg);
      else {
        seg?.sink.close();
        this.#writePlaylists(true);
      }
    } catch (err) {
      if (err instanceof WriterError) this.#failure = err;
      throw err;
    } finally {
      this.#busy = false;
      for (const c of this.#claims) releasePath(c);
    }
    this.#drainHooks();
  }

  /**
   * Closes `seg` (fsync per policy), lists it with `ticks` of media, rewrites the playlists (with
   * EXT-X-ENDLIST when `ended`) and queues its `onSegment` call.
   */
  finish(seg: S, ticks: number, firstPts: number | undefined, ended: boolean): void {
    const bytes = seg.sink.stats.bytesWritten;
    seg.sink.close();
    if (this.current === seg) this.current = null;
    const entry: PlaylistSegment = {
      name: seg.name,
      duration: ticks / CLOCK_HZ,
      programDateTime: seg.startedAt,
      discontinuity: seg.discontinuity,
      ...(seg.map === undefined ? {} : { map: seg.map }),
    };
    this.#segments.push(entry);
    this.#finishedBytes += bytes;
    this.#finishedTicks += ticks;
    this.#writePlaylists(ended);
    this.#finishedQueue.push({
      index: seg.index,
      name: seg.name,
      path: seg.path,
      duration: entry.duration,
      bytes,
      programDateTime: seg.startedAt,
      discontinuity: seg.discontinuity,
      firstPts: firstPts ?? null,
    });
  }

  #writePlaylists(ended: boolean): void {
    const model = {
      segments: this.#segments,
      minTargetDuration: this.targetDuration,
      liveSegmentCount: this.#liveCount,
      ended,
    };
    writePlaylists(
      this.#fs,
      this.dir,
      this.#playlistName,
      this.#liveName,
      model,
      this.fsyncPolicy !== 'none',
    );
  }

  #drainHooks(): void {
    const hook = this.#onSegment;
    const queue = this.#finishedQueue;
    if (queue.length === 0) return;
    this.#finishedQueue = [];
    if (hook === undefined) return;
    for (const s of queue) hook(s);
  }

  #guarded(body: () => void): void {
    if (this.#busy) throw new SinkBusyError(`re-entrant call on ${this.dir}`, 'ERR_SINK_BUSY', this.dir);
    this.check();
    this.#busy = true;
    try {
      body();
    } catch (err) {
      if (err instanceof WriterError) this.#failure = err;
      throw err;
    } finally {
      this.#busy = false;
    }
  }
}
