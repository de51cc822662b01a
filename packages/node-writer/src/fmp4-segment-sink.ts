/**
 * Fmp4SegmentSink: HLS with fragmented-MP4 segments (RFC 8216 §3.3 "Fragmented MPEG-4", §4.3.2.5
 * EXT-X-MAP, ISO/IEC 14496-12 §8.8). The muxer's init segment goes to `{prefix}_init.mp4`; its fragments
 * (`moof`+`mdat`, one write each) fill `{prefix}_00000.m4s`, `{prefix}_00001.m4s`…, a new segment
 * starting at a `randomAccess` fragment once the open one holds the target duration. A new init segment
 * (new video configuration) ends the open segment, is written to `{prefix}_init-1.mp4`…, and the next
 * segment is listed after `EXT-X-DISCONTINUITY` with a new `EXT-X-MAP`. Playlists are replaced atomically as in
 * {@link SegmentSink}, with `EXT-X-VERSION:7`.
 */

import { resolve } from 'node:path';
import { SinkBusyError, SinkClosedError, WriteError, WriterError } from './errors.js';
import { claimPath, FileSink, releasePath } from './file-sink.js';
import type { Fmp4ChunkSink, Fmp4SinkChunkInfo } from './fmp4-file-sink.js';
import { defaultFs, type WriterFs } from './fs.js';
import { childPath, MAX_NAME_BYTES, MAX_PREFIX_BYTES, validateName } from './names.js';
import { type PlaylistSegment, renderPlaylist, writeFileAtomic } from './playlist.js';
import { CLOCK_HZ, type FinishedSegment } from './segment-sink.js';
import { type FsyncPolicy, validateFsyncPolicy } from './types.js';

/** Options of {@link Fmp4SegmentSink}; names and defaults as in `SegmentSinkOptions`. */
export interface Fmp4SegmentSinkOptions {
  /** Output directory; created if missing. */
  dir: string;
  /** File prefix: `{prefix}_init.mp4`, `{prefix}_00000.m4s`… Default `'segment'`. */
  prefix?: string;
  /** EVENT playlist name, ending in `.m3u8`. Default `'playlist.m3u8'`. */
  playlistName?: string;
  /** Also write a live sliding playlist of the last `liveSegmentCount` segments under this name. */
  livePlaylistName?: string;
  /** Segments in the live playlist. Default 5. */
  liveSegmentCount?: number;
  /** Seconds after which the next random-access fragment starts a new segment. Default 4. */
  targetDuration?: number;
  /** fsync policy of segments and init segments; playlists are fsynced unless `'none'`. */
  fsync?: FsyncPolicy;
  /** Replace existing files of the same names. Default false (`EEXIST`). */
  overwrite?: boolean;
  /** Retries after `EAGAIN` per chunk. */
  eagainRetries?: number;
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
  /** Wall clock in ms for EXT-X-PROGRAM-DATE-TIME. Default `Date.now`. */
  now?: () => number;
  /** Called after a segment is finished and listed. */
  onSegment?: (segment: FinishedSegment) => void;
}

interface OpenSegment {
  index: number;
  name: string;
  path: string;
  sink: FileSink;
  startedAt: number;
  discontinuity: boolean;
  map: string;
  firstDts: number | undefined;
  endDts: number;
}

/**
 * Writes `Fmp4Muxer` chunks as HLS fMP4 segments with an EVENT playlist (and an optional live one).
 *
 * @example
 * const hls = new Fmp4SegmentSink({ dir: '/rec/room1', prefix: 'room1', targetDuration: 4 });
 * const mux = new Fmp4Muxer({ sink: hls.asFmp4Sink() });
 * // when hls.wantsRotation is true, ask the encoder for a keyframe
 * mux.close();
 * hls.close();
 */
export class Fmp4SegmentSink {
  /** Absolute output directory. */
  readonly dir: string;
  /** File prefix. */
  readonly prefix: string;
  /** Absolute path of the EVENT playlist. */
  readonly playlistPath: string;
  /** Absolute path of the live playlist, or null. */
  readonly livePlaylistPath: string | null;
  /** Target segment duration, seconds. */
  readonly targetDuration: number;
  /** fsync policy. */
  readonly fsyncPolicy: FsyncPolicy;
  readonly #fs: WriterFs;
  readonly #now: () => number;
  readonly #overwrite: boolean;
  readonly #retries: number | undefined;
  readonly #liveCount: number;
  readonly #playlistName: string;
  readonly #liveName: string | null;
  readonly #onSegment: ((segment: FinishedSegment) => void) | undefined;
  readonly #targetTicks: number;
  readonly #claims: string[] = [];
  readonly #segments: PlaylistSegment[] = [];
  readonly #inits: string[] = [];
  #pendingDiscontinuity = false;
  #current: OpenSegment | null = null;
  #nextIndex = 0;
  #finishedBytes = 0;
  #finishedTicks = 0;
  #initBytes = 0;
  #closed = false;
  #busy = false;
  #failure: WriterError | null = null;
  #finishedQueue: FinishedSegment[] = [];

  /**
   * Creates the directory and writes the empty EVENT playlist.
   * @throws {TypeError | RangeError} for bad options or names; a `WriterError` for I/O.
   */
  constructor(options: Fmp4SegmentSinkOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.dir !== 'string' || options.dir.length === 0 || options.dir.includes('\0')) {
      throw new TypeError('options.dir must be a non-empty string without NUL bytes');
    }
    this.dir = resolve(options.dir);
    this.prefix = validateName(options.prefix ?? 'segment', 'options.prefix', MAX_PREFIX_BYTES);
    this.#playlistName = playlistName(options.playlistName ?? 'playlist.m3u8', 'options.playlistName');
    this.#liveName =
      options.livePlaylistName === undefined
        ? null
        : playlistName(options.livePlaylistName, 'options.livePlaylistName');
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
    this.fsyncPolicy = validateFsyncPolicy(options.fsync ?? { intervalMs: 1000 }, 'options.fsync');
    this.targetDuration = target;
    this.#targetTicks = target * CLOCK_HZ;
    this.#liveCount = liveCount;
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
      this.#fs.mkdirSync(this.dir, { recursive: true });
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
   * True when the open segment holds the target duration (or a new init segment is pending) and the
   * sink waits for a random-access fragment: ask the encoder for a keyframe.
   */
  get wantsRotation(): boolean {
    const seg = this.#current;
    if (seg === null || this.#closed || this.#failure !== null || seg.firstDts === undefined) return false;
    return this.#pendingDiscontinuity || seg.endDts - seg.firstDts >= this.#targetTicks;
  }

  /** Init segment file names written so far, in order. */
  get initSegments(): string[] {
    return [...this.#inits];
  }

  /** Finished segments, as listed (a copy). */
  get segments(): PlaylistSegment[] {
    return this.#segments.map((s) => ({ ...s }));
  }

  /** Bytes written (init segments, finished segments, the open one). */
  get bytesWritten(): number {
    return this.#initBytes + this.#finishedBytes + (this.#current?.sink.stats.bytesWritten ?? 0);
  }

  /** Seconds of finished segments. */
  get duration(): number {
    return this.#finishedTicks / CLOCK_HZ;
  }

  /** The fault that failed the sink, or null. */
  get failure(): WriterError | null {
    return this.#failure;
  }

  /** Writes one muxer chunk (`info` required: `kind`, `newInit`, `randomAccess`, `dts`, `duration`). */
  write(chunk: Uint8Array, info: Fmp4SinkChunkInfo): void {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    if (typeof info !== 'object' || info === null || (info.kind !== 'init' && info.kind !== 'fragment')) {
      throw new TypeError("info.kind must be 'init' or 'fragment'");
    }
    if (info.kind === 'fragment' && (!Number.isFinite(info.dts) || !Number.isFinite(info.duration))) {
      throw new TypeError('info.dts and info.duration must be finite numbers (90 kHz ticks)');
    }
    this.#enter();
    try {
      if (info.kind === 'init') this.#writeInit(chunk);
      else this.#writeFragment(chunk, info);
    } catch (err) {
      if (err instanceof WriterError) this.#failure = err;
      throw err;
    } finally {
      this.#busy = false;
    }
    this.#drainHooks();
  }

  /** Forces the open segment's data to the device now. */
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

  /** Finishes and lists the open segment, writes EXT-X-ENDLIST. Idempotent. */
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

  /** A function with `Fmp4Muxer`'s sink signature that writes here. */
  asFmp4Sink(): Fmp4ChunkSink {
    return (chunk, info) => this.write(chunk, info);
  }

  #writeInit(chunk: Uint8Array): void {
    const n = this.#inits.length;
    // A new configuration: list the open segment first, so that after a crash every unlisted segment
    // follows the newest init segment on disk (what repairFmp4Hls relies on).
    const open = this.#current;
    if (n > 0 && open !== null && open.firstDts !== undefined) this.#finish(open, undefined, false);
    const name = n === 0 ? `${this.prefix}_init.mp4` : `${this.prefix}_init-${n}.mp4`;
    // Written whole (and synced) before any playlist can point at it.
    const sink = new FileSink(childPath(this.dir, name), this.#fileOptions());
    try {
      sink.write(chunk);
      if (this.fsyncPolicy !== 'none') sink.sync();
    } finally {
      sink.close();
    }
    this.#inits.push(name);
    this.#initBytes += chunk.byteLength;
    if (n > 0) this.#pendingDiscontinuity = true;
  }

  #writeFragment(chunk: Uint8Array, info: Fmp4SinkChunkInfo): void {
    const map = this.#inits.at(-1);
    if (map === undefined) throw new TypeError('a fragment came before any init segment');
    let seg = this.#current;
    if (seg === null) seg = this.#open(map);
    else if (seg.firstDts !== undefined && info.randomAccess) {
      const elapsed = Math.max(seg.endDts, info.dts) - seg.firstDts;
      if (this.#pendingDiscontinuity || elapsed >= this.#targetTicks) {
        this.#finish(seg, this.#pendingDiscontinuity ? undefined : info.dts, false);
        seg = this.#open(map);
      }
    }
    seg.sink.write(chunk);
    if (seg.firstDts === undefined) {
      seg.firstDts = info.dts;
      seg.endDts = info.dts;
    }
    seg.endDts = Math.max(seg.endDts, info.dts + info.duration);
  }

  #open(map: string): OpenSegment {
    const index = this.#nextIndex++;
    const name = `${this.prefix}_${String(index).padStart(5, '0')}.m4s`;
    const path = childPath(this.dir, name);
    const seg: OpenSegment = {
      index,
      name,
      path,
      sink: new FileSink(path, this.#fileOptions()),
      startedAt: this.#now(),
      discontinuity: this.#pendingDiscontinuity && index > 0,
      map,
      firstDts: undefined,
      endDts: 0,
    };
    this.#pendingDiscontinuity = false;
    this.#current = seg;
    return seg;
  }

  #fileOptions(): ConstructorParameters<typeof FileSink>[1] {
    return {
      fsync: this.fsyncPolicy,
      flags: this.#overwrite ? 'w' : 'wx',
      fs: this.#fs,
      now: this.#now,
      ...(this.#retries === undefined ? {} : { eagainRetries: this.#retries }),
    };
  }

  #finish(seg: OpenSegment, nextFirstDts: number | undefined, ended: boolean): void {
    const first = seg.firstDts ?? 0;
    const ticks = nextFirstDts !== undefined ? Math.max(0, nextFirstDts - first) : seg.endDts - first;
    const bytes = seg.sink.stats.bytesWritten;
    seg.sink.close();
    if (this.#current === seg) this.#current = null;
    const entry: PlaylistSegment = {
      name: seg.name,
      duration: ticks / CLOCK_HZ,
      programDateTime: seg.startedAt,
      discontinuity: seg.discontinuity,
      map: seg.map,
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
      firstPts: seg.firstDts ?? null,
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
    const queue = this.#finishedQueue;
    if (queue.length === 0) return;
    this.#finishedQueue = [];
    if (this.#onSegment !== undefined) for (const s of queue) this.#onSegment(s);
  }

  #enter(): void {
    if (this.#busy) throw new SinkBusyError(`re-entrant call on ${this.dir}`, 'ERR_SINK_BUSY', this.dir);
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
    this.#busy = true;
  }
}

function playlistName(value: unknown, option: string): string {
  const name = validateName(value, option, MAX_NAME_BYTES);
  if (!name.endsWith('.m3u8') || name.length === '.m3u8'.length)
    throw new RangeError(`${option} must end in .m3u8`);
  return name;
}
