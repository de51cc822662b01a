/**
 * The CLI and MP4: `demo --format mp4 --hls --hls-format fmp4` writes a progressive MP4 and fMP4 HLS
 * for real (rtc-node tracks → @trackrec/core); `probe` reads them, a fragmented file made of the HLS
 * init segment and its segment, a torn copy and a broken copy; `repair` cuts the torn file and a
 * crashed fMP4 HLS directory back to whole fragments; `serve` lists and serves them with MP4 types.
 * ffmpeg -xerror judges the results.
 */

import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingEntry, type RecordingServer, startServer } from '../src/server.js';
import { runCli } from './helpers/cli.js';
import { get } from './helpers/http.js';
import { expectFfmpegDecodes } from './helpers/judge.js';
import { tempDir } from './helpers/tmp.js';
import { needTool, onPath, toolRuns } from './helpers/tools.js';

const dir = tempDir('mp4');
const out = join(dir, 'demo');
const hasFfmpeg = onPath('ffmpeg');
let mp4 = '';
let hlsDir = '';
let fragmented = '';
let demoStdout = '';
let demoCode = -1;

/** Top-level box types read from the box headers. */
function topLevelBoxes(path: string): string[] {
  const bytes = readFileSync(path);
  const types: string[] = [];
  let o = 0;
  while (o + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(o);
    if (size === 1) size = Number(bytes.readBigUInt64BE(o + 8));
    types.push(bytes.toString('latin1', o + 4, o + 8));
    if (size < 8) break;
    o += size;
  }
  return types;
}

beforeAll(async () => {
  const run = await runCli([
    'demo',
    '--format',
    'mp4',
    '--hls',
    '--hls-format',
    'fmp4',
    '--duration',
    '2',
    '--size',
    '320x240',
    '--x264-preset',
    'ultrafast',
    '--out',
    out,
  ]);
  demoCode = run.code;
  demoStdout = run.stdout;
  const name = readdirSync(out).find((n) => n.endsWith('.mp4'))!;
  mp4 = join(out, name);
  hlsDir = join(out, name.replace(/\.mp4$/, ''));
  // A fragmented MP4 exactly as the recorder wrote it while recording: the init segment and its fragments.
  fragmented = join(dir, 'fragmented.mp4');
  const segments = readdirSync(hlsDir)
    .filter((n) => n.endsWith('.m4s'))
    .sort();
  writeFileSync(
    fragmented,
    Buffer.concat([
      readFileSync(join(hlsDir, 'demo_init.mp4')),
      ...segments.map((s) => readFileSync(join(hlsDir, s))),
    ]),
  );
}, 30_000);

describe('trackrec demo --format mp4', () => {
  it('writes a progressive MP4 (moov before mdat) and fMP4 HLS, both checked ok', () => {
    expect(demoCode).toBe(0);
    expect(demoStdout).toMatch(/check {5}file ok \(progressive MP4, avc1 \+ mp4a, 2\.\d\d s\)/);
    expect(demoStdout).toMatch(/check {5}playlist ok \(\d+ segments/);
    expect(topLevelBoxes(mp4)).toEqual(['ftyp', 'moov', 'mdat']);
    const playlist = readFileSync(join(hlsDir, 'demo.m3u8'), 'utf8');
    expect(playlist).toContain('#EXT-X-MAP:URI="demo_init.mp4"');
    expect(playlist).toContain('#EXT-X-ENDLIST');
  });

  it.runIf(toolRuns(hasFfmpeg))('the MP4 decodes with ffmpeg -v error -xerror', () => {
    needTool(hasFfmpeg, 'ffmpeg');
    expectFfmpegDecodes(mp4);
  });
});

describe('trackrec probe <file.mp4>', () => {
  it('a progressive MP4: brand, tracks, samples; no fragments; exit 0', async () => {
    const r = await runCli(['probe', mp4, '--json']);
    expect(r.code).toBe(0);
    const p = r.json[0]!;
    expect(p).toMatchObject({ type: 'mp4', fragmented: false, fragments: 0, wholeFragments: true, ok: true });
    expect(p.violations).toEqual([]);
    const tracks = p.tracks as Array<Record<string, unknown>>;
    expect(tracks[0]).toMatchObject({
      handler: 'vide',
      codec: 'avc1',
      width: 320,
      height: 240,
      timescale: 90000,
    });
    expect(tracks[1]).toMatchObject({ handler: 'soun', codec: 'mp4a', timescale: 48000 });
    expect(tracks[0]!.samples).toBeGreaterThanOrEqual(55);
    expect(p.durationS as number).toBeGreaterThan(1.8);
  });

  it('a fragmented MP4: fragments and the same samples as the progressive rewrite; exit 0', async () => {
    const progressive = (await runCli(['probe', mp4, '--json'])).json[0]!;
    const r = await runCli(['probe', fragmented, '--json']);
    expect(r.code).toBe(0);
    const p = r.json[0]!;
    expect(p).toMatchObject({ fragmented: true, wholeFragments: true, ok: true, brand: 'iso6' });
    expect(p.fragments as number).toBeGreaterThanOrEqual(2);
    const samples = (x: Record<string, unknown>) =>
      (x.tracks as Array<{ samples: number }>).map((t) => t.samples);
    // The HLS and the file come from one encode and one muxer: the same samples.
    expect(samples(p)).toEqual(samples(progressive));
    expect(p.durationS as number).toBeCloseTo(progressive.durationS as number, 1);
    const human = await runCli(['probe', fragmented]);
    expect(human.stdout).toMatch(/format: fragmented MP4, brand iso6/);
    expect(human.stdout).toMatch(/track 1: vide avc1 320x240, timescale 90000, \d+ samples/);
    expect(human.stdout).toMatch(/result: ok\n$/);
  });

  it('a torn last fragment, a missing moov, a tfdt jump: violations and exit 1', async () => {
    const whole = readFileSync(fragmented);
    const torn = join(dir, 'torn.mp4');
    writeFileSync(torn, whole.subarray(0, whole.length - 700));
    let r = await runCli(['probe', torn, '--json']);
    expect(r.code).toBe(1);
    expect(r.json[0]).toMatchObject({ ok: false, wholeFragments: false, bytes: whole.length - 700 });
    expect(r.json[0]!.violations).toEqual([expect.stringMatching(/^torn last fragment: mdat at \d+/)]);

    const init = readFileSync(join(hlsDir, 'demo_init.mp4'));
    const noMoov = join(dir, 'no-moov.mp4');
    writeFileSync(noMoov, whole.subarray(init.length));
    r = await runCli(['probe', noMoov, '--json']);
    expect(r.code).toBe(1);
    expect((r.json[0]!.violations as string[]).at(-1)).toMatch(/^missing moov/);

    // The second video tfdt moved 3000 ticks on: the fragment no longer continues the first.
    const jumped = Buffer.from(whole);
    const at = jumped.indexOf('tfdt', jumped.indexOf('tfdt', init.length) + 4);
    expect(at).toBeGreaterThan(0);
    const version = jumped[at + 4]!;
    if (version === 1) jumped.writeBigUInt64BE(jumped.readBigUInt64BE(at + 8) + 3000n, at + 8);
    else jumped.writeUInt32BE(jumped.readUInt32BE(at + 8) + 3000, at + 8);
    const jumpedPath = join(dir, 'jumped.mp4');
    writeFileSync(jumpedPath, jumped);
    r = await runCli(['probe', jumpedPath, '--json']);
    expect(r.code).toBe(1);
    expect(r.json[0]!.violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/tfdt not continuous on track \d: \d+, the previous fragment ended at \d+/),
      ]),
    );
  });

  it('an fMP4 HLS playlist: the init segment and every .m4s checked; exit 0', async () => {
    const r = await runCli(['probe', join(hlsDir, 'demo.m3u8'), '--json']);
    expect(r.code).toBe(0);
    const summary = r.json.at(-1)!;
    expect(summary).toMatchObject({
      type: 'playlist',
      format: 'fmp4',
      ok: true,
      ended: true,
      badSegments: 0,
    });
    const segments = r.json.filter((l) => l.type === 'segment');
    expect(segments.length).toBe(summary.segmentCount);
    for (const s of segments) {
      expect(s).toMatchObject({ ok: true, map: 'demo_init.mp4', report: null });
      expect((s.mp4 as { fragments: number }).fragments).toBeGreaterThan(0);
    }
  });
});

describe('trackrec repair with MP4', () => {
  it('cuts a torn fragmented MP4 to its last whole fragment; probe is then clean and ffmpeg decodes it', async () => {
    const whole = readFileSync(fragmented);
    const file = join(dir, 'crashed.mp4');
    writeFileSync(file, whole.subarray(0, whole.length - 700));
    const r = await runCli(['repair', file, '--json']);
    expect(r.code).toBe(0);
    const line = r.json[0]!;
    expect(line).toMatchObject({ type: 'repair', kind: 'mp4', originalBytes: whole.length - 700 });
    expect(line.bytesTruncated as number).toBeGreaterThan(0);
    expect(line.check).toMatchObject({ ok: true, violations: [] });
    expect(statSync(file).size).toBe(line.repairedBytes);
    expect((await runCli(['probe', file])).code).toBe(0);
    // Running it again changes nothing.
    expect((await runCli(['repair', file, '--json'])).json[0]).toMatchObject({ bytesTruncated: 0 });
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg');
      expectFfmpegDecodes(file);
    }
  });

  it('leaves a whole progressive MP4 untouched (nothing is cut from its mdat)', async () => {
    const before = readFileSync(mp4);
    const r = await runCli(['repair', mp4, '--json']);
    expect(r.code).toBe(0);
    expect(r.json[0]).toMatchObject({ kind: 'mp4', bytesTruncated: 0 });
    expect(readFileSync(mp4).equals(before)).toBe(true);
  });

  it('a crashed fMP4 HLS directory: the unlisted torn segment is cut, listed, and the playlist ended', async () => {
    const crashed = join(dir, 'crashed-hls');
    const { cpSync } = await import('node:fs');
    cpSync(hlsDir, crashed, { recursive: true });
    const playlist = join(crashed, 'demo.m3u8');
    const text = readFileSync(playlist, 'utf8');
    // As a crash leaves it: the last segment not yet listed, and torn; no EXT-X-ENDLIST.
    const lines = text.split('\n');
    const last = lines.findLastIndex((l) => l.endsWith('.m4s'));
    const lastName = lines[last]!;
    writeFileSync(playlist, `${lines.slice(0, last - 1).join('\n')}\n`);
    const segment = join(crashed, lastName);
    truncateSync(segment, statSync(segment).size - 500);
    const before = (await runCli(['probe', crashed, '--json'])).json.at(-1)!;
    expect(before).toMatchObject({
      ended: false,
      segmentCount: lines.filter((l) => l.endsWith('.m4s')).length - 1,
    });

    const r = await runCli(['repair', crashed, '--json']);
    expect(r.code).toBe(0);
    const line = r.json[0]!;
    expect(line).toMatchObject({ type: 'repair', kind: 'fmp4-hls', prefix: 'demo', endListAdded: true });
    expect(line.segmentsAdded).toEqual([lastName]);
    expect(line.bytesTruncated as number).toBeGreaterThan(0);
    expect(line.check).toMatchObject({ ok: true, ended: true });
    expect((await runCli(['probe', playlist])).code).toBe(0);
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg');
      expectFfmpegDecodes(playlist);
    }
  });
});

describe('trackrec serve with MP4', () => {
  let server: RecordingServer;
  beforeAll(async () => {
    server = await startServer({ root: out, followIdleMs: 400, pollMs: 20 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists the .mp4 recording and serves .mp4 as video/mp4, .m4s as video/iso.segment, with ranges', async () => {
    const r = await get(server.port, '/api/recordings');
    const { recordings } = JSON.parse(r.body.toString()) as { recordings: RecordingEntry[] };
    const name = mp4.slice(out.length + 1);
    const hlsName = hlsDir.slice(out.length + 1);
    expect(recordings.map((x) => [x.path, x.kind]).sort()).toEqual([
      [name, 'mp4'],
      [`${hlsName}/demo.m3u8`, 'hls'],
    ]);
    const file = await get(server.port, `/media/${encodeURIComponent(name)}`);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('video/mp4');
    expect(file.body.equals(readFileSync(mp4))).toBe(true);
    const part = await get(server.port, `/media/${encodeURIComponent(name)}`, {
      headers: { range: 'bytes=0-7' },
    });
    expect(part.status).toBe(206);
    expect(part.body.toString('latin1', 4, 8)).toBe('ftyp');
    const seg = readdirSync(hlsDir).find((n) => n.endsWith('.m4s'))!;
    const s = await get(server.port, `/media/${encodeURIComponent(hlsName)}/${seg}`);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('video/iso.segment');
  });
});
