/**
 * SegmentSink: HLS recording (RFC 8216, HTTP Live Streaming). Cuts the muxer's transport stream into
 * `.ts` segments at the random-access chunks the muxer marks, writes each with {@link FileSink}
 * semantics, and atomically rewrites the EVENT media playlist (and an optional live sliding playlist)
 * after every finished segment, so a player or a crash never sees a playlist that lists an unfinished
 * or missing segment.
 */

import { resolve } from 'node:path';
import { SinkBusyError, SinkClosedError, toWriterError, WriteError, WriterError } from './errors.js';
import { claimPath, FileSink, releasePath } from './file-sink.js';
import { defaultFs, type WriterFs } from './fs.js';
import { childPath, MAX_NAME_BYTES, MAX_PREFIX_BYTES, validateName } from './names.js';
import { type PlaylistSegment, renderPlaylist, writeFileAtomic } from './playlist.js';
import { type ChunkSink, type FsyncPolicy, type SinkChunkInfo, validateFsyncPolicy } from './types.js';

/** The MPEG-TS clock: timestamps in chunk info are 90 kHz ticks. */
export const CLOCK_HZ = 90_000;

/** Options of {@link SegmentSink}. */
export interface SegmentSinkOptions {
  /** Output directory; created if missing. Every file the sink writes is directly inside it. */
  dir: string;
  /**
   * Segment file prefix: segments are `{prefix}_{00000}.ts` (or `{prefix}_{timestamp}.ts`). Default
   * `'segment'`. Must be a plain file name (see {@link MAX_PREFIX_BYTES}); hostile names are rejected.
   */
  prefix?: string;
  /** EVENT media playlist file name, ending in `.m3u8`. Default `'playlist.m3u8'`. */
  playlistName?: string;
  /** When set, also write a live sliding playlist of the last `liveSegmentCount` segments under this name. */
  livePlaylistName?: string;
  /** Segments in the live playlist. Default 5 (LiveKit Egress). */
  liveSegmentCount?: number;
  /** Seconds after which the next random-access chunk starts a new segment. Default 4 (LiveKit Egress). */
  targetDuration?: number;
  /**
   * `'index'` (default): `{prefix}_00000.ts`, `{prefix}_00001.ts`…; `'timestamp'`: the segment's UTC start
   * time, `{prefix}_20250102T030405678Z.ts` (moved 1 ms on if the clock did not advance, so names stay
   * unique and in recording order).
   */
  naming?: 'index' | 'timestamp';
  /** fsync policy of the segment files; playlists are fsynced on every rewrite unless this is `'none'`. */
  fsync?: FsyncPolicy;
  /** Replace an existing playlist and segments of the same names. Default false: refuse (code `EEXIST`). */
  overwrite?: boolean;
  /** Retries after `EAGAIN` per chunk, as in {@link FileSink}. */
  eagainRetries?: number;
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
  /** Wall clock in ms for EXT-X-PROGRAM-DATE-TIME and timestamp names. Default `Date.now`. */
  now?: () => number;
  /**
   * Called after a segment is finished and listed in the playlist (for status reporting). Runs after the
   * chunk that finished it was written; an exception from it propagates out of that `write`/`close` call.
   */
  onSegment?: (segment: FinishedSegment) => void;
}

/** A segment that is complete on disk and listed in the playlist. */
export interface FinishedSegment {
  /** 0-based sequence number (EXT-X-MEDIA-SEQUENCE numbering). */
  index: number;
  /** File name inside the output directory. */
  name: string;
  /** Absolute path. */
  path: string;
  /** EXTINF duration, seconds. */
  duration: number;
  /** Size in bytes. */
  bytes: number;
  /** Wall clock when its first chunk was written (EXT-X-PROGRAM-DATE-TIME), ms since the epoch. */
  programDateTime: number;
  /** An EXT-X-DISCONTINUITY precedes it. */
  discontinuity: boolean;
  /** PTS of its first media chunk, 90 kHz ticks, or null if it held none. */
  firstPts: number | null;
}

/** Counters of a {@link SegmentSink}. */
export interface SegmentSinkStats {
  /** Finished (listed) segments. */
  segmentCount: number;
  /** Bytes written, finished segments plus the open one. */
  bytesWritten: number;
  /** Seconds of finished segments. */
  duration: number;
  /** The segment being written, or null before the first chunk and after close. */
  current: { index: number; name: string; bytes: number; duration: number } | null;
}

interface OpenSegment {
  index: number;
  name: string;
  path: string;
  sink: FileSink;
  startedAt: number;
  discontinuity: boolean;
  /** Began at the discontinuity that is still being reported by other tracks. */
  startedAtDiscontinuity: boolean;
  /** PTS of the first media chunk. */
  firstPts: number | undefined;
  /** Media time before the latest timeline break inside this segment, ticks. */
  accumulated: number;
  /** Start and end (largest PTS + duration) of the current unbroken timeline span. */
  spanStart: number | undefined;
  spanEnd: number;
  /** The timeline broke inside the segment: its duration comes from spans, not the next segment. */
  broken: boolean;
}

const DEFAULT_FSYNC: FsyncPolicy = { intervalMs: 1000 };

/**
 * Writes the muxer's stream as HLS: segments rotate only at chunks with `info.randomAccess`, once
 * `targetDuration` is reached (durations from the chunks' 90 kHz PTS), or at a discontinuity. After each
 * finished segment the playlist is replaced atomically (temp file, fsync, rename, directory fsync).
 * `close()` finishes the last segment and adds EXT-X-ENDLIST.
 *
 * @example
 * const hls = new SegmentSink({ dir: '/rec/room1', prefix: 'room1', livePlaylistName: 'live.m3u8' });
 * const mux = new TsMuxer({ sink: hls.asTsSink() });
 * // when hls.wantsRotation is true, ask the encoder for a keyframe (or call mux.startSegment())
 * mux.close();
 * hls.close();
 */
export class SegmentSink {
  /** Absolute output directory. */
  readonly dir: string;
  /** Segment file prefix. */
  readonly prefix: string;
  /** Absolute path of the EVENT playlist. */
  readonly playlistPath: string;
  /** Absolute path of the live playlist, or null. */
  readonly livePlaylistPath: string | null;
  /** Target segment duration, seconds. */
  readonly targetDuration: number;
  /** fsync policy of segments (and, unless `'none'`, playlists). */
  readonly fsyncPolicy: FsyncPolicy;
  readonly #fs: WriterFs;
  readonly #now: () => number;
  readonly #naming: 'index' | 'timestamp';
  readonly #overwrite: boolean;
  readonly #retries: number | undefined;
  readonly #liveCount: number;
  readonly #playlistName: string;
  readonly #liveName: string | null;
  readonly #onSegment: ((segment: FinishedSegment) => void) | undefined;
  readonly #targetTicks: number;
  readonly #claims: string[] = [];
  readonly #segments: PlaylistSegment[] = [];
  /** Last PTS and PTS step per track, to estimate a video frame's duration (the muxer reports 0). */
  readonly #trackTiming = new Map<number, { pts: number; step: number }>();
  readonly #tracksSeen = new Set<number>();
  #discontinuityTracks: Set<number> | null = null;
  #pendingDiscontinuity = false;
  #current: OpenSegment | null = null;
  #nextIndex = 0;
  #lastStamp = Number.NEGATIVE_INFINITY;
  #finishedBytes = 0;
  #finishedTicks = 0;
  #closed = false;
  #busy = false;
  #failure: WriterError | null = null;
  #finishedQueue: FinishedSegment[] = [];

  /**
   * Creates the directory if needed and writes the (empty) EVENT playlist, so a playlist exists from the start.
   * @throws {TypeError | RangeError} for bad options or hostile names; {@link WriterError} subclasses for I/O.
   */
  constructor(options: SegmentSinkOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new TypeError('options.dir must be a non-empty string');
    }
    if (options.dir.includes('\0')) throw new TypeError('options.dir must not contain NUL bytes');
    this.dir = resolve(options.dir);
    this.prefix = validateName(options.prefix ?? 'segment', 'options.prefix', MAX_PREFIX_BYTES);
    this.#playlistName = validatePlaylistName(
      options.playlistName ?? 'playlist.m3u8',
      'options.playlistName',
    );
    this.#liveName =
      options.livePlaylistName === undefined
        ? null
        : validatePlaylistName(options.livePlaylistName, 'options.livePlaylistName');
    if (this.#liveName !== null && this.#liveName === this.#playlistName) {
      throw new RangeError('options.livePlaylistName must differ from options.playlistName');
    }
    const liveCount = options.liveSegmentCount ?? 5;
    if (!Number.isInteger(liveCount) || liveCount < 1) {
      throw new RangeError('options.liveSegmentCount must be a positive integer');
    }
    const target = options.targetDuration ?? 4;
    if (typeof target !== 'number' || !Number.isFinite(target) || target <= 0) {
      throw new RangeError('options.targetDuration must be a positive number');
    }
    const naming = options.naming ?? 'index';
    if (naming !== 'index' && naming !== 'timestamp') {
      throw new TypeError("options.naming must be 'index' or 'timestamp'");
    }
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
    this.fsyncPolicy = validateFsyncPolicy(options.fsync ?? DEFAULT_FSYNC, 'options.fsync');
    this.targetDuration = target;
    this.#targetTicks = target * CLOCK_HZ;
    this.#liveCount = liveCount;
    this.#naming = naming;
    this.#overwrite = options.overwrite === true;
    this.#retries = options.eagainRetries;
    this.#fs = options.fs ?? defaultFs;
    this.#now = options.now ?? Date.now;
    this.#onSegment = options.onSegment;
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

  /**
   * True when the open segment has reached the target duration (or a discontinuity is pending) and the
   * sink is waiting for a random-access chunk to rotate: ask the encoder for a keyframe, or call the
   * muxer's `startSegment()`.
   */
  get wantsRotation(): boolean {
    const seg = this.#current;
    if (seg === null || this.#closed || this.#failure !== null || seg.firstPts === undefined) return false;
    return this.#pendingDiscontinuity || this.#due(seg, undefined);
  }

  /** Counters (a snapshot). */
  get stats(): SegmentSinkStats {
    const seg = this.#current;
    const currentBytes = seg === null ? 0 : seg.sink.stats.bytesWritten;
    return {
      segmentCount: this.#segments.length,
      bytesWritten: this.#finishedBytes + currentBytes,
      duration: this.#finishedTicks / CLOCK_HZ,
      current:
        seg === null
          ? null
          : { index: seg.index, name: seg.name, bytes: currentBytes, duration: spanTicks(seg) / CLOCK_HZ },
    };
  }

  /** Finished segments, as listed in the playlist (a copy). */
  get segments(): PlaylistSegment[] {
    return this.#segments.map((s) => ({ ...s }));
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
   * Marks a discontinuity (encoding change, timestamp jump): the next random-access chunk starts a new
   * segment preceded by EXT-X-DISCONTINUITY, whatever its duration. A chunk with `info.discontinuity`
   * does the same on its own.
   */
  markDiscontinuity(): void {
    this.#check();
    this.#pendingDiscontinuity = true;
    this.#discontinuityTracks = new Set();
  }

  /**
   * Writes one muxer chunk. `info` is required: `randomAccess` says where a segment may start, `pts`
   * (90 kHz) gives durations, `discontinuity` forces a new segment.
   */
  write(chunk: Uint8Array, info: SinkChunkInfo): void {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    validateInfo(info);
    this.#enter();
    try {
      this.#write(chunk, info);
    } catch (err) {
      if (err instanceof WriterError) this.#failure = err;
      throw err;
    } finally {
      this.#busy = false;
    }
    this.#drainHooks();
  }

  /** Checks the sink is usable; writes are unbuffered (writer contract: `write`, `flush`, `sync`, `close`). */
  flush(): void {
    this.#check();
  }

  /** Forces the open segment's data to the device now, whatever the policy. */
  sync(): void {
    this.#enter();
    try {
      this.#current?.sink.sync();
    } catch (err) {
      if (err instanceof WriterError) this.#failure = err;
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Finishes the open segment, lists it and writes EXT-X-ENDLIST to the playlists. Idempotent. After a
   * failure it only closes files: the playlist keeps every finished segment, and {@link repairHls} adds the
   * rest.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#busy)
      throw new SinkBusyError(`close() re-entered a call on ${this.dir}`, 'ERR_SINK_BUSY', this.dir);
    this.#closed = true;
    this.#busy = true;
    try {
      const seg = this.#current;
      this.#current = null;
      if (this.#failure !== null) {
        seg?.sink.close();
        return;
      }
      if (seg !== null && seg.sink.stats.bytesWritten > 0) this.#finish(seg, undefined, true);
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

  /** A function with the muxer's sink signature that writes here: `new TsMuxer({ sink: hls.asTsSink() })`. */
  asTsSink(): ChunkSink {
    return (chunk, info) => this.write(chunk, info);
  }

  #write(chunk: Uint8Array, info: SinkChunkInfo): void {
    const media = info.kind !== 'clock';
    const track = info.trackId ?? -1;
    if (media) this.#tracksSeen.add(track);
    let newEvent = false;
    if (info.discontinuity === true) {
      // The muxer flags the first chunk of every PID after one discontinuity: count them once.
      const event = this.#discontinuityTracks;
      if (event !== null && !event.has(track)) event.add(track);
      else {
        newEvent = true;
        this.#discontinuityTracks = new Set([track]);
      }
      if (this.#discontinuityTracks !== null && this.#discontinuityTracks.size >= this.#tracksSeen.size) {
        this.#discontinuityTracks = null;
      }
    }
    const wantDiscontinuity = this.#pendingDiscontinuity || newEvent;

    let seg = this.#current;
    if (seg === null) {
      seg = this.#open(wantDiscontinuity);
      this.#pendingDiscontinuity = false;
    } else if (seg.firstPts === undefined) {
      if (wantDiscontinuity) {
        seg.discontinuity = true;
        seg.startedAtDiscontinuity = true;
        this.#pendingDiscontinuity = false;
      }
    } else if (info.randomAccess && (wantDiscontinuity || this.#due(seg, media ? info.pts : undefined))) {
      const continuous = !wantDiscontinuity && media && !seg.broken;
      this.#finish(seg, continuous ? info.pts : undefined, false);
      seg = this.#open(wantDiscontinuity);
      this.#pendingDiscontinuity = false;
    } else if (info.discontinuity === true && (newEvent || !(seg.startedAtDiscontinuity || seg.broken))) {
      // A timebase jump inside a segment: close the timeline span; rotate at the next random-access chunk.
      seg.accumulated = spanTicks(seg);
      seg.spanStart = undefined;
      seg.broken = true;
      this.#pendingDiscontinuity = true;
    }

    seg.sink.write(chunk, info);

    if (media) this.#account(seg, info, track);
  }

  /**
   * The open segment holds the target duration: the media written covers it, or a chunk starting at `pts`
   * would begin at or after it. The same test as {@link wantsRotation}, so a requested keyframe always cuts.
   */
  #due(seg: OpenSegment, pts: number | undefined): boolean {
    const reached = pts === undefined ? 0 : elapsedTicks(seg, pts);
    return Math.max(spanTicks(seg), reached) >= this.#targetTicks;
  }

  #account(seg: OpenSegment, info: SinkChunkInfo, track: number): void {
    const pts = info.pts;
    const prev = this.#trackTiming.get(track);
    let step = prev?.step ?? 0;
    if (prev !== undefined && info.discontinuity !== true && pts > prev.pts) step = pts - prev.pts;
    this.#trackTiming.set(track, { pts, step });
    const duration = info.duration !== undefined && info.duration > 0 ? info.duration : step;
    if (seg.firstPts === undefined) seg.firstPts = pts;
    if (seg.spanStart === undefined) {
      seg.spanStart = pts;
      seg.spanEnd = pts;
    }
    seg.spanEnd = Math.max(seg.spanEnd, pts + duration);
  }

  #open(discontinuity: boolean): OpenSegment {
    const index = this.#nextIndex++;
    const startedAt = this.#now();
    const name = this.#segmentName(index, startedAt);
    const path = childPath(this.dir, name);
    const sink = new FileSink(path, {
      fsync: this.fsyncPolicy,
      flags: this.#overwrite ? 'w' : 'wx',
      fs: this.#fs,
      now: this.#now,
      ...(this.#retries === undefined ? {} : { eagainRetries: this.#retries }),
    });
    const seg: OpenSegment = {
      index,
      name,
      path,
      sink,
      startedAt,
      discontinuity: discontinuity && index > 0,
      startedAtDiscontinuity: discontinuity,
      firstPts: undefined,
      accumulated: 0,
      spanStart: undefined,
      spanEnd: 0,
      broken: false,
    };
    this.#current = seg;
    return seg;
  }

  #segmentName(index: number, startedAt: number): string {
    if (this.#naming === 'index') return `${this.prefix}_${String(index).padStart(5, '0')}.ts`;
    // Names must sort in recording order (repair relies on it): never reuse or go back a millisecond.
    const stamp = Math.max(startedAt, this.#lastStamp + 1);
    this.#lastStamp = stamp;
    return `${this.prefix}_${compactUtc(stamp)}.ts`;
  }

  /** Closes `seg` (fsync per policy), lists it, rewrites the playlists. */
  #finish(seg: OpenSegment, nextFirstPts: number | undefined, ended: boolean): void {
    const ticks =
      nextFirstPts !== undefined && seg.firstPts !== undefined
        ? Math.max(0, nextFirstPts - seg.firstPts)
        : spanTicks(seg);
    const bytes = seg.sink.stats.bytesWritten;
    seg.sink.close();
    if (this.#current === seg) this.#current = null;
    const entry: PlaylistSegment = {
      name: seg.name,
      duration: ticks / CLOCK_HZ,
      programDateTime: seg.startedAt,
      discontinuity: seg.discontinuity,
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
      firstPts: seg.firstPts ?? null,
    });
  }

  #writePlaylists(ended: boolean): void {
    const durable = this.fsyncPolicy !== 'none';
    const model = {
      segments: this.#segments,
      minTargetDuration: this.targetDuration,
      liveSegmentCount: this.#liveCount,
      ended,
    };
    writeFileAtomic(
      this.#fs,
      this.dir,
      this.#playlistName,
      renderPlaylist({ ...model, kind: 'event' }),
      durable,
    );
    if (this.#liveName !== null) {
      writeFileAtomic(
        this.#fs,
        this.dir,
        this.#liveName,
        renderPlaylist({ ...model, kind: 'live' }),
        durable,
      );
    }
  }

  #drainHooks(): void {
    const hook = this.#onSegment;
    const queue = this.#finishedQueue;
    if (queue.length === 0) return;
    this.#finishedQueue = [];
    if (hook === undefined) return;
    for (const s of queue) hook(s);
  }

  #check(): void {
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

  #enter(): void {
    if (this.#busy) throw new SinkBusyError(`re-entrant call on ${this.dir}`, 'ERR_SINK_BUSY', this.dir);
    this.#check();
    this.#busy = true;
  }
}

/** Media time of `seg` up to its latest end (accumulated spans + the current one), ticks. */
function spanTicks(seg: OpenSegment): number {
  const current = seg.spanStart === undefined ? 0 : Math.max(0, seg.spanEnd - seg.spanStart);
  return seg.accumulated + current;
}

/** Media time of `seg` up to a chunk at `pts` (excluding that chunk), ticks. */
function elapsedTicks(seg: OpenSegment, pts: number): number {
  const current = seg.spanStart === undefined ? 0 : Math.max(0, pts - seg.spanStart);
  return seg.accumulated + current;
}

function validatePlaylistName(value: unknown, option: string): string {
  const name = validateName(value, option, MAX_NAME_BYTES);
  if (!name.endsWith('.m3u8') || name.length === '.m3u8'.length) {
    throw new RangeError(`${option} must end in .m3u8`);
  }
  return name;
}

function validateInfo(info: unknown): asserts info is SinkChunkInfo {
  if (typeof info !== 'object' || info === null) {
    throw new TypeError('info must be the chunk info object the muxer passes to its sink');
  }
  const i = info as Partial<SinkChunkInfo>;
  if (i.kind !== 'video' && i.kind !== 'audio' && i.kind !== 'clock') {
    throw new TypeError("info.kind must be 'video', 'audio' or 'clock'");
  }
  if (typeof i.randomAccess !== 'boolean') throw new TypeError('info.randomAccess must be a boolean');
  if (i.kind !== 'clock' && (typeof i.pts !== 'number' || !Number.isFinite(i.pts))) {
    throw new TypeError('info.pts must be a finite number (90 kHz ticks)');
  }
}

function compactUtc(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}Z`
  );
}
