/**
 * File names from Egress-style templates. Identities, room names and track ids come from remote users,
 * so every value substituted into a template is sanitised to one harmless path component, and the
 * final path is checked to stay inside the output directory. Policy: rewrite values (a recording must
 * not fail because a user picked an odd name), refuse templates that escape the directory.
 */

import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Values a filename template may reference (LiveKit Egress names). */
export interface TemplateValues {
  /** `{room_name}` */
  roomName?: string;
  /** `{room_id}` */
  roomId?: string;
  /** `{publisher_identity}` */
  publisherIdentity?: string;
  /** `{track_id}` */
  trackId?: string;
  /** `{track_type}`: `audio`, `video` or `audio_video`. */
  trackType?: string;
  /** `{track_source}`: `camera`, `microphone`, `screen_share`, … */
  trackSource?: string;
  /** Time used for `{time}` and `{utc}`; default now. */
  date?: Date;
}

/** Longest substituted value, in UTF-8 bytes. */
export const MAX_VALUE_BYTES = 64;
/** Longest file name component, in UTF-8 bytes (room for node-writer's segment suffixes under 255). */
export const MAX_COMPONENT_BYTES = 180;

// Bidi overrides/isolates, zero-width and other invisible format characters (Unicode category Cf),
// controls (Cc), separators and private use: never part of a file name we write.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/gu;
// Kept: letters, marks, digits, and a few punctuation marks that are safe everywhere.
const UNSAFE = /[^\p{L}\p{M}\p{N}._\-+@=,]/gu;
/** Reserved DOS device names, alone or before an extension (Win32 naming rules). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a code point. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * Turns any string into one safe file-name component: NFKC-normalised (so full-width `／` or `．` become
 * plain characters and are then replaced), invisible and control characters removed, everything but
 * letters, digits and `._-+@=,` replaced by `_`, no leading dots (no `..`, no hidden files), Windows
 * device names (`CON`, `nul.txt`, `COM1` …) prefixed with `_`, at most `maxBytes` UTF-8 bytes. Never
 * returns an empty string (`_` instead).
 */
export function sanitizeComponent(value: string, maxBytes = MAX_VALUE_BYTES): string {
  let s = String(value).normalize('NFKC').replace(INVISIBLE, '').replace(UNSAFE, '_');
  s = s.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  // Windows device names (CON, NUL, COM1 … with any extension) cannot be files there.
  if (WINDOWS_DEVICE.test(s)) s = `_${s}`;
  s = truncateUtf8(s, maxBytes);
  return s.length === 0 ? '_' : s;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Egress `{time}`: local time `2006-01-02T150405`. */
function timeValue(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** Egress `{utc}`: UTC `20060102150405`. */
function utcValue(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/**
 * Expands `{room_name}`, `{room_id}`, `{publisher_identity}`, `{track_id}`, `{track_type}`,
 * `{track_source}`, `{time}` and `{utc}` in `template`, each value sanitised with
 * {@link sanitizeComponent}. Missing or empty values expand to `unknown`.
 * The template itself may contain `/` to make sub-directories.
 */
export function expandTemplate(template: string, values: TemplateValues): string {
  const d = values.date ?? new Date();
  const table: Record<string, string | undefined> = {
    room_name: values.roomName,
    room_id: values.roomId,
    publisher_identity: values.publisherIdentity,
    track_id: values.trackId,
    track_type: values.trackType,
    track_source: values.trackSource,
  };
  return template.replace(
    /\{(room_name|room_id|publisher_identity|track_id|track_type|track_source|time|utc)\}/g,
    (_m, key: string) => {
      if (key === 'time') return timeValue(d);
      if (key === 'utc') return utcValue(d);
      const v = table[key];
      return sanitizeComponent(v === undefined || v === '' ? 'unknown' : v);
    },
  );
}

/**
 * Cuts every `/`-separated component of an expanded template to {@link MAX_COMPONENT_BYTES} minus
 * `reserve` UTF-8 bytes (keeping the end of the last component, usually its extension), so long
 * user-supplied values shorten a name instead of failing the recording.
 */
export function fitComponents(name: string, reserve = 0): string {
  const max = MAX_COMPONENT_BYTES - reserve;
  const parts = name.split('/');
  return parts
    .map((part, i) => {
      if (Buffer.byteLength(part, 'utf8') <= max) return part;
      const ext = i === parts.length - 1 ? (/\.[A-Za-z0-9]{1,8}$/.exec(part)?.[0] ?? '') : '';
      return truncateUtf8(part.slice(0, part.length - ext.length), max - ext.length) + ext;
    })
    .join('/');
}

/**
 * Resolves a relative `name` (an expanded template) under `dir` and returns the absolute path,
 * throwing a `RangeError` naming `option` when it would leave `dir`: absolute paths, `..` components,
 * NUL, backslashes, empty components or components over {@link MAX_COMPONENT_BYTES} UTF-8 bytes.
 */
export function resolveInside(dir: string, name: string, option: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new RangeError(`${option} must not be empty`);
  if (name.includes('\0') || name.includes('\\')) {
    throw new RangeError(`${option} must not contain NUL or backslashes`);
  }
  if (isAbsolute(name)) throw new RangeError(`${option} must be relative to the output directory`);
  const parts = name.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') {
      throw new RangeError(`${option} must not contain empty, '.' or '..' path components`);
    }
    if (Buffer.byteLength(part, 'utf8') > MAX_COMPONENT_BYTES) {
      throw new RangeError(`${option} path components must be at most ${MAX_COMPONENT_BYTES} UTF-8 bytes`);
    }
  }
  const base = resolve(dir);
  const full = resolve(base, name);
  const rel = relative(base, full);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new RangeError(`${option} would leave the output directory`);
  }
  return full;
}
