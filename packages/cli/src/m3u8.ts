/**
 * A small reader of HLS media playlists (RFC 8216, HTTP Live Streaming, §4.3): the tags a recording
 * checker needs (EXTINF, EXT-X-TARGETDURATION, EXT-X-MEDIA-SEQUENCE, EXT-X-PLAYLIST-TYPE,
 * EXT-X-DISCONTINUITY, EXT-X-MAP, EXT-X-ENDLIST) and the segment URIs, resolved inside the playlist's directory.
 */

import { isAbsolute, relative, resolve, sep } from 'node:path';

/** One media segment of a playlist. */
export interface PlaylistEntry {
  /** The URI line as written. */
  uri: string;
  /** EXTINF duration in seconds, or null when the tag is missing or malformed. */
  duration: number | null;
  /** EXT-X-DISCONTINUITY precedes this segment. */
  discontinuity: boolean;
  /** 1-based line number of the URI. */
  line: number;
  /** URI of the EXT-X-MAP in force (fMP4 init segment, §4.3.2.5), or null. */
  map: string | null;
}

/** What {@link parseMediaPlaylist} reads. */
export interface MediaPlaylist {
  /** The text starts with `#EXTM3U` (§4.3.1.1). */
  hasHeader: boolean;
  /** EXT-X-STREAM-INF seen: a master playlist, which lists variants rather than segments. */
  isMaster: boolean;
  /** EXT-X-TARGETDURATION, or null. */
  targetDuration: number | null;
  /** EXT-X-MEDIA-SEQUENCE (default 0). */
  mediaSequence: number;
  /** EXT-X-PLAYLIST-TYPE (`EVENT`, `VOD`), or null. */
  playlistType: string | null;
  /** EXT-X-ENDLIST present: no segment will be added. */
  ended: boolean;
  segments: PlaylistEntry[];
  /** Syntax problems found (malformed EXTINF, a URI without EXTINF, …), with line numbers. */
  problems: string[];
}

/** Parses a media playlist. Unknown tags and comments are ignored, as §4 requires of clients. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: MediaPlaylist = {
    hasHeader: lines[0]?.trim() === '#EXTM3U',
    isMaster: false,
    targetDuration: null,
    mediaSequence: 0,
    playlistType: null,
    ended: false,
    segments: [],
    problems: [],
  };
  let duration: number | null = null;
  let sawExtinf = false;
  let discontinuity = false;
  let map: string | null = null;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!line.startsWith('#EXT')) continue; // a comment
      const colon = line.indexOf(':');
      const tag = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1);
      switch (tag) {
        case '#EXTINF': {
          // #EXTINF:<duration>,[<title>]
          const d = Number(value.split(',', 1)[0]);
          sawExtinf = true;
          duration = Number.isFinite(d) && d >= 0 ? d : null;
          if (duration === null) out.problems.push(`line ${lineNo}: malformed EXTINF "${value}"`);
          break;
        }
        case '#EXT-X-TARGETDURATION': {
          const t = Number(value);
          if (Number.isInteger(t) && t >= 0) out.targetDuration = t;
          else out.problems.push(`line ${lineNo}: malformed EXT-X-TARGETDURATION "${value}"`);
          break;
        }
        case '#EXT-X-MEDIA-SEQUENCE': {
          const n = Number(value);
          if (Number.isInteger(n) && n >= 0) out.mediaSequence = n;
          else out.problems.push(`line ${lineNo}: malformed EXT-X-MEDIA-SEQUENCE "${value}"`);
          break;
        }
        case '#EXT-X-PLAYLIST-TYPE':
          out.playlistType = value;
          break;
        case '#EXT-X-DISCONTINUITY':
          discontinuity = true;
          break;
        case '#EXT-X-MAP': {
          // #EXT-X-MAP:URI="<uri>"[,BYTERANGE=…]
          const m = /(?:^|,)URI="([^"]*)"/.exec(value);
          if (m) map = m[1]!;
          else out.problems.push(`line ${lineNo}: EXT-X-MAP without URI`);
          break;
        }
        case '#EXT-X-ENDLIST':
          out.ended = true;
          break;
        case '#EXT-X-STREAM-INF':
          out.isMaster = true;
          break;
      }
      continue;
    }
    if (!sawExtinf && !out.isMaster) out.problems.push(`line ${lineNo}: segment "${line}" has no EXTINF`);
    out.segments.push({ uri: line, duration, discontinuity, line: lineNo, map });
    duration = null;
    sawExtinf = false;
    discontinuity = false;
  }
  if (!out.hasHeader) out.problems.push('line 1: the playlist does not start with #EXTM3U');
  if (out.targetDuration === null && !out.isMaster) out.problems.push('EXT-X-TARGETDURATION is missing');
  return out;
}

/** A segment URI that cannot be read as a file inside the playlist's directory. */
export class UnsafeUriError extends Error {
  /** The URI as written in the playlist. */
  readonly uri: string;

  /**
   * @param uri the offending URI.
   * @param reason why it is refused.
   */
  constructor(uri: string, reason: string) {
    super(`segment URI "${uri}" refused: ${reason}`);
    this.name = 'UnsafeUriError';
    this.uri = uri;
  }
}

/**
 * The file a segment URI names, resolved relative to the playlist's directory (§4.1: relative URIs
 * against the playlist's URI). Refuses URIs with a scheme or a query, absolute paths, NUL bytes,
 * malformed percent-encoding, and any path that leaves the playlist's directory.
 * @throws {UnsafeUriError}
 */
export function resolveSegmentPath(playlistDir: string, uri: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) throw new UnsafeUriError(uri, 'only relative URIs are read');
  if (uri.includes('?') || uri.includes('#'))
    throw new UnsafeUriError(uri, 'queries and fragments are not read');
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    throw new UnsafeUriError(uri, 'malformed percent-encoding');
  }
  if (decoded.includes('\0')) throw new UnsafeUriError(uri, 'NUL byte');
  if (decoded.includes('\\')) throw new UnsafeUriError(uri, 'backslash');
  if (decoded.startsWith('/') || isAbsolute(decoded)) throw new UnsafeUriError(uri, 'absolute path');
  const base = resolve(playlistDir);
  const target = resolve(base, decoded);
  const rel = relative(base, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new UnsafeUriError(uri, "outside the playlist's directory");
  }
  return target;
}
