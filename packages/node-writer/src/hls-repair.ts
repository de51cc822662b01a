/**
 * What {@link repairHls} (`.ts` segments) and {@link repairFmp4Hls} (`.m4s` segments) share (RFC 8216,
 * HTTP Live Streaming): their common options, finding the segment files a crash left unlisted, and
 * ending the playlists. Each repair decides how to cut and time its own kind of segment.
 */

import { resolve } from 'node:path';
import { toWriterError } from './errors.js';
import { defaultFs, type WriterFs } from './fs.js';
import { childPath, MAX_NAME_BYTES, MAX_PREFIX_BYTES, validateName } from './names.js';
import {
  type ParsedPlaylist,
  type PlaylistSegment,
  parsePlaylist,
  validatePlaylistShape,
  writePlaylists,
} from './playlist.js';
import type { RepairHlsOptions } from './repair.js';

/**
 * The options both HLS repairs take: `RepairHlsOptions` and `RepairFmp4HlsOptions` differ only in the
 * cutting function and the argument of `segmentDuration`. @internal
 */
export type HlsRepairOptions = Omit<RepairHlsOptions, 'completePrefixLength' | 'segmentDuration'> & {
  segmentDuration?: unknown;
};

/** A recording being repaired: its checked options, its playlist as found, and the unlisted segments. @internal */
export interface HlsRepairJob {
  fs: WriterFs;
  /** Absolute output directory. */
  dir: string;
  prefix: string;
  playlistName: string;
  liveName: string | null;
  liveSegmentCount: number;
  /** Seconds: the estimate of an unknown duration, and the target of a playlist written from scratch. */
  targetDuration: number;
  playlistPath: string;
  /** The playlist on disk, or null when there was none. */
  parsed: ParsedPlaylist | null;
  /** Listed segments; the repair appends the ones it recovers. */
  segments: PlaylistSegment[];
  /** Every name in the directory. */
  entries: string[];
  /** `{prefix}_*{extension}` files not listed and after the last listed segment, in recording order. */
  candidates: string[];
}

// Segment names sort in recording order by their digits (indexes, or UTC timestamps).
const collator = new Intl.Collator('en', { numeric: true });

/**
 * Checks the options (`parser` names the required cutting function), reads the playlist and lists the
 * unlisted segment files ending in `extension`.
 * @throws {TypeError | RangeError} naming the option; a `WriterError` if the playlist or directory cannot be read.
 * @internal
 */
export function startHlsRepair<P extends string>(
  options: HlsRepairOptions & { readonly [K in P]: unknown },
  parser: P,
  extension: string,
): HlsRepairJob {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.dir !== 'string' || options.dir.length === 0) {
    throw new TypeError('options.dir must be a non-empty string');
  }
  if (typeof options[parser] !== 'function') {
    throw new TypeError(`options.${parser} must be a function`);
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
  const { liveSegmentCount, targetDuration } = validatePlaylistShape(options);
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
  const candidates = entries
    .filter((n) => n.startsWith(`${prefix}_`) && n.endsWith(extension) && !listed.has(n))
    .filter((n) => last === undefined || collator.compare(n, last) > 0)
    .sort((a, b) => collator.compare(a, b));

  return {
    fs,
    dir,
    prefix,
    playlistName,
    liveName,
    liveSegmentCount,
    targetDuration,
    playlistPath,
    parsed,
    segments,
    entries,
    candidates,
  };
}

/**
 * EXT-X-PROGRAM-DATE-TIME of a segment appended after `segments`: the last one's continued by its
 * duration, or null when that is unknown. @internal
 */
export function nextProgramDateTime(segments: readonly PlaylistSegment[]): number | null {
  const prev = segments.at(-1);
  return prev?.programDateTime != null ? Math.round(prev.programDateTime + prev.duration * 1000) : null;
}

/** Deletes a segment file with nothing playable left. @internal */
export function removeSegment(fs: WriterFs, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (err) {
    throw toWriterError(err, path, 'unlink');
  }
}

/**
 * Deletes the `.{playlist}.tmp` files an interrupted rewrite left and, when the repair `changed` the
 * recording, rewrites both playlists (durably) with EXT-X-ENDLIST. Returns the temp file names deleted.
 * @internal
 */
export function endHlsRepair(job: HlsRepairJob, changed: boolean): string[] {
  const { fs, dir } = job;
  const removed: string[] = [];
  for (const name of [job.playlistName, job.liveName]) {
    if (name === null) continue;
    const temp = childPath(dir, `.${name}.tmp`);
    if (fs.existsSync(temp)) {
      try {
        fs.unlinkSync(temp);
      } catch (err) {
        throw toWriterError(err, temp, 'unlink');
      }
      removed.push(`.${name}.tmp`);
    }
  }
  if (changed) {
    const model = {
      segments: job.segments,
      minTargetDuration: job.parsed?.targetDuration ?? job.targetDuration,
      liveSegmentCount: job.liveSegmentCount,
      ended: true,
    };
    writePlaylists(fs, dir, job.playlistName, job.liveName, model, true);
  }
  return removed;
}
