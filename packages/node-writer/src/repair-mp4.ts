/**
 * Crash repair of a fragmented MP4 (ISO/IEC 14496-12 §8.8): each fragment reaches the disk in one write,
 * but a kill or power cut can leave the last `moof`+`mdat` torn, and FFmpeg's mov demuxer then refuses
 * the whole file. Truncating to the last whole fragment makes it whole again. The same for fMP4 HLS
 * (RFC 8216 §3.3): unlisted `.m4s` segments are cut to whole fragments and listed. The box walk is injected
 * (`completeFragmentedLength` from `@trackrec/muxer/mp4`), so this package never imports the muxer.
 */

import { resolve } from 'node:path';
import { cutFile, defaultFs, readFileBytes, readFully, truncateDurably, type WriterFs } from './fs.js';
import { endHlsRepair, nextProgramDateTime, removeSegment, startHlsRepair } from './hls-repair.js';
import { childPath } from './names.js';

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
  return cutFile(fs, abs, (fd, size) => {
    const bytes = new Uint8Array(size);
    readFully(fs, fd, bytes, 0, abs);
    const keep = completeFragmentedLength(bytes);
    if (!Number.isInteger(keep) || keep < 0 || keep > size) {
      throw new TypeError(`completeFragmentedLength returned ${String(keep)} for ${size} bytes`);
    }
    return keep;
  });
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
  const job = startHlsRepair(options, 'completeFragmentedLength', '.m4s');
  const { fs, dir, prefix, entries, candidates, segments, parsed } = job;
  const initName = (n: number) => (n === 0 ? `${prefix}_init.mp4` : `${prefix}_init-${n}.mp4`);
  const inits: string[] = [];
  for (let n = 0; entries.includes(initName(n)); n++) inits.push(initName(n));

  const report: Fmp4HlsRepairReport = {
    playlistPath: job.playlistPath,
    playlistCreated: parsed === null,
    segmentsAdded: [],
    segmentsRemoved: [],
    durationsEstimated: [],
    bytesTruncated: 0,
    endListAdded: parsed === null || !parsed.ended,
  };
  const map = inits.at(-1);
  const init = map === undefined ? null : readFileBytes(fs, childPath(dir, map));
  for (const name of candidates) {
    if (map === undefined || init === null) break; // No init segment: nothing can be made playable.
    const path = childPath(dir, name);
    const segment = readFileBytes(fs, path);
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
      removeSegment(fs, path);
      report.segmentsRemoved.push(name);
      continue;
    }
    if (keep < segment.byteLength) {
      truncateDurably(fs, path, keep);
      report.bytesTruncated += segment.byteLength - keep;
    }
    let duration = job.targetDuration;
    if (options.segmentDuration === undefined) report.durationsEstimated.push(name);
    else {
      duration = options.segmentDuration(joined.subarray(0, init.byteLength + keep));
      if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
        throw new RangeError(`options.segmentDuration returned ${String(duration)} for ${name}`);
      }
    }
    const prev = segments.at(-1);
    const programDateTime = nextProgramDateTime(segments);
    const discontinuity = prev !== undefined && prev.map !== undefined && prev.map !== map;
    segments.push({ name, duration, programDateTime, discontinuity, map });
    report.segmentsAdded.push(name);
  }
  const changed = report.endListAdded || report.segmentsAdded.length > 0 || report.segmentsRemoved.length > 0;
  endHlsRepair(job, changed);
  return report;
}
