/**
 * File names under the output directory. Policy: hostile names are rejected, never rewritten, so what
 * lands on disk is exactly what the caller asked for. A name is one path component: no separators
 * (`/`, `\`), no drive colon, no NUL or other control characters, not `.`/`..`, at most
 * {@link MAX_NAME_BYTES} UTF-8 bytes. Playlist URIs percent-encode the name (RFC 3986), so a `#` or
 * a space in a prefix cannot turn a URI line into a tag.
 */

import { basename, dirname, resolve } from 'node:path';

/** Longest segment prefix, in UTF-8 bytes, leaving room for `_00000.ts` or a timestamp under the usual 255. */
export const MAX_PREFIX_BYTES = 200;
/** Longest playlist name, in UTF-8 bytes (a temp file `.{name}.tmp` must still fit in 255). */
export const MAX_NAME_BYTES = 240;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
const FORBIDDEN = /[\u0000-\u001f\u007f/\\:]/;

/**
 * Checks one file-name component and returns it, throwing a `TypeError`/`RangeError` naming `option`.
 * @internal
 */
export function validateName(value: unknown, option: string, maxBytes: number): string {
  if (typeof value !== 'string') throw new TypeError(`${option} must be a string`);
  if (value.length === 0) throw new RangeError(`${option} must not be empty`);
  if (Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw new RangeError(`${option} must be at most ${maxBytes} UTF-8 bytes`);
  }
  if (FORBIDDEN.test(value)) {
    throw new RangeError(
      `${option} must be a plain file name: no path separators, colons, NUL or control characters`,
    );
  }
  if (value === '.' || value === '..') throw new RangeError(`${option} must not be '.' or '..'`);
  if (value.trim() !== value) throw new RangeError(`${option} must not start or end with white space`);
  return value;
}

/** Joins `dir` and a validated name, asserting the result is directly inside `dir`. @internal */
export function childPath(dir: string, name: string): string {
  const full = resolve(dir, name);
  if (dirname(full) !== resolve(dir) || basename(full) !== name) {
    throw new RangeError(`${JSON.stringify(name)} would leave the output directory`);
  }
  return full;
}

/** The URI a playlist lists for a file next to it. @internal */
export function uriFor(name: string): string {
  return encodeURIComponent(name);
}

/** The file name a playlist URI line refers to, or null for a URI that is not a plain sibling file. @internal */
export function nameFromUri(uri: string): string | null {
  let name: string;
  try {
    name = decodeURIComponent(uri);
  } catch {
    return null;
  }
  try {
    validateName(name, 'uri', 255);
  } catch {
    return null;
  }
  return name;
}
