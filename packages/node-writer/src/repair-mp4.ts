/**
 * Crash repair of a fragmented MP4 (ISO/IEC 14496-12 §8.8): each fragment reaches the disk in one write,
 * but a kill or power cut can leave the last `moof`+`mdat` torn, and FFmpeg's mov demuxer then refuses
 * the whole file. Truncating to the last whole fragment makes it whole again. The same for fMP4 HLS
 * (RFC 8216 §3.3): unlisted `.m4s` segments are cut to whole fragments and listed. The box walk is injected
 * (`completeFragmentedLength` from `@trackrec/muxer/mp4`), so this package never imports the muxer.
 */

import { resolve } from 'node:path';
import { toWriterError, WriterError } from './errors.js';
import { datasync, defaultFs, type WriterFs } from './fs.js';
import { childPath, MAX_NAME_BYTES, MAX_PREFIX_BYTES, validateName } from './names.js';
import { type PlaylistSegment, parsePlaylist, renderPlaylist, writeFileAtomic } from './playlist.js';

/**
 * Length of the longest prefix of a fragmented MP4 made of its init segment and whole fragments (0 when
 * the init segment is incomplete). `completeFragmentedLength` from `@trackrec/muxer/mp4` has this shape.
 */
export type CompleteFragmentedLength = (bytes: Uint8Array) => number;

/** Options of {@link repairMp4}. */
export interface RepairMp4Options {
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
}

/** What {@link repairMp4} changed. */
export interface Mp4RepairReport {
  /** Absolute path of the file. */
  path: string;
  /** Size before. */
  originalBytes: number;
  /** Size after. */
  repairedBytes: number;
  /** `originalBytes - repairedBytes`. */
  bytesTruncated: number;
}

/**
 * Makes a crashed fragmented MP4 whole: truncates it to the end of its last complete fragment (as
 * `completeFragmentedLength` decides) and fsyncs it. A whole file is left untouched, so running it on
 * every start is safe. The file is read into memory once (the box walk needs it from its start).
 * @throws {TypeError} for bad arguments or a parser result out of range; a `WriterError` for I/O faults.
 */
export function repairMp4(
  path: string,
  completeFragmentedLength: CompleteFragmentedLength,
  options: RepairMp4Options = {},
): Mp4RepairReport {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (typeof completeFragmentedLength !== 'function') {
    throw new TypeError('completeFragmentedLength must be a function');
  }
  const fs = options.fs ?? defaultFs;
  const abs = resolve(path);
  let fd: number;
  try {
    fd = fs.openSync(abs, 'r+');
  } catch (err) {
    throw toWriterError(err, abs, 'open');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = fs.readSync(fd, bytes, done, size - done, done);
      } catch (err) {
        throw toWriterError(err, abs, 'read');
      }
      if (n <= 0) throw new WriterError(`${abs} shrank while being read`, 'EIO', abs, { syscall: 'read' });
      done += n;
    }
    const keep = completeFragmentedLength(bytes);
    if (!Number.isInteger(keep) || keep < 0 || keep > size) {
      throw new TypeError(`completeFragmentedLength returned ${String(keep)} for ${size} bytes`);
    }
    if (keep < size) {
      try {
        fs.ftruncateSync(fd, keep);
        datasync(fs, fd);
      } catch (err) {
        throw toWriterError(err, abs, 'ftruncate');
      }
    }
    return { path: abs, originalBytes: size, repairedBytes: keep, bytesTruncated: size - keep };
  } finally {
    fs.closeSync(fd);
  }
}

/** Options of {@link repairFmp4Hls}. Names default like {@link Fmp4SegmentSink}'s. */
export interface RepairFmp4HlsOptions {
  /** The recording's output directory. */
  dir: string;
  /** File prefix used when recording. Default `'segment'`. */
  prefix?: string;
  /** EVENT playlist name. Default `'playlist.m3u8'`. */
  playlistName?: string;
  /** Live playlist name, if the recording wrote one. */
  livePlaylistName?: string;
  /** Segments in the live playlist. Default 5. */
  liveSegmentCount?: number;
  /** Target duration (s): used when the playlist is missing, and as the estimate of unknown durations. Default 4. */
  targetDuration?: number;
  /** Cuts each recovered segment, given its init segment followed by its bytes. */
  completeFragmentedLength: CompleteFragmentedLength;
  /** Duration (s) of a recovered segment, given its init segment followed by its (repaired) bytes. */
  segmentDuration?: (initAndSegment: Uint8Array) => number;
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
}

/** What {@link repairFmp4Hls} changed. */
export interface Fmp4HlsRepairReport {
  /** Absolute path of the EVENT playlist. */
  playlistPath: string;
  /** The playlist did not exist and was written from scratch. */
  playlistCreated: boolean;
  /** Unlisted `.m4s` files that were repaired and listed, in order. */
  segmentsAdded: string[];
  /** Unlisted `.m4s` files with no whole fragment left, deleted. */
  segmentsRemoved: string[];
  /** Segments listed with the target duration as an estimate (no `segmentDuration` given). */
  durationsEstimated: string[];
  /** Bytes cut from torn segments. */
  bytesTruncated: number;
  /** EXT-X-ENDLIST was missing and was added. */
  endListAdded: boolean;
}

const collator = new Intl.Collator('en', { numeric: true });

/**
 * Makes a crashed fMP4 HLS recording (written by {@link Fmp4SegmentSink}) whole: every
 * `{prefix}_*.m4s` after the last listed segment is cut to whole fragments (judged with its init segment
 * in front) and listed, empty ones deleted, and the playlists rewritten with EXT-X-ENDLIST. Recovered
 * segments belong to the newest init segment on disk: the sink lists its open segment before it writes a
 * new init segment, so an unlisted segment was opened after the newest one. When that differs from the
 * last listed segment's, they are listed after `EXT-X-DISCONTINUITY` with its `EXT-X-MAP`. Running it
 * again changes nothing.
 */
export function repairFmp4Hls(options: RepairFmp4HlsOptions): Fmp4HlsRepairReport {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new TypeError('options.dir must be a non-empty string');
  }
  if (typeof options.completeFragmentedLength !== 'function') {
    throw new TypeError('options.completeFragmentedLength must be a function');
  }
  if (options.segmentDuration !== undefined && typeof options.segmentDuration !== 'function') {
    throw new TypeError('options.segmentDuration must be a function');
  }
  const prefix = validateName(options.prefix ?? 'segment', 'options.prefix', MAX_PREFIX_BYTES);
  const playlistName = validateName(
    options.playlistName ?? 'playlist.m3u8',
    'options.playlistName',
    MAX_NAME_BYTES,
  );
  const liveName =
    options.livePlaylistName === undefined
      ? null
      : validateName(options.livePlaylistName, 'options.livePlaylistName', MAX_NAME_BYTES);
  const liveSegmentCount = options.liveSegmentCount ?? 5;
  if (!Number.isInteger(liveSegmentCount) || liveSegmentCount < 1) {
    throw new RangeError('options.liveSegmentCount must be a positive integer');
  }
  const target = options.targetDuration ?? 4;
  if (typeof target !== 'number' || !Number.isFinite(target) || target <= 0) {
    throw new RangeError('options.targetDuration must be a positive number');
  }
  const fs = options.fs ?? defaultFs;
  const dir = resolve(options.dir);
  const playlistPath = childPath(dir, playlistName);
  let text: string | null = null;
  try {
    if (fs.existsSync(playlistPath)) text = fs.readFileSync(playlistPath, 'utf8');
  } catch (err) {
    throw toWriterError(err, playlistPath, 'read');
  }
  const parsed = text === null ? null : parsePlaylist(text);
  const segments: PlaylistSegment[] = parsed?.segments ?? [];
  const listed = new Set(segments.map((s) => s.name));
  const last = segments.at(-1)?.name;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    throw toWriterError(err, dir, 'readdir');
  }
  const initName = (n: number) => (n === 0 ? `${prefix}_init.mp4` : `${prefix}_init-${n}.mp4`);
  const inits: string[] = [];
  for (let n = 0; entries.includes(initName(n)); n++) inits.push(initName(n));
  const candidates = entries
    .filter((n) => n.startsWith(`${prefix}_`) && n.endsWith('.m4s') && !listed.has(n))
    .filter((n) => last === undefined || collator.compare(n, last) > 0)
    .sort((a, b) => collator.compare(a, b));

  const report: Fmp4HlsRepairReport = {
    playlistPath,
    playlistCreated: parsed === null,
    segmentsAdded: [],
    segmentsRemoved: [],
    durationsEstimated: [],
    bytesTruncated: 0,
    endListAdded: parsed === null || !parsed.ended,
  };
  const map = inits.at(-1);
  const init = map === undefined ? null : readWhole(fs, childPath(dir, map));
  for (const name of candidates) {
    if (map === undefined || init === null) break; // No init segment: nothing can be made playable.
    const path = childPath(dir, name);
    const segment = readWhole(fs, path);
    const joined = new Uint8Array(init.byteLength + segment.byteLength);
    joined.set(init, 0);
    joined.set(segment, init.byteLength);
    const complete = options.completeFragmentedLength(joined);
    if (!Number.isInteger(complete) || complete < 0 || complete > joined.byteLength) {
      throw new TypeError(
        `completeFragmentedLength returned ${String(complete)} for ${joined.byteLength} bytes`,
      );
    }
    const keep = Math.max(0, complete - init.byteLength);
    if (keep === 0) {
      try {
        fs.unlinkSync(path);
      } catch (err) {
        throw toWriterError(err, path, 'unlink');
      }
      report.segmentsRemoved.push(name);
      continue;
    }
    if (keep < segment.byteLength) {
      truncateDurably(fs, path, keep);
      report.bytesTruncated += segment.byteLength - keep;
    }
    let duration = target;
    if (options.segmentDuration === undefined) report.durationsEstimated.push(name);
    else {
      duration = options.segmentDuration(joined.subarray(0, init.byteLength + keep));
      if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
        throw new RangeError(`options.segmentDuration returned ${String(duration)} for ${name}`);
      }
    }
    const prev = segments.at(-1);
    const programDateTime =
      prev?.programDateTime != null ? Math.round(prev.programDateTime + prev.duration * 1000) : null;
    const discontinuity = prev !== undefined && prev.map !== undefined && prev.map !== map;
    segments.push({ name, duration, programDateTime, discontinuity, map });
    report.segmentsAdded.push(name);
  }
  for (const name of [playlistName, liveName]) {
    if (name === null) continue;
    const temp = childPath(dir, `.${name}.tmp`);
    try {
      if (fs.existsSync(temp)) fs.unlinkSync(temp);
    } catch (err) {
      throw toWriterError(err, temp, 'unlink');
    }
  }
  const changed = report.endListAdded || report.segmentsAdded.length > 0 || report.segmentsRemoved.length > 0;
  if (changed) {
    const model = {
      segments,
      minTargetDuration: parsed?.targetDuration ?? target,
      liveSegmentCount,
      ended: true,
    };
    writeFileAtomic(fs, dir, playlistName, renderPlaylist({ ...model, kind: 'event' }), true);
    if (liveName !== null)
      writeFileAtomic(fs, dir, liveName, renderPlaylist({ ...model, kind: 'live' }), true);
  }
  return report;
}

function readWhole(fs: WriterFs, path: string): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw toWriterError(err, path, 'open');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = fs.readSync(fd, bytes, done, size - done, done);
      } catch (err) {
        throw toWriterError(err, path, 'read');
      }
      if (n <= 0) throw new WriterError(`${path} shrank while being read`, 'EIO', path, { syscall: 'read' });
      done += n;
    }
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

function truncateDurably(fs: WriterFs, path: string, length: number): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r+');
  } catch (err) {
    throw toWriterError(err, path, 'open');
  }
  try {
    fs.ftruncateSync(fd, length);
    datasync(fs, fd);
  } catch (err) {
    throw toWriterError(err, path, 'ftruncate');
  } finally {
    fs.closeSync(fd);
  }
}
