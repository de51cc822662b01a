/**
 * Checks recordings with the muxer's independent checker (`@trackrec/muxer/inspect`, ISO/IEC
 * 13818-1 with ETSI TR 101 290 thresholds): one MPEG-TS file streamed in chunks, or every segment of an
 * HLS media playlist (RFC 8216) — fMP4 segments (EXT-X-MAP, §4.3.2.5) with the MP4 checker of
 * `mp4-probe.ts`, each after its init segment.
 */

import { open, readFile, realpath } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { type InspectOptions, TsInspector, type TsReport } from '@trackrec/muxer/inspect';
import { type MediaPlaylist, parseMediaPlaylist, resolveSegmentPath, UnsafeUriError } from './m3u8.js';
import { type Mp4Context, type Mp4Probe, newMp4Context, probeMp4File } from './mp4-probe.js';

/** Bytes read per call: large enough for throughput, small enough that memory stays flat. */
const CHUNK_BYTES = 1 << 20;

/**
 * Checks one MPEG-TS file, read in 1 MiB chunks through a {@link TsInspector}: memory does not grow
 * with the file. Reads the file as it is at the moment of each read (a growing file is checked up to
 * the size seen at the last read).
 */
export async function probeTsFile(path: string, options?: InspectOptions): Promise<TsReport> {
  const inspector = new TsInspector(options);
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) break;
      inspector.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return inspector.finish();
}

/** The check of one segment of a playlist. */
export interface SegmentProbe {
  /** The URI as written in the playlist. */
  uri: string;
  /** The file it names, or null when the URI was refused. */
  path: string | null;
  /** EXTINF in seconds, or null. */
  extinf: number | null;
  /** The segment was read and has no violation. */
  ok: boolean;
  /** Why the segment could not be checked (missing file, refused URI), or null. */
  error: string | null;
  /** The MPEG-TS checker's report, or null when the segment could not be read or is fMP4. */
  report: TsReport | null;
  /** URI of the segment's EXT-X-MAP (an fMP4 segment), or null. */
  map: string | null;
  /** The MP4 checker's report of an fMP4 segment (continuing its init segment), or null. */
  mp4: Mp4Probe | null;
}

/** The check of a whole media playlist. */
export interface PlaylistProbe {
  /** Absolute path of the playlist. */
  path: string;
  /** `fmp4` when the segments have an EXT-X-MAP init segment, else `ts`. */
  format: 'ts' | 'fmp4';
  /** No playlist problem and every segment ok. */
  ok: boolean;
  /** EXT-X-ENDLIST present: the recording is finished. Without it the recording is live or crashed. */
  ended: boolean;
  /** EXT-X-PLAYLIST-TYPE, or null. */
  playlistType: string | null;
  /** EXT-X-TARGETDURATION, or null. */
  targetDuration: number | null;
  /** EXT-X-MEDIA-SEQUENCE. */
  mediaSequence: number;
  /** Segments listed. */
  segmentCount: number;
  /** Sum of the EXTINF durations, seconds. */
  listedDuration: number;
  /** Sum of the checked segments' media durations, seconds. */
  measuredDuration: number;
  /** Segments with a violation or that could not be read. */
  badSegments: number;
  /** Playlist-level problems (syntax, EXTINF over the target duration, a master playlist). */
  problems: string[];
  segments: SegmentProbe[];
}

/**
 * Checks every segment of an HLS media playlist with {@link probeTsFile}. Segment URIs are resolved
 * relative to the playlist; a URI that leaves the playlist's directory (also through a symbolic link)
 * is refused, never read. `onSegment` sees each segment's result as soon as it is checked.
 */
export async function probePlaylist(
  path: string,
  options?: InspectOptions,
  onSegment?: (segment: SegmentProbe) => void,
): Promise<PlaylistProbe> {
  const abs = resolve(path);
  const playlist: MediaPlaylist = parseMediaPlaylist(await readFile(abs, 'utf8'));
  const dir = dirname(abs);
  const realDir = await realpath(dir);
  const problems = [...playlist.problems];
  if (playlist.isMaster)
    problems.push('a master playlist (EXT-X-STREAM-INF): probe one of its media playlists');
  const segments: SegmentProbe[] = [];
  let listed = 0;
  let measured = 0;
  /** The fMP4 init segment in force: its URI and the context its segments continue. */
  let init = null as { uri: string; context: Mp4Context } | null;
  const inside = async (uri: string): Promise<string> => {
    const real = await realpath(resolveSegmentPath(dir, uri));
    const rel = relative(realDir, real);
    if (rel.startsWith(`..${sep}`) || rel === '..' || rel.startsWith(sep)) {
      throw new UnsafeUriError(uri, "a link that leaves the playlist's directory");
    }
    return real;
  };
  for (const entry of playlist.isMaster ? [] : playlist.segments) {
    listed += entry.duration ?? 0;
    const probe: SegmentProbe = {
      uri: entry.uri,
      path: null,
      extinf: entry.duration,
      ok: false,
      error: null,
      report: null,
      map: entry.map,
      mp4: null,
    };
    segments.push(probe);
    if (
      entry.duration !== null &&
      playlist.targetDuration !== null &&
      Math.round(entry.duration) > playlist.targetDuration
    ) {
      problems.push(
        `line ${entry.line}: EXTINF ${entry.duration} rounds above EXT-X-TARGETDURATION ${playlist.targetDuration}`,
      );
    }
    try {
      probe.path = resolveSegmentPath(dir, entry.uri);
      const real = await inside(entry.uri);
      if (entry.map !== null) {
        if (init?.uri !== entry.map) {
          // A new init segment (the first, or after a resolution change): its tracks start afresh.
          const context = newMp4Context();
          init = { uri: entry.map, context };
          const initReport = probeMp4File(await inside(entry.map), { context });
          for (const v of initReport.violations) problems.push(`EXT-X-MAP ${entry.map}: ${v}`);
        }
        probe.mp4 = probeMp4File(real, { context: init.context, segment: true });
        probe.ok = probe.mp4.ok;
        measured += probe.mp4.durationS;
      } else {
        probe.report = await probeTsFile(real, options);
        probe.ok = probe.report.ok;
        measured += probe.report.durationMs / 1000;
      }
    } catch (err) {
      probe.error = err instanceof Error ? err.message : String(err);
    }
    onSegment?.(probe);
  }
  const badSegments = segments.filter((s) => !s.ok).length;
  return {
    path: abs,
    format: playlist.segments.some((s) => s.map !== null) ? 'fmp4' : 'ts',
    ok: problems.length === 0 && badSegments === 0,
    ended: playlist.ended,
    playlistType: playlist.playlistType,
    targetDuration: playlist.targetDuration,
    mediaSequence: playlist.mediaSequence,
    segmentCount: segments.length,
    listedDuration: listed,
    measuredDuration: measured,
    badSegments,
    problems,
    segments,
  };
}
