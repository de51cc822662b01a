/** Reads a media playlist with an independent parser (m3u8-parser) and checks RFC 8216 invariants. */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Manifest, Parser } from 'm3u8-parser';
import { expect } from 'vitest';

export interface ReadPlaylist {
  text: string;
  manifest: Manifest;
  warnings: string[];
}

export function parseM3u8(text: string): ReadPlaylist {
  const parser = new Parser();
  const warnings: string[] = [];
  parser.on('warn', (e) => warnings.push(e.message));
  parser.push(text);
  parser.end();
  return { text, manifest: parser.manifest, warnings };
}

/**
 * Parses `dir/name` and asserts what must hold at every moment: header tags, no parser warnings,
 * EXTINF rounded ≤ TARGETDURATION, every listed segment present, non-empty and whole 188-byte packets.
 */
export function readPlaylist(dir: string, name = 'playlist.m3u8'): ReadPlaylist {
  const text = readFileSync(join(dir, name), 'utf8');
  const read = parseM3u8(text);
  const m = read.manifest;
  expect(read.warnings).toEqual([]);
  expect(text.startsWith('#EXTM3U\n#EXT-X-VERSION:3\n')).toBe(true);
  expect(m.independentSegments).toBe(true);
  expect(m.targetDuration).toBeGreaterThan(0);
  for (const s of m.segments) {
    expect(Math.round(s.duration)).toBeLessThanOrEqual(m.targetDuration!);
    const file = join(dir, decodeURIComponent(s.uri));
    expect(existsSync(file)).toBe(true);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(0);
    expect(size % 188).toBe(0);
  }
  return read;
}
