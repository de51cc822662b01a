// Case 3: hostile names. Generated identities, room names and track ids (path traversal, absolute paths,
// NUL and control characters, 4 KB values, Unicode look-alikes, Windows reserved names, template
// injection) go through a real TrackRecording's start(): template expansion, sanitising, resolveInside
// and the creation of the real .ts file, segment directory and playlist. A sample records media and is
// decoded. Nothing may appear outside the output directory and nothing may crash.
import { mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { TrackRecording } from '../../src/index.js';
import { rng } from '../../test/rng.js';
import { type CaseResult, crashes, decode, decodedClean, feedSynthetic, type SuiteOptions } from '../lib.js';

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

const PIECES = [
  '../',
  '..\\',
  '../../../../../../etc/passwd',
  '/etc/shadow',
  '/',
  '\\\\server\\share\\x',
  'C:\\Windows\\System32',
  'C:',
  '\0',
  'a\0b',
  '\n',
  '\r\n',
  '\t',
  '\x1b[31m',
  '\x7f',
  '\u202e', // right-to-left override
  '\u200b', // zero-width space
  '\ufeff',
  '．．／', // full-width ../
  '\u2215', // division slash
  '\u2044', // fraction slash
  '\uff0f', // full-width solidus
  '\u2024\u2024/', // one-dot leaders
  'ＣＯＮ',
  'CON',
  'NUL',
  'nul.txt',
  'COM1',
  'LPT9',
  'AUX',
  'PRN.ts',
  '.',
  '..',
  '...',
  '.hidden',
  '~',
  '$HOME',
  '%2e%2e%2f',
  '{room_name}',
  '{publisher_identity}/../..',
  '*?<>|"',
  ' ',
  '😀',
  'ε',
  'ä',
  'a\u0308', // combining diaeresis
  'ﬁ',
  'İ',
  '-',
  '',
];

function hostile(random: () => number): string {
  const r = random();
  if (r < 0.04) return 'A'.repeat(4096);
  if (r < 0.08) return '../'.repeat(1400);
  if (r < 0.1) return '😀'.repeat(1024);
  if (r < 0.12) return '';
  const parts = 1 + Math.floor(random() * 5);
  let s = '';
  for (let i = 0; i < parts; i++) {
    s +=
      random() < 0.25
        ? String.fromCharCode(Math.floor(random() * 0x3000))
        : PIECES[Math.floor(random() * PIECES.length)];
  }
  return s;
}

/** Every file and directory below `dir`, as absolute paths. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => join(dir, p));
}

function snapshot(dirs: string[]): Set<string> {
  const all = new Set<string>();
  for (const d of dirs) {
    try {
      for (const n of readdirSync(d)) all.add(join(d, n));
    } catch {}
  }
  return all;
}

/** Runs N = 200 (CI) or 1,000 (--full) hostile name sets. */
export async function hostileNames(o: SuiteOptions): Promise<CaseResult> {
  const n = o.full ? 1000 : 200;
  const sample = o.full ? 20 : 5;
  const random = rng(o.seed * 31 + 3);
  const root = o.work;
  const out = join(root, 'out');
  mkdirSync(out, { recursive: true });
  // Places an escape would land in: the case root, the temp dir, cwd, /, /etc, the output's parent.
  const watched = [root, tmpdir(), process.cwd(), '/', '/etc', dirname(root)];
  const before = snapshot(watched);
  const crashesBefore = crashes.length;
  let active = 0;
  let failed = 0;
  let thrown = 0;
  let recorded = 0;
  let recordedClean = 0;
  const notes: string[] = [];
  const templates = [
    { file: { filepath: '{room_name}/{publisher_identity}-{track_id}' } },
    { file: true },
    {
      file: { filepath: '{room_name}-{track_type}/{publisher_identity}' },
      segments: {
        filenamePrefix: '{room_name}/{publisher_identity}/{track_id}',
        livePlaylistName: 'live-{track_id}.m3u8',
      },
    },
  ];
  for (let i = 0; i < n; i++) {
    const names = {
      roomName: hostile(random),
      publisherIdentity: hostile(random),
      trackId: hostile(random),
      roomId: hostile(random),
      trackType: hostile(random),
      trackSource: hostile(random),
    };
    const withMedia = i % Math.floor(n / sample) === 0;
    try {
      const rec = new TrackRecording({
        outputDir: out,
        ...templates[i % templates.length],
        names,
        video: withMedia,
        encoding: { width: 160, height: 120, framerate: 30, videoBitrate: 200, x264Preset: 'ultrafast' },
        id: `names-${i}`,
      });
      const info = await rec.start();
      if (info.status === 'ACTIVE') active++;
      else {
        failed++;
        if (notes.length < 5) notes.push(`names ${i} ended ${info.status}: ${info.error}`);
      }
      if (withMedia && info.status === 'ACTIVE') {
        await feedSynthetic(rec, { width: 160, height: 120, fps: 30, seconds: 1 });
        const done = await rec.stop();
        recorded++;
        const path = done.file?.location ?? '';
        if (done.status === 'COMPLETE' && decodedClean(await decode(path))) recordedClean++;
        else notes.push(`recording ${i}: ${done.status} ${done.error}`);
      } else await rec.abort('names case');
    } catch (error) {
      thrown++;
      if (notes.length < 5) notes.push(`names ${i} threw: ${String(error)}`);
    }
  }
  // Every created path, resolved through symlinks, lies inside the output directory …
  const realOut = realpathSync(out);
  const created = walk(out);
  const outside = created.filter((p) => {
    const rel = relative(realOut, realpathSync(p));
    return rel.startsWith(`..${sep}`) || rel === '..' || rel.startsWith(sep);
  });
  // … and nothing new appeared next to it or in the usual escape targets.
  const after = snapshot(watched);
  const appeared = [...after].filter((p) => !before.has(p) && p !== out && !p.startsWith(`${out}${sep}`));
  // Other test runs create their own temp directories meanwhile (trackrec-*, tsx-*, vitest-*): not ours.
  const escaped = appeared.filter(
    (p) =>
      statSync(p, { throwIfNoEntry: false }) !== undefined &&
      !(dirname(p) === tmpdir() && /^(trackrec-|tsx-|vitest|node-|v8-)/.test(basename(p))),
  );
  const crashCount = crashes.length - crashesBefore;
  const files = created.filter((p) => statSync(p).isFile()).length;
  // No created component is a Windows device name (CON, nul.txt, COM1 …): such a recording could not be
  // copied to, or made on, Windows.
  const windowsDevices = created.filter((p) => WINDOWS_DEVICE.test(basename(p)));
  if (windowsDevices.length > 0) notes.push(`Windows device names: ${windowsDevices.slice(0, 5).join(', ')}`);
  if (outside.length + escaped.length > 0)
    notes.push(`outside: ${[...outside, ...escaped].slice(0, 5).join(', ')}`);
  return {
    id: 'names',
    name: `hostile names (${n} identity/room/track sets)`,
    figures: {
      n,
      started: active,
      refusedFailed: failed,
      threw: thrown,
      crashes: crashCount,
      filesCreated: files,
      filesOutsideOutputDir: outside.length + escaped.length,
      windowsDeviceNames: windowsDevices.length,
      sampleRecordingsDecoded: `${recordedClean}/${recorded}`,
    },
    bound:
      '0 files outside the output dir, 0 Windows device names, 0 crashes or throws, every sample recording decodes',
    pass:
      windowsDevices.length === 0 &&
      outside.length + escaped.length === 0 &&
      crashCount === 0 &&
      thrown === 0 &&
      recordedClean === recorded &&
      recorded > 0,
    notes,
  };
}
