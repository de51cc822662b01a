/**
 * HLS media playlists as written by {@link SegmentSink} (RFC 8216, HTTP Live Streaming, §4.3), and the
 * atomic file replacement that keeps a reader from ever seeing half a playlist.
 */

import { resolve } from 'node:path';
import { toWriterError, type WriterError } from './errors.js';
import { FileSink } from './file-sink.js';
import { syncDirectory, type WriterFs } from './fs.js';
import { nameFromUri, uriFor } from './names.js';

/** One segment line of a media playlist. */
export interface PlaylistSegment {
  /** File name, relative to the playlist. */
  name: string;
  /** Duration in seconds. */
  duration: number;
  /** Wall-clock time of the segment's first sample (ms since the epoch), or null when unknown. */
  programDateTime: number | null;
  /** A timebase or encoding discontinuity precedes this segment (EXT-X-DISCONTINUITY). */
  discontinuity: boolean;
  /** fMP4 segments: file name of the init segment (EXT-X-MAP) this segment needs. */
  map?: string | undefined;
}

/**
 * Checks the playlist shape options of the HLS sinks and repairs: `liveSegmentCount` (default 5, as
 * LiveKit Egress) and `targetDuration` (default 4 s), naming the option in the error. @internal
 */
export function validatePlaylistShape(options: { liveSegmentCount?: number; targetDuration?: number }): {
  liveSegmentCount: number;
  targetDuration: number;
} {
  const liveSegmentCount = options.liveSegmentCount ?? 5;
  if (!Number.isInteger(liveSegmentCount) || liveSegmentCount < 1) {
    throw new RangeError('options.liveSegmentCount must be a positive integer');
  }
  const targetDuration = options.targetDuration ?? 4;
  if (typeof targetDuration !== 'number' || !Number.isFinite(targetDuration) || targetDuration <= 0) {
    throw new RangeError('options.targetDuration must be a positive number');
  }
  return { liveSegmentCount, targetDuration };
}

/** What {@link renderPlaylist} writes. @internal */
export interface PlaylistModel {
  /** `'event'`: every segment, EXT-X-PLAYLIST-TYPE:EVENT. `'live'`: the last `liveSegmentCount`. */
  kind: 'event' | 'live';
  segments: readonly PlaylistSegment[];
  /** Lower bound for EXT-X-TARGETDURATION (the configured segment duration), seconds. */
  minTargetDuration: number;
  /** Segments kept by a live playlist. */
  liveSegmentCount: number;
  /** EXT-X-ENDLIST: the recording is complete. */
  ended: boolean;
}

/** EXT-X-VERSION: 3 for decimal EXTINF (§4.3.2.1); nothing here needs more. */
export const HLS_VERSION = 3;

/** EXT-X-VERSION of a playlist of fMP4 segments: EXT-X-MAP without I-frames-only needs 6, fMP4 7 (§4.3.1.2, §7). */
export const HLS_FMP4_VERSION = 7;

/** The EXTINF value as written: milliseconds, enough for 90 kHz-derived durations. @internal */
export function formatDuration(seconds: number): string {
  return Math.max(0, seconds).toFixed(3);
}

/**
 * EXT-X-TARGETDURATION: the ceiling of the longest EXTINF as written, and never below the configured
 * duration, so every EXTINF rounded to an integer is ≤ it (§4.3.3.1). @internal
 */
export function targetDurationOf(segments: readonly PlaylistSegment[], minTarget: number): number {
  let t = Math.ceil(minTarget);
  for (const s of segments) t = Math.max(t, Math.ceil(Number(formatDuration(s.duration))));
  return Math.max(1, t);
}

/** Renders a media playlist. @internal */
export function renderPlaylist(model: PlaylistModel): string {
  const all = model.segments;
  const first = model.kind === 'live' ? Math.max(0, all.length - model.liveSegmentCount) : 0;
  let discontinuitySequence = 0;
  for (let i = 0; i < first; i++) if (all[i]!.discontinuity) discontinuitySequence++;
  const fmp4 = all.some((s) => s.map !== undefined);
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${fmp4 ? HLS_FMP4_VERSION : HLS_VERSION}`];
  lines.push(`#EXT-X-TARGETDURATION:${targetDurationOf(all, model.minTargetDuration)}`);
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`);
  if (model.kind === 'live') lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence}`);
  else lines.push('#EXT-X-PLAYLIST-TYPE:EVENT');
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let map: string | undefined;
  for (let i = first; i < all.length; i++) {
    const s = all[i]!;
    // A discontinuity before the first segment of the recording separates nothing.
    if (s.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
    // EXT-X-MAP applies to every following segment until the next one (§4.3.2.5).
    if (s.map !== undefined && s.map !== map) {
      lines.push(`#EXT-X-MAP:URI="${uriFor(s.map)}"`);
      map = s.map;
    }
    if (s.programDateTime !== null) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    }
    lines.push(`#EXTINF:${formatDuration(s.duration)},`, uriFor(s.name));
  }
  if (model.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** What {@link parsePlaylist} reads back. @internal */
export interface ParsedPlaylist {
  segments: PlaylistSegment[];
  targetDuration: number | null;
  mediaSequence: number;
  ended: boolean;
}

/**
 * Reads a media playlist in the shape {@link renderPlaylist} writes (tags it does not know are ignored).
 * Used by repair to extend a crashed recording's playlist. @internal
 */
export function parsePlaylist(text: string): ParsedPlaylist {
  const segments: PlaylistSegment[] = [];
  let targetDuration: number | null = null;
  let mediaSequence = 0;
  let ended = false;
  let duration: number | null = null;
  let pdt: number | null = null;
  let discontinuity = false;
  let map: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const colon = line.indexOf(':');
      const tag = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1);
      if (tag === '#EXTINF') duration = Number.parseFloat(value);
      else if (tag === '#EXT-X-TARGETDURATION') targetDuration = Number.parseInt(value, 10);
      else if (tag === '#EXT-X-MEDIA-SEQUENCE') mediaSequence = Number.parseInt(value, 10);
      else if (tag === '#EXT-X-DISCONTINUITY') discontinuity = true;
      else if (tag === '#EXT-X-MAP') {
        const uri = /URI="([^"]*)"/.exec(value)?.[1];
        map = uri === undefined ? undefined : (nameFromUri(uri) ?? undefined);
      } else if (tag === '#EXT-X-PROGRAM-DATE-TIME') {
        const t = Date.parse(value);
        pdt = Number.isFinite(t) ? t : null;
      } else if (tag === '#EXT-X-ENDLIST') ended = true;
      continue;
    }
    const name = nameFromUri(line);
    if (name !== null) {
      segments.push({
        name,
        duration: duration !== null && Number.isFinite(duration) ? duration : 0,
        programDateTime: pdt,
        discontinuity,
        ...(map === undefined ? {} : { map }),
      });
    }
    duration = null;
    pdt = null;
    discontinuity = false;
  }
  return { segments, targetDuration, mediaSequence, ended };
}

/**
 * Replaces `dir/name` with `text` so a reader sees the old or the new file, never a mix: write
 * `.name.tmp`, fsync it, rename over `name`, fsync the directory. With `durable` false the two fsyncs
 * are skipped (still atomic for readers, not across a power cut). @internal
 */
export function writeFileAtomic(
  fs: WriterFs,
  dir: string,
  name: string,
  text: string,
  durable: boolean,
): void {
  const target = resolve(dir, name);
  const temp = resolve(dir, `.${name}.tmp`);
  const sink = new FileSink(temp, { fs, fsync: 'none' });
  try {
    sink.write(new TextEncoder().encode(text));
    if (durable) sink.sync();
  } catch (err) {
    try {
      sink.close();
    } catch {
      // Already failing with `err`, which says more than the close fault would.
    }
    throw err;
  }
  sink.close();
  try {
    fs.renameSync(temp, target);
  } catch (err) {
    throw toRenameError(err, target);
  }
  if (durable) {
    try {
      syncDirectory(fs, dir);
    } catch (err) {
      throw toRenameError(err, dir);
    }
  }
}

/**
 * Replaces the EVENT playlist `eventName` and, when `liveName` is set, the live one with `model` rendered
 * as each kind, in that order (see {@link writeFileAtomic}). @internal
 */
export function writePlaylists(
  fs: WriterFs,
  dir: string,
  eventName: string,
  liveName: string | null,
  model: Omit<PlaylistModel, 'kind'>,
  durable: boolean,
): void {
  writeFileAtomic(fs, dir, eventName, renderPlaylist({ ...model, kind: 'event' }), durable);
  if (liveName !== null)
    writeFileAtomic(fs, dir, liveName, renderPlaylist({ ...model, kind: 'live' }), durable);
}

function toRenameError(err: unknown, path: string): WriterError {
  return toWriterError(err, path, 'rename');
}
