/**
 * SegmentSink: HLS recording (RFC 8216, HTTP Live Streaming). Cuts the muxer's transport stream into
 * `.ts` segments at the random-access chunks the muxer marks, writes each with {@link FileSink}
 * semantics, and atomically rewrites the EVENT media playlist (and an optional live sliding playlist)
 * after every finished segment, so a player or a crash never sees a playlist that lists an unfinished
 * or missing segment.
 */

import { resolve } from 'node:path';
import type { WriterError } from './errors.js';
import { FileSink } from './file-sink.js';
import type { WriterFs } from './fs.js';
import { HlsOutput, type SegmentFile, validatePlaylistOptions, validateWriterOptions } from './hls-output.js';
import { childPath } from './names.js';
import type { PlaylistSegment } from './playlist.js';
import { type ChunkSink, CLOCK_HZ, type FsyncPolicy, type SinkChunkInfo } from './types.js';

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

interface OpenSegment extends SegmentFile {
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
  readonly #out: HlsOutput<OpenSegment>;
  readonly #naming: 'index' | 'timestamp';
  /** Last PTS and PTS step per track, to estimate a video frame's duration (the muxer reports 0). */
  readonly #trackTiming = new Map<number, { pts: number; step: number }>();
  readonly #tracksSeen = new Set<number>();
  #discontinuityTracks: Set<number> | null = null;
  #pendingDiscontinuity = false;
  #lastStamp = Number.NEGATIVE_INFINITY;

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
    const dir = resolve(options.dir);
    const playlists = validatePlaylistOptions(options);
    const naming = options.naming ?? 'index';
    if (naming !== 'index' && naming !== 'timestamp') {
      throw new TypeError("options.naming must be 'index' or 'timestamp'");
    }
    const writer = validateWriterOptions(options);
    this.#naming = naming;
    this.#out = new HlsOutput({ dir, ...playlists, ...writer });
    this.dir = this.#out.dir;
    this.prefix = this.#out.prefix;
    this.playlistPath = this.#out.playlistPath;
    this.livePlaylistPath = this.#out.livePlaylistPath;
    this.targetDuration = this.#out.targetDuration;
    this.fsyncPolicy = this.#out.fsyncPolicy;
  }

  /**
   * True when the open segment has reached the target duration (or a discontinuity is pending) and the
   * sink is waiting for a random-access chunk to rotate: ask the encoder for a keyframe, or call the
   * muxer's `startSegment()`.
   */
  get wantsRotation(): boolean {
    const seg = this.#out.writable;
    if (seg === null || seg.firstPts === undefined) return false;
    return this.#pendingDiscontinuity || this.#due(seg, undefined);
  }

  /** Counters (a snapshot). */
  get stats(): SegmentSinkStats {
    const out = this.#out;
    const seg = out.current;
    const currentBytes = seg === null ? 0 : seg.sink.stats.bytesWritten;
    return {
      segmentCount: out.segmentCount,
      bytesWritten: out.finishedBytes + currentBytes,
      duration: out.finishedTicks / CLOCK_HZ,
      current:
        seg === null
          ? null
          : { index: seg.index, name: seg.name, bytes: currentBytes, duration: spanTicks(seg) / CLOCK_HZ },
    };
  }

  /** Finished segments, as listed in the playlist (a copy). */
  get segments(): PlaylistSegment[] {
    return this.#out.segments;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#out.closed;
  }

  /** The fault that failed the sink, or null. */
  get failure(): WriterError | null {
    return this.#out.failure;
  }

  /**
   * Marks a discontinuity (encoding change, timestamp jump): the next random-access chunk starts a new
   * segment preceded by EXT-X-DISCONTINUITY, whatever its duration. A chunk with `info.discontinuity`
   * does the same on its own.
   */
  markDiscontinuity(): void {
    this.#out.check();
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
    this.#out.write(() => this.#write(chunk, info));
  }

  /** Checks the sink is usable; writes are unbuffered (writer contract: `write`, `flush`, `sync`, `close`). */
  flush(): void {
    this.#out.check();
  }

  /** Forces the open segment's data to the device now, whatever the policy. */
  sync(): void {
    this.#out.sync();
  }

  /**
   * Finishes the open segment, lists it and writes EXT-X-ENDLIST to the playlists. Idempotent. After a
   * failure it only closes files: the playlist keeps every finished segment, and {@link repairHls} adds the
   * rest.
   */
  close(): void {
    this.#out.close((seg) => this.#finish(seg, undefined, true));
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

    let seg = this.#out.current;
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
    return Math.max(spanTicks(seg), reached) >= this.#out.targetTicks;
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
    const index = this.#out.takeIndex();
    const startedAt = this.#out.now();
    const name = this.#segmentName(index, startedAt);
    const path = childPath(this.dir, name);
    const sink = new FileSink(path, this.#out.fileOptions());
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
    this.#out.current = seg;
    return seg;
  }

  #segmentName(index: number, startedAt: number): string {
    if (this.#naming === 'index') return `${this.prefix}_${String(index).padStart(5, '0')}.ts`;
    // Names must sort in recording order (repair relies on it): never reuse or go back a millisecond.
    const stamp = Math.max(startedAt, this.#lastStamp + 1);
    this.#lastStamp = stamp;
    return `${this.prefix}_${compactUtc(stamp)}.ts`;
  }

  /** Lists `seg` as lasting up to the next segment's first PTS, or its own media time without one. */
  #finish(seg: OpenSegment, nextFirstPts: number | undefined, ended: boolean): void {
    const ticks =
      nextFirstPts !== undefined && seg.firstPts !== undefined
        ? Math.max(0, nextFirstPts - seg.firstPts)
        : spanTicks(seg);
    this.#out.finish(seg, ticks, seg.firstPts, ended);
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
