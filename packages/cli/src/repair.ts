/**
 * Crash repair of recordings: `repairTs` / `repairHls` of `@trackrec/node-writer` with the muxer's
 * `completePrefixLength` (ISO/IEC 13818-1 PES boundaries); `repairMp4` / `repairFmp4Hls` with its
 * `completeFragmentedLength` (ISO/IEC 14496-12 §8.8 whole fragments); and the recording layout found
 * on disk (which playlist is the EVENT one, which the live one, the segment prefix, TS or fMP4).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { completePrefixLength, inspectTs } from '@trackrec/muxer/inspect';
import { completeFragmentedLength } from '@trackrec/muxer/mp4';
import {
  type Fmp4HlsRepairReport,
  type HlsRepairReport,
  type Mp4RepairReport,
  repairFmp4Hls,
  repairHls,
  repairMp4,
  repairTs,
  type TsRepairReport,
} from '@trackrec/node-writer';
import { parseMediaPlaylist } from './m3u8.js';
import { probeMp4Bytes, probeMp4File } from './mp4-probe.js';

/** A recording directory that cannot be read unambiguously as one HLS recording. */
export class LayoutError extends Error {
  /**
   * @param message what is ambiguous or missing, and which option resolves it.
   */
  constructor(message: string) {
    super(message);
    this.name = 'LayoutError';
  }
}

/** How an HLS recording directory is laid out (the names `SegmentSink` was given). */
export interface HlsLayout {
  dir: string;
  /** `ts`: `{prefix}_*.ts` segments; `fmp4`: `{prefix}_*.m4s` segments after `{prefix}_init*.mp4`. */
  format: 'ts' | 'fmp4';
  /** Segment prefix: segments are `{prefix}_*.ts` (or `.m4s`). */
  prefix: string;
  /** The EVENT playlist (every segment). */
  playlistName: string;
  /** The sliding live playlist, or null. */
  livePlaylistName: string | null;
  /** Segments the live playlist keeps. */
  liveSegmentCount: number;
}

/** Overrides for {@link detectHlsLayout}. */
export interface LayoutHints {
  prefix?: string;
  playlistName?: string;
  livePlaylistName?: string;
}

const SEGMENT = /^(.+)_[^_/]+\.(?:ts|m4s)$/;

/**
 * Reads a recording directory: the EVENT playlist is the one with EXT-X-PLAYLIST-TYPE:EVENT (or the
 * only playlist); another playlist without a type is the live one, and its segment count the live
 * window. The prefix comes from the listed segment names, or from the `{prefix}_*.ts` files.
 * @throws {LayoutError} when the directory is ambiguous (name the part with `hints`).
 */
export function detectHlsLayout(dir: string, hints: LayoutHints = {}): HlsLayout {
  const abs = resolve(dir);
  const names = readdirSync(abs).filter((n) => !n.startsWith('.'));
  const playlists = names
    .filter((n) => n.toLowerCase().endsWith('.m3u8'))
    .map((name) => ({ name, parsed: parseMediaPlaylist(readFileSync(join(abs, name), 'utf8')) }));
  const byName = new Map(playlists.map((p) => [p.name, p]));

  let event = hints.playlistName === undefined ? undefined : byName.get(hints.playlistName);
  let playlistName = hints.playlistName;
  if (playlistName === undefined) {
    const typed = playlists.filter((p) => p.parsed.playlistType !== null);
    if (typed.length === 1) event = typed[0];
    else if (playlists.length === 1) event = playlists[0];
    else if (playlists.length > 1) {
      throw new LayoutError(
        `${abs} holds ${playlists.length} playlists (${playlists.map((p) => p.name).join(', ')}): name the recording's with --playlist`,
      );
    }
    playlistName = event?.name ?? 'playlist.m3u8';
  }
  let live = hints.livePlaylistName === undefined ? undefined : byName.get(hints.livePlaylistName);
  let livePlaylistName = hints.livePlaylistName ?? null;
  if (livePlaylistName === null) {
    const others = playlists.filter((p) => p.name !== playlistName && p.parsed.playlistType === null);
    if (others.length === 1) {
      live = others[0]!;
      livePlaylistName = live.name;
    }
  }

  // fMP4 when the playlist names an init segment, or (no playlist entries) only .m4s segments lie here.
  const fmp4 =
    (event?.parsed.segments.some((s) => s.map !== null) ?? false) ||
    ((event?.parsed.segments.length ?? 0) === 0 &&
      names.some((n) => n.endsWith('.m4s')) &&
      !names.some((n) => n.endsWith('.ts')));
  let prefix = hints.prefix;
  if (prefix === undefined) {
    const fromList = new Set<string>();
    for (const s of event?.parsed.segments ?? []) {
      const m = SEGMENT.exec(safeDecode(s.uri));
      if (m) fromList.add(m[1]!);
    }
    const candidates =
      fromList.size > 0
        ? fromList
        : new Set(names.map((n) => SEGMENT.exec(n)?.[1]).filter((p): p is string => p !== undefined));
    if (candidates.size !== 1) {
      throw new LayoutError(
        candidates.size === 0
          ? `${abs} holds no {prefix}_*.ts or {prefix}_*.m4s segments: pass --prefix`
          : `${abs} holds segments of several prefixes (${[...candidates].join(', ')}): pass --prefix`,
      );
    }
    prefix = [...candidates][0]!;
  }
  const liveCount = live?.parsed.segments.length ?? 0;
  return {
    dir: abs,
    format: fmp4 ? 'fmp4' : 'ts',
    prefix,
    playlistName,
    livePlaylistName,
    liveSegmentCount: liveCount > 0 ? liveCount : 5,
  };
}

function safeDecode(uri: string): string {
  try {
    return decodeURIComponent(uri);
  } catch {
    return uri;
  }
}

/** Media duration in seconds of a segment's bytes, as the checker measures it. */
export function segmentDurationOf(bytes: Uint8Array): number {
  return inspectTs(bytes, { requirePsiFirst: false, maxViolations: 0 }).durationMs / 1000;
}

/** Repairs one crashed MPEG-TS file in place (see `repairTs`). */
export function repairTsFile(path: string): TsRepairReport {
  return repairTs(path, (bytes) => completePrefixLength(bytes));
}

/** Repairs a crashed HLS recording in place (see `repairHls`), with measured segment durations. */
export function repairHlsDir(layout: HlsLayout): HlsRepairReport {
  return repairHls({
    dir: layout.dir,
    prefix: layout.prefix,
    playlistName: layout.playlistName,
    ...(layout.livePlaylistName === null ? {} : { livePlaylistName: layout.livePlaylistName }),
    liveSegmentCount: layout.liveSegmentCount,
    completePrefixLength: (bytes) => completePrefixLength(bytes),
    segmentDuration: segmentDurationOf,
  });
}

/** Why an MP4 file cannot be repaired by cutting it (a progressive file, which has no fragments). */
export class Mp4RepairError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mp4RepairError';
  }
}

/**
 * Repairs one crashed fragmented MP4 in place (see `repairMp4`): cut to its last whole fragment. A
 * whole progressive file is left untouched; a torn progressive one (its rewrite never leaves one, but
 * a copy can) cannot be cut back to anything playable and throws {@link Mp4RepairError}.
 */
export function repairMp4File(path: string): Mp4RepairReport {
  const probe = probeMp4File(path);
  if (!probe.fragmented) {
    if (probe.wholeFragments && probe.violations.length === 0) {
      return { path: probe.path, originalBytes: probe.bytes, repairedBytes: probe.bytes, bytesTruncated: 0 };
    }
    throw new Mp4RepairError(
      `${path} is not a fragmented MP4 (${probe.violations[0] ?? 'no movie fragments'}): nothing to cut back to`,
    );
  }
  return repairMp4(path, (bytes) => completeFragmentedLength(bytes));
}

/** Repairs a crashed fMP4 HLS recording in place (see `repairFmp4Hls`), with measured segment durations. */
export function repairFmp4HlsDir(layout: HlsLayout): Fmp4HlsRepairReport {
  return repairFmp4Hls({
    dir: layout.dir,
    prefix: layout.prefix,
    playlistName: layout.playlistName,
    ...(layout.livePlaylistName === null ? {} : { livePlaylistName: layout.livePlaylistName }),
    liveSegmentCount: layout.liveSegmentCount,
    completeFragmentedLength: (bytes) => completeFragmentedLength(bytes),
    segmentDuration: (initAndSegment) => probeMp4Bytes(initAndSegment).durationS,
  });
}
