import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMediaPlaylist } from '../src/m3u8.js';
import { runCli } from './helpers/cli.js';
import { writeHlsRecording, writeTsRecording } from './helpers/media.js';
import { tempDir } from './helpers/tmp.js';
import { needTool, onPath, toolRuns } from './helpers/tools.js';

const dir = tempDir('repair');
const hasFfmpeg = onPath('ffmpeg');

describe('trackrec repair <file.ts>', () => {
  it('cuts a truncated file back to whole PES, after which probe is clean', async () => {
    const file = join(dir, 'crashed.ts');
    await writeTsRecording(file, { durationS: 2, width: 320, height: 240 });
    const whole = statSync(file).size;
    // A torn last write: the file ends 1000 bytes early, mid-packet and mid-PES.
    truncateSync(file, whole - 1000);
    expect((await runCli(['probe', file])).code).toBe(1);

    const r = await runCli(['repair', file, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const line = r.json[0]!;
    expect(line).toMatchObject({ type: 'repair', kind: 'ts', path: file, originalBytes: whole - 1000 });
    const repaired = line.repairedBytes as number;
    expect(repaired % 188).toBe(0);
    expect(repaired).toBeLessThan(whole - 1000);
    // At most the last PES of each track is lost (a video frame is ~2 kB at this size, audio PES < 3 kB).
    expect(whole - repaired).toBeLessThan(20_000);
    expect(line.bytesTruncated).toBe(whole - 1000 - repaired);
    expect(line.check).toEqual({ ok: true, violationTotal: 0, violationCounts: {} });
    expect(statSync(file).size).toBe(repaired);

    const probe = await runCli(['probe', file, '--json']);
    expect(probe.code).toBe(0);
    expect(probe.json[0]!.ok).toBe(true);

    // Nothing left to do the second time.
    const again = await runCli(['repair', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already whole (${repaired} bytes)`);
    expect(statSync(file).size).toBe(repaired);
  });

  it('reports the cut in human form', async () => {
    const file = join(dir, 'torn.ts');
    await writeTsRecording(file, { durationS: 1, width: 320, height: 240 });
    const size = statSync(file).size;
    truncateSync(file, size - 100);
    const r = await runCli(['repair', file]);
    expect(r.code).toBe(0);
    const after = statSync(file).size;
    expect(r.stdout).toContain(`cut ${size - 100 - after} bytes (${size - 100} → ${after})`);
    expect(r.stdout).toContain('check: ok');
  });

  it('exits 1 when the repaired file still has violations', async () => {
    const file = join(dir, 'garbage.ts');
    await writeTsRecording(file, { durationS: 1, width: 320, height: 240 });
    const bytes = readFileSync(file);
    // A continuity break in the middle is not something truncation can fix.
    const broken = Buffer.concat([bytes.subarray(0, 188 * 40), bytes.subarray(188 * 41)]);
    writeFileSync(file, broken);
    const r = await runCli(['repair', file, '--json']);
    expect(r.code).toBe(1);
    expect((r.json[0]!.check as { ok: boolean }).ok).toBe(false);
  });
});

describe('trackrec repair <dir>', () => {
  it('lists the unlisted segments of a crashed HLS recording and adds EXT-X-ENDLIST', async () => {
    const rec = join(dir, 'hls');
    await writeHlsRecording(
      rec,
      { durationS: 4, width: 320, height: 240, targetDuration: 1, livePlaylistName: 'live.m3u8' },
      { atS: 3.5 },
    );
    const before = parseMediaPlaylist(readFileSync(join(rec, 'playlist.m3u8'), 'utf8'));
    expect(before.ended).toBe(false);
    const segmentFiles = readdirSync(rec)
      .filter((n) => n.endsWith('.ts'))
      .sort();
    const open = segmentFiles.at(-1)!;
    expect(before.segments.map((s) => s.uri)).not.toContain(open);
    // The process died inside a write of the open segment.
    truncateSync(join(rec, open), statSync(join(rec, open)).size - 77);

    const probeBefore = await runCli(['probe', join(rec, 'playlist.m3u8'), '--json']);
    expect(probeBefore.json.at(-1)!.ended).toBe(false);

    const r = await runCli(['repair', rec, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const line = r.json[0]!;
    expect(line).toMatchObject({
      type: 'repair',
      kind: 'hls',
      prefix: 'rec',
      changed: true,
      endListAdded: true,
      playlistCreated: false,
      segmentsAdded: [open],
      segmentsRemoved: [],
      durationsEstimated: [],
      livePlaylistPath: join(rec, 'live.m3u8'),
    });
    expect((line.check as { ok: boolean; ended: boolean }).ok).toBe(true);

    const after = parseMediaPlaylist(readFileSync(join(rec, 'playlist.m3u8'), 'utf8'));
    expect(after.ended).toBe(true);
    expect(after.segments.map((s) => s.uri)).toEqual(segmentFiles);
    // The recovered segment is listed with its measured duration (about 0.5 s of media), not the target.
    const last = after.segments.at(-1)!.duration!;
    expect(last).toBeGreaterThan(0.3);
    expect(last).toBeLessThan(0.7);
    const live = parseMediaPlaylist(readFileSync(join(rec, 'live.m3u8'), 'utf8'));
    expect(live.ended).toBe(true);
    expect(live.segments.at(-1)!.uri).toBe(open);

    const probe = await runCli(['probe', join(rec, 'playlist.m3u8'), '--json']);
    expect(probe.code).toBe(0);
    expect(probe.json.at(-1)).toMatchObject({ ok: true, ended: true, segmentCount: segmentFiles.length });

    const again = await runCli(['repair', rec]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to repair');
  });

  it.runIf(toolRuns(hasFfmpeg))('leaves a crashed recording that ffmpeg decodes without error', async () => {
    needTool(hasFfmpeg, 'ffmpeg');
    const rec = join(dir, 'hls-ffmpeg');
    await writeHlsRecording(rec, { durationS: 3, width: 320, height: 240, targetDuration: 1 }, { atS: 2.5 });
    expect((await runCli(['repair', rec])).code).toBe(0);
    const r = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-xerror', '-i', join(rec, 'playlist.m3u8'), '-f', 'null', '-'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('exits 1 and names the segment when a listed segment is damaged (repair does not modify it)', async () => {
    const rec = join(dir, 'hls-listed');
    await writeHlsRecording(rec, { durationS: 3, width: 320, height: 240, targetDuration: 1 });
    const victim = join(rec, 'rec_00001.ts');
    const size = statSync(victim).size;
    truncateSync(victim, size - 500);
    const r = await runCli(['repair', rec, '--json']);
    expect(r.code).toBe(1);
    expect(r.json[0]).toMatchObject({ changed: false, endListAdded: false, segmentsAdded: [] });
    expect((r.json[0]!.check as { segmentProblems: unknown }).segmentProblems).toEqual([
      { uri: 'rec_00001.ts', problem: 'TRAILING_PARTIAL_PACKET ×1, TRUNCATED_PES ×1' },
    ]);
    expect(statSync(victim).size).toBe(size - 500);
    const human = await runCli(['repair', rec]);
    expect(human.stdout).toContain('rec_00001.ts: TRAILING_PARTIAL_PACKET ×1, TRUNCATED_PES ×1');
  });

  it('asks for --prefix when the directory is ambiguous', async () => {
    const mixed = join(dir, 'mixed');
    await writeHlsRecording(mixed, { durationS: 1, width: 320, height: 240 }, { atS: 0.5 });
    writeFileSync(join(mixed, 'other_00000.ts'), new Uint8Array(0));
    writeFileSync(join(mixed, 'playlist.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n');
    const r = await runCli(['repair', mixed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('several prefixes (');
    expect(r.stderr).toContain('pass --prefix');
    const ok = await runCli(['repair', mixed, '--prefix', 'rec', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json[0]).toMatchObject({ prefix: 'rec', endListAdded: true, segmentsAdded: ['rec_00000.ts'] });
    // The other prefix's file was not touched.
    expect(statSync(join(mixed, 'other_00000.ts')).size).toBe(0);
  });
});
