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
import type { WriterError } from './errors.js';
import { FileSink } from './file-sink.js';
import type { Fmp4ChunkSink, Fmp4SinkChunkInfo } from './fmp4-file-sink.js';
import type { WriterFs } from './fs.js';
import { HlsOutput, type SegmentFile, validatePlaylistOptions, validateWriterOptions } from './hls-output.js';
import { childPath } from './names.js';
import type { PlaylistSegment } from './playlist.js';
import type { FinishedSegment } from './segment-sink.js';
import { CLOCK_HZ, type FsyncPolicy } from './types.js';

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

interface OpenSegment extends SegmentFile {
  readonly map: string;
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
  readonly #out: HlsOutput<OpenSegment>;
  readonly #inits: string[] = [];
  #pendingDiscontinuity = false;
  #initBytes = 0;

  /**
   * Creates the directory and writes the empty EVENT playlist.
   * @throws {TypeError | RangeError} for bad options or names; a `WriterError` for I/O.
   */
  constructor(options: Fmp4SegmentSinkOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.dir !== 'string' || options.dir.length === 0 || options.dir.includes('\0')) {
      throw new TypeError('options.dir must be a non-empty string without NUL bytes');
    }
    const dir = resolve(options.dir);
    const playlists = validatePlaylistOptions(options);
    const writer = validateWriterOptions(options);
    this.#out = new HlsOutput({ dir, ...playlists, ...writer });
    this.dir = this.#out.dir;
    this.prefix = this.#out.prefix;
    this.playlistPath = this.#out.playlistPath;
    this.livePlaylistPath = this.#out.livePlaylistPath;
    this.targetDuration = this.#out.targetDuration;
    this.fsyncPolicy = this.#out.fsyncPolicy;
  }

  /**
   * True when the open segment holds the target duration (or a new init segment is pending) and the
   * sink waits for a random-access fragment: ask the encoder for a keyframe.
   */
  get wantsRotation(): boolean {
    const seg = this.#out.writable;
    if (seg === null || seg.firstDts === undefined) return false;
    return this.#pendingDiscontinuity || seg.endDts - seg.firstDts >= this.#out.targetTicks;
  }

  /** Init segment file names written so far, in order. */
  get initSegments(): string[] {
    return [...this.#inits];
  }

  /** Finished segments, as listed (a copy). */
  get segments(): PlaylistSegment[] {
    return this.#out.segments;
  }

  /** Bytes written (init segments, finished segments, the open one). */
  get bytesWritten(): number {
    const out = this.#out;
    return this.#initBytes + out.finishedBytes + (out.current?.sink.stats.bytesWritten ?? 0);
  }

  /** Seconds of finished segments. */
  get duration(): number {
    return this.#out.finishedTicks / CLOCK_HZ;
  }

  /** The fault that failed the sink, or null. */
  get failure(): WriterError | null {
    return this.#out.failure;
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
    this.#out.write(() => {
      if (info.kind === 'init') this.#writeInit(chunk);
      else this.#writeFragment(chunk, info);
    });
  }

  /** Forces the open segment's data to the device now. */
  sync(): void {
    this.#out.sync();
  }

  /** Finishes and lists the open segment, writes EXT-X-ENDLIST. Idempotent. */
  close(): void {
    this.#out.close((seg) => this.#finish(seg, undefined, true));
  }

  /** A function with `Fmp4Muxer`'s sink signature that writes here. */
  asFmp4Sink(): Fmp4ChunkSink {
    return (chunk, info) => this.write(chunk, info);
  }

  #writeInit(chunk: Uint8Array): void {
    const n = this.#inits.length;
    // A new configuration: list the open segment first, so that after a crash every unlisted segment
    // follows the newest init segment on disk (what repairFmp4Hls relies on).
    const open = this.#out.current;
    if (n > 0 && open !== null && open.firstDts !== undefined) this.#finish(open, undefined, false);
    const name = n === 0 ? `${this.prefix}_init.mp4` : `${this.prefix}_init-${n}.mp4`;
    // Written whole (and synced) before any playlist can point at it.
    const sink = new FileSink(childPath(this.dir, name), this.#out.fileOptions());
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
    let seg = this.#out.current;
    if (seg === null) seg = this.#open(map);
    else if (seg.firstDts !== undefined && info.randomAccess) {
      const elapsed = Math.max(seg.endDts, info.dts) - seg.firstDts;
      if (this.#pendingDiscontinuity || elapsed >= this.#out.targetTicks) {
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
    const index = this.#out.takeIndex();
    const name = `${this.prefix}_${String(index).padStart(5, '0')}.m4s`;
    const path = childPath(this.dir, name);
    const seg: OpenSegment = {
      index,
      name,
      path,
      sink: new FileSink(path, this.#out.fileOptions()),
      startedAt: this.#out.now(),
      discontinuity: this.#pendingDiscontinuity && index > 0,
      map,
      firstDts: undefined,
      endDts: 0,
    };
    this.#pendingDiscontinuity = false;
    this.#out.current = seg;
    return seg;
  }

  /** Lists `seg` as lasting up to the next segment's first DTS, or to the end of its own fragments. */
  #finish(seg: OpenSegment, nextFirstDts: number | undefined, ended: boolean): void {
    const first = seg.firstDts ?? 0;
    const ticks = nextFirstDts !== undefined ? Math.max(0, nextFirstDts - first) : seg.endDts - first;
    this.#out.finish(seg, ticks, seg.firstDts, ended);
  }
}
