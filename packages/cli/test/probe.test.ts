import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspectTs, type TsReport } from '@trackrec/muxer/inspect';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMediaPlaylist, resolveSegmentPath, UnsafeUriError } from '../src/m3u8.js';
import { probeTsFile } from '../src/probe.js';
import { runCli } from './helpers/cli.js';
import { writeHlsRecording, writeTsRecording } from './helpers/media.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('probe');
const good = join(dir, 'good.ts');
const hls = join(dir, 'hls');

beforeAll(async () => {
  await writeTsRecording(good, { durationS: 3, width: 320, height: 240 });
  await writeHlsRecording(hls, { durationS: 3, width: 320, height: 240, targetDuration: 1 });
});

/** Video PID of a report (the H.264 stream). */
function videoPid(report: TsReport): number {
  const v = report.streams.find((s) => s.codec === 'h264');
  if (!v) throw new Error('no video stream');
  return v.pid;
}

describe('trackrec probe <file.ts>', () => {
  it('passes a recording from our muxer: exit 0, streams and duration in the JSON line', async () => {
    const r = await runCli(['probe', good, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toHaveLength(1);
    const line = r.json[0] as unknown as TsReport & { type: string; path: string };
    expect(line.type).toBe('file');
    expect(line.path).toBe(good);
    expect(line.ok).toBe(true);
    expect(line.violationTotal).toBe(0);
    expect(line.bytes).toBe(readFileSync(good).byteLength);
    expect(line.streams.map((s) => s.codec).sort()).toEqual(['aac', 'h264']);
    const video = line.streams.find((s) => s.codec === 'h264')!;
    expect(video.frames).toBe(90);
    expect(video.keyframes).toBe(3);
    expect(line.durationMs).toBeGreaterThan(2950);
    expect(line.durationMs).toBeLessThan(3100);
    expect(line.maxPcrGapMs).toBeLessThanOrEqual(40.01);
  });

  it('prints the human report with no violation', async () => {
    const r = await runCli(['probe', good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(good);
    expect(r.stdout).toMatch(/MPEG-TS: \d+ packets/);
    expect(r.stdout).toMatch(/h264 \(stream_type 0x1b\): \d+ PES, 90 frames/);
    expect(r.stdout).toContain('violations: none');
  });

  it('fails a hand-broken file (a dropped video packet) with exit 1 and the violation listed', async () => {
    const bytes = new Uint8Array(readFileSync(good));
    const pid = videoPid(inspectTs(bytes));
    // Drop the 5th packet of the video PID that does not start a PES: the next one's CC jumps by 2.
    let seen = 0;
    let victim = -1;
    for (let p = 0; p < bytes.length; p += 188) {
      const packetPid = ((bytes[p + 1]! & 0x1f) << 8) | bytes[p + 2]!;
      const start = (bytes[p + 1]! & 0x40) !== 0;
      if (packetPid === pid && !start && ++seen === 5) {
        victim = p;
        break;
      }
    }
    expect(victim).toBeGreaterThan(0);
    const broken = join(dir, 'broken.ts');
    writeFileSync(broken, Buffer.concat([bytes.subarray(0, victim), bytes.subarray(victim + 188)]));

    const r = await runCli(['probe', broken, '--json']);
    expect(r.code).toBe(1);
    const line = r.json[0] as unknown as TsReport;
    expect(line.ok).toBe(false);
    expect(line.violationCounts.CC_ERROR).toBe(1);
    const cc = line.violations.find((v) => v.code === 'CC_ERROR')!;
    expect(cc.pid).toBe(pid);
    expect(cc.byteOffset).toBe(victim);

    const human = await runCli(['probe', broken]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      new RegExp(`CC_ERROR PID 0x${pid.toString(16).padStart(4, '0')} packet \\d+ \\(byte ${victim}\\)`),
    );
  });

  it('fails a file cut mid-packet (TRAILING_PARTIAL_PACKET, TRUNCATED_PES)', async () => {
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.ts');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    const r = await runCli(['probe', cut, '--json']);
    expect(r.code).toBe(1);
    const line = r.json[0] as unknown as TsReport;
    expect(line.trailingBytes).toBe((bytes.length - 1000) % 188);
    expect(line.violationCounts.TRAILING_PARTIAL_PACKET).toBe(1);
  });

  it('applies thresholds from the options', async () => {
    // Our muxer writes PCRs at most 40 ms apart: a 10 ms limit must flag PCR gaps.
    const r = await runCli(['probe', good, '--json', '--max-pcr-gap', '10']);
    expect(r.code).toBe(1);
    expect((r.json[0] as unknown as TsReport).violationCounts.PCR_GAP).toBeGreaterThan(0);
  });

  it('streams the file in chunks with the same report as a whole-buffer check', async () => {
    // Over 1 MiB so chunk boundaries fall inside packets.
    const big = join(dir, 'big.ts');
    await writeTsRecording(big, { durationS: 6, width: 640, height: 360 });
    const bytes = new Uint8Array(readFileSync(big));
    expect(bytes.byteLength).toBeGreaterThan(1 << 20);
    expect((1 << 20) % 188).not.toBe(0);
    expect(await probeTsFile(big)).toEqual(inspectTs(bytes));
  });
});

describe('trackrec probe <playlist.m3u8>', () => {
  it('checks every segment of a finished HLS recording', async () => {
    const playlistPath = join(hls, 'playlist.m3u8');
    const playlist = parseMediaPlaylist(readFileSync(playlistPath, 'utf8'));
    expect(playlist.segments.length).toBeGreaterThanOrEqual(3);
    const r = await runCli(['probe', playlistPath, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const segments = r.json.filter((l) => l.type === 'segment');
    const summary = r.json.at(-1)!;
    expect(segments.map((s) => s.uri)).toEqual(playlist.segments.map((s) => s.uri));
    for (const s of segments) {
      expect(s.ok).toBe(true);
      expect((s.report as TsReport).violationTotal).toBe(0);
    }
    expect(summary.type).toBe('playlist');
    expect(summary.ok).toBe(true);
    expect(summary.ended).toBe(true);
    expect(summary.playlistType).toBe('EVENT');
    expect(summary.segmentCount).toBe(playlist.segments.length);
    expect(summary.badSegments).toBe(0);
    const listed = playlist.segments.reduce((t, s) => t + s.duration!, 0);
    expect(summary.listedDuration).toBeCloseTo(listed, 6);
    expect(summary.listedDuration as number).toBeGreaterThan(2.9);
    expect(summary.listedDuration as number).toBeLessThan(3.2);

    const human = await runCli(['probe', playlistPath]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`segments: ${playlist.segments.length} (0 with problems)`);
    expect(human.stdout).toContain('EXT-X-ENDLIST present (finished)');
  });

  it('probes the playlist of an HLS recording directory', async () => {
    const r = await runCli(['probe', hls, '--json']);
    expect(r.code).toBe(0);
    expect(r.json.at(-1)).toMatchObject({ type: 'playlist', path: join(hls, 'playlist.m3u8'), ok: true });
    const empty = join(dir, 'empty-dir');
    mkdirSync(empty);
    const none = await runCli(['probe', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`${empty} holds no playlist`);
  });

  it('refuses segment URIs that leave the playlist directory, and reports missing segments', async () => {
    const sub = join(dir, 'hostile');
    mkdirSync(sub);
    copyFileSync(join(hls, 'rec_00000.ts'), join(sub, 'ok.ts'));
    symlinkSync(good, join(sub, 'link.ts'));
    writeFileSync(
      join(sub, 'p.m3u8'),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXTINF:1.000,',
        'ok.ts',
        '#EXTINF:1.000,',
        '../good.ts',
        '#EXTINF:1.000,',
        '..%2fgood.ts',
        '#EXTINF:1.000,',
        `${good}`,
        '#EXTINF:1.000,',
        'link.ts',
        '#EXTINF:1.000,',
        'missing.ts',
        '',
      ].join('\n'),
    );
    const r = await runCli(['probe', join(sub, 'p.m3u8'), '--json']);
    expect(r.code).toBe(1);
    const segments = r.json.filter((l) => l.type === 'segment');
    expect(segments.map((s) => s.ok)).toEqual([true, false, false, false, false, false]);
    for (const s of segments.slice(1, 5)) {
      expect(s.report).toBeNull();
      expect(String(s.error)).toMatch(/refused/);
    }
    expect(String(segments[5]!.error)).toContain('ENOENT');
    const summary = r.json.at(-1)!;
    expect(summary.badSegments).toBe(5);
    expect(summary.ended).toBe(false);
    const human = await runCli(['probe', join(sub, 'p.m3u8')]);
    expect(human.stdout).toContain('no EXT-X-ENDLIST (growing or crashed)');
    expect(human.stdout).toContain('result: VIOLATIONS');
  });

  it('resolves URIs inside the directory and refuses the rest', () => {
    expect(resolveSegmentPath('/rec/a', 'seg%20one.ts')).toBe('/rec/a/seg one.ts');
    expect(resolveSegmentPath('/rec/a', 'sub/x.ts')).toBe('/rec/a/sub/x.ts');
    for (const uri of [
      '../x.ts',
      '..%2fx.ts',
      '/etc/passwd',
      '%2fetc%2fpasswd',
      'x%00.ts',
      'http://h/x.ts',
      'a/../../x.ts',
      '%E0%A4%A',
      'x.ts?y=1',
      '..\\x.ts',
      '.',
    ]) {
      expect(() => resolveSegmentPath('/rec/a', uri), uri).toThrow(UnsafeUriError);
    }
  });

  it('parses the playlist tags it needs', () => {
    const p = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PLAYLIST-TYPE:EVENT\n# a comment\n' +
        '#EXTINF:3.967,title\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:bad,\nb.ts\nc.ts\n#EXT-X-ENDLIST\n',
    );
    expect(p).toMatchObject({
      hasHeader: true,
      isMaster: false,
      targetDuration: 4,
      mediaSequence: 7,
      playlistType: 'EVENT',
      ended: true,
    });
    expect(p.segments).toEqual([
      { uri: 'a.ts', duration: 3.967, discontinuity: false, line: 7, map: null },
      { uri: 'b.ts', duration: null, discontinuity: true, line: 10, map: null },
      { uri: 'c.ts', duration: null, discontinuity: false, line: 11, map: null },
    ]);
    expect(p.problems).toEqual(['line 9: malformed EXTINF "bad,"', 'line 11: segment "c.ts" has no EXTINF']);
  });
});

describe('usage', () => {
  it('lists only the commands that exist', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: trackrec <command>/);
    const names = [...r.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]);
    expect(names).toEqual(['record', 'demo', 'probe', 'repair', 'serve']);
  });

  it('gives each command a --help and exit code 2 for bad usage', async () => {
    for (const cmd of ['record', 'probe', 'repair', 'serve']) {
      const h = await runCli([cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`Usage: trackrec ${cmd} `);
      expect(h.stdout).toContain('Exit codes:');
      const none = await runCli([cmd]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(`trackrec ${cmd}: missing`);
    }
    expect((await runCli([])).code).toBe(2);
    expect((await runCli(['record'])).code).toBe(2);
    const unknown = await runCli(['probe', good, '--frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--frobnicate'");
    expect((await runCli(['probe', good, '--max-pcr-gap', 'soon'])).code).toBe(2);
    expect((await runCli(['probe', join(dir, 'nope.ts')])).code).toBe(2);
    expect((await runCli(['probe', good, good])).code).toBe(2);
  });

  it('resolves relative paths against the working directory', async () => {
    const r = await runCli(['probe', 'good.ts', '--json'], dir);
    expect(r.code).toBe(0);
    expect(r.json[0]!.path).toBe(good);
  });
});
