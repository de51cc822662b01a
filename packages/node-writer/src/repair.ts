/**
 * Crash repair: makes a recording whole after the process died mid-write. MPEG-TS (ISO/IEC 13818-1):
 * cut the file to whole 188-byte packets and drop the incomplete trailing PES. HLS (RFC 8216): repair and
 * list the segments the playlist does not know yet, then close it with EXT-X-ENDLIST.
 *
 * The TS parsing lives in the muxer package (`completePrefixLength` in `@trackrec/muxer/inspect`); it is
 * passed in, so this package never imports the muxer.
 */

import { resolve } from 'node:path';
import { cutFile, defaultFs, readFileBytes, readFully, syncDirectory, type WriterFs } from './fs.js';
import { endHlsRepair, nextProgramDateTime, removeSegment, startHlsRepair } from './hls-repair.js';
import { childPath } from './names.js';

/** Size of an MPEG-TS packet. */
export const TS_PACKET_SIZE = 188;

/**
 * Length of the longest prefix of `bytes` that ends after a complete PES on every PID (a multiple of 188).
 * `completePrefixLength` from `@trackrec/muxer/inspect` has this shape.
 */
export type CompletePrefixLength = (bytes: Uint8Array) => number;

/** Duration in seconds of a (repaired) segment's bytes, e.g. from a PTS scan. */
export type SegmentDurationOf = (bytes: Uint8Array) => number;

/** Options of {@link repairTs}. */
export interface RepairTsOptions {
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
  /**
   * Bytes read from the end of the file to find the cut (rounded down to whole packets). The window grows
   * until the parser finds a complete prefix or covers the file. Default 64 MiB.
   */
  maxScanBytes?: number;
}

/** What {@link repairTs} changed. */
export interface TsRepairReport {
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
 * Makes a crashed MPEG-TS file whole: truncates it to a multiple of 188 bytes, then to the end of the last
 * complete PES on every PID (as `completePrefixLength` decides), and fsyncs it. Run it once, on a crashed
 * file: a PES with PES_packet_length 0 (unbounded video) is only known complete when the next one starts,
 * so if it ends the file the parser counts it as incomplete.
 * @throws {TypeError} for bad arguments or a parser result out of range; {@link WriterError} for I/O faults.
 */
export function repairTs(
  path: string,
  completePrefixLength: CompletePrefixLength,
  options: RepairTsOptions = {},
): TsRepairReport {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (typeof completePrefixLength !== 'function')
    throw new TypeError('completePrefixLength must be a function');
  const maxScan = options.maxScanBytes ?? 64 * 1024 * 1024;
  if (!Number.isInteger(maxScan) || maxScan < TS_PACKET_SIZE) {
    throw new RangeError(`options.maxScanBytes must be an integer ≥ ${TS_PACKET_SIZE}`);
  }
  const fs = options.fs ?? defaultFs;
  const abs = resolve(path);
  return cutFile(fs, abs, (fd, size) => {
    const aligned = size - (size % TS_PACKET_SIZE);
    let window = Math.floor(maxScan / TS_PACKET_SIZE) * TS_PACKET_SIZE;
    for (;;) {
      const start = Math.max(0, aligned - window);
      const bytes = new Uint8Array(aligned - start);
      readFully(fs, fd, bytes, start, abs);
      const keep = completePrefixLength(bytes);
      if (!Number.isInteger(keep) || keep < 0 || keep > bytes.byteLength) {
        throw new TypeError(`completePrefixLength returned ${String(keep)} for ${bytes.byteLength} bytes`);
      }
      // Nothing complete in a window that starts mid-file: the window may have begun inside a long PES.
      if (keep > 0 || start === 0) return start + keep - (keep % TS_PACKET_SIZE);
      window *= 2;
    }
  });
}

/** Options of {@link repairHls}. Names default like {@link SegmentSink}'s. */
export interface RepairHlsOptions {
  /** The recording's output directory. */
  dir: string;
  /** Segment prefix used when recording. Default `'segment'`. */
  prefix?: string;
  /** EVENT playlist name. Default `'playlist.m3u8'`. */
  playlistName?: string;
  /** Live playlist name, if the recording wrote one: it is rewritten with the last segments and ENDLIST. */
  livePlaylistName?: string;
  /** Segments in the live playlist. Default 5. */
  liveSegmentCount?: number;
  /** Target duration (s) used when the playlist is missing, and as the estimate of unknown durations. Default 4. */
  targetDuration?: number;
  /** Cuts each recovered segment (see {@link repairTs}). */
  completePrefixLength: CompletePrefixLength;
  /** Duration (s) of a recovered segment's bytes. Without it the target duration is listed as an estimate. */
  segmentDuration?: SegmentDurationOf;
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
}

/** What {@link repairHls} changed. */
export interface HlsRepairReport {
  /** Absolute path of the EVENT playlist. */
  playlistPath: string;
  /** The playlist did not exist and was written from scratch. */
  playlistCreated: boolean;
  /** Segment files that were on disk but not listed, repaired and now listed, in order. */
  segmentsAdded: string[];
  /** Unlisted segment files with nothing left after repair (or a `segmentDuration` of 0) that were deleted. */
  segmentsRemoved: string[];
  /** Segments whose EXTINF is the target-duration estimate (no `segmentDuration` given). */
  durationsEstimated: string[];
  /** The per-file TS repairs of the recovered segments. */
  tsRepairs: TsRepairReport[];
  /** EXT-X-ENDLIST was missing and was added. */
  endListAdded: boolean;
  /** Leftover `.{playlist}.tmp` files from an interrupted rewrite that were deleted. */
  tempFilesRemoved: string[];
}

/**
 * Makes a crashed HLS recording whole: every `{prefix}_*.ts` file after the last listed segment is appended
 * to the playlist (EXT-X-PROGRAM-DATE-TIME continued from the previous segment). The last of them is cut
 * with {@link repairTs}; earlier ones (finished by the sink before the next was opened, their playlist
 * rewrite lost) only to whole packets. Segments left empty, or with a `segmentDuration` of 0, are deleted.
 * The playlist (and live playlist) are rewritten atomically with EXT-X-ENDLIST; leftover temp files go.
 * Running it again, or on a cleanly closed recording, changes nothing. Unknown to repair: discontinuities
 * in the recovered segments (none are tagged).
 */
export function repairHls(options: RepairHlsOptions): HlsRepairReport {
  const job = startHlsRepair(options, 'completePrefixLength', '.ts');
  const { fs, dir, candidates, segments, parsed } = job;

  const report: HlsRepairReport = {
    playlistPath: job.playlistPath,
    playlistCreated: parsed === null,
    segmentsAdded: [],
    segmentsRemoved: [],
    durationsEstimated: [],
    tsRepairs: [],
    endListAdded: parsed === null || !parsed.ended,
    tempFilesRemoved: [],
  };

  for (const [i, name] of candidates.entries()) {
    const path = childPath(dir, name);
    // The sink opens a segment only after finishing the previous one, so only the last can be torn
    // mid-PES; the others need no more than whole packets (a parser could not tell that their final,
    // unbounded video PES is complete).
    const isLast = i === candidates.length - 1;
    const fixed = repairTs(path, isLast ? options.completePrefixLength : wholePackets, { fs });
    report.tsRepairs.push(fixed);
    let duration = job.targetDuration;
    let bytes: Uint8Array | undefined;
    if (fixed.repairedBytes > 0 && options.segmentDuration !== undefined) {
      bytes = readFileBytes(fs, path, fixed.repairedBytes);
      duration = options.segmentDuration(bytes);
      if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
        throw new RangeError(`options.segmentDuration returned ${String(duration)} for ${name}`);
      }
    }
    if (fixed.repairedBytes === 0 || (bytes !== undefined && duration === 0)) {
      removeSegment(fs, path);
      report.segmentsRemoved.push(name);
      continue;
    }
    if (bytes === undefined) report.durationsEstimated.push(name);
    segments.push({ name, duration, programDateTime: nextProgramDateTime(segments), discontinuity: false });
    report.segmentsAdded.push(name);
  }

  const changed = report.endListAdded || report.segmentsAdded.length > 0 || report.segmentsRemoved.length > 0;
  report.tempFilesRemoved.push(...endHlsRepair(job, changed));
  // Nothing rewritten, so nothing made the deletions durable yet.
  if (!changed && report.tempFilesRemoved.length > 0) syncDirectory(fs, dir);
  return report;
}

function wholePackets(bytes: Uint8Array): number {
  return bytes.byteLength - (bytes.byteLength % TS_PACKET_SIZE);
}
