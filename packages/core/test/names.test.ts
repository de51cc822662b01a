import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expandTemplate,
  fitComponents,
  MAX_COMPONENT_BYTES,
  MAX_VALUE_BYTES,
  resolveInside,
  sanitizeComponent,
} from '../src/names.js';
import { TrackRecording } from '../src/recording.js';
import { inspectFile, removeDir, SyntheticAudio, tempDir } from './helpers.js';

const HOSTILE = [
  '../../etc/passwd',
  '/etc/passwd',
  '..',
  '.',
  '.hidden',
  'a\u0000b',
  'C:\\Windows\\system32',
  'x'.repeat(5000),
  'é'.repeat(300),
  'evil\u202Egnp.ts', // right-to-left override
  'zero\u200Bwidth',
  '\uFF0E\uFF0E\uFF0Fetc', // full-width "../"
  'line\nbreak\r',
  ' spaces ',
  '',
  '😀'.repeat(40),
];

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

describe('sanitizeComponent', () => {
  it.each(HOSTILE)('makes %j one harmless component', (value) => {
    const s = sanitizeComponent(value);
    expect(s.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(s, 'utf8')).toBeLessThanOrEqual(MAX_VALUE_BYTES);
    expect(s).not.toMatch(/[/\\\0\n\r:]/);
    expect(s.startsWith('.')).toBe(false);
    expect(s).not.toMatch(/[\u200B\u202E]/);
    expect(s).not.toBe('..');
  });

  it('keeps ordinary identities readable', () => {
    expect(sanitizeComponent('alice')).toBe('alice');
    expect(sanitizeComponent('user-42_x.y')).toBe('user-42_x.y');
    expect(sanitizeComponent('Zoë Ångström')).toBe('Zoë_Ångström');
    expect(sanitizeComponent('\uFF0E\uFF0E\uFF0Fetc')).toBe('___etc');
  });

  it('never yields a value that escapes the directory (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        const name = expandTemplate('{publisher_identity}-{room_name}.ts', {
          publisherIdentity: value,
          roomName: value,
        });
        const full = resolveInside('/rec', name, 'name');
        expect(relative('/rec', full).includes('/')).toBe(false);
        expect(full.startsWith('/rec/')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('expandTemplate', () => {
  it('expands every Egress variable', () => {
    const date = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    const s = expandTemplate(
      '{room_name}/{room_id}/{publisher_identity}/{track_id}/{track_type}/{track_source}/{utc}',
      {
        roomName: 'r',
        roomId: 'RM_1',
        publisherIdentity: 'p',
        trackId: 'TR_9',
        trackType: 'video',
        trackSource: 'camera',
        date,
      },
    );
    expect(s).toBe('r/RM_1/p/TR_9/video/camera/20250102030405');
    expect(expandTemplate('{time}', { date })).toMatch(/^\d{4}-\d\d-\d\dT\d{6}$/);
    expect(expandTemplate('{room_name}', {})).toBe('unknown');
  });
});

describe('fitComponents', () => {
  it('shortens long components, keeping the extension, so long names never fail a recording', () => {
    const long = expandTemplate('{room_name}-{publisher_identity}-{track_id}-{track_source}.ts', {
      roomName: 'r'.repeat(500),
      publisherIdentity: 'é'.repeat(500),
      trackId: 't'.repeat(500),
      trackSource: 's'.repeat(500),
    });
    expect(Buffer.byteLength(long)).toBeGreaterThan(MAX_COMPONENT_BYTES);
    const fitted = fitComponents(`dir/${long}`, 8);
    const [d, file] = fitted.split('/');
    expect(d).toBe('dir');
    expect(file?.endsWith('.ts')).toBe(true);
    expect(Buffer.byteLength(file as string)).toBeLessThanOrEqual(MAX_COMPONENT_BYTES - 8);
    expect(resolveInside('/rec', fitted, 'x')).toBe(`/rec/${fitted}`);
    expect(fitComponents('short/name.ts')).toBe('short/name.ts');
  });
});

describe('resolveInside', () => {
  it.each([
    ['/abs.ts', /relative/],
    ['../up.ts', /'\.\.'/],
    ['a/../../b.ts', /'\.\.'/],
    ['a//b.ts', /empty/],
    ['a\\b.ts', /backslash/],
    ['nul\0.ts', /NUL/],
    [`${'x'.repeat(200)}.ts`, /180/],
  ])('refuses %j', (name, message) => {
    expect(() => resolveInside('/rec', name, 'options.file.filepath')).toThrow(message);
  });

  it('allows sub-directories from the template', () => {
    expect(resolveInside('/rec', 'room/alice.ts', 'x')).toBe('/rec/room/alice.ts');
  });
});

describe('hostile identities in a real recording', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it('writes every output inside outputDir whatever the identity and room name', async () => {
    const out = tempDir();
    dirs.push(out);
    const audio = new SyntheticAudio();
    const recs = [
      '../../escape',
      '/etc/cron.d/x',
      'a\u202Eb\u0000c',
      '\uFF0E\uFF0E\uFF0F\uFF0E\uFF0E',
      'y'.repeat(4000),
    ].map(
      (identity, i) =>
        new TrackRecording({
          outputDir: out,
          video: false,
          file: { filepath: '{room_name}/{publisher_identity}-{track_id}' },
          segments: { filenamePrefix: '{room_name}/{publisher_identity}-hls', segmentDuration: 1 },
          names: { roomName: identity, publisherIdentity: identity, trackId: `TR_${i}` },
        }),
    );
    for (const r of recs) {
      await r.start();
      r.attachAudio(audio.stream());
    }
    await audio.run(600);
    const infos = await Promise.all(recs.map((r) => r.stop()));
    await audio.close();
    const root = realpathSync(out);
    for (const info of infos) {
      expect(info.status).toBe('COMPLETE');
      const loc = info.file?.location as string;
      expect(realpathSync(loc).startsWith(`${root}/`)).toBe(true);
      expect(statSync(loc).size).toBe(info.file?.size);
      inspectFile(loc);
      expect(realpathSync(info.segments?.playlistLocation as string).startsWith(`${root}/`)).toBe(true);
    }
    const files = listFiles(out);
    // Five TS files, five playlists, and their segments; every one under outputDir, no hidden names.
    expect(files.filter((f) => f.endsWith('.m3u8')).length).toBe(5);
    for (const f of files) {
      expect(f.startsWith(`${out}/`)).toBe(true);
      for (const part of relative(out, f).split('/')) expect(part.startsWith('.')).toBe(false);
    }
  });
});
